// The Clock hook: where the engine's delivery standards get the time. SystemClock reads the system
// clock; ManualClock is set by its owner (tests, replay, simulation), so that time passes only when
// the owner says so.
//
// [Threading] now() may be called from any thread concurrently; ManualClock::set() and advance()
// may run concurrently with now().
// [Errors] ManualClock refuses to go back in time (set() returns false and keeps the time).
#ifndef SALESFLOW_CLOCK_HPP_
#define SALESFLOW_CLOCK_HPP_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "salesflow/calendar.hpp"  // Timestamp

namespace salesflow {

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock();

  virtual Timestamp now() const = 0;
};

// The system clock (std::chrono::system_clock), to the millisecond.
class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

// A clock that moves only when told to. Starts at `start`.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp{}) : ms_(start.time_since_epoch().count()) {}
  Timestamp now() const override {
    return Timestamp(std::chrono::milliseconds(ms_.load(std::memory_order_acquire)));
  }
  // Moves the clock to `t`; false (and no change) when `t` is earlier than now().
  bool set(Timestamp t) noexcept;
  // Moves the clock forward by `d` (a negative `d` is refused like an earlier set()).
  bool advance(std::chrono::milliseconds d) noexcept { return set(now() + d); }

 private:
  std::atomic<std::int64_t> ms_;
};

}  // namespace salesflow

#endif  // SALESFLOW_CLOCK_HPP_
