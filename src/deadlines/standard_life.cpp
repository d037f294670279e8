#include "salesflow/delivery.hpp"

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

Ms StandardLife::counted_until(const BusinessCalendar* calendar, Timestamp now) const {
  if (now <= since_) return Ms{0};
  return calendar != nullptr ? calendar->working_time_between(since_, now) : now - since_;
}

Timestamp StandardLife::instant_of(const BusinessCalendar* calendar, Ms target) const {
  const Ms left = target - Ms{counted_ms_};
  if (left <= Ms{0}) return since_;
  return calendar != nullptr ? calendar->add_working_time(since_, left) : since_ + left;
}

Ms StandardLife::elapsed(const DeliveryStandard&, const BusinessCalendar* calendar,
                         Timestamp now) const {
  Ms total{counted_ms_};
  if (pending() && !paused_) total += counted_until(calendar, now);
  return total;
}

std::optional<StandardLife::Next> StandardLife::next(const DeliveryStandard& standard,
                                                     const BusinessCalendar* calendar) const {
  if (!pending() || paused_) return std::nullopt;
  switch (phase_) {
    case StandardPhase::kRunning:
      if (standard.at_risk) {
        return Next{Milestone::kAtRisk, instant_of(calendar, ms(*standard.at_risk))};
      }
      [[fallthrough]];
    case StandardPhase::kAtRisk:
      return Next{Milestone::kBreached, instant_of(calendar, ms(standard.limit))};
    case StandardPhase::kBreached:
    case StandardPhase::kEscalated:
      if (escalations_ < standard.escalation.size()) {
        const auto& step = standard.escalation[escalations_];
        return Next{Milestone::kEscalated, instant_of(calendar, ms(standard.limit + step.after)),
                    escalations_};
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<Timestamp> StandardLife::deadline(const DeliveryStandard& standard,
                                                const BusinessCalendar* calendar) const {
  if (!pending() || paused_) return std::nullopt;
  return instant_of(calendar, ms(standard.limit));
}

bool StandardLife::anchor(Timestamp now) noexcept {
  if (phase_ != StandardPhase::kWaiting) return false;
  phase_ = StandardPhase::kRunning;
  since_ = now;
  counted_ms_ = 0;
  return true;
}

bool StandardLife::reach(Milestone milestone) noexcept {
  if (!pending() || paused_) return false;
  switch (milestone) {
    case Milestone::kAtRisk:
      if (phase_ != StandardPhase::kRunning) return false;
      phase_ = StandardPhase::kAtRisk;
      return true;
    case Milestone::kBreached:
      if (phase_ != StandardPhase::kRunning && phase_ != StandardPhase::kAtRisk) return false;
      phase_ = StandardPhase::kBreached;
      return true;
    case Milestone::kEscalated:
      if (phase_ != StandardPhase::kBreached && phase_ != StandardPhase::kEscalated) return false;
      phase_ = StandardPhase::kEscalated;
      ++escalations_;
      return true;
  }
  return false;
}

bool StandardLife::meet(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                        Timestamp now) {
  if (!pending()) return false;
  counted_ms_ = elapsed(standard, calendar, now).count();
  phase_ = StandardPhase::kMet;
  paused_ = false;
  return true;
}

bool StandardLife::cancel(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                          Timestamp now) {
  if (phase_ == StandardPhase::kMet || phase_ == StandardPhase::kCancelled) return false;
  if (pending()) counted_ms_ = elapsed(standard, calendar, now).count();
  phase_ = StandardPhase::kCancelled;
  paused_ = false;
  return true;
}

bool StandardLife::hold(const DeliveryStandard& standard, const BusinessCalendar* calendar,
                        Timestamp now) {
  if (!pending() || paused_ || !standard.pausable) return false;
  counted_ms_ = elapsed(standard, calendar, now).count();
  paused_ = true;
  return true;
}

bool StandardLife::resume(Timestamp now) noexcept {
  if (!pending() || !paused_) return false;
  paused_ = false;
  since_ = now;
  return true;
}

std::optional<StandardLife> StandardLife::restore(const Saved& saved) noexcept {
  if (saved.phase > StandardPhase::kCancelled) return std::nullopt;
  // Escalation steps are counted in the escalated phase and kept once met or cancelled.
  const bool may_have_steps = saved.phase == StandardPhase::kEscalated ||
                              saved.phase == StandardPhase::kMet ||
                              saved.phase == StandardPhase::kCancelled;
  if ((saved.phase == StandardPhase::kEscalated && saved.escalations == 0) ||
      (!may_have_steps && saved.escalations > 0)) {
    return std::nullopt;
  }
  StandardLife life;
  life.phase_ = saved.phase;
  if (saved.paused && !life.pending()) return std::nullopt;
  life.counted_ms_ = saved.counted_ms;
  life.since_ = saved.since;
  life.paused_ = saved.paused;
  life.escalations_ = saved.escalations;
  return life;
}

}  // namespace salesflow
