#include "salesflow/clock.hpp"

namespace salesflow {

Clock::~Clock() = default;

Timestamp SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

bool ManualClock::set(Timestamp t) noexcept {
  const std::int64_t target = t.time_since_epoch().count();
  std::int64_t current = ms_.load(std::memory_order_acquire);
  while (true) {
    if (target < current) return false;
    if (ms_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) return true;
  }
}

}  // namespace salesflow
