// The names of the engine's enumerations, as they appear in JSON and in messages.
#include <array>
#include <utility>

#include "salesflow/process.hpp"

namespace salesflow {
namespace {

constexpr std::array<std::string_view, 19> kEventTypes = {
    "created",        "field_set",         "field_cleared", "item_checked",  "item_unchecked",
    "approval_given", "approval_rejected", "assigned",      "stage_changed", "put_on_hold",
    "resumed",        "closed_lost",       "reopened",      "team_required", "at_risk",
    "breached",       "escalated",         "met",           "cancelled"};

constexpr std::array<std::string_view, 12> kCommandTypes = {
    "create", "set",     "check", "uncheck", "approve", "reject",
    "assign", "advance", "hold",  "resume",  "close",   "reopen"};

constexpr std::array<std::string_view, 9> kErrorCodes = {
    "gate_blocked",       "forbidden", "invalid_transition", "invalid_field", "unknown_instance",
    "duplicate_instance", "conflict",  "bad_command",        "unavailable"};

template <class Enum, std::size_t N>
std::optional<Enum> find_name(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(EventType type) noexcept {
  return kEventTypes[static_cast<std::size_t>(type)];
}
std::optional<EventType> event_type_from_string(std::string_view name) noexcept {
  return find_name<EventType>(kEventTypes, name);
}
std::string_view to_string(CommandType type) noexcept {
  return kCommandTypes[static_cast<std::size_t>(type)];
}
std::optional<CommandType> command_type_from_string(std::string_view name) noexcept {
  return find_name<CommandType>(kCommandTypes, name);
}
std::string_view to_string(ErrorCode code) noexcept {
  return kErrorCodes[static_cast<std::size_t>(code)];
}

std::string_view to_string(InstanceStatus status) noexcept {
  switch (status) {
    case InstanceStatus::kOpen:
      return "open";
    case InstanceStatus::kOnHold:
      return "on_hold";
    case InstanceStatus::kWon:
      return "won";
    case InstanceStatus::kLost:
      return "lost";
  }
  return "?";
}

std::string_view to_string(UnmetCriterion::Kind kind) noexcept {
  switch (kind) {
    case UnmetCriterion::Kind::kMissingField:
      return "missing_field";
    case UnmetCriterion::Kind::kInvalidField:
      return "invalid_field";
    case UnmetCriterion::Kind::kOpenItem:
      return "open_item";
    case UnmetCriterion::Kind::kMissingApproval:
      return "missing_approval";
    case UnmetCriterion::Kind::kFailedCondition:
      return "failed_condition";
    case UnmetCriterion::Kind::kMissingAssignment:
      return "missing_assignment";
  }
  return "?";
}

}  // namespace salesflow
