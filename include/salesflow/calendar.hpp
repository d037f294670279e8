// Business calendars: when a team works. A calendar is an IANA time zone ("Europe/Berlin"),
// working hours per weekday in that zone's local time, and dated holidays (local dates with no
// working time). Delivery standards that name a calendar count working time of it instead of
// calendar time.
//
// Durations under a calendar: one *working day* is the calendar's `working_day` (by default the
// average working time of its working weekdays: 8 hours for Monday to Friday 09:00-17:00), so
// "P2D" is two working days (16 working hours there) while "PT24H" is 24 working hours (three
// such working days). The definition loader turns day components into working time.
//
// Time zones come from the operating system's tz database (/usr/share/zoneinfo) through Howard
// Hinnant's date library; daylight-saving changes shift working hours with local time (a day
// 09:00-17:00 is 8 working hours on the day clocks change, too).
//
// [Thread safety] A BusinessCalendar is immutable after make(); share it freely across threads.
// [Ownership] Copies share one immutable implementation.
// [Errors] make() returns a message for bad input; the queries do not fail.
#ifndef SALESFLOW_CALENDAR_HPP_
#define SALESFLOW_CALENDAR_HPP_

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace salesflow {

// An instant, in milliseconds since the Unix epoch (the same alias as in value.hpp, which this
// header cannot include: definition.hpp includes this one).
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// A local time of day in minutes since midnight, [begin, end), 0 <= begin < end <= 24 * 60.
struct WorkingInterval {
  std::chrono::minutes begin{};
  std::chrono::minutes end{};
  friend bool operator==(const WorkingInterval&, const WorkingInterval&) = default;
};

struct CalendarSpec {
  std::string time_zone;  // IANA name
  // Index 0 is Monday ... 6 Sunday. Each day's intervals sorted and not overlapping.
  std::array<std::vector<WorkingInterval>, 7> week;
  std::vector<std::chrono::year_month_day> holidays;  // local dates without working time
  // Working time of one working day; zero: the average over weekdays with working hours.
  std::chrono::seconds working_day{};
};

class BusinessCalendar {
 public:
  // A calendar from `spec`, or a sentence saying what is wrong (unknown time zone, intervals
  // unsorted, overlapping or out of the day, a week without working time).
  static std::variant<BusinessCalendar, std::string> make(CalendarSpec spec);

  const std::string& time_zone() const noexcept;
  std::chrono::seconds working_day() const noexcept;

  // True when `t` lies in working hours (begin inclusive, end exclusive).
  bool is_working(Timestamp t) const;
  // The instant at which `working` working time has passed since `from` (`from` itself when
  // `working` is zero or negative). Costs one step per local day crossed.
  Timestamp add_working_time(Timestamp from, std::chrono::milliseconds working) const;
  // Working time in [from, to); zero when to <= from. Costs one step per local day crossed.
  std::chrono::milliseconds working_time_between(Timestamp from, Timestamp to) const;

 private:
  struct Impl;
  explicit BusinessCalendar(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace salesflow

#endif  // SALESFLOW_CALENDAR_HPP_
