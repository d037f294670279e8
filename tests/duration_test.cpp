#include <gtest/gtest.h>

#include "definition/duration.hpp"

namespace salesflow::internal {
namespace {

using namespace std::chrono_literals;

std::chrono::seconds parsed(std::string_view text) {
  auto result = parse_duration(text);
  EXPECT_TRUE(std::holds_alternative<std::chrono::seconds>(result)) << text;
  return std::holds_alternative<std::chrono::seconds>(result)
             ? std::get<std::chrono::seconds>(result)
             : std::chrono::seconds(-1);
}

std::string error_of(std::string_view text) {
  auto result = parse_duration(text);
  EXPECT_TRUE(std::holds_alternative<std::string>(result)) << text;
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(Duration, ParsesDaysHoursMinutesSecondsAndWeeks) {
  EXPECT_EQ(parsed("PT24H"), 24h);
  EXPECT_EQ(parsed("P2D"), 48h);
  EXPECT_EQ(parsed("P1DT12H"), 36h);
  EXPECT_EQ(parsed("PT90M"), 90min);
  EXPECT_EQ(parsed("PT1H30M15S"), 1h + 30min + 15s);
  EXPECT_EQ(parsed("P1W"), 7 * 24h);
  EXPECT_EQ(parsed("PT0S"), 0s);
}

TEST(Duration, RefusesYearsAndMonthsBecauseTheirLengthVaries) {
  EXPECT_NE(error_of("P1M").find("months"), std::string::npos);
  EXPECT_NE(error_of("P1Y").find("years"), std::string::npos);
  EXPECT_EQ(parsed("PT1M"), 1min) << "M after T is minutes";
}

TEST(Duration, RefusesMalformedText) {
  for (const char* text : {"", "P", "PT", "24H", "P1DT", "PT1H2", "P-1D", "P1.5D", "PT1S1H",
                           "P1D1D", "PT1HT2M", "p1d", "P1DX", " PT1H", "PT1H "}) {
    error_of(text);
  }
}

TEST(Duration, RefusesMoreThanTenYearsWithoutOverflow) {
  error_of("P3700D");
  error_of("PT999999999999H");
  error_of("PT99999999999999999999S");
}

TEST(Duration, FormatsCanonically) {
  EXPECT_EQ(format_duration(24h), "P1D");
  EXPECT_EQ(format_duration(36h), "P1DT12H");
  EXPECT_EQ(format_duration(90min), "PT1H30M");
  EXPECT_EQ(format_duration(0s), "PT0S");
  EXPECT_EQ(format_duration(61s), "PT1M1S");
  for (const std::chrono::seconds d : {std::chrono::seconds(1s), std::chrono::seconds(59min),
                                       std::chrono::seconds(25h), 7 * 24h + 3s})
    EXPECT_EQ(parsed(format_duration(d)), d);
}

}  // namespace
}  // namespace salesflow::internal
