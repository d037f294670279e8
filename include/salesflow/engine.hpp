// The engine: registered definitions, live instances, and commands that become events.
//
// An accepted command is decided (process.hpp), appended to Storage with the expected version,
// applied to the instance's state, and then announced to the listeners. A rejected command
// changes nothing: state, version, log and listeners are untouched.
//
// [Thread safety] All methods may be called from any number of threads. Commands on different
// instances run in parallel (instances share 256 lock stripes by the hash of their id: two
// instances of one stripe take turns); commands on one instance are serialised. Listeners are
// called after the commit with no engine lock held (see EventListener in hooks.hpp).
// [Ownership] The engine borrows the hooks in EngineOptions: they must outlive it. It shares the
// registered definitions (shared_ptr) and keeps each for its own whole life; an instance stays on
// the definition version it was created with.
// [Errors] Rejections are answers (CommandResult::rejection). Exceptions only for bugs and
// std::bad_alloc; a listener's exception is swallowed (see hooks.hpp). A std::bad_alloc from
// execute() or advance_to() may come after the Storage accepted the events: the engine's state then
// still follows the Storage (it reloads the instance, at once or on its next command, and hands
// the events it takes beyond the Storage's delivery mark to the listeners then), and no deadline
// is lost. Retry with an idempotency
// key to learn whether it was stored.
#ifndef SALESFLOW_ENGINE_HPP_
#define SALESFLOW_ENGINE_HPP_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "salesflow/clock.hpp"
#include "salesflow/definition.hpp"
#include "salesflow/delivery.hpp"
#include "salesflow/hooks.hpp"
#include "salesflow/process.hpp"

namespace salesflow {

struct EngineOptions {
  // Where events go. Default (null): the engine makes and owns an InMemoryStorage.
  Storage* storage = nullptr;
  // Who holds which roles. Default (null): nobody holds any role, only instance assignments count.
  const Directory* directory = nullptr;
  // Told of every committed event, in this order. Default: none.
  std::vector<EventListener*> listeners;
  // Where advance() reads the time. Default (null): the system clock.
  const Clock* clock = nullptr;
  // Snapshot policy: after a commit takes an instance's version across a multiple of this
  // number, the engine saves a snapshot of its state (Storage::save_snapshots), so that recovery
  // replays at most snapshot_every - 1 events of it after the snapshot. 0: never. The snapshot is
  // encoded under the instance's lock and saved after the lock is released; a failing save is
  // ignored (a snapshot is an optimisation, never part of a command's answer).
  // Default 64: a snapshot (about 1.5 events' bytes, and one transaction of its own) per 64
  // events adds under 2% to the writes, and bounds an instance's recovery at one snapshot read
  // (about 4 events' replay) plus at most 63 events however long it lives; a smaller number
  // buys little recovery time for more writes (docs/storage.md). Short lives (a B2B deal has a
  // few dozen events) are replayed whole; snapshot_all() covers them.
  std::uint32_t snapshot_every = 64;
};

struct CommandResult {
  std::vector<Event> events;           // accepted: the events, stamped and applied
  std::optional<Rejection> rejection;  // rejected: why
  std::uint64_t version = 0;           // the instance's version after the command

  bool ok() const noexcept { return !rejection.has_value(); }
};

// A move the actor could make now.
struct OpenTransition {
  TransitionId transition{};
  StageId to{};
  bool gate_open = true;  // false: the move is blocked by its gate or its guard (gate_blocked)
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // Registers a definition. Several versions of one process may be registered side by side.
  // Returns false (and changes nothing) when this id and version is already registered, or for
  // null.
  bool register_definition(std::shared_ptr<const ProcessDefinition> definition);
  // The registered definition; the newest version when `version` is not given.
  std::shared_ptr<const ProcessDefinition> definition(
      std::string_view id, std::optional<std::uint32_t> version = std::nullopt) const;

  // Decides, commits and announces one command. `now` is the command's time: a time outside
  // [kEarliestTimestamp, kLatestTimestamp] (value.hpp: the years 0000 to 9999) is a bad_command
  // and changes nothing. Deadlines that fell due before `now` are not fired by a command: call
  // advance_to() first (the command stream does), so that they come first in the log.
  // A command with an idempotency key is answered once: its answer (accepted or rejected by
  // decide) is stored with its events in one transaction, and a repeat gets that answer back. A
  // key already used by another instance, op or actor is a bad_command. A conflict reported by the
  // Storage (another process appended to the instance) reloads the instance from the Storage, so
  // that the caller's retry sees the stored state; that holds for a keyed rejection too, which is
  // then answered `conflict` and not stored. A key's stored answer at a version beyond the
  // instance's state in memory (another process gave it) reloads the instance as well. A
  // rejection without a key that depends on the instance's state (gate_blocked, forbidden,
  // invalid_transition, unknown_instance, conflict) is checked against the Storage's version
  // first (Storage::stored_version()): a store that is ahead reloads the instance and answers
  // `conflict`.
  CommandResult execute(const Command& command, Timestamp now);

  // Executes commands[i] at times[i] for each i in order, exactly as that many execute() calls
  // from this thread would, and appends each answer to `results` as it comes. Faster than those
  // calls when the instances are not in the CPU's cache (a host replaying or simulating many
  // deals): while one command runs, the memory of the next few is fetched. Not atomic: other
  // threads' commands may come between two of the batch. Throws std::invalid_argument (and runs
  // nothing) when the spans' sizes differ. When a command throws (std::bad_alloc, as execute()),
  // the exception leaves at once: `results` then holds the answers of the commands before it,
  // and the commands after it have not run.
  void execute_batch(std::span<const Command> commands, std::span<const Timestamp> times,
                     std::vector<CommandResult>& results);

  // Fires every delivery-standard milestone (at_risk, breached, escalated) due at or before
  // `now`, exactly once, in time order across all instances; each event carries the milestone's
  // own time. Events are committed like a command's (actor "system") and announced to the
  // listeners (on_event, and on_standard addressed to roles). Returns them in firing order.
  std::vector<Event> advance_to(Timestamp now);
  // advance_to(the Clock's now()).
  std::vector<Event> advance();

  // Every delivery standard of the instance with its phase, deadline and remaining time at
  // `now`; nothing when the instance does not exist.
  std::optional<std::vector<StandardStatus>> standards(std::string_view id, Timestamp now) const;
  // The standards at risk, breached or escalated now (not met, not cancelled), across all
  // instances, by deadline (paused ones last). O(instances).
  struct Trouble {
    std::string instance;
    StandardStatus status;
  };
  std::vector<Trouble> standards_in_trouble(Timestamp now) const;

  // A copy of the instance's current state, or nothing when it does not exist.
  std::optional<InstanceState> instance(std::string_view id) const;
  // What keeps the instance from leaving its stage forward. REQUIRES: the instance exists.
  std::optional<std::vector<UnmetCriterion>> missing_to_leave(std::string_view id) const;
  // The declared moves from the instance's stage that `actor` may take now (role and status
  // permitting), each with whether its gate is open.
  std::optional<std::vector<OpenTransition>> open_transitions(std::string_view id,
                                                              std::string_view actor) const;

  // Rebuilds every instance from Storage::scan_recovery(): after a restart, before commands run.
  // An instance with a usable snapshot starts from it and applies only the events after it; one
  // without, or whose snapshot is refused (damaged, of another definition or instance, ahead of
  // the log, of a definition version not registered), replays all its events (Storage::load()).
  // Either way the state equals the fold of all its events. Pending deadlines are scheduled again
  // (one that passed meanwhile fires on the next advance). An instance a command changed
  // meanwhile keeps its newer state. Logs that do not fit a registered definition (unknown id or
  // version, gaps, out-of-range ids) are skipped; the result counts their events. With listeners,
  // then hands them the events the Storage's outbox still holds (Storage::scan_undelivered:
  // committed, not marked delivered) before returning.
  std::size_t recover();

  // Hands the listeners every event the Storage's outbox still holds, as recover() does at its
  // end, and returns how many it queued. For hosts whose store other processes write too: a process
  // that dies while committing can leave a commit that lands after the others recovered, and nobody
  // hands it over before the next recover() (`salesflow run` calls this before it stops).
  // (Events the engine takes from the store, after a conflict or when a key's stored answer is
  // ahead of it, are handed over as it takes them.)
  // Commands may run meanwhile. Delivery stays at least once, in version order per instance
  // within one call; an event another engine (or this one, concurrently) has handed over but not
  // yet marked delivered is handed over again, possibly after newer events of its instance:
  // listeners that need the order go by the event's version. Without listeners, returns 0.
  std::size_t deliver_undelivered();

  // Saves a snapshot of every instance now (for example before a planned stop, so that the next
  // recover() reads one snapshot per instance and no events). Instances are encoded stripe by
  // stripe under each stripe's lock and saved in batches with no lock held; commands may run
  // meanwhile. Returns the number of snapshots the Storage kept (0 when it keeps none or failed).
  std::size_t snapshot_all();

  std::size_t instance_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `event` can be applied on `definition` as far as its indices go: its definition id and
// version, and every stage, field, item, approval or role index within the definition's tables.
// For events from outside (a store): apply() does not check them.
bool event_fits(const ProcessDefinition& definition, const Event& event) noexcept;

// The state a sequence of events folds into. REQUIRES: the events are one instance's, in version
// order, decided for `definition`.
InstanceState replay(const ProcessDefinition& definition, std::span<const Event> events);

}  // namespace salesflow

#endif  // SALESFLOW_ENGINE_HPP_
