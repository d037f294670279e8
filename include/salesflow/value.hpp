// Field values and time: what an instance carries and when things happen.
//
// [Thread safety] Plain values and pure functions; safe from any thread.
// [Errors] Parsing and validation return std::nullopt or a message; nothing throws for bad input.
#ifndef SALESFLOW_VALUE_HPP_
#define SALESFLOW_VALUE_HPP_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "salesflow/definition.hpp"

namespace salesflow {

// An instant in UTC with millisecond resolution. All engine time is in this type.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// Parses an ISO-8601 UTC instant: "2026-11-27T09:30:00Z", with optional fractional seconds
// ("...:00.250Z") or an explicit offset ("+01:00", converted to UTC). A date alone is refused:
// an instant needs a time.
std::optional<Timestamp> parse_timestamp(std::string_view text);

// The instants parse_timestamp() can return: years 0000 to 9999, with UTC offsets of up to 23:59
// either way. Stored data that names an instant outside them (a snapshot) is refused.
inline constexpr Timestamp kEarliestTimestamp{
    std::chrono::milliseconds(-62'167'219'200'000 - 86'340'000)};  // 0000-01-01T00:00+23:59
inline constexpr Timestamp kLatestTimestamp{
    std::chrono::milliseconds(253'402'300'799'999 + 86'340'000)};  // 9999-12-31T23:59:59.999-23:59

// "2026-11-27T09:30:00Z", or "2026-11-27T09:30:00.250Z" when there are milliseconds.
std::string format_timestamp(Timestamp t);

// The value of one field. The alternative in use follows Field::type: kString and kEnum hold
// std::string, kNumber double, kInteger int64_t, kBoolean bool, kTimestamp Timestamp,
// kStringList std::vector<std::string>. std::monostate means "not set".
using FieldValue = std::variant<std::monostate, std::string, double, std::int64_t, bool, Timestamp,
                                std::vector<std::string>>;

// A copy of `value`, made by assignment. The library copies values this way where running out of
// memory must give std::bad_alloc: the std::variant copy constructor of GCC 12's library (Debian
// 12's compiler) crashes instead when copying the held string or list throws; assignment does
// not (tests/alloc_failure_test.cpp finds it).
inline FieldValue copy_of(const FieldValue& value) {
  FieldValue copy;
  copy = value;
  return copy;
}

inline bool is_set(const FieldValue& value) noexcept {
  return !std::holds_alternative<std::monostate>(value);
}

// Checks `value` against the field's type and constraints. Returns nothing when it is valid, or a
// sentence saying why not ("must be one of \"A\", \"B\", \"C\"", "is above the maximum 100").
std::optional<std::string> validate_field_value(const Field& field, const FieldValue& value);

// A value as a person reads it: strings as they are, numbers with up to 15 significant digits,
// lists comma-joined.
std::string to_display_string(const FieldValue& value);

}  // namespace salesflow

#endif  // SALESFLOW_VALUE_HPP_
