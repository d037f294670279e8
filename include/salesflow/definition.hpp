// Process definitions: the JSON format of docs/definition-format.md, loaded and compiled into an
// immutable ProcessDefinition.
//
// A definition is loaded once, checked completely (every problem is reported at once as a
// Diagnostic with a JSON Pointer), and compiled into flat tables addressed by dense integer ids, so
// that the engine's hot path never looks up a string or touches a JSON value.
//
// [Thread safety] A ProcessDefinition is immutable once loaded: any number of threads may read the
// same one concurrently without synchronisation. load_definition() and load_definition_file() are
// reentrant and share no state.
//
// [Ownership] Loading returns a std::shared_ptr<const ProcessDefinition>; engines and instances
// share it, so a definition lives as long as anything that runs on it. A ProcessDefinition can be
// neither copied nor moved: references and spans into it stay valid for its whole life.
//
// [Errors] Loading never throws for bad input (only std::bad_alloc may escape); bad input yields
// diagnostics instead of a definition. Lookups by string return std::nullopt when nothing matches.
#ifndef SALESFLOW_DEFINITION_HPP_
#define SALESFLOW_DEFINITION_HPP_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "salesflow/calendar.hpp"
#include "salesflow/diagnostic.hpp"
#include "salesflow/rules.hpp"

namespace salesflow {

namespace internal {
class ConditionPlan;  // src/engine/condition_plan.hpp
}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Dense ids. Each indexes one table of the ProcessDefinition it came from and means nothing in any
// other definition. to_index() converts one to a table position.
enum class RoleId : std::uint32_t {};
enum class ModuleId : std::uint32_t {};
enum class FieldId : std::uint32_t {};
enum class StageId : std::uint32_t {};
enum class ChecklistItemId : std::uint32_t {};
enum class ApprovalId : std::uint32_t {};
enum class TransitionId : std::uint32_t {};
enum class DeliveryStandardId : std::uint32_t {};
enum class CalendarId : std::uint32_t {};

template <class IdType>
constexpr std::size_t to_index(IdType id) noexcept {
  return static_cast<std::size_t>(id);
}

// At most this many roles per definition, so that a set of roles is one machine word.
inline constexpr std::size_t kMaxRoles = 64;

// At most this many delivery standards per definition, so that an instance counts their lives in
// 16 bits (process.hpp). Loading refuses more whatever the LoadLimits say.
inline constexpr std::size_t kMaxDeliveryStandards = 4096;

// A set of roles of one definition, as a bit set.
class RoleSet {
 public:
  constexpr RoleSet() noexcept = default;
  constexpr explicit RoleSet(std::uint64_t bits) noexcept : bits_(bits) {}

  constexpr bool contains(RoleId role) const noexcept { return (bits_ >> to_index(role)) & 1u; }
  constexpr void insert(RoleId role) noexcept { bits_ |= std::uint64_t{1} << to_index(role); }
  constexpr bool intersects(RoleSet other) const noexcept { return (bits_ & other.bits_) != 0; }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  constexpr RoleSet operator|(RoleSet other) const noexcept { return RoleSet(bits_ | other.bits_); }
  friend constexpr bool operator==(RoleSet, RoleSet) noexcept = default;

 private:
  std::uint64_t bits_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The compiled model. Every string here is the one written in the definition; every reference is
// a dense id. Field declaration order, stage order, etc. are kept: ids are declaration positions.

struct Role {
  std::string id;
  std::string name;
  std::string description;
};

// A lifecycle module (e.g. "needs diagnosis"): a named group of stages.
struct Module {
  std::string id;
  std::string name;
  std::string description;
};

enum class FieldType : std::uint8_t {
  kString,
  kNumber,   // a finite double
  kInteger,  // a signed 64-bit integer
  kBoolean,
  kEnum,        // one of Field::values
  kTimestamp,   // an ISO-8601 UTC instant
  kStringList,  // a list of strings
};

std::string_view to_string(FieldType type) noexcept;

struct Field {
  std::string id;
  std::string label;
  std::string description;
  FieldType type = FieldType::kString;
  std::optional<double> min;                // kNumber, kInteger: inclusive lower bound
  std::optional<double> max;                // kNumber, kInteger: inclusive upper bound
  std::optional<std::uint32_t> max_length;  // kString, kStringList (per item): bytes of UTF-8
  std::optional<std::uint32_t> max_items;   // kStringList
  std::vector<std::string> values;          // kEnum: the allowed values, in declaration order
};

enum class StageKind : std::uint8_t {
  kActive,  // work happens here; the instance is open
  kWon,     // terminal: the process succeeded
  kLost,    // terminal: the process ended without success
};

std::string_view to_string(StageKind kind) noexcept;

// A rule written in the rule language (JsonLogic; docs/rules.md), compiled when the definition
// is loaded.
struct Condition {
  std::string description;  // a sentence a person reads when the condition fails
  std::string rule_json;    // the rule as written, as compact JSON text
  Rule rule;                // the compiled rule
  // Set by the loader for the engine's use (gate conditions, team rules and guards of a simple
  // form, bound to this definition's fields); null otherwise. Hosts neither read nor set it.
  std::shared_ptr<const internal::ConditionPlan> plan;
};

struct ChecklistItem {
  std::string id;
  std::string label;
  StageId stage{};  // the stage that declares the item
};

// An approval a gate asks for: `count` distinct people holding `role` must approve.
struct Approval {
  std::string id;
  std::string label;
  RoleId role{};
  std::uint32_t count = 1;
  StageId stage{};  // the stage whose gate asks for it
};

// The exit criteria that must all hold before an instance leaves a stage forward.
struct Gate {
  std::vector<FieldId> required_fields;    // present and valid
  std::vector<ChecklistItemId> checklist;  // checked
  std::vector<ApprovalId> approvals;       // given
  std::vector<Condition> conditions;       // rules that hold

  bool empty() const noexcept {
    return required_fields.empty() && checklist.empty() && approvals.empty() && conditions.empty();
  }
};

// Who does what in a stage (RACI). Exactly one accountable role.
struct Responsibility {
  RoleId accountable{};
  RoleSet responsible;
  RoleSet consulted;
  RoleSet informed;
};

// A team the instance needs in a stage: when `when` holds on entering the stage (evaluated on the
// fields as they are then), a person must be assigned to each of `roles` on the instance before
// the gate opens, and the roles are notified. Written for the "triangle" team of large or complex
// deals (sales, presales, service).
struct TeamRequirement {
  std::string description;  // a sentence a person reads, e.g. "large deals need a triangle team"
  std::optional<Condition> when;  // absent: always
  RoleSet roles;
};

struct Stage {
  std::string id;
  std::string name;
  std::optional<ModuleId> module;  // always set for active stages
  StageKind kind = StageKind::kActive;
  std::string guidance;  // playbook text for the people working the stage
  Responsibility responsibility;
  std::vector<ChecklistItemId> checklist;  // the items this stage declares
  Gate gate;
  std::vector<std::string> lost_reasons;  // kLost only; empty means any reason is accepted
  std::optional<TeamRequirement> team;    // kActive only
};

// A declared move between two stages. Forward transitions go through the source stage's gate.
struct Transition {
  StageId from{};
  StageId to{};
  // True when `to` is a won stage, or an active stage declared after `from`. Moves to lost stages
  // and back to earlier stages are not forward and skip the gate.
  bool forward = false;
  std::string label;
  // Must hold for the move to be allowed; null when there is none. Shared by the moves that one
  // declaration with several sources expands into.
  std::shared_ptr<const Condition> guard;
};

// What starts or ends a delivery standard's clock.
enum class TriggerKind : std::uint8_t {
  kInstanceCreated,  // anchor only
  kStageEntered,     // anchor only
  kStageLeft,        // goal only
  kItemChecked,
  kFieldSet,
  kApprovalGiven,
};

std::string_view to_string(TriggerKind kind) noexcept;

struct Trigger {
  TriggerKind kind = TriggerKind::kInstanceCreated;
  // The stage, checklist item, field or approval the trigger names, as the index of that table
  // (unused for kInstanceCreated).
  std::uint32_t target = 0;
};

struct Escalation {
  std::chrono::seconds after{};  // past the deadline
  RoleId role{};
};

// A named business calendar of the definition (docs/definition-format.md, "Calendars").
struct Calendar {
  std::string id;
  std::string name;
  std::shared_ptr<const BusinessCalendar> calendar;  // never null in a loaded definition
};

// A time limit from an anchor to a goal ("needs summary within 24 hours of entering the stage").
// Without a calendar, `limit`, `at_risk` and escalation `after` are calendar time. With one, they
// are working time of that calendar: the loader turned each written day ("P2D") into the
// calendar's working day (two working days), while hours stay hours ("PT24H": 24 working hours).
struct DeliveryStandard {
  std::string id;
  std::string name;
  Trigger anchor;
  Trigger goal;
  std::chrono::seconds limit{};
  std::optional<std::chrono::seconds> at_risk;  // elapsed time at which the standard is at risk
  std::vector<Escalation> escalation;           // `after` strictly increasing
  bool pausable = true;                         // stops counting while the instance is on hold
  std::optional<CalendarId> calendar;           // none: calendar time
};

// Lead grading from behaviour data: whenever a command changes fields, the score rule is evaluated
// on the fields as the command leaves them, and the score and grade fields are set (or cleared,
// when the rule's value is not a number) by the same command. Hosts do not set them directly.
struct GradeThreshold {
  std::string grade;          // a value of the grade field (an enum)
  std::optional<double> min;  // the score from which this grade is given; absent: any score
};

struct LeadScoring {
  Condition score;  // a rule whose value is the score (a number)
  FieldId score_field{};
  FieldId grade_field{};
  // The first threshold whose `min` the score reaches gives the grade; `min` strictly decreases
  // and only the last threshold may omit it. A score below every `min` gives no grade.
  std::vector<GradeThreshold> grades;
  // What the score rule can read, found by the loader: the fields named in its "var" paths and
  // "missing" keys (sorted, each once), or every field (`reads_every_field`) when it names them
  // by computed paths, reads the whole data, calls a host operator, or reads the score or grade
  // field itself. A command that changes none of them keeps the score it has.
  std::vector<FieldId> inputs;
  bool reads_every_field = true;
};

// A "process optimisation alert": raised when its rule holds over the pipeline's figures
// (figures.hpp names the data a rule can read).
struct AlertThreshold {
  std::string id;
  Condition condition;  // description: what the alert says; rule: when it is raised
};

// An immutable, compiled process definition. Construct one with load_definition().
class ProcessDefinition {
 public:
  ProcessDefinition(const ProcessDefinition&) = delete;
  ProcessDefinition& operator=(const ProcessDefinition&) = delete;
  ~ProcessDefinition();

  const std::string& id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& description() const noexcept { return description_; }
  std::uint32_t version() const noexcept { return version_; }
  StageId start() const noexcept { return start_; }

  std::span<const Role> roles() const noexcept { return roles_; }
  std::span<const Module> modules() const noexcept { return modules_; }
  std::span<const Field> fields() const noexcept { return fields_; }
  std::span<const Stage> stages() const noexcept { return stages_; }
  std::span<const ChecklistItem> checklist_items() const noexcept { return items_; }
  std::span<const Approval> approvals() const noexcept { return approvals_; }
  // Sorted by source stage, then by declaration order.
  std::span<const Transition> transitions() const noexcept { return transitions_; }
  std::span<const DeliveryStandard> delivery_standards() const noexcept { return standards_; }
  const std::optional<LeadScoring>& lead_scoring() const noexcept { return scoring_; }
  std::span<const AlertThreshold> alerts() const noexcept { return alerts_; }
  std::span<const Calendar> calendars() const noexcept { return calendars_; }

  // REQUIRES: the id belongs to this definition.
  const Role& role(RoleId id) const noexcept { return roles_[to_index(id)]; }
  const Module& module(ModuleId id) const noexcept { return modules_[to_index(id)]; }
  const Field& field(FieldId id) const noexcept { return fields_[to_index(id)]; }
  const Stage& stage(StageId id) const noexcept { return stages_[to_index(id)]; }
  const ChecklistItem& item(ChecklistItemId id) const noexcept { return items_[to_index(id)]; }
  const Approval& approval(ApprovalId id) const noexcept { return approvals_[to_index(id)]; }
  const Calendar& calendar(CalendarId id) const noexcept { return calendars_[to_index(id)]; }
  const Transition& transition(TransitionId id) const noexcept {
    return transitions_[to_index(id)];
  }

  // The transitions leaving `from`, in declaration order. REQUIRES: `from` belongs here.
  std::span<const Transition> outgoing(StageId from) const noexcept;
  // The declared transition from `from` to `to`, if any.
  std::optional<TransitionId> find_transition(StageId from, StageId to) const noexcept;

  // Lookups by the ids written in the definition. O(log n).
  std::optional<RoleId> find_role(std::string_view id) const noexcept;
  std::optional<ModuleId> find_module(std::string_view id) const noexcept;
  std::optional<FieldId> find_field(std::string_view id) const noexcept;
  std::optional<StageId> find_stage(std::string_view id) const noexcept;
  std::optional<ChecklistItemId> find_item(std::string_view id) const noexcept;
  std::optional<ApprovalId> find_approval(std::string_view id) const noexcept;
  std::optional<DeliveryStandardId> find_delivery_standard(std::string_view id) const noexcept;
  std::optional<CalendarId> find_calendar(std::string_view id) const noexcept;
  // find_field() for a segment of a "var" path handed out while evaluating one of this
  // definition's own rules: the same answer, found by the segment's address (bound when the
  // definition was loaded) instead of by comparing names. Any other text: find_field().
  std::optional<FieldId> find_rule_field(std::string_view segment) const noexcept;

 private:
  friend class DefinitionCompiler;
  // Names to dense ids, looked up on every command (its stage, fields, items, the actor's
  // roles): an open-addressing table, a power of two at least twice the names (empty when there
  // are none), linear probing from the name's hash; a slot keeps the hash's high half so that
  // a probe compares names only when it matches. Names point into the strings of this
  // definition. A sorted table's binary search cost a string compare per halving.
  struct NameSlot {
    std::string_view name;
    std::uint32_t tag = 0;    // the hash's high 32 bits
    std::uint32_t value = 0;  // + 1; 0: an empty slot
  };
  using NameIndex = std::vector<NameSlot>;
  struct NameKey {
    std::string_view name;
    std::uint64_t hash;
    std::uint32_t value;
  };
  static NameIndex make_table(std::span<const NameKey> keys);
  static std::uint64_t name_hash(std::string_view name) noexcept;
  static std::uint64_t address_hash(const char* data) noexcept;
  static std::optional<std::uint32_t> lookup(const NameIndex& index, std::string_view id) noexcept;

  ProcessDefinition();

  std::string id_;
  std::string name_;
  std::string description_;
  std::uint32_t version_ = 0;
  StageId start_{};
  std::vector<Role> roles_;
  std::vector<Module> modules_;
  std::vector<Field> fields_;
  std::vector<Stage> stages_;
  std::vector<ChecklistItem> items_;
  std::vector<Approval> approvals_;
  std::vector<Transition> transitions_;
  std::vector<std::uint32_t> outgoing_begin_;  // stages_.size() + 1 offsets into transitions_
  std::vector<DeliveryStandard> standards_;
  std::optional<LeadScoring> scoring_;
  std::vector<AlertThreshold> alerts_;
  std::vector<Calendar> calendars_;
  NameIndex role_index_, module_index_, field_index_, stage_index_, item_index_, approval_index_,
      standard_index_, calendar_index_;
  // The path segments of this definition's rules that name fields, by address (address_hash()):
  // the rules keep their segments for their whole life, so an address names one segment. The
  // value is the field's id.
  NameIndex rule_fields_;
};

// ---------------------------------------------------------------------------------------------
// Loading.

// Input limits. Input beyond any of them is rejected with a kLimit diagnostic; they bound the time
// and memory a hostile definition can cost. Defaults are documented in docs/definition-format.md.
struct LoadLimits {
  std::size_t max_document_bytes = 8 << 20;  // 8 MiB of JSON text
  std::size_t max_depth = 64;                // nesting of arrays and objects
  std::size_t max_string_bytes = 64 << 10;   // any one string or object key
  std::size_t max_values = 1'000'000;        // JSON values in the whole document
  std::size_t max_stages = 10'000;
  std::size_t max_fields = 1'000;
  std::size_t max_transitions = 100'000;
  std::size_t max_list_items = 10'000;  // any other list: checklist items, enum values, ...
};

struct LoadResult {
  // Set exactly when diagnostics is empty.
  std::shared_ptr<const ProcessDefinition> definition;
  // Every problem found, in document order, then the graph checks.
  std::vector<Diagnostic> diagnostics;

  bool ok() const noexcept { return definition != nullptr; }
};

// Parses, checks and compiles a definition from JSON text (UTF-8). Rules in the definition may use
// the host operators of `operators` (null: built-in operators only); the definition keeps the ones
// it uses alive.
[[nodiscard]] LoadResult load_definition(std::string_view json_text, const LoadLimits& limits = {},
                                         const OperatorRegistry* operators = nullptr);

// As load_definition(), reading the file first. A file that cannot be read gives one kIo
// diagnostic; a file over limits.max_document_bytes is rejected without reading it whole.
[[nodiscard]] LoadResult load_definition_file(const std::filesystem::path& path,
                                              const LoadLimits& limits = {},
                                              const OperatorRegistry* operators = nullptr);

}  // namespace salesflow

#endif  // SALESFLOW_DEFINITION_HPP_
