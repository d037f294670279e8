// The Engine: instances in lock stripes, commands decided and applied under the stripe's lock,
// events appended to Storage before they are applied, listeners told afterwards in commit order.
#include "salesflow/engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "deadlines/deadline_queue.hpp"
#include "definition/json_document.hpp"
#include "engine/instance_index.hpp"
#include "salesflow/snapshot.hpp"

namespace salesflow {

namespace {

// The actor's role ids as the Directory names them, copied out of Directory::visit_roles(): the
// names must outlive the Directory's call (they are mapped to a definition's RoleIds under the
// stripe's lock), and short role ids fit std::string's inline buffer, so the usual handful costs
// no allocation.
class DirectoryRoles {
 public:
  DirectoryRoles() = default;
  DirectoryRoles(DirectoryRoles&&) noexcept = default;
  DirectoryRoles& operator=(DirectoryRoles&&) noexcept = default;
  DirectoryRoles(const DirectoryRoles&) = delete;
  DirectoryRoles& operator=(const DirectoryRoles&) = delete;

  // Becomes a copy of `other`, copying only the names in use (into inline buffers: no allocation
  // for short role ids).
  void assign(const DirectoryRoles& other) {
    count_ = 0;
    for (std::size_t i = 0; i < other.count_; ++i) names_[i] = other.names_[i];
    if (!more_.empty() || !other.more_.empty()) more_ = other.more_;
    count_ = other.count_;
  }
  void add(std::string_view role) {
    if (count_ < names_.size()) {
      names_[count_++].assign(role.data(), role.size());
    } else {
      more_.emplace_back(role);
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < count_; ++i) f(names_[i]);
    for (const std::string& name : more_) f(name);
  }

 private:
  std::array<std::string, 4> names_;
  std::size_t count_ = 0;
  std::vector<std::string> more_;
};

// A thread's last answer from a Directory that has a revision(): the actor's role names, and
// those mapped in the definition of the last command that used them.
struct LastAnswer {
  LastAnswer() = default;
  LastAnswer(const LastAnswer&) = delete;
  LastAnswer& operator=(const LastAnswer&) = delete;
  ~LastAnswer();

  std::uint64_t engine = 0;  // the serial of the engine that asked; 0: nothing kept
  std::uint64_t revision = 0;
  std::string actor;
  DirectoryRoles names;
  const ProcessDefinition* definition = nullptr;  // one of that engine's (they live as long)
  RoleSet roles;
};
thread_local LastAnswer last_answer_of_thread;
// Set when the thread's LastAnswer is destroyed (at the thread's exit; on the main thread before
// static objects, whose destructors may still run commands): from then on nothing is kept. A bool
// has no destructor, so it can be read to the very end of the thread.
thread_local bool last_answer_gone = false;
LastAnswer::~LastAnswer() { last_answer_gone = true; }

// The thread's LastAnswer, or null once it is gone.
LastAnswer* last_answer() noexcept { return last_answer_gone ? nullptr : &last_answer_of_thread; }

// What listeners are told about one committed command. Registered definitions live as long as
// the engine, so a plain pointer is enough.
struct Delivery {
  const ProcessDefinition* definition;
  std::vector<Event> events;
};

// What identifies a command for its idempotency key: a key used again for another instance, op
// or actor is refused rather than answered with someone else's answer.
std::string fingerprint(const Command& c) {
  return std::string(to_string(c.type)) + '\n' + c.instance + '\n' + c.actor;
}

std::string encode_rejection(const Rejection& r) {
  nlohmann::json unmet = nlohmann::json::array();
  for (const UnmetCriterion& u : r.unmet) {
    unmet.push_back({static_cast<int>(u.kind), u.id, u.detail, u.have, u.need});
  }
  return nlohmann::json{static_cast<int>(r.code), r.message, unmet}.dump();
}

std::optional<Rejection> decode_rejection(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array() || j.size() != 3 || !j[0].is_number_unsigned() || !j[1].is_string() ||
      !j[2].is_array() || j[0].get<unsigned>() > static_cast<unsigned>(ErrorCode::kUnavailable)) {
    return std::nullopt;
  }
  Rejection r{static_cast<ErrorCode>(j[0].get<unsigned>()), j[1].get<std::string>(), {}};
  for (const auto& u : j[2]) {
    if (!u.is_array() || u.size() != 5 || !u[0].is_number_unsigned() || !u[1].is_string() ||
        !u[2].is_string() || !u[3].is_number_unsigned() || !u[4].is_number_unsigned() ||
        u[0].get<unsigned>() > static_cast<unsigned>(UnmetCriterion::Kind::kMissingAssignment)) {
      return std::nullopt;
    }
    r.unmet.push_back(UnmetCriterion{static_cast<UnmetCriterion::Kind>(u[0].get<unsigned>()),
                                     u[1].get<std::string>(), u[2].get<std::string>(),
                                     u[3].get<std::uint32_t>(), u[4].get<std::uint32_t>()});
  }
  return r;
}

}  // namespace

class Engine::Impl {
 public:
  explicit Impl(EngineOptions options) : options_(std::move(options)) {
    if (options_.storage == nullptr) {
      owned_storage_ = std::make_unique<InMemoryStorage>();
      options_.storage = owned_storage_.get();
    }
    if (options_.clock == nullptr) options_.clock = &system_clock_;
  }

  bool register_definition(std::shared_ptr<const ProcessDefinition> definition) {
    if (!definition) return false;
    std::unique_lock lock(definitions_mutex_);
    auto& versions = definitions_[definition->id()];
    return versions.emplace(definition->version(), std::move(definition)).second;
  }

  std::shared_ptr<const ProcessDefinition> definition(std::string_view id,
                                                      std::optional<std::uint32_t> version) const {
    std::shared_lock lock(definitions_mutex_);
    const auto it = definitions_.find(id);
    if (it == definitions_.end() || it->second.empty()) return nullptr;
    if (!version) return it->second.rbegin()->second;
    const auto v = it->second.find(*version);
    return v == it->second.end() ? nullptr : v->second;
  }

  CommandResult execute(const Command& command, Timestamp now) {
    return execute(command, now, internal::instance_hash(command.instance));
  }

  // Runs each command as execute() does. Before running one, it asks for the memory of the next
  // three, one step each: the index slot of the third after it, the entry of the second (its slot
  // is in cache by then), the state's blocks of the next (its entry is). Each step's miss thus
  // overlaps a whole command instead of being waited for. A step holds its stripe's lock only to
  // read the index and changes nothing, so the answers are exactly execute()'s.
  void execute_batch(std::span<const Command> commands, std::span<const Timestamp> times,
                     std::vector<CommandResult>& results) {
    if (commands.size() != times.size()) {
      throw std::invalid_argument("execute_batch: " + std::to_string(commands.size()) +
                                  " commands but " + std::to_string(times.size()) + " times");
    }
    // One step per command: a command's run (0.5 to 1 microsecond) covers a step's miss.
    constexpr std::size_t kSteps = 3;  // the slot, the entry, the state
    std::array<std::uint64_t, kSteps + 1> hashes{};
    const auto hash_of = [&](std::size_t k) -> std::uint64_t& { return hashes[k % hashes.size()]; };
    const std::size_t n = commands.size();
    results.reserve(results.size() + n);
    for (std::size_t i = 0; i < n + kSteps; ++i) {
      if (i < n) {
        hash_of(i) = internal::instance_hash(commands[i].instance);
        const Stripe& stripe = stripe_of(hash_of(i));
        std::lock_guard lock(stripe.mutex);
        stripe.instances.prefetch_slot(hash_of(i));
      }
      if (i >= 1 && i - 1 < n) {
        const Stripe& stripe = stripe_of(hash_of(i - 1));
        std::lock_guard lock(stripe.mutex);
        stripe.instances.prefetch_entry(hash_of(i - 1));
      }
      if (i >= 2 && i - 2 < n) {
        const Command& command = commands[i - 2];
        const Stripe& stripe = stripe_of(hash_of(i - 2));
        std::lock_guard lock(stripe.mutex);
        if (const InstanceState* state = stripe.instances.find(command.instance, hash_of(i - 2))) {
          state->prefetch(reads_field_values(command.type));
        }
      }
      if (i >= kSteps) {
        const std::size_t k = i - kSteps;
        results.push_back(execute(commands[k], times[k], hash_of(k), /*prefetched=*/true));
      }
    }
  }

  // Whether deciding a command of this type reads the field values (judges gates or rules).
  static bool reads_field_values(CommandType type) noexcept {
    return type == CommandType::kSetFields || type == CommandType::kAdvance ||
           type == CommandType::kCloseLost || type == CommandType::kReopen;
  }

  // `prefetched`: execute_batch() has already asked for the state's memory.
  CommandResult execute(const Command& command, Timestamp now, std::uint64_t hash,
                        bool prefetched = false) {
    if (now < kEarliestTimestamp || now > kLatestTimestamp) {
      // The standards count from it and calendars walk its days: refused before anything else.
      CommandResult result;
      result.rejection =
          Rejection{ErrorCode::kBadCommand,
                    "the command's time (" + std::to_string(now.time_since_epoch().count()) +
                        " ms since 1970) is outside the years 0000 to 9999",
                    {}};
      return result;
    }
    Stripe& stripe = stripe_of(hash);
    std::optional<Storage::Snapshot> snapshot;  // taken under the lock, saved after it
    // Asked before the stripe is locked: the Directory is the host's code and may take its time,
    // or call back into the engine.
    DirectoryAnswer directory_answer = ask_directory(command.actor);
    // Under the stripe's lock: every return below it releases the lock before the snapshot is
    // saved and the outbox delivered (a reload of a stale instance queues deliveries too).
    CommandResult outcome = [&]() -> CommandResult {
      CommandResult result;
      std::unique_lock lock(stripe.mutex);
      const bool keyed = !command.idempotency_key.empty();
      if (keyed) {
        if (auto answer = answer_of_key(stripe, command, hash)) return std::move(*answer);
      }
      Entry* entry = stripe.instances.find_entry(command.instance, hash);
      InstanceState* found = entry == nullptr ? nullptr : &entry->state;
      const InstanceState empty;
      const InstanceState& state = found == nullptr ? empty : *found;
      const ProcessDefinition* definition = nullptr;
      if (found != nullptr) {
        definition = found->definition;
        // decide() reads the standards' lives and the side block, each cold for a random
        // instance; commands that judge gates or rules also read field values all over their
        // lines. Start the misses now, side by side.
        if (!prefetched) found->prefetch(reads_field_values(command.type));
      } else if (command.type == CommandType::kCreate) {
        definition = this->definition(command.definition_id, command.definition_version).get();
        if (!definition) {
          result.rejection =
              Rejection{ErrorCode::kBadCommand,
                        "no definition " + internal::quote_text(command.definition_id) +
                            (command.definition_version
                                 ? " version " + std::to_string(*command.definition_version)
                                 : std::string()) +
                            " is registered",
                        {}};
          return remember(stripe, hash, command, std::move(result), 0);
        }
      }
      if (!definition) {
        result.rejection =
            Rejection{ErrorCode::kUnknownInstance,
                      "there is no instance " + internal::quote_text(command.instance),
                      {}};
        return remember(stripe, hash, command, std::move(result), 0);
      }
      const DecisionContext context{now,
                                    roles_of(*definition, state, command.actor, directory_answer)};
      Decision decision = decide(*definition, state, command, context);
      if (!decision.ok()) {
        result.rejection = std::move(decision.rejection);
        result.version = state.version;
        return remember(stripe, hash, command, std::move(result), state.version);
      }
      std::uint64_t version = state.version;
      for (Event& e : decision.events) {
        e.instance = command.instance;
        e.version = ++version;
        e.actor = command.actor;
        e.definition_id = definition->id();
        e.definition_version = definition->version();
      }
      if (!decision.events.empty() || keyed) {
        const auto appended =
            keyed ? options_.storage->append_keyed(command.instance, state.version, decision.events,
                                                   command.idempotency_key,
                                                   Storage::KeyRecord{command.instance,
                                                                      version,
                                                                      decision.events.size(),
                                                                      fingerprint(command),
                                                                      {}})
                  : options_.storage->append(command.instance, state.version, decision.events);
        switch (appended) {
          case Storage::AppendResult::kOk:
            break;
          case Storage::AppendResult::kConflict:
            // Another process answered this key meanwhile, or appended to the instance: give
            // its answer, or take the stored state so that a retry decides on it.
            if (keyed) {
              if (auto answer = answer_of_key(stripe, command, hash)) return std::move(*answer);
            }
            return conflict_at(reload(stripe, command.instance, state.version));
          case Storage::AppendResult::kUnavailable:
            result.rejection =
                Rejection{ErrorCode::kUnavailable, "the storage failed; nothing was changed", {}};
            result.version = state.version;
            return result;
        }
        const std::uint64_t before = state.version;
        const LivesBefore lives(found);
        try {
          // The index never moves a state, so `state` (when it was found) stays valid.
          if (found == nullptr && !decision.events.empty()) {
            entry = &stripe.instances.insert_entry(command.instance, hash);
            found = &entry->state;
          }
          for (const Event& e : decision.events) apply(*definition, *found, e);
          if (entry != nullptr) {
            reschedule(*entry, lives.unchanged_in(*found));
            snapshot = snapshot_due(command.instance, before, *found);
          }
          if (!options_.listeners.empty() && !decision.events.empty()) {
            // Queued under the stripe's lock, so deliveries keep commit order.
            std::lock_guard outbox_lock(stripe.outbox_mutex);
            stripe.outbox.push_back(Delivery{definition, decision.events});
          }
        } catch (...) {
          follow_storage(stripe, command.instance, before, found);
          throw;
        }
      }
      result.version = found == nullptr ? 0 : found->version;
      result.events = std::move(decision.events);
      return result;
    }();
    if (snapshot) save_snapshot(*snapshot);
    // The listeners are fixed at construction: with none, nothing is ever queued.
    if (!options_.listeners.empty()) deliver(stripe);
    return outcome;
  }

  std::optional<InstanceState> instance(std::string_view id) const {
    const std::uint64_t hash = internal::instance_hash(id);
    const Stripe& stripe = stripe_of(hash);
    std::lock_guard lock(stripe.mutex);
    const InstanceState* state = stripe.instances.find(id, hash);
    if (state == nullptr) return std::nullopt;
    return *state;
  }

  std::optional<std::vector<UnmetCriterion>> missing_to_leave(std::string_view id) const {
    const std::uint64_t hash = internal::instance_hash(id);
    const Stripe& stripe = stripe_of(hash);
    std::lock_guard lock(stripe.mutex);
    const InstanceState* state = stripe.instances.find(id, hash);
    if (state == nullptr) return std::nullopt;
    return unmet_criteria(*state->definition, *state);
  }

  std::optional<std::vector<OpenTransition>> open_transitions(std::string_view id,
                                                              std::string_view actor) const {
    // Asked before the stripe is locked, as in execute().
    DirectoryAnswer answer = ask_directory(actor);
    const std::uint64_t hash = internal::instance_hash(id);
    const Stripe& stripe = stripe_of(hash);
    std::lock_guard lock(stripe.mutex);
    const InstanceState* found = stripe.instances.find(id, hash);
    if (found == nullptr) return std::nullopt;
    const ProcessDefinition& def = *found->definition;
    const InstanceState& state = *found;
    std::vector<OpenTransition> open;
    const DecisionContext context{Timestamp{}, roles_of(def, state, actor, answer)};
    for (const Transition& t : def.outgoing(state.stage)) {
      // Ask decide() itself, so that this answer can never disagree with a real command.
      Command probe;
      probe.type = CommandType::kAdvance;
      probe.instance = std::string(id);
      probe.actor = std::string(actor);
      probe.target = def.stage(t.to).id;
      if (const Stage& to = def.stage(t.to); !to.lost_reasons.empty())
        probe.text = to.lost_reasons[0];
      const Decision decision = decide(def, state, probe, context);
      if (!decision.ok() && decision.rejection->code != ErrorCode::kGateBlocked) continue;
      const auto index = static_cast<std::uint32_t>(&t - def.transitions().data());
      open.push_back(OpenTransition{TransitionId(index), t.to, decision.ok()});
    }
    return open;
  }

  std::size_t recover() {
    std::size_t skipped = 0;
    // Instances whose snapshot cannot be used: replayed from all their events after the scan
    // (the scan's visitor must not call back into the storage).
    std::vector<std::string> replay_whole;
    // The rebuilt states are put in place after the scan: a store may hold its own lock while it
    // visits, and a command holds its stripe's lock while it appends, so installing from inside
    // the visit (stripe lock under the store's) could deadlock with a concurrent command.
    std::vector<std::pair<std::string, InstanceState>> rebuilt;
    options_.storage->scan_recovery([&](const Storage::RecoveryLog& log) {
      if (log.snapshot == nullptr) {
        if (log.events.empty()) return;
        const Event& first = log.events.front();
        auto definition = this->definition(first.definition_id, first.definition_version);
        // A log that does not fit its definition (edited storage, a definition changed without
        // a new version) is skipped: replaying it would index past the definition's tables.
        if (!definition || !log_fits(*definition, log.events) ||
            log.events.back().version != log.stored_version) {
          skipped += log.events.size();
          return;
        }
        rebuilt.emplace_back(std::string(log.instance), replay(*definition, log.events));
        return;
      }
      std::optional<InstanceState> state = from_snapshot(log);
      if (!state) {
        replay_whole.emplace_back(log.instance);
        return;
      }
      rebuilt.emplace_back(std::string(log.instance), std::move(*state));
    });
    for (auto& [id, state] : rebuilt) install(id, std::move(state));
    rebuilt = {};
    for (const std::string& id : replay_whole) {
      const std::vector<Event> events = options_.storage->load(id);
      if (events.empty()) continue;
      auto definition =
          this->definition(events.front().definition_id, events.front().definition_version);
      if (!definition || !log_fits(*definition, events)) {
        skipped += events.size();
        continue;
      }
      install(id, replay(*definition, events));
    }
    redeliver();
    return skipped;
  }

  // The state of a RecoveryLog with a snapshot: the snapshot plus the events after it, or
  // nothing when the snapshot cannot be used (its definition is not registered, it does not
  // decode, or the events after it do not continue it exactly).
  std::optional<InstanceState> from_snapshot(const Storage::RecoveryLog& log) const {
    const Storage::Snapshot& snapshot = *log.snapshot;
    if (snapshot.instance != log.instance || snapshot.version == 0 ||
        snapshot.version > log.stored_version) {
      return std::nullopt;
    }
    const auto definition = this->definition(snapshot.definition_id, snapshot.definition_version);
    if (!definition) return std::nullopt;
    DecodedSnapshot decoded = decode_snapshot(*definition, log.instance, snapshot.data);
    if (!decoded.ok() || decoded.state().version != snapshot.version) return std::nullopt;
    InstanceState& state = decoded.state();
    std::uint64_t version = snapshot.version;
    for (const Event& e : log.events) {
      if (e.version != ++version || e.type == EventType::kCreated || !event_fits(*definition, e)) {
        return std::nullopt;
      }
    }
    if (version != log.stored_version) return std::nullopt;
    for (const Event& e : log.events) apply(*definition, state, e);
    return std::move(state);
  }

  // Puts a recovered state in place, unless a command made the live one newer meanwhile.
  void install(const std::string& id, InstanceState state) {
    const std::uint64_t hash = internal::instance_hash(id);
    Stripe& stripe = stripe_of(hash);
    std::lock_guard lock(stripe.mutex);
    Entry* live = stripe.instances.find_entry(id, hash);
    if (live != nullptr && live->state.version >= state.version) return;
    if (live == nullptr) live = &stripe.instances.insert_entry(id, hash);
    live->state = std::move(state);
    reschedule(*live);
  }

  // A snapshot of `state` when the commit that took it from version `before` crossed a multiple
  // of snapshot_every. REQUIRES: the instance's stripe is locked.
  std::optional<Storage::Snapshot> snapshot_due(std::string_view id, std::uint64_t before,
                                                const InstanceState& state) const {
    const std::uint64_t every = options_.snapshot_every;
    if (every == 0 || !state.exists() || state.version / every == before / every) {
      return std::nullopt;
    }
    return make_snapshot(id, state);
  }

  static Storage::Snapshot make_snapshot(std::string_view id, const InstanceState& state) {
    return Storage::Snapshot{std::string(id), state.version, state.definition->id(),
                             state.definition->version(), encode_snapshot(id, state)};
  }

  // A snapshot is an optimisation: whatever happens saving it, the command stands.
  std::size_t save_snapshots(std::span<const Storage::Snapshot> snapshots) {
    if (snapshots.empty()) return 0;
    bool saved = false;
    guarded([&] { saved = options_.storage->save_snapshots(snapshots); });
    return saved ? snapshots.size() : 0;
  }
  void save_snapshot(const Storage::Snapshot& snapshot) {
    save_snapshots(std::span<const Storage::Snapshot>(&snapshot, 1));
  }

  std::size_t snapshot_all() {
    constexpr std::size_t kBatch = 1024;
    std::size_t saved = 0;
    std::vector<Storage::Snapshot> batch;
    for (Stripe& stripe : stripes_) {
      {
        std::lock_guard lock(stripe.mutex);
        stripe.instances.for_each([&](std::string_view id, const InstanceState& state) {
          if (state.exists()) batch.push_back(make_snapshot(id, state));
        });
      }
      if (batch.size() >= kBatch) {
        saved += save_snapshots(batch);
        batch.clear();
      }
    }
    saved += save_snapshots(batch);
    return saved;
  }

  std::vector<Event> advance_to(Timestamp now) {
    std::vector<Event> fired;
    for (;;) {
      internal::DeadlineQueue::Due due;
      {
        std::lock_guard lock(timers_mutex_);
        if (!timers_.pop_due(now.time_since_epoch().count(), due)) break;
        // From now on the handle is not pending: the entry forgets it (entries never move, and
        // their timers are guarded by this lock, so no stripe lock is needed).
        Entry& entry = *reinterpret_cast<Entry*>(static_cast<std::uintptr_t>(due.payload));
        if (entry.timer.handle == due.handle.value) entry.timer.handle = 0;
      }
      // A storage failure leaves the milestone due: stop here, the next advance retries.
      if (!fire(due, fired)) break;
    }
    return fired;
  }

  std::vector<Event> advance() { return advance_to(options_.clock->now()); }

  std::optional<std::vector<StandardStatus>> standards(std::string_view id, Timestamp now) const {
    const std::uint64_t hash = internal::instance_hash(id);
    const Stripe& stripe = stripe_of(hash);
    std::lock_guard lock(stripe.mutex);
    const InstanceState* state = stripe.instances.find(id, hash);
    if (state == nullptr) return std::nullopt;
    return statuses(*state->definition, *state, now);
  }

  std::vector<Engine::Trouble> standards_in_trouble(Timestamp now) const {
    std::vector<Engine::Trouble> trouble;
    for (const Stripe& stripe : stripes_) {
      std::lock_guard lock(stripe.mutex);
      stripe.instances.for_each([&](std::string_view id, const InstanceState& state) {
        for (StandardStatus& status : statuses(*state.definition, state, now)) {
          if (status.phase == StandardPhase::kAtRisk || status.phase == StandardPhase::kBreached ||
              status.phase == StandardPhase::kEscalated) {
            trouble.push_back(Engine::Trouble{std::string(id), std::move(status)});
          }
        }
      });
    }
    std::sort(trouble.begin(), trouble.end(), [](const auto& a, const auto& b) {
      if (a.status.deadline.has_value() != b.status.deadline.has_value()) {
        return a.status.deadline.has_value();
      }
      if (a.status.deadline != b.status.deadline) return a.status.deadline < b.status.deadline;
      return std::tie(a.instance, a.status.standard) < std::tie(b.instance, b.status.standard);
    });
    return trouble;
  }

  // Whether `events` can be replayed on `def`: created first, versions 1..n, one definition
  // version throughout, every index within the definition's tables.
  static bool log_fits(const ProcessDefinition& def, std::span<const Event> events) {
    if (events.empty() || events.front().type != EventType::kCreated) return false;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (e.version != i + 1 || !event_fits(def, e)) return false;
      if (i > 0 && e.type == EventType::kCreated) return false;
    }
    return true;
  }

  std::size_t instance_count() const {
    std::size_t count = 0;
    for (const Stripe& stripe : stripes_) {
      std::lock_guard lock(stripe.mutex);
      count += stripe.instances.size();
    }
    return count;
  }

  // Hands the listeners what the Storage's outbox still holds, instance by instance. Returns the
  // number of events handed over.
  std::size_t redeliver() {
    if (options_.listeners.empty()) return 0;
    std::map<std::string, std::vector<Event>> pending;
    options_.storage->scan_undelivered([&](const Event& e) { pending[e.instance].push_back(e); });
    std::size_t count = 0;
    for (auto& [id, events] : pending) {
      const auto definition =
          this->definition(events.front().definition_id, events.front().definition_version);
      if (!definition) continue;
      count += events.size();
      Stripe& stripe = stripe_of(internal::instance_hash(id));
      {
        std::lock_guard lock(stripe.outbox_mutex);
        stripe.outbox.push_back(Delivery{definition.get(), std::move(events)});
      }
      deliver(stripe);
    }
    return count;
  }

 private:
  // Instances are spread over stripes by the hash of their id. One mutex per stripe serialises
  // the commands of its instances; instances of different stripes run in parallel.
  using Entry = internal::InstanceIndex::Entry;
  struct Stripe {
    mutable std::mutex mutex;
    internal::InstanceIndex instances;
    std::mutex outbox_mutex;
    std::deque<Delivery> outbox;
    bool delivering = false;
  };
  static constexpr std::size_t kStripes = 256;

  // A rejection is the answer a repeat of a keyed command gets: stored with the key (no events,
  // at the instance's version `held`). A store that fails to keep it changes nothing else, so the
  // answer stands. REQUIRES: the stripe of command.instance is locked.
  CommandResult remember(Stripe& stripe, std::uint64_t hash, const Command& command,
                         CommandResult result, std::uint64_t held) {
    if (command.idempotency_key.empty())
      return checked_against_store(stripe, command, result, held);
    const Storage::KeyRecord record{command.instance, held, 0, fingerprint(command),
                                    encode_rejection(*result.rejection)};
    if (options_.storage->append_keyed(command.instance, held, {}, command.idempotency_key,
                                       record) == Storage::AppendResult::kConflict) {
      if (auto answer = answer_of_key(stripe, command, hash)) return std::move(*answer);
      // Not the key: the stored instance moved on, and the rejection was decided on an old
      // state. As for an accepted command: take the stored state and answer `conflict`. When no
      // newer state can be taken (a log that does not fit), a retry would conflict forever: the
      // rejection stands, unstored.
      const std::uint64_t now_at = reload(stripe, command.instance, held);
      if (now_at != held) return conflict_at(now_at);
    }
    return result;
  }

  // A rejection without a key reaches no store, so no append can conflict: when it depends on
  // the instance's state (the gate, the roles assigned, the stage, whether it exists, its version)
  // and the store holds a newer version than memory (another engine on the store moved the
  // instance on, or created it), memory takes the stored state and the answer is `conflict`, as
  // for a keyed rejection; the retry decides on the stored state. A store that cannot tell
  // (Storage::stored_version() gives nothing) leaves the rejection as it is.
  CommandResult checked_against_store(Stripe& stripe, const Command& command, CommandResult& result,
                                      std::uint64_t held) {
    switch (result.rejection->code) {
      case ErrorCode::kGateBlocked:
      case ErrorCode::kForbidden:
      case ErrorCode::kInvalidTransition:
      case ErrorCode::kUnknownInstance:
      case ErrorCode::kConflict:
        break;
      default:
        return std::move(result);  // decided on the command and the definition alone
    }
    const std::optional<std::uint64_t> stored = options_.storage->stored_version(command.instance);
    if (!stored || *stored <= held) return std::move(result);
    const std::uint64_t now_at = reload(stripe, command.instance, held);
    return now_at != held ? conflict_at(now_at) : std::move(result);
  }

  // The answer to an append the Storage refused because the instance moved on, once memory has
  // taken the stored state (at `version`), so that a retry decides on it.
  static CommandResult conflict_at(std::uint64_t version) {
    CommandResult conflict;
    conflict.version = version;
    conflict.rejection = Rejection{
        ErrorCode::kConflict, "the stored instance changed meanwhile; reload and retry", {}};
    return conflict;
  }

  // The stored answer of the command's idempotency key, if the key is taken. An answer at a
  // version beyond the state held was given by another writer: a process that raced this one, or
  // one that died while committing and whose commit landed after this engine recovered. Memory
  // then takes the stored instance, so that the commands after it decide on what is stored (a
  // rejection decided on the old state would never reach the store to conflict there).
  // REQUIRES: the stripe of command.instance (`hash`) is locked.
  std::optional<CommandResult> answer_of_key(Stripe& stripe, const Command& command,
                                             std::uint64_t hash) {
    const auto record = options_.storage->find_key(command.idempotency_key);
    if (!record) return std::nullopt;
    CommandResult result;
    result.version = record->version;
    if (record->instance == command.instance) {
      const Entry* entry = stripe.instances.find_entry(command.instance, hash);
      const std::uint64_t held = entry == nullptr ? 0 : entry->state.version;
      if (record->version > held) reload(stripe, command.instance, held);
    }
    if (record->instance != command.instance || record->fingerprint != fingerprint(command)) {
      result.rejection =
          Rejection{ErrorCode::kBadCommand,
                    "the idempotency key " + internal::quote_text(command.idempotency_key) +
                        " was used for another command (" +
                        internal::quote_text(record->fingerprint, 120) + ")",
                    {}};
      return result;
    }
    if (!record->rejection.empty()) {
      result.rejection = decode_rejection(record->rejection);
      if (!result.rejection) {
        result.rejection = Rejection{
            ErrorCode::kUnavailable, "the stored answer of this idempotency key is damaged", {}};
      }
      return result;
    }
    if (record->event_count > 0) {
      std::vector<Event> events = options_.storage->load(command.instance);
      const std::uint64_t first = record->version - record->event_count + 1;
      if (record->event_count > record->version || events.size() < record->version ||
          events[first - 1].version != first) {
        result.rejection = Rejection{
            ErrorCode::kUnavailable, "the storage failed to give this key's events back", {}};
        return result;
      }
      result.events.assign(
          std::make_move_iterator(events.begin() + static_cast<long>(first - 1)),
          std::make_move_iterator(events.begin() + static_cast<long>(record->version)));
    }
    return result;
  }

  // When the Storage is ahead of memory (it reported a conflict, or a key's stored answer is
  // newer): takes the instance's stored log when it is newer than the state held and fits its
  // definition, and queues those beyond the delivery mark for the listeners. Returns the version
  // the instance is at now. REQUIRES: the stripe is locked.
  std::uint64_t reload(Stripe& stripe, std::string_view id, std::uint64_t held) {
    std::vector<Event> events = options_.storage->load(id);
    if (events.size() <= held) return held;
    const auto definition =
        this->definition(events.front().definition_id, events.front().definition_version);
    if (!definition || !log_fits(*definition, events)) return held;
    if (!options_.listeners.empty()) {
      // Another writer's events: it may have died before handing them over, and a delivery mark
      // is a high-water mark, so this engine's next delivery on the instance would cover them
      // unseen. Those beyond the stored mark are handed over here too (at least once: a live
      // writer that has not written its mark yet hands them over as well); queued first, so
      // that a failure below cannot lose them.
      const std::uint64_t from = std::max(held, options_.storage->delivery_mark(id));
      if (from < events.size()) {
        std::vector<Event> taken(events.begin() + static_cast<std::ptrdiff_t>(from), events.end());
        std::lock_guard outbox_lock(stripe.outbox_mutex);
        stripe.outbox.push_back(Delivery{definition.get(), std::move(taken)});
      }
    }
    const std::uint64_t hash = internal::instance_hash(id);
    Entry* live = stripe.instances.find_entry(id, hash);
    if (live == nullptr) live = &stripe.instances.insert_entry(id, hash);
    live->state = replay(*definition, events);
    reschedule(*live);
    return events.back().version;
  }

  // The storage holds a commit's events, but bringing memory up to them failed part way (out of
  // memory in the index, apply(), the deadline queue or the outbox). Memory must not stay behind
  // the log, nor beside it with a half-applied state: take the stored instance again. When that
  // fails too, the state keeps the version it had before the commit, so that the next command's
  // append conflicts and reloads it (a create's conflict too: reload() adds a missing entry).
  // The reload queues the commit's events for the listeners (when it fails, the next command's
  // reload does). REQUIRES: the stripe's lock is held.
  void follow_storage(Stripe& stripe, std::string_view id, std::uint64_t before,
                      InstanceState* state) noexcept {
    if (state != nullptr) state->version = before;
    try {
      reload(stripe, id, before);
    } catch (...) {  // NOLINT(bugprone-empty-catch): healed by the instance's next command
    }
  }

  // By the low bits of instance_hash(); the index uses the high bits.
  Stripe& stripe_of(std::uint64_t hash) { return stripes_[hash % kStripes]; }
  const Stripe& stripe_of(std::uint64_t hash) const { return stripes_[hash % kStripes]; }

  static std::vector<StandardStatus> statuses(const ProcessDefinition& def,
                                              const InstanceState& state, Timestamp now) {
    std::vector<StandardStatus> out;
    const auto standards = def.delivery_standards();
    for (std::size_t i = 0; i < standards.size(); ++i) {
      const StandardLife life =
          i < state.standards().size() ? state.standards()[i] : StandardLife{};
      const DeliveryStandard& standard = standards[i];
      const BusinessCalendar* calendar = calendar_of(def, standard);
      StandardStatus status;
      status.standard = DeliveryStandardId(static_cast<std::uint32_t>(i));
      status.phase = life.phase();
      status.paused = life.paused();
      status.escalations = life.escalations();
      status.deadline = life.deadline(standard, calendar);
      status.elapsed = life.elapsed(standard, calendar, now);
      status.remaining = life.remaining(standard, calendar, now);
      out.push_back(status);
    }
    return out;
  }

  // The standards' lives of a state before a command is applied, to tell whether it changed them
  // (for up to kMax standards; a state with more always counts as changed).
  class LivesBefore {
   public:
    static constexpr std::size_t kMax = 8;
    explicit LivesBefore(const InstanceState* state) noexcept {
      // Without standards reschedule() has nothing to do anyway.
      if (state == nullptr || state->standards().empty() || state->standards().size() > kMax) {
        return;
      }
      count_ = state->standards().size();
      std::copy_n(state->standards().begin(), count_, lives_.begin());
    }
    bool unchanged_in(const InstanceState& state) const noexcept {
      return count_ != kNone &&
             std::ranges::equal(state.standards(), std::span(lives_.data(), count_));
    }

   private:
    static constexpr std::size_t kNone = kMax + 1;
    std::array<StandardLife, kMax> lives_;  // the first count_ are set
    std::size_t count_ = kNone;
  };

  // Puts the instance's earliest coming milestone in the deadline queue. The queue's payload is
  // the address of the instance's index entry (entries never move). Called under the instance's
  // stripe lock; takes the timers' lock (stripe, then timers: never the other way round), which
  // guards entry.timer. The next milestone is a function of the standards' lives alone
  // (next_milestone()): `lives_unchanged` says the command just applied left them as they were,
  // so a pending deadline is still the right one and its computation (calendars) is spared.
  void reschedule(Entry& entry, bool lives_unchanged = false) {
    const InstanceState& state = entry.state;
    const ProcessDefinition& def = *state.definition;
    // Most definitions time nothing, and most commands leave nothing to time: no lock then. A
    // queue entry that no longer matches fires nothing when it falls due (fire() finds no
    // milestone), so it need not be taken out here.
    if (def.delivery_standards().empty()) return;
    internal::InstanceIndex::Timer& timer = entry.timer;
    if (lives_unchanged) {
      std::lock_guard lock(timers_mutex_);
      if (timer.handle != 0) return;
    }
    const auto next = next_milestone(def, state);
    if (!next) return;
    const std::int64_t due = next->time_since_epoch().count();
    std::lock_guard lock(timers_mutex_);
    // Most commands do not move the next milestone: keep the entry as it is.
    if (timer.handle != 0 && timer.due == due) return;
    // Scheduled before the old one is cancelled, so that the entry never names a cancelled
    // handle. When schedule() throws, the old deadline is dropped as well: the skip above relies
    // on a pending handle being the deadline of the current lives (or, when they have no next
    // milestone, a stale one that fires nothing), and with none pending the instance's next
    // command schedules it again. timer.handle is pending whenever it is not 0 (advance_to()
    // clears it when it pops it).
    internal::DeadlineQueue::Handle scheduled{};
    try {
      scheduled = timers_.schedule(due, reinterpret_cast<std::uintptr_t>(&entry));
    } catch (...) {
      if (timer.handle != 0) timers_.cancel_pending(internal::DeadlineQueue::Handle{timer.handle});
      timer.handle = 0;
      throw;
    }
    if (timer.handle != 0) timers_.cancel_pending(internal::DeadlineQueue::Handle{timer.handle});
    timer.handle = scheduled.value;
    timer.due = due;
  }

  // reschedule() on a path that is already failing: when it fails too, the instance's next
  // command or reload schedules its deadline again.
  void reschedule_or_leave(Entry& entry) noexcept {
    try {
      reschedule(entry);
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  }

  // Commits the milestones that `popped` (a deadline taken from the queue) names: those of its
  // instance due at its time (none when a command got there first).
  bool fire(const internal::DeadlineQueue::Due& popped, std::vector<Event>& fired) {
    Entry& entry = *reinterpret_cast<Entry*>(static_cast<std::uintptr_t>(popped.payload));
    const Timestamp due{std::chrono::milliseconds(popped.due)};
    // An entry's id never changes once it is in the index.
    Stripe& stripe = stripe_of(internal::instance_hash(entry.id.view()));
    std::optional<Storage::Snapshot> snapshot;
    {
      std::unique_lock lock(stripe.mutex);
      const std::string_view id = entry.id.view();
      InstanceState& state = entry.state;
      const ProcessDefinition& definition = *state.definition;
      std::vector<Event> events;
      Storage::AppendResult appended = Storage::AppendResult::kOk;
      try {
        events = due_milestones(definition, state, due);
        std::uint64_t version = state.version;
        for (Event& e : events) {
          e.instance = id;
          e.version = ++version;
          e.actor = std::string(kSystemActor);
          e.definition_id = definition.id();
          e.definition_version = definition.version();
        }
        if (!events.empty()) appended = options_.storage->append(id, state.version, events);
      } catch (...) {
        // Nothing was written (out of memory before or in the append): the popped deadline must
        // not be lost with the exception.
        reschedule_or_leave(entry);
        throw;
      }
      if (!events.empty()) {
        const std::uint64_t held = state.version;
        if (appended == Storage::AppendResult::kConflict && reload(stripe, id, held) != held) {
          // Another writer moved the instance on (one that died while committing, its commit
          // landing after this engine recovered): memory took the stored state, and reload()
          // scheduled its milestones, so the advance goes on.
          lock.unlock();
          deliver(stripe);
          return true;
        }
        if (appended != Storage::AppendResult::kOk) {
          // Nothing was written; the milestone stays due and fires on a later advance.
          reschedule(entry);
          return false;
        }
        const std::uint64_t before = state.version;
        try {
          for (const Event& e : events) apply(definition, state, e);
          snapshot = snapshot_due(id, before, state);
          reschedule(entry);
          // Queued last: when anything above throws, follow_storage() queues the events instead.
          if (!options_.listeners.empty()) {
            std::lock_guard outbox_lock(stripe.outbox_mutex);
            stripe.outbox.push_back(Delivery{&definition, events});
          }
        } catch (...) {
          follow_storage(stripe, id, before, &state);
          throw;
        }
        fired.insert(fired.end(), events.begin(), events.end());
      } else {
        reschedule(entry);
      }
    }
    if (snapshot) save_snapshot(*snapshot);
    deliver(stripe);
    return true;
  }

  // What the Directory says of an actor, asked before the stripe is locked (it is the host's code
  // and may take its time, or call back into the engine): the role names it gives now, or a copy
  // of the thread's last answer when that is for this engine, actor and revision(). A copy, so
  // that host code running before roles_of() (a Storage, a fiber switch) cannot change it.
  struct DirectoryAnswer {
    std::uint64_t revision = 0;  // 0: not to be kept
    bool kept = false;           // a copy of the thread's last answer
    DirectoryRoles names;
    const ProcessDefinition* definition = nullptr;  // kept: `roles` are `names` mapped in it
    RoleSet roles;
  };
  DirectoryAnswer ask_directory(std::string_view actor) const {
    DirectoryAnswer answer;
    const Directory* directory = options_.directory;
    if (directory == nullptr) return answer;
    answer.revision = directory->revision();
    const LastAnswer* last = answer.revision != 0 ? last_answer() : nullptr;
    if (last != nullptr && last->engine == serial_ && last->revision == answer.revision &&
        last->actor == actor) {
      answer.kept = true;
      answer.names.assign(last->names);
      answer.definition = last->definition;
      answer.roles = last->roles;
      return answer;
    }
    directory->visit_roles(actor, [&answer](std::string_view role) { answer.names.add(role); });
    return answer;
  }

  // The actor's roles in `def` on this instance: the Directory's (`answer`, from ask_directory()
  // on this thread) plus the instance's assignments. Keeps the answer as the thread's last one.
  RoleSet roles_of(const ProcessDefinition& def, const InstanceState& state, std::string_view actor,
                   DirectoryAnswer& answer) const {
    if (answer.kept && answer.definition == &def) {
      return effective_roles(state, actor, answer.roles);
    }
    const RoleSet roles = roles_in(def, answer.names);
    if (answer.revision != 0) keep(answer, actor, def, roles);
    return effective_roles(state, actor, roles);
  }

  static RoleSet roles_in(const ProcessDefinition& def, const DirectoryRoles& names) {
    RoleSet roles;
    names.for_each([&](std::string_view role) {
      if (const auto r = def.find_role(role)) roles.insert(*r);
    });
    return roles;
  }

  // Makes `answer` the thread's last one. Keeping it is an optimisation: when that fails (out of
  // memory for a long actor id), the thread has no last answer, and the command goes on.
  void keep(DirectoryAnswer& answer, std::string_view actor, const ProcessDefinition& def,
            RoleSet roles) const noexcept {
    LastAnswer* last = last_answer();
    if (last == nullptr) return;
    last->engine = 0;
    try {
      last->actor.assign(actor);
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing kept
      return;
    }
    last->names = std::move(answer.names);
    last->revision = answer.revision;
    last->definition = &def;
    last->roles = roles;
    last->engine = serial_;
  }

  // Hands queued deliveries to the listeners, one thread per stripe at a time, in commit order,
  // with no lock held during the calls.
  void deliver(Stripe& stripe) {
    std::unique_lock lock(stripe.outbox_mutex);
    if (stripe.delivering) return;  // the thread delivering now will deliver ours too
    stripe.delivering = true;
    // Whatever happens (bad_alloc), the stripe must not stay marked as delivering forever.
    struct Reset {
      Stripe& stripe;
      std::unique_lock<std::mutex>& lock;
      ~Reset() {
        if (!lock.owns_lock()) lock.lock();
        stripe.delivering = false;
      }
    } reset{stripe, lock};
    while (!stripe.outbox.empty()) {
      Delivery delivery = std::move(stripe.outbox.front());
      stripe.outbox.pop_front();
      lock.unlock();
      notify(delivery);
      if (!delivery.events.empty()) {
        options_.storage->mark_delivered(delivery.events.back().instance,
                                         delivery.events.back().version);
      }
      lock.lock();
    }
  }

  void notify(const Delivery& delivery) const {
    for (EventListener* listener : options_.listeners) {
      const std::vector<Event>& events = delivery.events;
      for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        guarded([&] { listener->on_event(e); });
        if (e.type == EventType::kStandardAtRisk || e.type == EventType::kStandardBreached ||
            e.type == EventType::kStandardEscalated) {
          const DeliveryStandard& standard = delivery.definition->delivery_standards()[e.target];
          RoleSet roles;
          if (e.type == EventType::kStandardEscalated) {
            roles.insert(
                standard.escalation[static_cast<std::size_t>(std::get<std::int64_t>(e.value))]
                    .role);
          } else {
            const Stage& stage = delivery.definition->stage(e.stage);
            roles = stage.responsibility.responsible;
            roles.insert(stage.responsibility.accountable);
          }
          const StandardNotice notice{delivery.definition, &e, &standard, roles};
          guarded([&] { listener->on_standard(notice); });
          continue;
        }
        if (e.type != EventType::kCreated && e.type != EventType::kStageChanged &&
            e.type != EventType::kReopened) {
          continue;
        }
        // A team the stage asks for comes with the entry, later in the same command.
        RoleSet team;
        for (std::size_t j = i + 1; j < events.size(); ++j) {
          if (events[j].type == EventType::kTeamRequired) team = team_roles(events[j]);
        }
        const Stage& stage = delivery.definition->stage(e.stage);
        const StageEntryNotice notice{delivery.definition,
                                      &e,
                                      &stage,
                                      stage.responsibility.consulted,
                                      stage.responsibility.informed,
                                      stage.guidance,
                                      team};
        guarded([&] { listener->on_stage_entered(notice); });
      }
    }
  }

  // A listener's exception must not undo or block a committed change.
  template <class F>
  static void guarded(F&& call) {
    try {
      call();
    } catch (...) {
    }
  }

  // Tells this engine's entries in last_answer from those of engines gone before it.
  static std::uint64_t next_serial() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  const std::uint64_t serial_ = next_serial();
  EngineOptions options_;
  std::unique_ptr<InMemoryStorage> owned_storage_;
  mutable std::shared_mutex definitions_mutex_;
  std::map<std::string, std::map<std::uint32_t, std::shared_ptr<const ProcessDefinition>>,
           std::less<>>
      definitions_;
  std::array<Stripe, kStripes> stripes_;

  static constexpr std::string_view kSystemActor = "system";
  SystemClock system_clock_;
  // Pending deadlines: one per instance that has a coming milestone, at the earliest; the
  // payload is the address of the instance's index entry, which keeps the handle (entry.timer)
  // exactly while it is pending.
  std::mutex timers_mutex_;
  internal::DeadlineQueue timers_;
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::~Engine() = default;

bool Engine::register_definition(std::shared_ptr<const ProcessDefinition> definition) {
  return impl_->register_definition(std::move(definition));
}
std::shared_ptr<const ProcessDefinition> Engine::definition(
    std::string_view id, std::optional<std::uint32_t> version) const {
  return impl_->definition(id, version);
}
CommandResult Engine::execute(const Command& command, Timestamp now) {
  return impl_->execute(command, now);
}
void Engine::execute_batch(std::span<const Command> commands, std::span<const Timestamp> times,
                           std::vector<CommandResult>& results) {
  impl_->execute_batch(commands, times, results);
}
std::optional<InstanceState> Engine::instance(std::string_view id) const {
  return impl_->instance(id);
}
std::optional<std::vector<UnmetCriterion>> Engine::missing_to_leave(std::string_view id) const {
  return impl_->missing_to_leave(id);
}
std::optional<std::vector<OpenTransition>> Engine::open_transitions(std::string_view id,
                                                                    std::string_view actor) const {
  return impl_->open_transitions(id, actor);
}
std::size_t Engine::recover() { return impl_->recover(); }
std::size_t Engine::deliver_undelivered() { return impl_->redeliver(); }
std::size_t Engine::snapshot_all() { return impl_->snapshot_all(); }
std::vector<Event> Engine::advance_to(Timestamp now) { return impl_->advance_to(now); }
std::vector<Event> Engine::advance() { return impl_->advance(); }
std::optional<std::vector<StandardStatus>> Engine::standards(std::string_view id,
                                                             Timestamp now) const {
  return impl_->standards(id, now);
}
std::vector<Engine::Trouble> Engine::standards_in_trouble(Timestamp now) const {
  return impl_->standards_in_trouble(now);
}
std::size_t Engine::instance_count() const { return impl_->instance_count(); }

bool event_fits(const ProcessDefinition& def, const Event& e) noexcept {
  if (e.definition_id != def.id() || e.definition_version != def.version() ||
      to_index(e.stage) >= def.stages().size() || to_index(e.from_stage) >= def.stages().size()) {
    return false;
  }
  switch (e.type) {
    case EventType::kFieldSet:
    case EventType::kFieldCleared:
      return e.target < def.fields().size();
    case EventType::kItemChecked:
    case EventType::kItemUnchecked:
      return e.target < def.checklist_items().size();
    case EventType::kApprovalGiven:
    case EventType::kApprovalRejected:
      return e.target < def.approvals().size();
    case EventType::kAssigned:
      return e.target < def.roles().size();
    case EventType::kTeamRequired:
      return std::holds_alternative<std::int64_t>(e.value) &&
             (def.roles().size() >= 64 || (team_roles(e).bits() >> def.roles().size()) == 0);
    case EventType::kStandardAtRisk:
    case EventType::kStandardBreached:
      return e.target < def.delivery_standards().size();
    case EventType::kStandardMet:
    case EventType::kStandardCancelled: {
      // The counted time apply() keeps: none (apply() counts it), or within StandardLife's range,
      // as a snapshot's life must be (StandardLife::restore()).
      const auto* elapsed = std::get_if<std::int64_t>(&e.value);
      return e.target < def.delivery_standards().size() &&
             (std::holds_alternative<std::monostate>(e.value) ||
              (elapsed != nullptr && *elapsed >= 0 && *elapsed <= StandardLife::kMaxCountedMs));
    }
    case EventType::kStandardEscalated: {
      const auto* step = std::get_if<std::int64_t>(&e.value);
      return e.target < def.delivery_standards().size() && step != nullptr && *step >= 0 &&
             static_cast<std::size_t>(*step) < def.delivery_standards()[e.target].escalation.size();
    }
    default:
      return true;
  }
}

InstanceState replay(const ProcessDefinition& definition, std::span<const Event> events) {
  InstanceState state;
  for (const Event& e : events) apply(definition, state, e);
  return state;
}

}  // namespace salesflow
