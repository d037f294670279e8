#include "salesflow/calendar.hpp"

#include "salesflow/value.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace salesflow {
namespace {

using namespace std::chrono_literals;
using std::chrono::April;
using std::chrono::December;

Timestamp at(std::string_view iso) {
  const auto parsed = parse_timestamp(iso);
  EXPECT_TRUE(parsed.has_value()) << iso;
  return parsed.value_or(Timestamp{});
}

CalendarSpec office(std::string zone = "Europe/Berlin") {
  CalendarSpec spec;
  spec.time_zone = std::move(zone);
  for (int d = 0; d < 5; ++d) spec.week[d] = {WorkingInterval{9h, 17h}};
  return spec;
}

BusinessCalendar make(CalendarSpec spec) {
  auto result = BusinessCalendar::make(std::move(spec));
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return std::get<BusinessCalendar>(BusinessCalendar::make(office()));
  }
  return std::get<BusinessCalendar>(std::move(result));
}

std::string error_of(CalendarSpec spec) {
  auto result = BusinessCalendar::make(std::move(spec));
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(Calendar, WorkingDayDefaultsToTheAverageWorkingWeekday) {
  EXPECT_EQ(make(office()).working_day(), 8h);
  CalendarSpec spec = office();
  spec.week[4] = {WorkingInterval{9h, 13h}};  // Friday afternoon off: 36 h over 5 days
  EXPECT_EQ(make(spec).working_day(), 7h + 12min);
  spec.working_day = 6h;
  EXPECT_EQ(make(spec).working_day(), 6h);
}

TEST(Calendar, DeadlineAcrossAWeekend) {
  const BusinessCalendar cal = make(office());
  // Friday 2026-03-20 15:00 CET (14:00Z): 2 h on Friday, 6 h on Monday -> Monday 15:00 CET.
  EXPECT_EQ(cal.add_working_time(at("2026-03-20T14:00:00Z"), 8h), at("2026-03-23T14:00:00Z"));
  EXPECT_EQ(cal.working_time_between(at("2026-03-20T14:00:00Z"), at("2026-03-23T14:00:00Z")), 8h);
  // Anchored on Saturday: counting starts Monday 09:00 CET.
  EXPECT_EQ(cal.add_working_time(at("2026-03-21T10:00:00Z"), 1h), at("2026-03-23T09:00:00Z"));
  EXPECT_EQ(cal.working_time_between(at("2026-03-21T00:00:00Z"), at("2026-03-22T23:00:00Z")), 0h);
}

TEST(Calendar, DeadlineAcrossHolidays) {
  CalendarSpec spec = office();
  spec.holidays = {2026y / December / 24, 2026y / December / 25};
  const BusinessCalendar cal = make(spec);
  // Wednesday 23 Dec 16:00 CET + 2 h: 1 h that day; Thu, Fri holidays; weekend; Mon 28 10:00.
  EXPECT_EQ(cal.add_working_time(at("2026-12-23T15:00:00Z"), 2h), at("2026-12-28T09:00:00Z"));
  EXPECT_EQ(cal.working_time_between(at("2026-12-23T15:00:00Z"), at("2026-12-28T09:00:00Z")), 2h);
  EXPECT_FALSE(cal.is_working(at("2026-12-24T10:00:00Z")));
  EXPECT_TRUE(cal.is_working(at("2026-12-23T10:00:00Z")));
}

TEST(Calendar, WorkingHoursFollowLocalTimeAcrossDaylightSavingChanges) {
  const BusinessCalendar cal = make(office());
  // Berlin moves from CET (+1) to CEST (+2) on Sunday 2026-03-29. Friday 27th 16:00 CET is
  // 15:00Z; Monday 30th 10:00 CEST is 08:00Z.
  EXPECT_EQ(cal.add_working_time(at("2026-03-27T15:00:00Z"), 2h), at("2026-03-30T08:00:00Z"));
  EXPECT_TRUE(cal.is_working(at("2026-03-30T07:00:00Z"))) << "09:00 CEST";
  EXPECT_FALSE(cal.is_working(at("2026-03-30T06:59:59Z"))) << "08:59 CEST";
  // And back to CET on Sunday 2026-10-25: Friday 23rd 17:00 CEST is 15:00Z, the end of the day;
  // Monday 26th starts at 09:00 CET (08:00Z), so one working hour ends at 09:00Z.
  EXPECT_EQ(cal.add_working_time(at("2026-10-23T15:00:00Z"), 1h), at("2026-10-26T09:00:00Z"));
}

TEST(Calendar, AroundTheClockCalendarCountsTheShortAndTheLongDay) {
  CalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  for (auto& day : spec.week) day = {WorkingInterval{0h, 24h}};
  const BusinessCalendar cal = make(spec);
  // Local midnight to local midnight: 23 h on 29 March, 25 h on 25 October.
  EXPECT_EQ(cal.working_time_between(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z")), 23h);
  EXPECT_EQ(cal.working_time_between(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")), 25h);
  EXPECT_EQ(cal.add_working_time(at("2026-03-28T12:00:00Z"), 48h), at("2026-03-30T12:00:00Z"));
}

TEST(Calendar, SplitDaysAndOtherZones) {
  CalendarSpec spec = office("America/New_York");
  spec.week[0] = {WorkingInterval{9h, 12h}, WorkingInterval{13h, 17h}};
  const BusinessCalendar cal = make(spec);
  // Monday 2026-04-06, EDT (-4): 11:00 local is 15:00Z; 2 h -> 1 h before lunch, 1 h after.
  EXPECT_EQ(cal.add_working_time(at("2026-04-06T15:00:00Z"), 2h), at("2026-04-06T18:00:00Z"));
  EXPECT_FALSE(cal.is_working(at("2026-04-06T16:30:00Z"))) << "lunch";
  EXPECT_EQ(cal.add_working_time(at("2026-04-06T15:00:00Z"), 0h), at("2026-04-06T15:00:00Z"));
  EXPECT_EQ(cal.working_time_between(at("2026-04-07T15:00:00Z"), at("2026-04-06T15:00:00Z")), 0h);
}

TEST(Calendar, RefusesBadSpecs) {
  EXPECT_NE(error_of(office("Mars/Olympus_Mons")).find("unknown time zone"), std::string::npos);
  CalendarSpec none;
  none.time_zone = "UTC";
  EXPECT_NE(error_of(none).find("no working hours"), std::string::npos);
  CalendarSpec backwards = office();
  backwards.week[2] = {WorkingInterval{17h, 9h}};
  EXPECT_NE(error_of(backwards).find("Wednesday"), std::string::npos);
  CalendarSpec overlap = office();
  overlap.week[1] = {WorkingInterval{9h, 13h}, WorkingInterval{12h, 17h}};
  EXPECT_NE(error_of(overlap).find("overlap"), std::string::npos);
  CalendarSpec late = office();
  late.week[6] = {WorkingInterval{20h, 25h}};
  EXPECT_NE(error_of(late).find("Sunday"), std::string::npos);
  CalendarSpec bad_date = office();
  bad_date.holidays = {2026y / April / 31};
  EXPECT_NE(error_of(bad_date).find("holiday"), std::string::npos);
}

}  // namespace
}  // namespace salesflow
