#include <algorithm>
#include <bit>

#include "salesflow/definition.hpp"
#include "util/text_hash.hpp"

namespace salesflow {

ProcessDefinition::ProcessDefinition() = default;
ProcessDefinition::~ProcessDefinition() = default;

std::span<const Transition> ProcessDefinition::outgoing(StageId from) const noexcept {
  const std::size_t i = to_index(from);
  return std::span<const Transition>(transitions_)
      .subspan(outgoing_begin_[i], outgoing_begin_[i + 1] - outgoing_begin_[i]);
}

std::optional<TransitionId> ProcessDefinition::find_transition(StageId from,
                                                               StageId to) const noexcept {
  const std::size_t begin = outgoing_begin_[to_index(from)];
  const std::size_t end = outgoing_begin_[to_index(from) + 1];
  for (std::size_t i = begin; i < end; ++i) {
    if (transitions_[i].to == to) return TransitionId(static_cast<std::uint32_t>(i));
  }
  return std::nullopt;
}

namespace {

// The value of the first slot from `hash`'s home whose tag is the hash's and whose name is `same`.
// (Table is ProcessDefinition::NameIndex, a private type.)
template <class Table, class Same>
std::optional<std::uint32_t> probe(const Table& table, std::uint64_t hash, Same same) noexcept {
  if (table.empty()) return std::nullopt;
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const auto& slot = table[i];
    if (slot.value == 0) return std::nullopt;  // at most half full: probing ends
    if (slot.tag == tag && same(slot.name)) return slot.value - 1;
  }
}

}  // namespace

ProcessDefinition::NameIndex ProcessDefinition::make_table(std::span<const NameKey> keys) {
  NameIndex table;
  if (keys.empty()) return table;
  table.resize(std::bit_ceil(keys.size() * 2));
  const std::size_t mask = table.size() - 1;
  for (const NameKey& key : keys) {
    std::size_t i = key.hash & mask;
    while (table[i].value != 0) i = (i + 1) & mask;
    table[i] = {key.name, static_cast<std::uint32_t>(key.hash >> 32), key.value + 1};
  }
  return table;
}

std::uint64_t ProcessDefinition::name_hash(std::string_view name) noexcept {
  return internal::text_hash(name);
}

std::uint64_t ProcessDefinition::address_hash(const char* data) noexcept {
  // The product's high half is well mixed, its low half is not (it depends only on the
  // address's low bits, which alignment fixes): the high half picks the home slot.
  return std::rotl(std::uint64_t{reinterpret_cast<std::uintptr_t>(data)} * 0x9E3779B97F4A7C15ull,
                   32);
}

std::optional<std::uint32_t> ProcessDefinition::lookup(const NameIndex& index,
                                                       std::string_view id) noexcept {
  return probe(index, name_hash(id), [&](std::string_view name) { return name == id; });
}

std::optional<RoleId> ProcessDefinition::find_role(std::string_view id) const noexcept {
  if (const auto i = lookup(role_index_, id)) return RoleId(*i);
  return std::nullopt;
}
std::optional<ModuleId> ProcessDefinition::find_module(std::string_view id) const noexcept {
  if (const auto i = lookup(module_index_, id)) return ModuleId(*i);
  return std::nullopt;
}
std::optional<FieldId> ProcessDefinition::find_field(std::string_view id) const noexcept {
  if (const auto i = lookup(field_index_, id)) return FieldId(*i);
  return std::nullopt;
}
std::optional<FieldId> ProcessDefinition::find_rule_field(std::string_view segment) const noexcept {
  if (const auto field =
          probe(rule_fields_, address_hash(segment.data()), [&](std::string_view name) {
            return name.data() == segment.data() && name.size() == segment.size();
          })) {
    return FieldId(*field);
  }
  return find_field(segment);
}

std::optional<StageId> ProcessDefinition::find_stage(std::string_view id) const noexcept {
  if (const auto i = lookup(stage_index_, id)) return StageId(*i);
  return std::nullopt;
}
std::optional<ChecklistItemId> ProcessDefinition::find_item(std::string_view id) const noexcept {
  if (const auto i = lookup(item_index_, id)) return ChecklistItemId(*i);
  return std::nullopt;
}
std::optional<ApprovalId> ProcessDefinition::find_approval(std::string_view id) const noexcept {
  if (const auto i = lookup(approval_index_, id)) return ApprovalId(*i);
  return std::nullopt;
}
std::optional<DeliveryStandardId> ProcessDefinition::find_delivery_standard(
    std::string_view id) const noexcept {
  if (const auto i = lookup(standard_index_, id)) return DeliveryStandardId(*i);
  return std::nullopt;
}

std::optional<CalendarId> ProcessDefinition::find_calendar(std::string_view id) const noexcept {
  if (const auto i = lookup(calendar_index_, id)) return CalendarId(*i);
  return std::nullopt;
}

std::string_view to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kTimestamp:
      return "timestamp";
    case FieldType::kStringList:
      return "string_list";
  }
  return "?";
}

std::string_view to_string(StageKind kind) noexcept {
  switch (kind) {
    case StageKind::kActive:
      return "active";
    case StageKind::kWon:
      return "won";
    case StageKind::kLost:
      return "lost";
  }
  return "?";
}

std::string_view to_string(TriggerKind kind) noexcept {
  switch (kind) {
    case TriggerKind::kInstanceCreated:
      return "instance_created";
    case TriggerKind::kStageEntered:
      return "stage_entered";
    case TriggerKind::kStageLeft:
      return "stage_left";
    case TriggerKind::kItemChecked:
      return "item_checked";
    case TriggerKind::kFieldSet:
      return "field_set";
    case TriggerKind::kApprovalGiven:
      return "approval_given";
  }
  return "?";
}

std::string_view to_string(DiagnosticCode code) noexcept {
  switch (code) {
    case DiagnosticCode::kSyntax:
      return "syntax";
    case DiagnosticCode::kLimit:
      return "limit";
    case DiagnosticCode::kDuplicateKey:
      return "duplicate_key";
    case DiagnosticCode::kUnknownKey:
      return "unknown_key";
    case DiagnosticCode::kMissingKey:
      return "missing_key";
    case DiagnosticCode::kWrongType:
      return "wrong_type";
    case DiagnosticCode::kInvalidValue:
      return "invalid_value";
    case DiagnosticCode::kOutOfRange:
      return "out_of_range";
    case DiagnosticCode::kDuplicateId:
      return "duplicate_id";
    case DiagnosticCode::kUnknownReference:
      return "unknown_reference";
    case DiagnosticCode::kAccountable:
      return "accountable";
    case DiagnosticCode::kUnreachableStage:
      return "unreachable_stage";
    case DiagnosticCode::kNoTerminalReachable:
      return "no_terminal_reachable";
    case DiagnosticCode::kNoWonStage:
      return "no_won_stage";
    case DiagnosticCode::kTrapCycle:
      return "trap_cycle";
    case DiagnosticCode::kIo:
      return "io";
  }
  return "?";
}

}  // namespace salesflow
