// The Engine: instances in lock stripes, commands decided and applied under the stripe's lock,
// events appended to Storage before they are applied, listeners told afterwards in commit order.
#include "salesflow/engine.hpp"

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "definition/json_document.hpp"

namespace salesflow {

namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

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
        u[0].get<unsigned>() > static_cast<unsigned>(UnmetCriterion::Kind::kFailedCondition)) {
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
    Stripe& stripe = stripe_of(command.instance);
    CommandResult result;
    // Asked before the stripe is locked: the Directory is the host's code and may take its time,
    // or call back into the engine.
    const std::vector<std::string> directory_roles = this->directory_roles(command.actor);
    {
      std::unique_lock lock(stripe.mutex);
      const bool keyed = !command.idempotency_key.empty();
      if (keyed) {
        if (auto answer = answer_of_key(command)) return std::move(*answer);
      }
      auto found = stripe.instances.find(command.instance);
      const InstanceState empty;
      const InstanceState& state = found == stripe.instances.end() ? empty : found->second;
      const ProcessDefinition* definition = nullptr;
      if (found != stripe.instances.end()) {
        definition = found->second.definition;
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
          return remember(command, std::move(result), 0);
        }
      }
      if (!definition) {
        result.rejection =
            Rejection{ErrorCode::kUnknownInstance,
                      "there is no instance " + internal::quote_text(command.instance),
                      {}};
        return remember(command, std::move(result), 0);
      }
      const DecisionContext context{now,
                                    roles_of(*definition, state, command.actor, directory_roles)};
      Decision decision = decide(*definition, state, command, context);
      if (!decision.ok()) {
        result.rejection = std::move(decision.rejection);
        result.version = state.version;
        return remember(command, std::move(result), state.version);
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
              if (auto answer = answer_of_key(command)) return std::move(*answer);
            }
            result.version = reload(stripe, command.instance, state.version);
            result.rejection = Rejection{ErrorCode::kConflict,
                                         "the stored instance changed meanwhile; reload and retry",
                                         {}};
            return result;
          case Storage::AppendResult::kUnavailable:
            result.rejection =
                Rejection{ErrorCode::kUnavailable, "the storage failed; nothing was changed", {}};
            result.version = state.version;
            return result;
        }
        if (found == stripe.instances.end() && !decision.events.empty()) {
          found = stripe.instances.emplace(command.instance, InstanceState{}).first;
        }
        for (const Event& e : decision.events) apply(*definition, found->second, e);
        if (!options_.listeners.empty() && !decision.events.empty()) {
          // Queued under the stripe's lock, so deliveries keep commit order.
          std::lock_guard outbox_lock(stripe.outbox_mutex);
          stripe.outbox.push_back(Delivery{definition, decision.events});
        }
      }
      result.version = found == stripe.instances.end() ? 0 : found->second.version;
      result.events = std::move(decision.events);
    }
    deliver(stripe);
    return result;
  }

  std::optional<InstanceState> instance(std::string_view id) const {
    const Stripe& stripe = stripe_of(id);
    std::lock_guard lock(stripe.mutex);
    const auto it = stripe.instances.find(id);
    if (it == stripe.instances.end()) return std::nullopt;
    return it->second;
  }

  std::optional<std::vector<UnmetCriterion>> missing_to_leave(std::string_view id) const {
    const Stripe& stripe = stripe_of(id);
    std::lock_guard lock(stripe.mutex);
    const auto it = stripe.instances.find(id);
    if (it == stripe.instances.end()) return std::nullopt;
    return unmet_criteria(*it->second.definition, it->second);
  }

  std::optional<std::vector<OpenTransition>> open_transitions(std::string_view id,
                                                              std::string_view actor) const {
    const Stripe& stripe = stripe_of(id);
    std::lock_guard lock(stripe.mutex);
    const auto it = stripe.instances.find(id);
    if (it == stripe.instances.end()) return std::nullopt;
    const ProcessDefinition& def = *it->second.definition;
    const InstanceState& state = it->second;
    std::vector<OpenTransition> open;
    const DecisionContext context{Timestamp{}, roles_of(def, state, actor, directory_roles(actor))};
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
    std::map<std::string, std::vector<Event>> by_instance;
    options_.storage->scan([&](const Event& e) { by_instance[e.instance].push_back(e); });
    for (auto& [id, events] : by_instance) {
      auto definition =
          this->definition(events.front().definition_id, events.front().definition_version);
      // A log that does not fit its definition (edited storage, a definition changed without a
      // new version) is skipped: replaying it would index past the definition's tables.
      if (!definition || !log_fits(*definition, events)) {
        skipped += events.size();
        continue;
      }
      Stripe& stripe = stripe_of(id);
      std::lock_guard lock(stripe.mutex);
      const auto live = stripe.instances.find(id);
      // A command that ran meanwhile is newer than what was scanned: keep it.
      if (live != stripe.instances.end() && live->second.version >= events.back().version) {
        continue;
      }
      stripe.instances.insert_or_assign(id, replay(*definition, events));
    }
    if (!options_.listeners.empty()) redeliver();
    return skipped;
  }

  // Whether `events` can be replayed on `def`: created first, versions 1..n, one definition
  // version throughout, every index within the definition's tables.
  static bool log_fits(const ProcessDefinition& def, const std::vector<Event>& events) {
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

 private:
  // Instances are spread over stripes by the hash of their id. One mutex per stripe serialises
  // the commands of its instances; instances of different stripes run in parallel.
  struct Stripe {
    mutable std::mutex mutex;
    std::unordered_map<std::string, InstanceState, StringHash, std::equal_to<>> instances;
    std::mutex outbox_mutex;
    std::deque<Delivery> outbox;
    bool delivering = false;
  };
  static constexpr std::size_t kStripes = 256;

  // A rejection is the answer a repeat of a keyed command gets: stored with the key (no events,
  // at the instance's version `held`). A store that fails to keep it changes nothing else, so the
  // answer stands. REQUIRES: the stripe of command.instance is locked.
  CommandResult remember(const Command& command, CommandResult result, std::uint64_t held) {
    if (command.idempotency_key.empty()) return result;
    const Storage::KeyRecord record{command.instance, held, 0, fingerprint(command),
                                    encode_rejection(*result.rejection)};
    if (options_.storage->append_keyed(command.instance, held, {}, command.idempotency_key,
                                       record) == Storage::AppendResult::kConflict) {
      if (auto answer = answer_of_key(command)) return std::move(*answer);
    }
    return result;
  }

  // The stored answer of the command's idempotency key, if the key is taken. REQUIRES: the
  // stripe of command.instance is locked.
  std::optional<CommandResult> answer_of_key(const Command& command) {
    const auto record = options_.storage->find_key(command.idempotency_key);
    if (!record) return std::nullopt;
    CommandResult result;
    result.version = record->version;
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

  // After the Storage reported a conflict: takes the instance's stored log when it is newer than
  // the state held and fits its definition. Returns the version the instance is at now.
  // REQUIRES: the stripe is locked.
  std::uint64_t reload(Stripe& stripe, const std::string& id, std::uint64_t held) {
    std::vector<Event> events = options_.storage->load(id);
    if (events.size() <= held) return held;
    const auto definition =
        this->definition(events.front().definition_id, events.front().definition_version);
    if (!definition || !log_fits(*definition, events)) return held;
    stripe.instances.insert_or_assign(id, replay(*definition, events));
    return events.back().version;
  }

  // Hands the listeners what the Storage's outbox still holds, instance by instance.
  void redeliver() {
    std::map<std::string, std::vector<Event>> pending;
    options_.storage->scan_undelivered([&](const Event& e) { pending[e.instance].push_back(e); });
    for (auto& [id, events] : pending) {
      const auto definition =
          this->definition(events.front().definition_id, events.front().definition_version);
      if (!definition) continue;
      Stripe& stripe = stripe_of(id);
      {
        std::lock_guard lock(stripe.outbox_mutex);
        stripe.outbox.push_back(Delivery{definition.get(), std::move(events)});
      }
      deliver(stripe);
    }
  }

  Stripe& stripe_of(std::string_view id) { return stripes_[StringHash{}(id) % kStripes]; }
  const Stripe& stripe_of(std::string_view id) const {
    return stripes_[StringHash{}(id) % kStripes];
  }

  std::vector<std::string> directory_roles(std::string_view actor) const {
    if (options_.directory == nullptr) return {};
    return options_.directory->roles_of(actor);
  }

  // The actor's roles in `def` on this instance: the Directory's plus the instance's assignments.
  static RoleSet roles_of(const ProcessDefinition& def, const InstanceState& state,
                          std::string_view actor, const std::vector<std::string>& directory) {
    RoleSet roles;
    for (const std::string& role : directory) {
      if (const auto r = def.find_role(role)) roles.insert(*r);
    }
    return effective_roles(state, actor, roles);
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
      for (const Event& e : delivery.events) {
        guarded([&] { listener->on_event(e); });
        if (e.type != EventType::kCreated && e.type != EventType::kStageChanged &&
            e.type != EventType::kReopened) {
          continue;
        }
        const Stage& stage = delivery.definition->stage(e.stage);
        const StageEntryNotice notice{delivery.definition,
                                      &e,
                                      &stage,
                                      stage.responsibility.consulted,
                                      stage.responsibility.informed,
                                      stage.guidance};
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

  EngineOptions options_;
  std::unique_ptr<InMemoryStorage> owned_storage_;
  mutable std::shared_mutex definitions_mutex_;
  std::map<std::string, std::map<std::uint32_t, std::shared_ptr<const ProcessDefinition>>,
           std::less<>>
      definitions_;
  std::array<Stripe, kStripes> stripes_;
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
