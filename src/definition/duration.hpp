// ISO-8601 durations as the definition format writes them: "PT24H", "P2D", "P1DT12H", "PT90M".
// Years and months are refused: their length varies, so a time limit written with them would not
// mean one amount of time.
#ifndef SALESFLOW_DEFINITION_DURATION_HPP_
#define SALESFLOW_DEFINITION_DURATION_HPP_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace salesflow::internal {

// The longest duration accepted: ten years of seconds.
inline constexpr std::chrono::seconds kMaxDuration{10LL * 366 * 24 * 3600};

// Parses P[nW][nD][T[nH][nM][nS]] with non-negative integers. Returns the duration, or a sentence
// saying what is wrong.
std::variant<std::chrono::seconds, std::string> parse_duration(std::string_view text);

// The same, split into the date part (weeks and days, as whole days) and the time part (hours,
// minutes, seconds): under a business calendar a day is a working day, not 24 hours.
struct DurationParts {
  std::int64_t days = 0;
  std::chrono::seconds time{};
};
std::variant<DurationParts, std::string> parse_duration_parts(std::string_view text);

// The canonical text of a duration: days, hours, minutes, seconds ("P1DT2H", "PT0S").
std::string format_duration(std::chrono::seconds duration);

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEFINITION_DURATION_HPP_
