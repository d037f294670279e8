// decide() and apply(): the whole process logic, as pure functions.
#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "definition/json_document.hpp"
#include "engine/conditions.hpp"
#include "engine/instance_details.hpp"
#include "salesflow/process.hpp"

namespace salesflow {

using internal::quote_text;

namespace {

template <class Id>
Id id_of(std::uint32_t index) {
  return static_cast<Id>(index);
}

std::uint32_t as_target(std::size_t index) { return static_cast<std::uint32_t>(index); }

// Roles that may work a stage (move it on, hold it, close it): responsible and accountable.
RoleSet working_roles(const Stage& stage) {
  RoleSet roles = stage.responsibility.responsible;
  roles.insert(stage.responsibility.accountable);
  return roles;
}

// Roles that may edit an instance's data in a stage: the working roles and the consulted ones.
RoleSet editing_roles(const Stage& stage) {
  return working_roles(stage) | stage.responsibility.consulted;
}

std::string role_names(const ProcessDefinition& def, RoleSet roles) {
  std::string names;
  for (std::size_t r = 0; r < def.roles().size(); ++r) {
    if (!roles.contains(RoleId(as_target(r)))) continue;
    names += (names.empty() ? "" : ", ") + def.roles()[r].id;
  }
  return names.empty() ? "(none)" : names;
}

class Decider {
 public:
  Decider(const ProcessDefinition& def, const InstanceState& state, const Command& command,
          const DecisionContext& context)
      : def_(def), state_(state), command_(command), context_(context) {}

  Decision run() {
    if (command_.instance.empty() || command_.actor.empty()) {
      return reject(ErrorCode::kBadCommand, "a command needs an instance id and an actor");
    }
    if (command_.type == CommandType::kCreate) {
      if (state_.exists()) {
        return reject(ErrorCode::kDuplicateInstance,
                      "instance " + quote_text(command_.instance) + " already exists");
      }
    } else if (!state_.exists()) {
      return reject(ErrorCode::kUnknownInstance,
                    "there is no instance " + quote_text(command_.instance));
    }
    if (command_.expected_version && *command_.expected_version != state_.version) {
      return reject(ErrorCode::kConflict,
                    "the instance is at version " + std::to_string(state_.version) +
                        ", not the expected " + std::to_string(*command_.expected_version));
    }
    switch (command_.type) {
      case CommandType::kCreate:
        return create();
      case CommandType::kSetFields:
        return set_fields();
      case CommandType::kCheckItem:
      case CommandType::kUncheckItem:
        return check_item(command_.type == CommandType::kCheckItem);
      case CommandType::kApprove:
      case CommandType::kReject:
        return approve(command_.type == CommandType::kApprove);
      case CommandType::kAssign:
        return assign();
      case CommandType::kAdvance:
        return advance();
      case CommandType::kHold:
        return hold();
      case CommandType::kResume:
        return resume();
      case CommandType::kCloseLost:
        return close_lost();
      case CommandType::kReopen:
        return reopen();
    }
    return reject(ErrorCode::kBadCommand, "unknown command");
  }

 private:
  // An accepted decision's events grow by what follows from them (standards met or cancelled, a
  // team asked for): room for a few from the start, so that appending does not move the first.
  static Decision accepted() {
    Decision decision;
    decision.events.reserve(4);
    return decision;
  }

  Decision reject(ErrorCode code, std::string message,
                  std::vector<UnmetCriterion> unmet = {}) const {
    Decision decision;
    decision.rejection = Rejection{code, std::move(message), std::move(unmet)};
    return decision;
  }

  // Appends an event of `type` at the command's time, in the current stage, and returns it to be
  // filled in place (an Event is 200-odd bytes of strings and a variant: moving one into the
  // vector cost more than the rest of a bare stage change's decision). The reference is valid
  // until the next event is added.
  Event& add(std::vector<Event>& events, EventType type) const {
    Event& e = events.emplace_back();
    e.type = type;
    e.at = context_.now;
    e.stage = state_.stage;
    return e;
  }

  const Stage& current() const { return def_.stage(state_.stage); }

  // Rejects unless the actor holds one of `roles`; `what` completes "only X may ...".
  std::optional<Decision> require(RoleSet roles, std::string_view what) const {
    if (context_.actor_roles.intersects(roles)) return std::nullopt;
    return reject(ErrorCode::kForbidden, quote_text(command_.actor) + " may not " +
                                             std::string(what) + ": only " +
                                             role_names(def_, roles) + " may");
  }

  std::optional<Decision> require_open(std::string_view what) const {
    switch (state_.status) {
      case InstanceStatus::kOpen:
        return std::nullopt;
      case InstanceStatus::kOnHold:
        return reject(ErrorCode::kInvalidTransition,
                      "cannot " + std::string(what) + ": the instance is on hold; resume it first");
      case InstanceStatus::kWon:
      case InstanceStatus::kLost:
        return reject(ErrorCode::kInvalidTransition,
                      "cannot " + std::string(what) + ": the instance is closed (" +
                          std::string(to_string(state_.status)) + ")");
    }
    return std::nullopt;
  }

  std::optional<Decision> require_not_closed(std::string_view what) const {
    if (state_.status == InstanceStatus::kWon || state_.status == InstanceStatus::kLost) {
      return require_open(what);
    }
    return std::nullopt;
  }

  // Field values checked against the definition: events for each, or the first problem.
  std::optional<Decision> field_events(std::vector<Event>& events) const {
    for (const auto& [name, value] : command_.fields) {
      const auto field = def_.find_field(name);
      if (!field) {
        return reject(ErrorCode::kInvalidField, "unknown field " + quote_text(name));
      }
      if (const auto& scoring = def_.lead_scoring();
          scoring && (*field == scoring->score_field || *field == scoring->grade_field)) {
        return reject(ErrorCode::kInvalidField,
                      "field " + quote_text(name) + " is computed by the lead scoring (" +
                          scoring->score.description + "); it cannot be set");
      }
      if (auto problem = validate_field_value(def_.field(*field), value)) {
        return reject(ErrorCode::kInvalidField, "field " + quote_text(name) + " " + *problem);
      }
      Event& e = add(events, is_set(value) ? EventType::kFieldSet : EventType::kFieldCleared);
      e.target = as_target(to_index(*field));
      e.value = value;
      // A number field always holds a double, however the caller wrote the value.
      if (const auto* i = std::get_if<std::int64_t>(&value);
          i != nullptr && def_.field(*field).type == FieldType::kNumber) {
        e.value = static_cast<double>(*i);
      }
    }
    return std::nullopt;
  }

  Decision create() {
    const Stage& start = def_.stage(def_.start());
    if (auto no = require(working_roles(start), "create an instance")) return *no;
    Decision decision = accepted();
    Event& created = add(decision.events, EventType::kCreated);
    created.stage = def_.start();
    if (auto bad = field_events(decision.events)) return *bad;
    // A new instance has no values to clear.
    std::erase_if(decision.events,
                  [](const Event& e) { return e.type == EventType::kFieldCleared; });
    finish(decision);
    return decision;
  }

  Decision set_fields() {
    if (auto closed = require_not_closed("change fields")) return *closed;
    if (command_.fields.empty()) return reject(ErrorCode::kBadCommand, "no fields to set");
    if (auto no = require(editing_roles(current()), "change fields in this stage")) return *no;
    Decision decision = accepted();
    if (auto bad = field_events(decision.events)) return *bad;
    finish(decision);
    return decision;
  }

  Decision check_item(bool check) {
    if (auto closed = require_not_closed("change the checklist")) return *closed;
    const auto item = def_.find_item(command_.target);
    if (!item) {
      return reject(ErrorCode::kBadCommand,
                    "unknown checklist item " + quote_text(command_.target));
    }
    if (auto no = require(editing_roles(current()), "change the checklist in this stage")) {
      return *no;
    }
    Decision decision = accepted();
    if (state_.is_checked(*item) == check) return decision;  // already so: nothing to record
    Event& e = add(decision.events, check ? EventType::kItemChecked : EventType::kItemUnchecked);
    e.target = as_target(to_index(*item));
    return decision;
  }

  Decision approve(bool give) {
    if (auto closed = require_not_closed(give ? "approve" : "reject")) return *closed;
    const auto approval = def_.find_approval(command_.target);
    if (!approval) {
      return reject(ErrorCode::kBadCommand, "unknown approval " + quote_text(command_.target));
    }
    // An approval belongs to one stage's gate and is given while the instance is there: entering
    // the stage starts its approvals afresh, so an earlier one would be silently lost.
    const Approval& wanted = def_.approval(*approval);
    if (wanted.stage != state_.stage) {
      return reject(ErrorCode::kInvalidTransition,
                    "approval " + quote_text(wanted.id) + " belongs to stage " +
                        quote_text(def_.stage(wanted.stage).id) + "; the instance is in " +
                        quote_text(current().id));
    }
    RoleSet role;
    role.insert(wanted.role);
    if (auto no = require(role, give ? "give this approval" : "reject this approval")) return *no;
    const bool given = std::any_of(state_.approvals().begin(), state_.approvals().end(),
                                   [&](const GivenApproval& a) {
                                     return a.approval == *approval && a.person == command_.actor;
                                   });
    Decision decision = accepted();
    if (give && given) return decision;  // approving twice counts once
    Event& e =
        add(decision.events, give ? EventType::kApprovalGiven : EventType::kApprovalRejected);
    e.target = as_target(to_index(*approval));
    if (!give) e.text = command_.text;
    return decision;
  }

  Decision assign() {
    if (auto closed = require_not_closed("assign people")) return *closed;
    const auto role = def_.find_role(command_.target);
    if (!role) return reject(ErrorCode::kBadCommand, "unknown role " + quote_text(command_.target));
    if (command_.text.empty()) return reject(ErrorCode::kBadCommand, "no person to assign");
    RoleSet accountable;
    accountable.insert(current().responsibility.accountable);
    if (auto no = require(accountable, "assign people in this stage")) return *no;
    Decision decision = accepted();
    const RoleAssignment wanted{*role, command_.text};
    if (std::find(state_.assignments().begin(), state_.assignments().end(), wanted) !=
        state_.assignments().end()) {
      return decision;
    }
    Event& e = add(decision.events, EventType::kAssigned);
    e.target = as_target(to_index(*role));
    e.text = command_.text;
    return decision;
  }

  static UnmetCriterion guard_criterion(const Transition& t) {
    return UnmetCriterion{UnmetCriterion::Kind::kFailedCondition, "guard", t.guard->description, 0,
                          0};
  }

  Decision blocked(std::vector<UnmetCriterion> unmet) const {
    std::string message = std::to_string(unmet.size()) +
                          (unmet.size() == 1 ? " criterion keeps" : " criteria keep") +
                          " the instance in " + quote_text(current().id);
    return reject(ErrorCode::kGateBlocked, std::move(message), std::move(unmet));
  }

  // A guard that does not hold blocks the move like an unmet gate criterion: it says what must
  // change for the move to be allowed.
  std::optional<Decision> guard_blocks(const Transition& t) const {
    if (!t.guard || internal::condition_holds(def_, state_, *t.guard)) return std::nullopt;
    return blocked({guard_criterion(t)});
  }

  std::optional<StageId> target_stage() const { return def_.find_stage(command_.target); }

  Decision advance() {
    const auto to = target_stage();
    if (!to) return reject(ErrorCode::kBadCommand, "unknown stage " + quote_text(command_.target));
    if (def_.stage(*to).kind == StageKind::kLost) return close_lost();
    if (auto closed = require_open("move the instance")) return *closed;
    const auto transition = def_.find_transition(state_.stage, *to);
    if (!transition) {
      return reject(ErrorCode::kInvalidTransition, "there is no transition from " +
                                                       quote_text(current().id) + " to " +
                                                       quote_text(def_.stage(*to).id));
    }
    if (auto no = require(working_roles(current()), "move the instance on from this stage")) {
      return *no;
    }
    const Transition& t = def_.transition(*transition);
    std::vector<UnmetCriterion> unmet;
    if (t.guard && !internal::condition_holds(def_, state_, *t.guard)) {
      unmet.push_back(guard_criterion(t));
    }
    if (t.forward) {
      auto gate = unmet_criteria(def_, state_);
      unmet.insert(unmet.end(), gate.begin(), gate.end());
    }
    if (!unmet.empty()) return blocked(std::move(unmet));
    Decision decision = accepted();
    Event& e = add(decision.events, EventType::kStageChanged);
    e.from_stage = state_.stage;
    e.stage = *to;
    finish(decision);
    return decision;
  }

  Decision hold() {
    if (auto closed = require_open("put the instance on hold")) return *closed;
    if (auto no = require(working_roles(current()), "put the instance on hold")) return *no;
    Decision decision = accepted();
    Event& e = add(decision.events, EventType::kPutOnHold);
    e.text = command_.text;
    return decision;
  }

  Decision resume() {
    if (state_.status != InstanceStatus::kOnHold) {
      return reject(ErrorCode::kInvalidTransition, "cannot resume: the instance is not on hold");
    }
    if (auto no = require(working_roles(current()), "resume the instance")) return *no;
    Decision decision = accepted();
    add(decision.events, EventType::kResumed);
    return decision;
  }

  Decision close_lost() {
    if (auto closed = require_not_closed("close the instance")) return *closed;
    std::optional<StageId> lost;
    if (!command_.target.empty()) {
      lost = target_stage();
      if (!lost || def_.stage(*lost).kind != StageKind::kLost) {
        return reject(ErrorCode::kBadCommand, quote_text(command_.target) + " is not a lost stage");
      }
    } else {
      for (const Transition& t : def_.outgoing(state_.stage)) {
        if (def_.stage(t.to).kind != StageKind::kLost) continue;
        if (lost) {
          return reject(ErrorCode::kBadCommand,
                        "several lost stages can be reached from here; name one");
        }
        lost = t.to;
      }
      if (!lost) {
        return reject(ErrorCode::kInvalidTransition,
                      "no lost stage can be reached from " + quote_text(current().id));
      }
    }
    const auto transition = def_.find_transition(state_.stage, *lost);
    if (!transition) {
      return reject(ErrorCode::kInvalidTransition, "there is no transition from " +
                                                       quote_text(current().id) + " to " +
                                                       quote_text(def_.stage(*lost).id));
    }
    if (auto no = require(working_roles(current()), "close the instance from this stage")) {
      return *no;
    }
    if (auto blocked = guard_blocks(def_.transition(*transition))) return *blocked;
    const Stage& lost_stage = def_.stage(*lost);
    if (!lost_stage.lost_reasons.empty() &&
        std::find(lost_stage.lost_reasons.begin(), lost_stage.lost_reasons.end(), command_.text) ==
            lost_stage.lost_reasons.end()) {
      std::string allowed;
      for (const auto& r : lost_stage.lost_reasons) allowed += (allowed.empty() ? "" : ", ") + r;
      return reject(ErrorCode::kBadCommand,
                    command_.text.empty() ? "closing as lost needs a reason: one of " + allowed
                                          : "the reason must be one of " + allowed + ", not " +
                                                quote_text(command_.text));
    }
    Decision decision = accepted();
    Event& e = add(decision.events, EventType::kClosedLost);
    e.from_stage = state_.stage;
    e.stage = *lost;
    e.text = command_.text;
    return decision;
  }

  Decision reopen() {
    if (state_.status != InstanceStatus::kLost) {
      return reject(ErrorCode::kInvalidTransition, "cannot reopen: the instance is not lost");
    }
    RoleSet accountable;
    accountable.insert(def_.stage(state_.closed_from).responsibility.accountable);
    if (auto no = require(accountable, "reopen the instance")) return *no;
    Decision decision = accepted();
    Event& e = add(decision.events, EventType::kReopened);
    e.from_stage = state_.stage;
    e.stage = state_.closed_from;
    finish(decision);
    return decision;
  }

  // What follows from the command's own events: the lead score and grade when fields changed, the
  // team a stage asks for when the instance enters it. Both are judged on the state as the
  // command's events leave it.
  void finish(Decision& decision) const {
    const auto& scoring = def_.lead_scoring();
    std::optional<StageId> entered;
    bool fields_changed = false;
    for (const Event& e : decision.events) {
      fields_changed |= e.type == EventType::kFieldSet || e.type == EventType::kFieldCleared;
      if (e.type == EventType::kCreated || e.type == EventType::kStageChanged ||
          e.type == EventType::kReopened) {
        entered = e.stage;
      }
    }
    // Rules read the fields through the decided events (no copy of the state).
    if (scoring && fields_changed && score_may_change(*scoring, decision.events)) {
      score(*scoring, decision.events);
    }
    if (!entered) return;
    const auto& team = def_.stage(*entered).team;
    if (team &&
        (!team->when || internal::condition_holds(def_, state_, *team->when, decision.events))) {
      Event& e = add(decision.events, EventType::kTeamRequired);
      e.stage = *entered;
      e.value = team_value(team->roles);
    }
  }

  // Whether scoring the state as `events` leave it could give another score than the one it has:
  // the events change a field the score reads, or it has no score (never scored, or its rule gave
  // no number). Otherwise the inputs are those of the evaluation that gave the score it has.
  bool score_may_change(const LeadScoring& scoring, std::span<const Event> events) const {
    if (scoring.reads_every_field) return true;
    if (!is_set(internal::projected_field(state_, events, scoring.score_field))) return true;
    return std::any_of(events.begin(), events.end(), [&](const Event& e) {
      return (e.type == EventType::kFieldSet || e.type == EventType::kFieldCleared) &&
             std::binary_search(scoring.inputs.begin(), scoring.inputs.end(),
                                FieldId(static_cast<std::uint32_t>(e.target)));
    });
  }

  // Adds events setting the score and grade fields to what the scoring gives for the state as
  // `events` leave it, when they differ.
  void score(const LeadScoring& scoring, std::vector<Event>& events) const {
    FieldValue score_value;
    FieldValue grade_value;
    const auto points = internal::rule_number(def_, state_, scoring.score.rule, events);
    if (points && !validate_field_value(def_.field(scoring.score_field), FieldValue(*points))) {
      score_value = *points;
      for (const GradeThreshold& g : scoring.grades) {
        if (!g.min || *points >= *g.min) {
          grade_value = g.grade;
          break;
        }
      }
    }
    for (const auto& [field, value] : {std::pair{scoring.score_field, &score_value},
                                       std::pair{scoring.grade_field, &grade_value}}) {
      if (internal::projected_field(state_, events, field) == *value) continue;
      Event& e = add(events, is_set(*value) ? EventType::kFieldSet : EventType::kFieldCleared);
      e.target = as_target(to_index(field));
      e.value = *value;
    }
  }

  const ProcessDefinition& def_;
  const InstanceState& state_;
  const Command& command_;
  const DecisionContext& context_;
};

// Entering a stage again starts its approvals afresh: what was approved may have changed since.
void clear_stage_approvals(const ProcessDefinition& def, InstanceState& state, StageId stage) {
  const auto of_stage = [&](const GivenApproval& a) {
    return def.approval(a.approval).stage == stage;
  };
  const auto approvals = state.approvals();
  if (std::none_of(approvals.begin(), approvals.end(), of_stage)) return;
  auto& given = state.details().approvals;
  given.erase(std::remove_if(given.begin(), given.end(), of_stage), given.end());
}

void enter(const ProcessDefinition& def, InstanceState& state, StageId stage, Timestamp at) {
  state.stage = stage;
  state.stage_entered_at = at;
  clear_stage_approvals(def, state, stage);
  // A team is asked for by the stage being entered, afresh (kTeamRequired follows when it is).
  if (!state.team_required().empty()) state.details().team_required = RoleSet();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SmallBitSet and InstanceState: the storage of a state.

SmallBitSet::SmallBitSet(const SmallBitSet& other) : low_(other.low_) {
  if (const std::size_t n = other.high_words(); n > 0) {
    high_ = std::make_unique_for_overwrite<std::uint64_t[]>(n + 1);
    std::copy_n(other.high_.get(), n + 1, high_.get());
  }
}

SmallBitSet& SmallBitSet::operator=(const SmallBitSet& other) {
  if (this != &other) *this = SmallBitSet(other);
  return *this;
}

void SmallBitSet::insert(std::size_t i) {
  if (i < 64) {
    low_ |= std::uint64_t{1} << i;
    return;
  }
  const std::size_t word = i / 64 - 1;
  if (const std::size_t n = high_words(); word >= n) {
    auto grown = std::make_unique<std::uint64_t[]>(word + 2);  // zeroed
    if (n > 0) std::copy_n(high_.get() + 1, n, grown.get() + 1);
    grown[0] = word + 1;
    high_ = std::move(grown);
  }
  high_[word + 1] |= std::uint64_t{1} << (i % 64);
}

bool operator==(const SmallBitSet& a, const SmallBitSet& b) noexcept {
  if (a.low_ != b.low_) return false;
  const std::size_t n = std::max(a.high_words(), b.high_words());
  for (std::size_t w = 0; w < n; ++w) {
    const std::uint64_t x = w < a.high_words() ? a.high_[w + 1] : 0;
    const std::uint64_t y = w < b.high_words() ? b.high_[w + 1] : 0;
    if (x != y) return false;
  }
  return true;
}

static_assert(sizeof(SmallBitSet) == 16);
static_assert(sizeof(InstanceState) <= 80, "a live deal's fixed part (docs/PERFORMANCE.md)");
static_assert(alignof(StandardLife) <= alignof(FieldValue), "lives follow the fields in one block");
static_assert(std::is_trivially_copyable_v<StandardLife> &&
              std::is_trivially_destructible_v<StandardLife>);

namespace {

// One block for `fields` field values and `standards` lives, constructed from `from_fields` and
// `from_standards` (as many as there are, and not set / waiting for the rest).
FieldValue* make_slots(std::span<const FieldValue> from_fields,
                       std::span<const StandardLife> from_standards, std::size_t fields,
                       std::size_t standards) {
  if (fields == 0 && standards == 0) return nullptr;
  void* raw = ::operator new(fields * sizeof(FieldValue) + standards * sizeof(StandardLife));
  auto* values = static_cast<FieldValue*>(raw);
  std::size_t made = 0;
  try {
    for (; made < fields; ++made) {
      if (made < from_fields.size()) {
        new (values + made) FieldValue(copy_of(from_fields[made]));
      } else {
        new (values + made) FieldValue();
      }
    }
  } catch (...) {
    std::destroy_n(values, made);
    ::operator delete(raw);
    throw;
  }
  auto* lives = reinterpret_cast<StandardLife*>(values + fields);
  for (std::size_t i = 0; i < standards; ++i) {
    new (lives + i) StandardLife(i < from_standards.size() ? from_standards[i] : StandardLife{});
  }
  return values;
}

}  // namespace

InstanceState::InstanceState(const InstanceState& other)
    : definition(other.definition),
      version(other.version),
      created_at(other.created_at),
      stage_entered_at(other.stage_entered_at),
      stage(other.stage),
      closed_from(other.closed_from),
      checked_items(other.checked_items),
      status(other.status),
      details_(other.details_ ? std::make_unique<InstanceDetails>(*other.details_) : nullptr) {
  slots_ = make_slots(other.fields(), other.standards(), other.field_count_, other.standard_count_);
  field_count_ = other.field_count_;
  standard_count_ = other.standard_count_;
}

InstanceState& InstanceState::operator=(const InstanceState& other) {
  if (this != &other) *this = InstanceState(other);
  return *this;
}

InstanceState::InstanceState(InstanceState&& other) noexcept
    : definition(other.definition),
      version(other.version),
      created_at(other.created_at),
      stage_entered_at(other.stage_entered_at),
      stage(other.stage),
      closed_from(other.closed_from),
      checked_items(std::move(other.checked_items)),
      status(other.status),
      standard_count_(std::exchange(other.standard_count_, 0)),
      field_count_(std::exchange(other.field_count_, 0)),
      slots_(std::exchange(other.slots_, nullptr)),
      details_(std::move(other.details_)) {}

InstanceState& InstanceState::operator=(InstanceState&& other) noexcept {
  if (this == &other) return *this;
  release_slots();
  definition = other.definition;
  version = other.version;
  created_at = other.created_at;
  stage_entered_at = other.stage_entered_at;
  stage = other.stage;
  closed_from = other.closed_from;
  checked_items = std::move(other.checked_items);
  status = other.status;
  standard_count_ = std::exchange(other.standard_count_, 0);
  field_count_ = std::exchange(other.field_count_, 0);
  slots_ = std::exchange(other.slots_, nullptr);
  details_ = std::move(other.details_);
  return *this;
}

InstanceState::~InstanceState() { release_slots(); }

void InstanceState::release_slots() noexcept {
  if (slots_ == nullptr) return;
  std::destroy_n(slots_, field_count_);  // the lives are trivially destructible
  ::operator delete(slots_);
  slots_ = nullptr;
  field_count_ = 0;
  standard_count_ = 0;
}

void InstanceState::resize_slots(std::size_t fields, std::size_t standards) {
  if (fields > kMaxFieldSlots) throw std::length_error("an instance has at most 2^32-1 fields");
  if (standards > kMaxDeliveryStandards) {
    throw std::length_error("an instance has at most " + std::to_string(kMaxDeliveryStandards) +
                            " delivery standards");
  }
  if (fields == field_count_ && standards == standard_count_) return;
  FieldValue* grown = make_slots(this->fields(), this->standards(), fields, standards);
  release_slots();
  slots_ = grown;
  field_count_ = static_cast<std::uint32_t>(fields);
  standard_count_ = static_cast<std::uint16_t>(standards);
}

InstanceState::InstanceState() noexcept = default;

const InstanceDetails& InstanceState::view() const noexcept {
  static const InstanceDetails kNone;
  return details_ ? *details_ : kNone;
}

std::span<const GivenApproval> InstanceState::approvals() const noexcept {
  const auto& given = view().approvals;
  return {given.data(), given.size()};
}
std::span<const RoleAssignment> InstanceState::assignments() const noexcept {
  return view().assignments;
}
const std::string& InstanceState::lost_reason() const noexcept { return view().lost_reason; }
RoleSet InstanceState::team_required() const noexcept { return view().team_required; }

InstanceDetails& InstanceState::details() {
  if (!details_) details_ = std::make_unique<InstanceDetails>();
  return *details_;
}

bool operator==(const InstanceState& a, const InstanceState& b) noexcept {
  const auto fa = a.fields(), fb = b.fields();
  const auto sa = a.standards(), sb = b.standards();
  return a.definition == b.definition && a.version == b.version && a.stage == b.stage &&
         a.status == b.status && a.closed_from == b.closed_from && a.created_at == b.created_at &&
         a.stage_entered_at == b.stage_entered_at && std::ranges::equal(fa, fb) &&
         a.checked_items == b.checked_items && std::ranges::equal(sa, sb) && a.view() == b.view();
}

void InstanceState::prefetch(bool field_values) const noexcept {
  constexpr std::size_t kLine = 64, kMaxLines = 32;  // at most 2 KiB of the block
  const auto* const fields_begin = reinterpret_cast<const char*>(slots_);
  const auto* const lives = reinterpret_cast<const char*>(slots_ + field_count_);
  const char* const end = lives + standard_count_ * sizeof(StandardLife);
  const char* at = field_values ? fields_begin : lives;
  for (std::size_t n = 0; at < end && n < kMaxLines; at += kLine, ++n) __builtin_prefetch(at);
  if (details_) {
    // Every line of the side block (168 bytes: three or four lines as malloc places it), as
    // decide() reads its last members too: the assignments (roles) and the team required (gates).
    const auto* const details = reinterpret_cast<const char*>(details_.get());
    for (std::size_t offset = 0; offset < sizeof(InstanceDetails); offset += kLine) {
      __builtin_prefetch(details + offset);
    }
    __builtin_prefetch(details + sizeof(InstanceDetails) - 1);
  }
}

bool InstanceState::is_checked(ChecklistItemId item) const noexcept {
  return checked_items.contains(to_index(item));
}

std::uint32_t InstanceState::approval_count(ApprovalId approval) const noexcept {
  std::uint32_t count = 0;
  for (const GivenApproval& a : approvals()) count += a.approval == approval;
  return count;
}

const BusinessCalendar* calendar_of(const ProcessDefinition& def,
                                    const DeliveryStandard& standard) noexcept {
  if (!standard.calendar) return nullptr;
  return def.calendar(*standard.calendar).calendar.get();
}

namespace {

// Whether `e` is what `trigger` waits for. Leaving a stage counts only for a move to another
// stage: closing the instance as lost cancels a standard rather than meeting it.
bool triggers(const Trigger& trigger, const Event& e) {
  switch (trigger.kind) {
    case TriggerKind::kInstanceCreated:
      return e.type == EventType::kCreated;
    case TriggerKind::kStageEntered:
      return (e.type == EventType::kCreated || e.type == EventType::kStageChanged ||
              e.type == EventType::kReopened) &&
             to_index(e.stage) == trigger.target;
    case TriggerKind::kStageLeft:
      return e.type == EventType::kStageChanged && to_index(e.from_stage) == trigger.target;
    case TriggerKind::kItemChecked:
      return e.type == EventType::kItemChecked && e.target == trigger.target;
    case TriggerKind::kFieldSet:
      return e.type == EventType::kFieldSet && e.target == trigger.target;
    case TriggerKind::kApprovalGiven:
      return e.type == EventType::kApprovalGiven && e.target == trigger.target;
  }
  return false;
}

// Appends met and cancelled events for the standards that were counting before the command and
// that its events finish: the goal happened (met), or the scope was left (cancelled): the
// instance closed, or it left the stage whose entry started the standard.
void finish_standards(const ProcessDefinition& def, const InstanceState& state, Decision& decision,
                      Timestamp now) {
  const auto standards = def.delivery_standards();
  if (standards.empty() || decision.events.empty() ||
      state.standards().size() != standards.size()) {
    return;
  }
  StageId stage = state.stage;
  bool closed = state.status == InstanceStatus::kWon || state.status == InstanceStatus::kLost;
  for (const Event& e : decision.events) {
    if (e.type == EventType::kStageChanged || e.type == EventType::kClosedLost ||
        e.type == EventType::kReopened) {
      stage = e.stage;
      closed = e.type == EventType::kClosedLost || def.stage(e.stage).kind != StageKind::kActive;
    }
  }
  const std::size_t domain_events = decision.events.size();
  for (std::size_t i = 0; i < standards.size(); ++i) {
    const DeliveryStandard& standard = standards[i];
    const StandardLife& life = state.standards()[i];
    if (!life.pending()) continue;
    bool met = false;
    for (std::size_t k = 0; k < domain_events && !met; ++k) {
      met = triggers(standard.goal, decision.events[k]);
    }
    const bool left = closed || (standard.anchor.kind == TriggerKind::kStageEntered &&
                                 to_index(stage) != standard.anchor.target);
    if (!met && !left) continue;
    const auto elapsed = life.elapsed(standard, calendar_of(def, standard), now);
    Event& e = decision.events.emplace_back();  // filled in place, as Decider::add() does
    e.type = met ? EventType::kStandardMet : EventType::kStandardCancelled;
    e.at = now;
    e.stage = stage;
    e.target = static_cast<std::uint32_t>(i);
    e.value = static_cast<std::int64_t>(elapsed.count());
  }
}

// Folds a domain event into the standards: anchors start them, hold and resume pause them.
void touch_standards(const ProcessDefinition& def, InstanceState& state, const Event& e) {
  const auto standards = def.delivery_standards();
  if (standards.empty()) return;
  if (state.standards().size() != standards.size()) {
    state.resize_slots(state.fields().size(), standards.size());
  }
  for (std::size_t i = 0; i < standards.size(); ++i) {
    const DeliveryStandard& standard = standards[i];
    StandardLife& life = state.standards()[i];
    switch (e.type) {
      case EventType::kPutOnHold:
        life.hold(standard, calendar_of(def, standard), e.at);
        break;
      case EventType::kResumed:
        life.resume(e.at);
        break;
      case EventType::kStandardAtRisk:
      case EventType::kStandardBreached:
      case EventType::kStandardEscalated:
      case EventType::kStandardMet:
      case EventType::kStandardCancelled:
        break;  // apply() handles these for the standard they name
      default:
        // A finished standard starts again when its anchor happens again (a stage entered anew).
        if (!life.pending() && triggers(standard.anchor, e)) {
          life = StandardLife{};
          life.anchor(e.at);
          if (state.status == InstanceStatus::kOnHold)
            life.hold(standard, calendar_of(def, standard), e.at);
        }
        break;
    }
  }
}

}  // namespace

Decision decide(const ProcessDefinition& definition, const InstanceState& state,
                const Command& command, const DecisionContext& context) {
  Decision decision = Decider(definition, state, command, context).run();
  if (decision.ok()) finish_standards(definition, state, decision, context.now);
  return decision;
}

std::vector<Event> due_milestones(const ProcessDefinition& def, const InstanceState& state,
                                  Timestamp now) {
  std::vector<Event> due;
  const auto standards = def.delivery_standards();
  if (!state.exists() || state.standards().size() != standards.size()) return due;
  for (std::size_t i = 0; i < standards.size(); ++i) {
    const DeliveryStandard& standard = standards[i];
    const BusinessCalendar* calendar = calendar_of(def, standard);
    StandardLife life = state.standards()[i];
    while (const auto next = life.next(standard, calendar)) {
      if (next->due > now) break;
      Event e;
      switch (next->milestone) {
        case Milestone::kAtRisk:
          e.type = EventType::kStandardAtRisk;
          break;
        case Milestone::kBreached:
          e.type = EventType::kStandardBreached;
          break;
        case Milestone::kEscalated:
          e.type = EventType::kStandardEscalated;
          e.value = static_cast<std::int64_t>(next->step);
          break;
      }
      e.at = next->due;
      e.stage = state.stage;
      e.target = static_cast<std::uint32_t>(i);
      life.reach(next->milestone);
      due.push_back(std::move(e));
    }
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });
  return due;
}

std::optional<Timestamp> next_milestone(const ProcessDefinition& def, const InstanceState& state) {
  std::optional<Timestamp> earliest;
  const auto standards = def.delivery_standards();
  if (state.standards().size() != standards.size()) return earliest;
  for (std::size_t i = 0; i < standards.size(); ++i) {
    const auto next = state.standards()[i].next(standards[i], calendar_of(def, standards[i]));
    if (next && (!earliest || next->due < *earliest)) earliest = next->due;
  }
  return earliest;
}

void apply(const ProcessDefinition& def, InstanceState& state, const Event& event) {
  state.version = event.version;
  const auto standard_life = [&]() -> StandardLife* {
    if (event.target >= def.delivery_standards().size()) return nullptr;
    if (state.standards().size() != def.delivery_standards().size()) {
      state.resize_slots(state.fields().size(), def.delivery_standards().size());
    }
    return &state.standards()[event.target];
  };
  switch (event.type) {
    case EventType::kStandardAtRisk:
      if (auto* life = standard_life()) life->reach(Milestone::kAtRisk);
      return;
    case EventType::kStandardBreached:
      if (auto* life = standard_life()) life->reach(Milestone::kBreached);
      return;
    case EventType::kStandardEscalated:
      if (auto* life = standard_life()) life->reach(Milestone::kEscalated);
      return;
    case EventType::kStandardMet:
    case EventType::kStandardCancelled:
      if (auto* life = standard_life()) {
        const bool met = event.type == EventType::kStandardMet;
        // The event records the elapsed time decide() counted on the same life at the same
        // instant: taking it spares a second calendar walk. An event without it (written by a
        // host) is counted here.
        if (const auto* elapsed = std::get_if<std::int64_t>(&event.value)) {
          met ? life->meet(StandardLife::Ms{*elapsed}) : life->cancel(StandardLife::Ms{*elapsed});
        } else {
          const DeliveryStandard& standard = def.delivery_standards()[event.target];
          const BusinessCalendar* calendar = calendar_of(def, standard);
          met ? life->meet(standard, calendar, event.at)
              : life->cancel(standard, calendar, event.at);
        }
      }
      return;
    default:
      break;
  }
  switch (event.type) {
    case EventType::kCreated:
      state.definition = &def;
      state.status = InstanceStatus::kOpen;
      state.created_at = event.at;
      state.resize_slots(0, 0);
      state.resize_slots(def.fields().size(), def.delivery_standards().size());
      enter(def, state, event.stage, event.at);
      break;
    case EventType::kFieldSet:
      state.fields()[event.target] = event.value;
      break;
    case EventType::kFieldCleared:
      state.fields()[event.target] = FieldValue{};
      break;
    case EventType::kItemChecked:
      state.checked_items.insert(event.target);
      break;
    case EventType::kItemUnchecked:
      state.checked_items.erase(event.target);
      break;
    case EventType::kApprovalGiven:
      state.details().approvals.push_back(GivenApproval{ApprovalId(event.target), event.actor});
      break;
    case EventType::kApprovalRejected: {
      auto& given = state.details().approvals;
      given.erase(std::remove(given.begin(), given.end(),
                              GivenApproval{ApprovalId(event.target), event.actor}),
                  given.end());
      break;
    }
    case EventType::kAssigned:
      state.details().assignments.push_back(RoleAssignment{RoleId(event.target), event.text});
      break;
    case EventType::kStageChanged:
      enter(def, state, event.stage, event.at);
      if (def.stage(event.stage).kind == StageKind::kWon) state.status = InstanceStatus::kWon;
      break;
    case EventType::kPutOnHold:
      state.status = InstanceStatus::kOnHold;
      break;
    case EventType::kResumed:
      state.status = InstanceStatus::kOpen;
      break;
    case EventType::kClosedLost:
      state.closed_from = event.from_stage;
      state.status = InstanceStatus::kLost;
      state.details().lost_reason = event.text;
      enter(def, state, event.stage, event.at);
      break;
    case EventType::kReopened:
      state.status = InstanceStatus::kOpen;
      if (!state.lost_reason().empty()) state.details().lost_reason.clear();
      enter(def, state, event.stage, event.at);
      break;
    case EventType::kTeamRequired:
      state.details().team_required = team_roles(event);
      break;
    default:
      break;
  }
  touch_standards(def, state, event);
}

std::vector<UnmetCriterion> unmet_criteria(const ProcessDefinition& def,
                                           const InstanceState& state) {
  using Kind = UnmetCriterion::Kind;
  std::vector<UnmetCriterion> unmet;
  const Gate& gate = def.stage(state.stage).gate;
  for (const FieldId f : gate.required_fields) {
    const Field& field = def.field(f);
    const FieldValue& value = state.fields()[to_index(f)];
    if (!is_set(value)) {
      unmet.push_back({Kind::kMissingField, field.id, field.label + " is not set", 0, 0});
    } else if (auto problem = validate_field_value(field, value)) {
      unmet.push_back({Kind::kInvalidField, field.id, field.label + " " + *problem, 0, 0});
    }
  }
  for (const ChecklistItemId i : gate.checklist) {
    if (!state.is_checked(i)) {
      const ChecklistItem& item = def.item(i);
      unmet.push_back({Kind::kOpenItem, item.id, item.label + " is not checked", 0, 0});
    }
  }
  for (const ApprovalId a : gate.approvals) {
    const Approval& approval = def.approval(a);
    const std::uint32_t have = state.approval_count(a);
    if (have < approval.count) {
      unmet.push_back({Kind::kMissingApproval, approval.id,
                       approval.label + " needs " + std::to_string(approval.count) +
                           " approval(s) by " + def.role(approval.role).id,
                       have, approval.count});
    }
  }
  for (const Condition& condition : gate.conditions) {
    if (!internal::condition_holds(def, state, condition)) {
      unmet.push_back({Kind::kFailedCondition, "", condition.description, 0, 0});
    }
  }
  if (const RoleSet team = state.team_required(); !team.empty()) {
    const auto& requirement = def.stage(state.stage).team;
    const std::string why = requirement ? requirement->description : "the stage needs a team";
    for (std::size_t r = 0; r < def.roles().size(); ++r) {
      const auto role = static_cast<RoleId>(as_target(r));
      if (!team.contains(role)) continue;
      const auto& assigned = state.assignments();
      if (std::any_of(assigned.begin(), assigned.end(),
                      [&](const RoleAssignment& a) { return a.role == role; })) {
        continue;
      }
      unmet.push_back({Kind::kMissingAssignment, def.role(role).id,
                       why + ": nobody is assigned as " + def.role(role).name, 0, 0});
    }
  }
  return unmet;
}

RoleSet effective_roles(const InstanceState& state, std::string_view actor,
                        RoleSet directory_roles) {
  for (const RoleAssignment& a : state.assignments()) {
    if (a.person == actor) directory_roles.insert(a.role);
  }
  return directory_roles;
}

}  // namespace salesflow
