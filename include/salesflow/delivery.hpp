// The life of one delivery standard on one instance, as a compact enum machine (16 bytes). The
// engine keeps one per standard of the definition in each InstanceState and changes it only in
// apply(), so replay rebuilds it; hosts read it through Engine::standards().
//
//   waiting --anchor--> running --at-risk point--> at_risk --deadline--> breached
//   breached --escalation step k--> escalated(k)            (k = 1 .. steps)
//   running | at_risk | breached | escalated --goal--> met          (records elapsed time)
//   any state but met / cancelled --scope left--> cancelled
//   hold / resume (pausable standards): the counting stops and resumes; the phase is kept, so a
//   standard at risk before the hold is at risk after it (history).
//
// Time is "counted time": calendar time, or working time of the standard's calendar. The machine
// keeps what was counted before the current running stretch and when that stretch began, so the
// elapsed and remaining time and the instant of the next milestone follow from the calendar.
// Counted time is kept in 52 bits (signed; see kMaxCountedMs) and saturates there.
//
// Why not Boost.Statechart: see docs/ARCHITECTURE.md ("Time layer").
//
// [Thread safety] A value type: no shared state. [Errors] Transitions that do not apply in the
// current phase return false and change nothing.
#ifndef SALESFLOW_DELIVERY_HPP_
#define SALESFLOW_DELIVERY_HPP_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "salesflow/calendar.hpp"
#include "salesflow/definition.hpp"

namespace salesflow {

enum class StandardPhase : std::uint8_t {
  kWaiting,    // the anchor has not happened
  kRunning,    // counting, before the at-risk point
  kAtRisk,     // counting, past the at-risk point
  kBreached,   // past the deadline
  kEscalated,  // past one or more escalation steps (escalations() says how many)
  kMet,        // the goal happened; elapsed() is final
  kCancelled,  // the anchor's scope was left before the goal
};
std::string_view to_string(StandardPhase phase) noexcept;

// What a milestone that falls due produces.
enum class Milestone : std::uint8_t { kAtRisk, kBreached, kEscalated };

class StandardLife {
 public:
  using Ms = std::chrono::milliseconds;

  // The range of counted time. parse_timestamp() reads years 0000 to 9999 with UTC offsets of at
  // most 23:59, so two instants it gives are less than 10,000 years and 2 days (3.2e14 ms, under
  // 2^49 ms) apart: one counting stretch between such instants always fits, with room to spare
  // (2^51 ms is about 71,000 years). Several stretches can add up to more when the times passed
  // to the transitions go back and forth (each stretch counts from the latest resume), and hosts
  // may pass any instant: elapsed() saturates at kMaxCountedMs, and so does what meet(), cancel()
  // and hold() keep.
  static constexpr int kCountedBits = 52;
  static constexpr std::int64_t kMaxCountedMs = (std::int64_t{1} << (kCountedBits - 1)) - 1;

  StandardPhase phase() const noexcept { return static_cast<StandardPhase>(word_ & kPhaseMask); }
  bool paused() const noexcept { return (word_ & kPausedBit) != 0; }
  std::uint8_t escalations() const noexcept {
    return static_cast<std::uint8_t>(word_ >> kEscalationsShift);
  }
  bool pending() const noexcept {
    const StandardPhase p = phase();
    return p != StandardPhase::kWaiting && p != StandardPhase::kMet &&
           p != StandardPhase::kCancelled;
  }

  // Counted time since the anchor (frozen while paused and once met or cancelled; at most
  // kMaxCountedMs).
  Ms elapsed(const DeliveryStandard& standard, const BusinessCalendar* calendar,
             Timestamp now) const;
  // Counted time left to the deadline; negative once breached.
  Ms remaining(const DeliveryStandard& standard, const BusinessCalendar* calendar,
               Timestamp now) const {
    return std::chrono::duration_cast<Ms>(standard.limit) - elapsed(standard, calendar, now);
  }

  // The next milestone and the instant it falls due; nothing when none is left, the standard is
  // not counting (waiting, paused, met, cancelled).
  struct Next {
    Milestone milestone;
    Timestamp due;
    std::uint8_t step = 0;  // kEscalated: the escalation step's index
  };
  std::optional<Next> next(const DeliveryStandard& standard,
                           const BusinessCalendar* calendar) const;
  // The instant the deadline falls (or fell) due, if counting; for queries.
  std::optional<Timestamp> deadline(const DeliveryStandard& standard,
                                    const BusinessCalendar* calendar) const;

  // Transitions; each returns false (and changes nothing) when it does not apply in this phase.
  bool anchor(Timestamp now) noexcept;
  bool reach(Milestone milestone) noexcept;  // the milestone next() announced fell due
  bool meet(const DeliveryStandard& standard, const BusinessCalendar* calendar, Timestamp now);
  bool cancel(const DeliveryStandard& standard, const BusinessCalendar* calendar, Timestamp now);
  // meet() and cancel() with the elapsed time already counted: what elapsed(standard, calendar,
  // now) gives, as a StandardMet or StandardCancelled event records it (apply() takes it from
  // there instead of walking the calendar again). Clamped to [0, kMaxCountedMs]. cancel() keeps
  // it only when the standard was pending, as the other cancel() counts only then.
  bool meet(Ms elapsed) noexcept;
  bool cancel(Ms elapsed) noexcept;
  bool hold(const DeliveryStandard& standard, const BusinessCalendar* calendar, Timestamp now);
  bool resume(Timestamp now) noexcept;

  friend bool operator==(const StandardLife&, const StandardLife&) = default;

  // The machine's whole state, as a snapshot keeps it (snapshot.hpp). restore() takes back what
  // saved() gave, and refuses parts no sequence of transitions can reach (an unknown phase,
  // escalations outside the escalated phase, a paused machine that is not pending) or that do not
  // fit (counted_ms outside [0, kMaxCountedMs]: counted time only grows from 0, and a negative one
  // would put the next milestone tens of thousands of years away, for a calendar to walk to).
  struct Saved {
    std::int64_t counted_ms = 0;
    Timestamp since{};
    StandardPhase phase = StandardPhase::kWaiting;
    bool paused = false;
    std::uint8_t escalations = 0;
  };
  Saved saved() const noexcept {
    return Saved{counted_ms(), since_, phase(), paused(), escalations()};
  }
  static std::optional<StandardLife> restore(const Saved& saved) noexcept;

 private:
  // word_, from its low bits: phase (3 bits), paused (1), escalations (8), counted time before
  // since_ (kCountedBits, two's complement).
  static constexpr std::uint64_t kPhaseMask = 0x7;
  static constexpr std::uint64_t kPausedBit = 0x8;
  static constexpr int kEscalationsShift = 4;
  static constexpr int kCountedShift = 12;
  static_assert(kCountedShift + kCountedBits == 64);

  std::int64_t counted_ms() const noexcept {
    return static_cast<std::int64_t>(word_) >> kCountedShift;  // arithmetic: keeps the sign
  }
  // REQUIRES: 0 <= ms <= kMaxCountedMs.
  void set_counted_ms(std::int64_t ms) noexcept {
    word_ = (static_cast<std::uint64_t>(ms) << kCountedShift) |
            (word_ & ((std::uint64_t{1} << kCountedShift) - 1));
  }
  void set_phase(StandardPhase phase) noexcept {
    word_ = (word_ & ~kPhaseMask) | static_cast<std::uint64_t>(phase);
  }
  void set_paused(bool paused) noexcept {
    word_ = paused ? word_ | kPausedBit : word_ & ~kPausedBit;
  }
  void set_escalations(std::uint8_t escalations) noexcept {
    word_ = (word_ & ~(std::uint64_t{0xFF} << kEscalationsShift)) |
            (std::uint64_t{escalations} << kEscalationsShift);
  }

  Ms counted_until(const BusinessCalendar* calendar, Timestamp now) const;
  Timestamp instant_of(const BusinessCalendar* calendar, Ms target) const;

  Timestamp since_{};       // start of the current counting stretch
  std::uint64_t word_ = 0;  // phase kWaiting, not paused, no escalations, nothing counted
};
static_assert(sizeof(StandardLife) == 16);

// One standard of one instance, as Engine::standards() reports it.
struct StandardStatus {
  DeliveryStandardId standard{};
  StandardPhase phase = StandardPhase::kWaiting;
  bool paused = false;
  std::uint8_t escalations = 0;       // escalation steps reached
  std::optional<Timestamp> deadline;  // when counting (not waiting, paused, met, cancelled)
  std::chrono::milliseconds elapsed{};
  std::chrono::milliseconds remaining{};  // negative once breached
};

}  // namespace salesflow

#endif  // SALESFLOW_DELIVERY_HPP_
