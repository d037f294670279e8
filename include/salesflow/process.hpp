// The process logic as two pure functions over an instance's state:
//
//     decide(definition, state, command, context) -> events | rejection   (no side effects)
//     apply(definition, state, event)             -> state
//
// The event log is the truth: an instance's state is the fold of apply() over its events. Live
// operation (the Engine), replay, recovery and simulation all run these two functions, so the
// process rules exist once.
//
// [Thread safety] decide() and apply() are pure: they touch nothing but their arguments. Distinct
// states may be used from distinct threads; one state must not be applied to concurrently.
// [Ownership] An InstanceState refers to its ProcessDefinition by raw pointer: whoever holds the
// state keeps the definition alive (the Engine holds every registered definition).
// [Errors] A rejected command is a normal answer (a Rejection), not an exception.
#ifndef SALESFLOW_PROCESS_HPP_
#define SALESFLOW_PROCESS_HPP_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "salesflow/definition.hpp"
#include "salesflow/delivery.hpp"
#include "salesflow/value.hpp"

namespace salesflow {

// ---------------------------------------------------------------------------------------------
// Events: the facts an accepted command records. One flat struct, so that storage and listeners
// handle one shape; which members are meaningful depends on `type` (see each enumerator).

enum class EventType : std::uint8_t {
  kCreated,           // stage: the start stage
  kFieldSet,          // field, value
  kFieldCleared,      // field
  kItemChecked,       // item
  kItemUnchecked,     // item
  kApprovalGiven,     // approval (the approver is the event's actor)
  kApprovalRejected,  // approval; text: the comment. Withdraws the actor's earlier approval.
  kAssigned,          // role; text: the person assigned to that role on this instance
  kStageChanged,      // from_stage, stage
  kPutOnHold,         // text: why
  kResumed,
  kClosedLost,    // from_stage, stage: the lost stage; text: the reason
  kReopened,      // from_stage: the lost stage, stage: the stage it was closed from
  kTeamRequired,  // stage; value: the roles to assign before the gate opens (team_roles())
  // Delivery standards (docs/delivery-standards.md). target: the standard's index. `at` is the
  // instant the milestone fell due (for at_risk, breached, escalated: the deadline's time, not
  // the time the clock was advanced); actor "system" for the three timed ones.
  kStandardAtRisk,
  kStandardBreached,
  kStandardEscalated,  // value: the escalation step's index (int64); the step names the role
  // The next two record the counted time, in milliseconds (int64): from anchor to goal, or until
  // the scope was left. apply() keeps that figure (clamped to the range StandardLife counts) as
  // the standard's final elapsed time; without an int64 value it counts the time itself.
  kStandardMet,
  kStandardCancelled,
};

// The last event type: stores check that what they read is at most this.
inline constexpr EventType kLastEventType = EventType::kStandardCancelled;

std::string_view to_string(EventType type) noexcept;
std::optional<EventType> event_type_from_string(std::string_view name) noexcept;

struct Event {
  Event() = default;
  // Copies `value` with copy_of() (value.hpp): out of memory gives std::bad_alloc, not a crash.
  Event(const Event& other) : Event() { *this = other; }
  Event(Event&&) noexcept = default;
  Event& operator=(const Event&) = default;
  Event& operator=(Event&&) noexcept = default;
  ~Event() = default;

  std::string instance;
  std::uint64_t version = 0;  // the instance's version once this event is applied: 1, 2, 3...
  EventType type = EventType::kCreated;
  Timestamp at{};
  std::string actor;
  std::string definition_id;
  std::uint32_t definition_version = 0;

  StageId stage{};
  StageId from_stage{};
  std::uint32_t target = 0;  // the field, item, approval or role index, per type
  FieldValue value;
  std::string text;

  friend bool operator==(const Event&, const Event&) = default;
};

// The roles of a kTeamRequired event, kept in its value as the bits of a RoleSet (an integer, so
// that stores and the event stream need no member of their own for it).
inline RoleSet team_roles(const Event& event) noexcept {
  const auto* bits = std::get_if<std::int64_t>(&event.value);
  return bits == nullptr ? RoleSet() : RoleSet(static_cast<std::uint64_t>(*bits));
}
inline FieldValue team_value(RoleSet roles) noexcept {
  return FieldValue(static_cast<std::int64_t>(roles.bits()));
}

// ---------------------------------------------------------------------------------------------
// State.

enum class InstanceStatus : std::uint8_t { kOpen, kOnHold, kWon, kLost };
std::string_view to_string(InstanceStatus status) noexcept;

struct GivenApproval {
  ApprovalId approval{};
  std::string person;
  friend bool operator==(const GivenApproval&, const GivenApproval&) = default;
};

struct RoleAssignment {
  RoleId role{};
  std::string person;
  friend bool operator==(const RoleAssignment&, const RoleAssignment&) = default;
};

// A set of small integers (checklist item indices) that needs no heap while they are below 64:
// most definitions have fewer items, and a live deal should cost one allocation, not two. 16 bytes.
// A value type: copies are deep.
class SmallBitSet {
 public:
  SmallBitSet() noexcept = default;
  SmallBitSet(const SmallBitSet& other);
  SmallBitSet& operator=(const SmallBitSet& other);
  SmallBitSet(SmallBitSet&&) noexcept = default;
  SmallBitSet& operator=(SmallBitSet&&) noexcept = default;
  ~SmallBitSet() = default;

  bool contains(std::size_t i) const noexcept {
    if (i < 64) return (low_ >> i) & 1u;
    const std::size_t word = i / 64 - 1;
    return word < high_words() && ((high_[word + 1] >> (i % 64)) & 1u);
  }
  void insert(std::size_t i);
  void erase(std::size_t i) noexcept {
    if (i < 64) {
      low_ &= ~(std::uint64_t{1} << i);
    } else if (const std::size_t word = i / 64 - 1; word < high_words()) {
      high_[word + 1] &= ~(std::uint64_t{1} << (i % 64));
    }
  }
  friend bool operator==(const SmallBitSet& a, const SmallBitSet& b) noexcept;

 private:
  std::size_t high_words() const noexcept { return high_ ? high_[0] : 0; }

  std::uint64_t low_ = 0;
  // Bits 64 and up: high_[0] is the number of words that follow; null while there are none.
  std::unique_ptr<std::uint64_t[]> high_;
};

// What most live instances do not have yet (approvals, people assigned, a lost reason), kept out
// of line so that an instance without them does not pay for empty containers. Internal.
struct InstanceDetails;

// One instance (a deal, a lead, a ticket) as the fold of its events.
//
// 80 bytes, and one heap block for the values of its fields and the lives of its delivery
// standards together (a million live deals are a million of these: see docs/PERFORMANCE.md).
// A value type: copies are deep and independent.
struct InstanceState {
  InstanceState() noexcept;
  InstanceState(const InstanceState& other);
  InstanceState& operator=(const InstanceState& other);
  InstanceState(InstanceState&& other) noexcept;
  InstanceState& operator=(InstanceState&& other) noexcept;
  ~InstanceState();

  const ProcessDefinition* definition = nullptr;
  std::uint64_t version = 0;  // 0: does not exist yet
  Timestamp created_at{};
  Timestamp stage_entered_at{};
  StageId stage{};
  StageId closed_from{};      // kLost: the stage the instance was closed from (for reopen)
  SmallBitSet checked_items;  // by ChecklistItemId
  InstanceStatus status = InstanceStatus::kOpen;

  // By FieldId: one slot per field of the definition once the instance exists (a std::monostate
  // value: not set).
  std::span<FieldValue> fields() noexcept { return {slots_, field_count_}; }
  std::span<const FieldValue> fields() const noexcept { return {slots_, field_count_}; }
  // By DeliveryStandardId: one life per standard of the definition; empty when it has none.
  // Changed only by apply().
  std::span<StandardLife> standards() noexcept {
    return {reinterpret_cast<StandardLife*>(slots_ + field_count_), standard_count_};
  }
  std::span<const StandardLife> standards() const noexcept {
    return {reinterpret_cast<const StandardLife*>(slots_ + field_count_), standard_count_};
  }
  // Gives the instance `fields` field slots and `standards` lives, keeping the values of the
  // slots that remain (new ones: not set, waiting). apply() sizes them to the definition; a
  // snapshot reader does the same. Throws std::length_error beyond kMaxFieldSlots or
  // kMaxDeliveryStandards, std::bad_alloc; either leaves the state as it was.
  void resize_slots(std::size_t fields, std::size_t standards);
  static constexpr std::size_t kMaxFieldSlots = 0xffffffffu;

  bool exists() const noexcept { return version > 0; }
  // Approvals given in the current stage, in the order given.
  std::span<const GivenApproval> approvals() const noexcept;
  // People assigned to roles on this instance, in the order assigned.
  std::span<const RoleAssignment> assignments() const noexcept;
  const std::string& lost_reason() const noexcept;  // kLost: why
  RoleSet team_required() const noexcept;  // roles to assign before the current stage's gate opens
  // The details, for apply() and the snapshot reader to change (allocated on first use).
  // Internal: the type is defined in the library's sources.
  InstanceDetails& details();
  // Asks the CPU to bring what decide() and apply() read into the cache, so that the misses
  // overlap instead of following one another: the standards' lives and the side block, and with
  // `field_values` every line of the field values (gates and rules read fields all over them).
  // Changes nothing.
  void prefetch(bool field_values) const noexcept;
  bool is_checked(ChecklistItemId item) const noexcept;
  // Distinct people who gave `approval`.
  std::uint32_t approval_count(ApprovalId approval) const noexcept;

  friend bool operator==(const InstanceState& a, const InstanceState& b) noexcept;

 private:
  const InstanceDetails& view() const noexcept;
  void release_slots() noexcept;

  // Fits beside `status` in one word (kMaxDeliveryStandards bounds it).
  std::uint16_t standard_count_ = 0;
  std::uint32_t field_count_ = 0;
  // field_count_ FieldValues, then standard_count_ StandardLives; null when both are 0.
  FieldValue* slots_ = nullptr;
  std::unique_ptr<InstanceDetails> details_;  // null: all empty
};

// ---------------------------------------------------------------------------------------------
// Commands.

enum class CommandType : std::uint8_t {
  kCreate,       // definition_id [definition_version]; fields: initial values
  kSetFields,    // "set": fields; a std::monostate value clears the field
  kCheckItem,    // target: checklist item id
  kUncheckItem,  // target: checklist item id
  kApprove,      // target: approval id
  kReject,       // target: approval id; text: comment
  kAssign,       // target: role id; text: the person
  kAdvance,      // target: stage id
  kHold,         // text: why
  kResume,
  kCloseLost,  // target: lost stage id (optional when there is one); text: the reason
  kReopen,
};

std::string_view to_string(CommandType type) noexcept;
std::optional<CommandType> command_type_from_string(std::string_view name) noexcept;

struct Command {
  CommandType type = CommandType::kCreate;
  std::string instance;
  std::string actor;
  // When set, the command is rejected with kConflict unless the instance is at this version.
  std::optional<std::uint64_t> expected_version;
  std::string definition_id;                        // kCreate
  std::optional<std::uint32_t> definition_version;  // kCreate; default: the newest registered
  std::vector<std::pair<std::string, FieldValue>> fields;
  std::string target;
  std::string text;
  // When not empty: the engine answers a repeat of this command (same key, instance, op and
  // actor) with the original answer and appends nothing, across restarts and processes, as far
  // as the Storage remembers keys (Storage::append_keyed).
  std::string idempotency_key;
};

// Why a command was rejected. Codes follow what the caller should do next.
enum class ErrorCode : std::uint8_t {
  kGateBlocked,        // meet the unmet criteria (gate, or the move's guard), then retry
  kForbidden,          // the actor lacks the role the step needs
  kInvalidTransition,  // no such move now (undeclared, closed, on hold, approval of another stage)
  kInvalidField,       // unknown field, wrong type, out of range, not an enum value
  kUnknownInstance,
  kDuplicateInstance,
  kConflict,     // expected_version does not match: reload and retry
  kBadCommand,   // malformed: unknown item, approval, role or stage; missing argument
  kUnavailable,  // the storage failed; nothing was changed: retry later
};

std::string_view to_string(ErrorCode code) noexcept;

// One exit criterion that does not hold.
struct UnmetCriterion {
  enum class Kind : std::uint8_t {
    kMissingField,       // id: the field
    kInvalidField,       // id: the field; detail: why
    kOpenItem,           // id: the checklist item
    kMissingApproval,    // id: the approval; have, need: distinct approvers
    kFailedCondition,    // detail: the condition's description
    kMissingAssignment,  // id: the role of the stage's team nobody is assigned to; detail: why
  };
  Kind kind = Kind::kMissingField;
  std::string id;
  std::string detail;
  std::uint32_t have = 0;
  std::uint32_t need = 0;
  friend bool operator==(const UnmetCriterion&, const UnmetCriterion&) = default;
};

std::string_view to_string(UnmetCriterion::Kind kind) noexcept;

struct Rejection {
  ErrorCode code = ErrorCode::kBadCommand;
  std::string message;                // one sentence for people
  std::vector<UnmetCriterion> unmet;  // kGateBlocked: every criterion that does not hold
};

// What decide() needs beyond the definition, the state and the command.
struct DecisionContext {
  Timestamp now{};
  RoleSet actor_roles;  // the actor's roles from the Directory, plus assignments on the instance
};

// Events (without instance, version, actor or definition stamped; the caller stamps them) or a
// rejection. REQUIRES: `state.definition` is `definition`, or the state does not exist (create).
struct Decision {
  std::vector<Event> events;
  std::optional<Rejection> rejection;
  bool ok() const noexcept { return !rejection.has_value(); }
};

[[nodiscard]] Decision decide(const ProcessDefinition& definition, const InstanceState& state,
                              const Command& command, const DecisionContext& context);

// Folds one event into the state. REQUIRES: the event was decided for this state's definition.
void apply(const ProcessDefinition& definition, InstanceState& state, const Event& event);

// The criteria that keep the instance from leaving its stage forward: required fields,
// checklist items, approvals, conditions. Empty when the gate is open.
std::vector<UnmetCriterion> unmet_criteria(const ProcessDefinition& definition,
                                           const InstanceState& state);

// Delivery standards whose next milestone (at risk, breach, escalation step) falls due at or
// before `now`, as events in time order (each `at` is the milestone's own instant), without
// instance, version or definition stamped. Pure; empty when nothing is due. The engine calls it
// when its deadline queue says an instance has something due.
std::vector<Event> due_milestones(const ProcessDefinition& definition, const InstanceState& state,
                                  Timestamp now);

// The instant of the earliest milestone still to come of any standard of `state`; none when no
// standard is counting.
std::optional<Timestamp> next_milestone(const ProcessDefinition& definition,
                                        const InstanceState& state);

// The calendar a standard counts in, or null for calendar time.
const BusinessCalendar* calendar_of(const ProcessDefinition& definition,
                                    const DeliveryStandard& standard) noexcept;

// The roles `actor_roles` gives on this instance: the Directory's plus the instance's assignments
// of `actor`.
RoleSet effective_roles(const InstanceState& state, std::string_view actor,
                        RoleSet directory_roles);

}  // namespace salesflow

#endif  // SALESFLOW_PROCESS_HPP_
