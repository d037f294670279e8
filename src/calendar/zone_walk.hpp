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
// [Thread safety] A value for one thread and one walk; the zone itself is immutable.
#ifndef SALESFLOW_CALENDAR_ZONE_WALK_HPP_
#define SALESFLOW_CALENDAR_ZONE_WALK_HPP_

#include <date/date.h>
#include <date/tz.h>

#include <chrono>

namespace salesflow::internal {

class ZoneWalk {
 public:
  using Ms = std::chrono::milliseconds;
  // More than any offset change in the tz database (the largest is Samoa's 24 hours in 2011).
  static constexpr std::chrono::seconds kMargin = std::chrono::hours(48);

  explicit ZoneWalk(const date::time_zone* zone) noexcept : zone_(zone) {}

  date::local_time<Ms> to_local(date::sys_time<Ms> t) {
    if (!(has_period_ && begin_ <= t && t < end_)) remember(zone_->get_info(t));
    return date::local_time<Ms>((t + offset_).time_since_epoch());
  }

  date::sys_time<Ms> to_utc(date::local_time<Ms> local) {
    if (has_period_) {
      const date::sys_time<Ms> guess((local - offset_).time_since_epoch());
      if (safe_begin_ <= guess && guess < safe_end_) return guess;
    }
    const date::sys_time<Ms> exact = zone_->to_sys(local, date::choose::earliest);
    remember(zone_->get_info(exact));
    return exact;
  }

 private:
  void remember(const date::sys_info& info) {
    begin_ = info.begin;
    end_ = info.end;
    offset_ = info.offset;
    // The tz library's first and last periods reach to the ends of its range: keep the margins
    // from overflowing there.
    safe_begin_ = begin_ < date::sys_seconds::max() - kMargin ? begin_ + kMargin : end_;
    safe_end_ = end_ > date::sys_seconds::min() + kMargin ? end_ - kMargin : begin_;
    has_period_ = true;
  }

  const date::time_zone* zone_;
  bool has_period_ = false;
  date::sys_seconds begin_{}, end_{}, safe_begin_{}, safe_end_{};
  std::chrono::seconds offset_{};
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_CALENDAR_ZONE_WALK_HPP_
