// ZoneWalk: a time zone's conversions for one walk over nearby instants, remembering the zone's
// current offset period so that most conversions need no lookup in the tz database.
//
// A calendar query walks a few local days and converts each working interval's ends between
// local time and UTC. Each date::time_zone conversion searches the zone's transitions (a binary
// search plus the library's per-call setup): at a million deals that was a tenth of a command's
// time. Offsets change twice a year at most in practice, so a walk keeps the period {begin, end,
// offset} of the last lookup and converts inside it by adding or subtracting the offset.
//
// Exactness: to_local() of an instant inside the remembered period is that instant plus the
// period's offset, which is what the zone answers. to_utc() of a local time uses the remembered
// offset only when the result lies more than kMargin inside the period: an alternative mapping
// of the same local time (a time that occurs twice, or one skipped by a change) differs from it
// by an offset change, which is less than kMargin, so it would have to lie in the same period,
// where it is the same instant. Anywhere nearer a change it asks the zone, with the same
// date::choose::earliest the calendar always used.
//
// Between walks, each thread remembers the last period it used (one per thread, for the zone it
// was of): a deal's deadlines and counted times fall in the current period, so most walks start
// without a lookup as well. The period is the zone's answer, so where it comes from changes no
// conversion.
//
// [Thread safety] A value for one thread and one walk; the zone itself is immutable. The period
// remembered between walks is thread_local: each thread has its own, and a walk only ever stores
// a period the zone answered.
#ifndef SALESFLOW_CALENDAR_ZONE_WALK_HPP_
#define SALESFLOW_CALENDAR_ZONE_WALK_HPP_

#include <date/date.h>
#include <date/tz.h>

#include <chrono>

namespace salesflow::internal {

// One offset period of `zone` (null: none known yet).
struct ZonePeriod {
  const date::time_zone* zone = nullptr;
  date::sys_seconds begin{}, end{}, safe_begin{}, safe_end{};
  std::chrono::seconds offset{};
};

class ZoneWalk {
 public:
  using Ms = std::chrono::milliseconds;
  // More than any offset change in the tz database (the largest is Samoa's 24 hours in 2011).
  static constexpr std::chrono::seconds kMargin = std::chrono::hours(48);

  explicit ZoneWalk(const date::time_zone* zone) noexcept : zone_(zone) {
    if (last_.zone == zone) period_ = last_;
  }
  ~ZoneWalk() {
    if (period_.zone != nullptr) last_ = period_;
  }
  ZoneWalk(const ZoneWalk&) = delete;
  ZoneWalk& operator=(const ZoneWalk&) = delete;

  date::local_time<Ms> to_local(date::sys_time<Ms> t) {
    if (!(period_.zone != nullptr && period_.begin <= t && t < period_.end)) {
      remember(zone_->get_info(t));
    }
    return date::local_time<Ms>((t + period_.offset).time_since_epoch());
  }

  date::sys_time<Ms> to_utc(date::local_time<Ms> local) {
    if (period_.zone != nullptr) {
      const date::sys_time<Ms> guess((local - period_.offset).time_since_epoch());
      if (period_.safe_begin <= guess && guess < period_.safe_end) return guess;
    }
    const date::sys_time<Ms> exact = zone_->to_sys(local, date::choose::earliest);
    remember(zone_->get_info(exact));
    return exact;
  }

 private:
  void remember(const date::sys_info& info) {
    period_.zone = zone_;
    period_.begin = info.begin;
    period_.end = info.end;
    period_.offset = info.offset;
    // The tz library's first and last periods reach to the ends of its range: keep the margins
    // from overflowing there.
    period_.safe_begin =
        info.begin < date::sys_seconds::max() - kMargin ? info.begin + kMargin : info.end;
    period_.safe_end =
        info.end > date::sys_seconds::min() + kMargin ? info.end - kMargin : info.begin;
  }

  const date::time_zone* zone_;
  ZonePeriod period_;
  // This thread's last walk's period.
  static inline thread_local ZonePeriod last_;
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_CALENDAR_ZONE_WALK_HPP_
