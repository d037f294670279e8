#include "definition/duration.hpp"

#include <cstdint>

namespace salesflow::internal {
namespace {

constexpr std::string_view kExpected =
    "expected an ISO-8601 duration such as \"PT24H\", \"P2D\" or \"P1DT12H\"";

struct Unit {
  char designator;
  std::int64_t seconds;
};
constexpr Unit kDateUnits[] = {{'W', 7 * 86400}, {'D', 86400}};
constexpr Unit kTimeUnits[] = {{'H', 3600}, {'M', 60}, {'S', 1}};

// Consumes "<digits><designator>" pairs whose designators appear in `units`, in that order.
// Returns false on malformed text; adds to `total` and counts the components found.
template <std::size_t N>
bool parse_components(std::string_view& text, const Unit (&units)[N], std::int64_t& total,
                      int& components, std::string& error) {
  std::size_t next_unit = 0;
  while (!text.empty() && text.front() != 'T') {
    std::int64_t value = 0;
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      if (digits == 12) {
        error = "the number is too large";
        return false;
      }
      value = value * 10 + (text[digits] - '0');
      ++digits;
    }
    if (digits == 0 || digits == text.size()) {
      error = std::string(kExpected);
      return false;
    }
    const char designator = text[digits];
    std::size_t unit = next_unit;
    while (unit < N && units[unit].designator != designator) ++unit;
    if (unit == N) {
      if (designator == 'Y' || (designator == 'M' && N == 2)) {
        error = "years and months are not allowed, because their length varies; use days";
      } else {
        error = std::string(kExpected);
      }
      return false;
    }
    total += value * units[unit].seconds;
    if (total > kMaxDuration.count()) {
      error = "the duration is longer than ten years";
      return false;
    }
    next_unit = unit + 1;
    ++components;
    text.remove_prefix(digits + 1);
  }
  return true;
}

}  // namespace

std::variant<std::chrono::seconds, std::string> parse_duration(std::string_view text) {
  auto parts = parse_duration_parts(text);
  if (auto* error = std::get_if<std::string>(&parts)) return std::move(*error);
  const auto& p = std::get<DurationParts>(parts);
  return std::chrono::seconds(p.days * 86400) + p.time;
}

std::variant<DurationParts, std::string> parse_duration_parts(std::string_view text) {
  if (text.empty() || text.front() != 'P') return std::string(kExpected);
  text.remove_prefix(1);
  std::int64_t total = 0;
  int components = 0;
  std::string error;
  if (!parse_components(text, kDateUnits, total, components, error)) return error;
  const std::int64_t date_total = total;
  if (!text.empty()) {
    text.remove_prefix(1);  // the 'T'
    const int date_components = components;
    if (!parse_components(text, kTimeUnits, total, components, error)) return error;
    if (components == date_components || !text.empty()) return std::string(kExpected);
  }
  if (components == 0) return std::string(kExpected);
  return DurationParts{date_total / 86400, std::chrono::seconds(total - date_total)};
}

std::string format_duration(std::chrono::seconds duration) {
  std::int64_t rest = duration.count();
  std::string text = "P";
  if (rest >= 86400) {
    text += std::to_string(rest / 86400) + "D";
    rest %= 86400;
  }
  if (rest > 0 || text.size() == 1) {
    text += 'T';
    if (rest >= 3600) text += std::to_string(rest / 3600) + "H";
    if (rest % 3600 >= 60) text += std::to_string(rest % 3600 / 60) + "M";
    if (rest % 60 != 0 || rest == 0) text += std::to_string(rest % 60) + "S";
  }
  return text;
}

}  // namespace salesflow::internal
