#include "salesflow/delivery.hpp"

#include <algorithm>

namespace salesflow {

std::string_view to_string(StandardPhase phase) noexcept {
  switch (phase) {
    case StandardPhase::kWaiting:
      return "waiting";
    case StandardPhase::kRunning:
      return "running";
    case StandardPhase::kAtRisk:
      return "at_risk";
    case StandardPhase::kBreached:
      return "breached";
    case StandardPhase::kEscalated:
      return "escalated";
    case StandardPhase::kMet:
      return "met";
    case StandardPhase::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {
using Ms = std::chrono::milliseconds;
Ms ms(std::chrono::seconds s) { return std::chrono::duration_cast<Ms>(s); }
}  // namespace

// At most kMaxCountedMs.
Ms StandardLife::counted_until(const BusinessCalendar* calendar, Timestamp now) const {
  if (now <= since_) return Ms{0};
  if (calendar != nullptr) {
    return std::min(calendar->working_time_between(since_, now), Ms{kMaxCountedMs});
  }
  // now > since_, so the difference fits 64 unsigned bits even when it does not fit 64 signed
  // ones (instants far outside what parse_timestamp() reads, or a since restored from a file).
  const std::uint64_t span = static_cast<std::uint64_t>(now.time_since_epoch().count()) -
                             static_cast<std::uint64_t>(since_.time_since_epoch().count());
  return Ms{static_cast<std::int64_t>(std::min<std::uint64_t>(span, kMaxCountedMs))};
}

Timestamp StandardLife::instant_of(const BusinessCalendar* calendar, Ms target) const {
  const Ms left = target - Ms{counted_ms()};
  if (left <= Ms{0}) return since_;
  return calendar != nullptr ? calendar->add_working_time(since_, left) : since_ + left;
}

Ms StandardLife::elapsed(const DeliveryStandard&, const BusinessCalendar* calendar,
                         Timestamp now) const {
  // Both terms are within 52 bits (counted_until() is not negative), so the sum cannot overflow.
  std::int64_t total = counted_ms();
  if (pending() && !paused()) total += counted_until(calendar, now).count();
  return Ms{std::min(total, kMaxCountedMs)};
}

std::optional<StandardLife::Next> StandardLife::next(const DeliveryStandard& standard,
                                                     const BusinessCalendar* calendar) const {
  if (!pending() || paused()) return std::nullopt;
  const std::uint8_t escalations = this->escalations();
  switch (phase()) {
    case StandardPhase::kRunning:
      if (standard.at_risk) {
        return Next{Milestone::kAtRisk, instant_of(calendar, ms(*standard.at_risk))};
      }
      [[fallthrough]];
    case StandardPhase::kAtRisk:
      return Next{Milestone::kBreached, instant_of(calendar, ms(standard.limit))};
    case StandardPhase::kBreached:
    case StandardPhase::kEscalated:
      if (escalations < standard.escalation.size()) {
        const auto& step = standard.escalation[escalations];
        return Next{Milestone::kEscalated, instant_of(calendar, ms(standard.limit + step.after)),
                    escalations};
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<Timestamp> StandardLife::deadline(const DeliveryStandard& standard,
                                                const BusinessCalendar* calendar) const {
  if (!pending() || paused()) return std::nullopt;
  return instant_of(calendar, ms(standard.limit));
}

bool StandardLife::anchor(Timestamp now) noexcept {
  if (phase() != StandardPhase::kWaiting) return false;
  set_phase(StandardPhase::kRunning);
  since_ = now;
  set_counted_ms(0);
  return true;
}

bool StandardLife::reach(Milestone milestone) noexcept {
  if (!pending() || paused()) return false;
  const StandardPhase phase = this->phase();
  switch (milestone) {
    case Milestone::kAtRisk:
      if (phase != StandardPhase::kRunning) return false;
      set_phase(StandardPhase::kAtRisk);
      return true;
    case Milestone::kBreached:
      if (phase != StandardPhase::kRunning && phase != StandardPhase::kAtRisk) return false;
      set_phase(StandardPhase::kBreached);
      return true;
    case Milestone::kEscalated:
      if (phase != StandardPhase::kBreached && phase != StandardPhase::kEscalated) return false;
      set_phase(StandardPhase::kEscalated);
      set_escalations(static_cast<std::uint8_t>(escalations() + 1));
      return true;
  }
  return false;
}

bool StandardLife::meet(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                        Timestamp now) {
  // Counted only when it applies: elapsed() may walk a calendar.
  return pending() && meet(elapsed(standard, calendar, now));
}

bool StandardLife::meet(Ms elapsed) noexcept {
  if (!pending()) return false;
  set_counted_ms(std::clamp<std::int64_t>(elapsed.count(), 0, kMaxCountedMs));
  set_phase(StandardPhase::kMet);
  set_paused(false);
  return true;
}

bool StandardLife::cancel(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                          Timestamp now) {
  return cancel(pending() ? elapsed(standard, calendar, now) : Ms{counted_ms()});
}

bool StandardLife::cancel(Ms elapsed) noexcept {
  if (phase() == StandardPhase::kMet || phase() == StandardPhase::kCancelled) return false;
  if (pending()) set_counted_ms(std::clamp<std::int64_t>(elapsed.count(), 0, kMaxCountedMs));
  set_phase(StandardPhase::kCancelled);
  set_paused(false);
  return true;
}

bool StandardLife::hold(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                        Timestamp now) {
  if (!pending() || paused() || !standard.pausable) return false;
  set_counted_ms(elapsed(standard, calendar, now).count());
  set_paused(true);
  return true;
}

bool StandardLife::resume(Timestamp now) noexcept {
  if (!pending() || !paused()) return false;
  set_paused(false);
  since_ = now;
  return true;
}

std::optional<StandardLife> StandardLife::restore(const Saved& saved) noexcept {
  if (saved.phase > StandardPhase::kCancelled) return std::nullopt;
  if (saved.counted_ms < 0 || saved.counted_ms > kMaxCountedMs) return std::nullopt;
  // Escalation steps are counted in the escalated phase and kept once met or cancelled.
  const bool may_have_steps = saved.phase == StandardPhase::kEscalated ||
                              saved.phase == StandardPhase::kMet ||
                              saved.phase == StandardPhase::kCancelled;
  if ((saved.phase == StandardPhase::kEscalated && saved.escalations == 0) ||
      (!may_have_steps && saved.escalations > 0)) {
    return std::nullopt;
  }
  StandardLife life;
  life.set_phase(saved.phase);
  if (saved.paused && !life.pending()) return std::nullopt;
  life.set_counted_ms(saved.counted_ms);
  life.since_ = saved.since;
  life.set_paused(saved.paused);
  life.set_escalations(saved.escalations);
  return life;
}

}  // namespace salesflow
