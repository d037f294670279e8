// Business calendars over the operating system's tz database (Howard Hinnant's date library,
// built by Debian with USE_OS_TZDB=1: it reads /usr/share/zoneinfo, no download).
//
// Both queries walk local days: a day's working intervals are converted from local time to UTC
// with the zone's rules for that day, so a daylight-saving change moves the hours with the
// clocks. A local time that does not exist (skipped by a spring-forward change) maps to the
// instant of the change; one that occurs twice maps to its first occurrence.
#include "salesflow/calendar.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <exception>

#include "calendar/zone_walk.hpp"

namespace salesflow {

struct BusinessCalendar::Impl {
  std::string time_zone;
  const date::time_zone* zone = nullptr;
  std::array<std::vector<WorkingInterval>, 7> week;
  std::vector<std::int32_t> holidays;  // days since 1970-01-01, sorted, unique
  std::chrono::seconds working_day{};

  bool is_holiday(date::local_days day) const noexcept {
    const auto count = static_cast<std::int32_t>(day.time_since_epoch().count());
    return std::binary_search(holidays.begin(), holidays.end(), count);
  }

  const std::vector<WorkingInterval>& hours_of(date::local_days day) const noexcept {
    const unsigned iso = date::weekday(day).iso_encoding();  // 1 Monday .. 7 Sunday
    return week[iso - 1];
  }

  // Each query converts through one ZoneWalk (zone_walk.hpp): exactly the zone's conversions,
  // without a tz database lookup for most of them.
  static Timestamp to_utc(internal::ZoneWalk& walk, date::local_days day, std::chrono::minutes at) {
    return walk.to_utc(date::local_time<std::chrono::milliseconds>(day) + at);
  }

  static date::local_days local_day_of(internal::ZoneWalk& walk, Timestamp t) {
    return date::floor<date::days>(walk.to_local(t));
  }

  // Calls visit(begin, end) for the working intervals of `day` in UTC.
  template <typename Visit>
  bool for_each_interval(internal::ZoneWalk& walk, date::local_days day, Visit&& visit) const {
    if (is_holiday(day)) return true;
    for (const WorkingInterval& interval : hours_of(day)) {
      if (!visit(to_utc(walk, day, interval.begin), to_utc(walk, day, interval.end))) return false;
    }
    return true;
  }
};

std::variant<BusinessCalendar, std::string> BusinessCalendar::make(CalendarSpec spec) {
  auto impl = std::make_shared<Impl>();
  try {
    impl->zone = date::locate_zone(spec.time_zone);
  } catch (const std::exception&) {
    return "unknown time zone \"" + spec.time_zone + "\" (expected an IANA name such as " +
           "\"Europe/Berlin\")";
  }
  impl->time_zone = std::move(spec.time_zone);
  static constexpr const char* kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
  std::chrono::minutes total{};
  int working_days = 0;
  for (std::size_t d = 0; d < 7; ++d) {
    const auto& intervals = spec.week[d];
    std::chrono::minutes previous_end{-1};
    for (const WorkingInterval& interval : intervals) {
      if (interval.begin < std::chrono::minutes{0} || interval.end > std::chrono::hours{24} ||
          interval.begin >= interval.end) {
        return std::string(kDays[d]) + ": working hours must start before they end, within the day";
      }
      if (interval.begin < previous_end) {
        return std::string(kDays[d]) + ": working hours must be in order and must not overlap";
      }
      previous_end = interval.end;
      total += interval.end - interval.begin;
    }
    if (!intervals.empty()) ++working_days;
  }
  if (working_days == 0) return std::string("the week has no working hours");
  impl->week = std::move(spec.week);
  for (const auto& holiday : spec.holidays) {
    if (!holiday.ok()) return std::string("a holiday is not a valid date");
    impl->holidays.push_back(
        static_cast<std::int32_t>(std::chrono::sys_days(holiday).time_since_epoch().count()));
  }
  std::sort(impl->holidays.begin(), impl->holidays.end());
  impl->holidays.erase(std::unique(impl->holidays.begin(), impl->holidays.end()),
                       impl->holidays.end());
  if (spec.working_day < std::chrono::seconds{0}) {
    return std::string("the working day must be longer than zero");
  }
  impl->working_day = spec.working_day > std::chrono::seconds{0}
                          ? spec.working_day
                          : std::chrono::duration_cast<std::chrono::seconds>(total) / working_days;
  return BusinessCalendar(std::move(impl));
}

const std::string& BusinessCalendar::time_zone() const noexcept { return impl_->time_zone; }
std::chrono::seconds BusinessCalendar::working_day() const noexcept { return impl_->working_day; }

bool BusinessCalendar::is_working(Timestamp t) const {
  bool working = false;
  internal::ZoneWalk walk(impl_->zone);
  const date::local_days day = Impl::local_day_of(walk, t);
  // An interval of the previous local day cannot reach into this one (it ends by 24:00), except
  // around a fall-back change, where 24:00 maps to the later instant: look at both days.
  for (date::local_days d = day - date::days{1}; d <= day && !working; d += date::days{1}) {
    impl_->for_each_interval(walk, d, [&](Timestamp begin, Timestamp end) {
      working = begin <= t && t < end;
      return !working;
    });
  }
  return working;
}

Timestamp BusinessCalendar::add_working_time(Timestamp from,
                                             std::chrono::milliseconds working) const {
  if (working <= std::chrono::milliseconds{0}) return from;
  std::chrono::milliseconds left = working;
  Timestamp result = from;
  bool done = false;
  internal::ZoneWalk walk(impl_->zone);
  // make() guarantees working hours in every week, and holidays are finite: the walk ends.
  for (date::local_days day = Impl::local_day_of(walk, from) - date::days{1}; !done;
       day += date::days{1}) {
    impl_->for_each_interval(walk, day, [&](Timestamp begin, Timestamp end) {
      if (end <= from) return true;
      const Timestamp start = std::max(begin, from);
      const auto available = end - start;
      if (left <= available) {
        result = start + left;
        done = true;
        return false;
      }
      left -= available;
      return true;
    });
  }
  return result;
}

std::chrono::milliseconds BusinessCalendar::working_time_between(Timestamp from,
                                                                 Timestamp to) const {
  std::chrono::milliseconds total{0};
  if (to <= from) return total;
  internal::ZoneWalk walk(impl_->zone);
  const date::local_days first = Impl::local_day_of(walk, from);
  const date::local_days last = Impl::local_day_of(walk, to);
  for (date::local_days day = first - date::days{1}; day <= last; day += date::days{1}) {
    impl_->for_each_interval(walk, day, [&](Timestamp begin, Timestamp end) {
      const Timestamp b = std::max(begin, from);
      const Timestamp e = std::min(end, to);
      if (b < e) total += e - b;
      return true;
    });
  }
  return total;
}

}  // namespace salesflow
