// The hooks through which a host plugs its own world into the engine: who holds which roles
// (Directory), where events are kept (Storage), who is told what (EventListener). Each is an
// abstract, non-copyable class; in-memory implementations ship for tests, simulations and hosts
// that keep their own records.
#ifndef SALESFLOW_HOOKS_HPP_
#define SALESFLOW_HOOKS_HPP_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "salesflow/process.hpp"

namespace salesflow {

// ---------------------------------------------------------------------------------------------
// Directory: which roles a person holds, by role id ("sales_rep"), across all instances. Roles
// given on one instance (the assign command) come on top.
//
// [Threading] The engine calls visit_roles() (whose default calls roles_of()) from its calling
// threads, concurrently, at most once per execute() or open_transitions() (see [Caching]), before
// it locks anything for that call: both must be thread-safe, and may call back into the engine.
// [Errors] An exception from the Directory leaves the engine's call that asked, which has changed
// nothing by then.
// [Caching] A Directory that can tell when its answers change says so through revision(): the
// engine then reuses the roles it was last given, per calling thread and engine, for the same
// person while the number stays the same, on any instance and in any definition. The default, 0,
// means "cannot tell": asked every time. A Directory with a revision must
//   - change the number whenever any answer may change, and never return to a value it had
//     while the answers were different (a counter from 1, increased on every change, does);
//   - make the new answers visible before the new number (the engine reads the number first,
//     then the roles, and files the roles under that number): change, then publish the number
//     with release ordering;
//   - answer by the person alone: answers that also depend on the calling thread, a tenant or
//     the time need a number that changes with those too.
// InMemoryDirectory has a revision.
class Directory {
 public:
  Directory() = default;
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  virtual ~Directory();

  // The role ids `person` holds. An unknown person holds none.
  virtual std::vector<std::string> roles_of(std::string_view person) const = 0;
  // Calls `visit` once for each role id roles_of(person) would return: what the engine asks. A
  // role id's view is valid during its call only. The default calls roles_of(); override it to
  // spare the engine the vector (an allocation per command). `visit` may throw std::bad_alloc:
  // let it pass.
  virtual void visit_roles(std::string_view person,
                           const std::function<void(std::string_view role)>& visit) const;
  // A number that changes whenever any answer may have changed, or 0: see [Caching]. It must
  // never come back to a value it had while the answers were different (a counter increased on
  // every change does). Thread-safe, cheap and non-blocking: asked once per command.
  virtual std::uint64_t revision() const noexcept { return 0; }
};

// A Directory kept in memory. Thread-safe: grant() may run concurrently with lookups.
class InMemoryDirectory final : public Directory {
 public:
  void grant(std::string person, std::string role);
  std::vector<std::string> roles_of(std::string_view person) const override;
  // No allocation: visits the roles under the directory's shared lock (`visit` must not call
  // grant()).
  void visit_roles(std::string_view person,
                   const std::function<void(std::string_view role)>& visit) const override;
  // Changes with every grant(); never 0, and never the same in two directories of one process.
  std::uint64_t revision() const noexcept override {
    return revision_.load(std::memory_order_acquire);
  }

 private:
  static std::uint64_t next_revision() noexcept;

  std::atomic<std::uint64_t> revision_{next_revision()};
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::vector<std::string>, std::less<>> roles_;
};

// ---------------------------------------------------------------------------------------------
// Storage: the event log. Append is atomic per call and conditional on the stored version.
//
// [Threading] The engine calls append() for one instance at a time (commands on one instance are
// serialised) but for different instances concurrently; load(), scan() and save_snapshots() may
// run concurrently with appends (save_snapshots() with no engine lock held, after the commit it
// follows). Implementations must be thread-safe. append(), append_keyed(), find_key(), load() and
// stored_version() may run while the engine holds the instance's lock stripe: they must not call
// back into the engine. The visitors of scan() and scan_recovery() must not call back into the
// storage.
class Storage {
 public:
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  virtual ~Storage();

  enum class AppendResult : std::uint8_t {
    kOk,
    kConflict,     // the stored version is not expected_version: nothing was written
    kUnavailable,  // the store failed: nothing was written
  };

  // Appends `events` (versions expected_version+1, +2, ...) to `instance` if its stored version
  // is expected_version (0 for a new instance). All or nothing, also when it throws.
  virtual AppendResult append(std::string_view instance, std::uint64_t expected_version,
                              std::span<const Event> events) = 0;
  // The events of `instance` in version order; empty when it has none.
  virtual std::vector<Event> load(std::string_view instance) const = 0;
  // Calls `visit` for every stored event, each instance's in version order.
  virtual void scan(const std::function<void(const Event&)>& visit) const = 0;

  // --- Idempotency keys (optional: the defaults remember nothing) ---------------------------
  // What an accepted command that carried an idempotency key answered: the instance's version
  // after it and how many events it appended (versions version-event_count+1 .. version), plus
  // a fingerprint of the command, so that a key reused for another command can be refused.
  struct KeyRecord {
    std::string instance;
    std::uint64_t version = 0;
    std::uint64_t event_count = 0;
    std::string fingerprint;
    std::string rejection;  // a rejected command's answer, encoded by the engine; empty: accepted
    friend bool operator==(const KeyRecord&, const KeyRecord&) = default;
  };
  // As append() (`events` may be empty), and in the same transaction remembers `key` ->
  // `record`. kConflict, with nothing written, when the version does not match or the key is
  // already stored. Default: append() alone (a storage that does not remember keys).
  virtual AppendResult append_keyed(std::string_view instance, std::uint64_t expected_version,
                                    std::span<const Event> events, std::string_view key,
                                    const KeyRecord& record);
  // The record stored for `key`. Default: none.
  virtual std::optional<KeyRecord> find_key(std::string_view key) const;

  // --- The stored version (optional: the default cannot tell) ---------------------------------
  // The version of `instance`'s last stored event (0: none), as this object sees the store now,
  // its own appends not yet committed included; nothing when it cannot tell (the default) or the
  // store failed. The engine asks before it gives a rejection that stores nothing (a command
  // without an idempotency key): where several engines share the store, the state it decided on
  // may be one another engine has moved on from.
  virtual std::optional<std::uint64_t> stored_version(std::string_view instance) const;

  // --- Outbox (optional: the defaults keep no delivery marks) -------------------------------
  // The outbox is the event log beyond each instance's delivery mark: an event is queued for
  // the listeners by the same transaction that stores it. The stable id of a notification is its
  // event's (instance, version).
  // Notes that the listeners have had `instance`'s events up to `version`. A storage may record
  // marks lazily (delivery is at least once: a mark lost in a crash means a repeat, never a loss).
  virtual void mark_delivered(std::string_view instance, std::uint64_t version);
  // The version up to which `instance`'s events are marked delivered (0: none), counting the
  // marks this object recorded but has not written yet; the engine hands over only what is beyond
  // it when it takes events from the store. Default: the highest version there is (a storage
  // without an outbox hands nothing over again).
  virtual std::uint64_t delivery_mark(std::string_view instance) const;
  // Calls `visit` for every stored event beyond its instance's delivery mark, each instance's in
  // version order. Default: none.
  virtual void scan_undelivered(const std::function<void(const Event&)>& visit) const;

  // --- Snapshots (optional: the defaults keep none) -----------------------------------------
  // An instance's state at some version, encoded by the engine (encode_snapshot(),
  // snapshot.hpp): opaque bytes to the storage, which keeps them under the instance with the
  // version and definition they were taken at. Snapshots only speed up recovery: the events
  // stay the truth, and a snapshot lost or refused means replaying that instance's events.
  struct Snapshot {
    std::string instance;
    std::uint64_t version = 0;  // the instance's version the state was taken at (>= 1)
    std::string definition_id;
    std::uint32_t definition_version = 0;
    std::string data;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
  };
  // Keeps each snapshot as its instance's latest, unless one of a higher version is kept
  // already; all in one transaction. Never touches the events. True when kept; false when the
  // store failed (nothing kept) or keeps no snapshots. Default: false, nothing kept.
  // [Threading] Called by the engine after commits, with no engine lock held, from any thread.
  virtual bool save_snapshots(std::span<const Snapshot> snapshots);

  // What recovery needs of one instance: its latest snapshot (if any) and only the events after
  // it.
  struct RecoveryLog {
    std::string_view instance;
    const Snapshot* snapshot = nullptr;  // null: none kept (or the store keeps none)
    // The events with versions above snapshot->version (all of them without a snapshot), in
    // version order.
    std::span<const Event> events;
    // The instance's stored version (of its last event), so that a snapshot that claims more
    // than the log holds is found out.
    std::uint64_t stored_version = 0;
  };
  // Calls `visit` once for every instance that has events, with its RecoveryLog; the views are
  // valid during the call only. The visitor must not call back into the storage. Default: scan()
  // grouped by instance, without snapshots.
  virtual void scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const;
};

// Storage in memory: lost when the process ends.
class InMemoryStorage final : public Storage {
 public:
  AppendResult append(std::string_view instance, std::uint64_t expected_version,
                      std::span<const Event> events) override;
  std::vector<Event> load(std::string_view instance) const override;
  void scan(const std::function<void(const Event&)>& visit) const override;
  AppendResult append_keyed(std::string_view instance, std::uint64_t expected_version,
                            std::span<const Event> events, std::string_view key,
                            const KeyRecord& record) override;
  std::optional<KeyRecord> find_key(std::string_view key) const override;
  std::optional<std::uint64_t> stored_version(std::string_view instance) const override;
  bool save_snapshots(std::span<const Snapshot> snapshots) override;
  void scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const override;
  std::size_t event_count() const;
  // The latest snapshot kept for `instance`, for tests.
  std::optional<Snapshot> snapshot(std::string_view instance) const;
  // Replaces the kept snapshot of `snapshot.instance` whatever its version: for tests that need
  // a damaged or stale snapshot.
  void put_snapshot(Snapshot snapshot);

 private:
  AppendResult append_locked(std::string_view instance, std::uint64_t expected_version,
                             std::span<const Event> events);

  mutable std::shared_mutex mutex_;
  std::map<std::string, std::vector<Event>, std::less<>> events_;
  std::map<std::string, KeyRecord, std::less<>> keys_;
  std::map<std::string, Snapshot, std::less<>> snapshots_;
};

// ---------------------------------------------------------------------------------------------
// EventListener: notifications. Every method has a no-op default, and takes a struct, so that
// fields can be added without breaking implementations.
//
// [Threading] Called after the change is committed to Storage and the state, with no engine lock
// held: a listener may call back into the engine. The events of one instance are delivered in
// version order, one call at a time. To keep that order, the thread that is already delivering
// for an instance's lock stripe delivers what other threads commit meanwhile: a listener may run
// on another caller's thread, and execute() may return before its own events were delivered.
// Instances of different stripes are delivered concurrently. With a durable Storage the events
// include those an engine takes from it (recovery, a reload after a conflict, a key's stored
// answer ahead of the engine, Engine::deliver_undelivered()), which may be other processes'
// and may repeat: delivery is at least once, and an event's (instance, version) is its id.
// [Exceptions] An exception a listener throws is caught and dropped by the engine; the committed
// change stands and the other listeners are still called.

// Who should hear of a stage entry: the stage's consulted and informed roles, with its guidance.
struct StageEntryNotice {
  const ProcessDefinition* definition = nullptr;
  const Event* event = nullptr;  // the kCreated, kStageChanged or kReopened event
  const Stage* stage = nullptr;
  RoleSet consulted;
  RoleSet informed;
  std::string_view guidance;
  // The team the instance needs in this stage (the stage's team requirement held on entry; a
  // kTeamRequired event follows): these roles must be assigned before the gate opens. Empty
  // when none is needed.
  RoleSet team;
};

// A delivery standard reached a milestone (at_risk, breached, escalated): who should hear of it.
// at_risk and breached are addressed to the stage's responsible and accountable roles; escalated
// to the role of the escalation step reached.
struct StandardNotice {
  const ProcessDefinition* definition = nullptr;
  const Event* event = nullptr;  // kStandardAtRisk, kStandardBreached or kStandardEscalated
  const DeliveryStandard* standard = nullptr;
  RoleSet roles;
};

class EventListener {
 public:
  EventListener() = default;
  EventListener(const EventListener&) = delete;
  EventListener& operator=(const EventListener&) = delete;
  virtual ~EventListener();

  // Every committed event, in version order per instance.
  virtual void on_event(const Event& /*event*/) {}
  // An instance entered a stage (created, moved, reopened): notify the stage's people.
  virtual void on_stage_entered(const StageEntryNotice& /*notice*/) {}
  // A delivery standard is at risk, breached or escalated: notify `notice.roles`.
  virtual void on_standard(const StandardNotice& /*notice*/) {}
};

}  // namespace salesflow

#endif  // SALESFLOW_HOOKS_HPP_
