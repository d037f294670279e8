#include "salesflow/delivery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <variant>

#include "salesflow/clock.hpp"
#include "salesflow/value.hpp"

namespace salesflow {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

Timestamp at(std::string_view iso) { return parse_timestamp(iso).value_or(Timestamp{}); }

DeliveryStandard standard_24h() {
  DeliveryStandard s;
  s.id = "needs_summary_24h";
  s.limit = 24h;
  s.at_risk = 18h;
  s.escalation = {Escalation{4h, RoleId{1}}, Escalation{24h, RoleId{2}}};
  return s;
}

TEST(StandardLife, WalksFromRunningThroughAtRiskBreachAndEscalations) {
  const DeliveryStandard s = standard_24h();
  StandardLife life;
  EXPECT_FALSE(life.next(s, nullptr).has_value()) << "waiting for the anchor";
  const Timestamp t0 = at("2026-03-02T09:00:00Z");
  ASSERT_TRUE(life.anchor(t0));
  EXPECT_FALSE(life.anchor(t0)) << "anchored once";
  auto next = life.next(s, nullptr);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->milestone, Milestone::kAtRisk);
  EXPECT_EQ(next->due, t0 + 18h);
  ASSERT_TRUE(life.reach(Milestone::kAtRisk));
  EXPECT_EQ(life.phase(), StandardPhase::kAtRisk);
  next = life.next(s, nullptr);
  EXPECT_EQ(next->milestone, Milestone::kBreached);
  EXPECT_EQ(next->due, t0 + 24h);
  ASSERT_TRUE(life.reach(Milestone::kBreached));
  next = life.next(s, nullptr);
  EXPECT_EQ(next->milestone, Milestone::kEscalated);
  EXPECT_EQ(next->due, t0 + 28h);
  EXPECT_EQ(next->step, 0);
  ASSERT_TRUE(life.reach(Milestone::kEscalated));
  next = life.next(s, nullptr);
  EXPECT_EQ(next->due, t0 + 48h);
  EXPECT_EQ(next->step, 1);
  ASSERT_TRUE(life.reach(Milestone::kEscalated));
  EXPECT_EQ(life.escalations(), 2);
  EXPECT_FALSE(life.next(s, nullptr).has_value()) << "the chain is exhausted";
  EXPECT_EQ(life.remaining(s, nullptr, t0 + 50h), -26h);
  ASSERT_TRUE(life.meet(s, nullptr, t0 + 50h));
  EXPECT_EQ(life.phase(), StandardPhase::kMet);
  EXPECT_EQ(life.elapsed(s, nullptr, t0 + 90h), 50h) << "frozen once met";
}

TEST(StandardLife, MeetingTheGoalStopsEverythingPending) {
  const DeliveryStandard s = standard_24h();
  StandardLife life;
  life.anchor(at("2026-03-02T09:00:00Z"));
  ASSERT_TRUE(life.meet(s, nullptr, at("2026-03-02T12:00:00Z")));
  EXPECT_EQ(life.elapsed(s, nullptr, at("2026-03-09T00:00:00Z")), 3h);
  EXPECT_FALSE(life.next(s, nullptr).has_value());
  EXPECT_FALSE(life.reach(Milestone::kAtRisk));
  EXPECT_FALSE(life.meet(s, nullptr, at("2026-03-02T13:00:00Z")));
  EXPECT_FALSE(life.cancel(s, nullptr, at("2026-03-02T13:00:00Z")));
}

TEST(StandardLife, HoldStopsCountingAndKeepsHistory) {
  const DeliveryStandard s = standard_24h();
  StandardLife life;
  const Timestamp t0 = at("2026-03-02T09:00:00Z");
  life.anchor(t0);
  life.reach(Milestone::kAtRisk);  // at t0 + 18h
  ASSERT_TRUE(life.hold(s, nullptr, t0 + 20h));
  EXPECT_TRUE(life.paused());
  EXPECT_FALSE(life.next(s, nullptr).has_value()) << "nothing falls due while paused";
  EXPECT_EQ(life.remaining(s, nullptr, t0 + 100h), 4h);
  ASSERT_TRUE(life.resume(t0 + 30h));
  EXPECT_EQ(life.phase(), StandardPhase::kAtRisk) << "at risk before the hold, at risk after";
  const auto next = life.next(s, nullptr);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->milestone, Milestone::kBreached);
  EXPECT_EQ(next->due, t0 + 34h) << "the 10 hours on hold do not count";
}

TEST(StandardLife, NonPausableStandardsKeepCounting) {
  DeliveryStandard s = standard_24h();
  s.pausable = false;
  StandardLife life;
  life.anchor(at("2026-03-02T09:00:00Z"));
  EXPECT_FALSE(life.hold(s, nullptr, at("2026-03-02T10:00:00Z")));
  EXPECT_FALSE(life.paused());
}

TEST(StandardLife, MeetAndCancelTakeAnElapsedTimeCountedBefore) {
  const DeliveryStandard s = standard_24h();
  StandardLife waiting;
  EXPECT_FALSE(waiting.meet(Ms{5}));
  StandardLife life;
  life.anchor(at("2026-03-02T09:00:00Z"));
  ASSERT_TRUE(life.meet(Ms{7'000}));
  EXPECT_EQ(life.phase(), StandardPhase::kMet);
  EXPECT_EQ(life.elapsed(s, nullptr, at("2026-03-09T00:00:00Z")), Ms{7'000}) << "what was given";
  EXPECT_FALSE(life.meet(Ms{9'000})) << "met once";
  EXPECT_FALSE(life.cancel(Ms{9'000}));

  StandardLife negative, huge, never_anchored;
  negative.anchor(at("2026-03-02T09:00:00Z"));
  huge.anchor(at("2026-03-02T09:00:00Z"));
  ASSERT_TRUE(negative.cancel(Ms{-1}));
  ASSERT_TRUE(huge.meet(Ms{std::numeric_limits<std::int64_t>::max()}));
  EXPECT_EQ(negative.saved().counted_ms, 0) << "clamped to the counted range";
  EXPECT_EQ(huge.saved().counted_ms, StandardLife::kMaxCountedMs);
  ASSERT_TRUE(never_anchored.cancel(Ms{5'000}));
  EXPECT_EQ(never_anchored.saved().counted_ms, 0) << "nothing was counted before the anchor";
}

TEST(StandardLife, ACountedFigureEndsALifeAsCountingItWould) {
  const DeliveryStandard s = standard_24h();
  const Timestamp t0 = at("2026-03-02T09:00:00Z");
  // Paused, breached and escalated lives, met or cancelled with the figure elapsed() gives, end
  // exactly as the counting transitions leave them: phase, paused flag, escalations, time.
  StandardLife paused, escalated;
  paused.anchor(t0);
  ASSERT_TRUE(paused.hold(s, nullptr, t0 + 5h));
  escalated.anchor(t0);
  escalated.reach(Milestone::kAtRisk);
  escalated.reach(Milestone::kBreached);
  escalated.reach(Milestone::kEscalated);
  for (const StandardLife& life : {paused, escalated}) {
    const Timestamp now = t0 + 30h;
    StandardLife counted = life, given = life;
    ASSERT_TRUE(counted.meet(s, nullptr, now));
    ASSERT_TRUE(given.meet(life.elapsed(s, nullptr, now)));
    EXPECT_EQ(given, counted);
    EXPECT_FALSE(given.paused());
    counted = life;
    given = life;
    ASSERT_TRUE(counted.cancel(s, nullptr, now));
    ASSERT_TRUE(given.cancel(life.elapsed(s, nullptr, now)));
    EXPECT_EQ(given, counted);
    EXPECT_EQ(given.escalations(), life.escalations());
  }
}

TEST(StandardLife, LeavingTheScopeCancels) {
  const DeliveryStandard s = standard_24h();
  StandardLife life;
  life.anchor(at("2026-03-02T09:00:00Z"));
  ASSERT_TRUE(life.cancel(s, nullptr, at("2026-03-02T11:00:00Z")));
  EXPECT_EQ(life.phase(), StandardPhase::kCancelled);
  EXPECT_FALSE(life.next(s, nullptr).has_value());
  EXPECT_FALSE(life.resume(at("2026-03-02T12:00:00Z")));
}

TEST(StandardLife, CountsWorkingTimeOfACalendar) {
  CalendarSpec spec;
  spec.time_zone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d) spec.week[d] = {WorkingInterval{9h, 17h}};
  const auto calendar = std::get<BusinessCalendar>(BusinessCalendar::make(spec));
  DeliveryStandard s;
  s.limit = 8h;  // "P1D" under this calendar
  StandardLife life;
  life.anchor(at("2026-03-20T14:00:00Z"));  // Friday 15:00 CET
  const auto next = life.next(s, &calendar);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->due, at("2026-03-23T14:00:00Z")) << "Monday 15:00 CET";
  EXPECT_EQ(life.elapsed(s, &calendar, at("2026-03-22T12:00:00Z")), 2h) << "weekend not counted";
}

// The widest span parse_timestamp() can give (year 0000 at +23:59 to year 9999 at -23:59) is
// counted exactly: one stretch between parsed instants never reaches the field's limit.
TEST(StandardLife, CountsTheWidestSpanOfParsedInstantsExactly) {
  const DeliveryStandard s = standard_24h();
  const auto first = parse_timestamp("0000-01-01T00:00:00+23:59");
  const auto last = parse_timestamp("9999-12-31T23:59:59.999-23:59");
  ASSERT_TRUE(first && last);
  const Ms span = *last - *first;
  EXPECT_LT(span.count(), std::int64_t{1} << 49) << "the bound the header's comment states";
  StandardLife life;
  life.anchor(*first);
  EXPECT_EQ(life.elapsed(s, nullptr, *last), span);
  ASSERT_TRUE(life.meet(s, nullptr, *last));
  EXPECT_EQ(life.elapsed(s, nullptr, *last), span);
  EXPECT_EQ(life.saved().counted_ms, span.count());
}

// Times that go back and forth add stretch after stretch: counted time saturates at the field's
// limit instead of wrapping into the phase and flag bits.
TEST(StandardLife, CountedTimeSaturatesWhenStretchesAddUp) {
  const DeliveryStandard s = standard_24h();
  const Timestamp first = at("0000-01-01T00:00:00Z");
  const Timestamp last = at("9999-12-31T23:59:59Z");
  const std::int64_t span = (last - first).count();
  StandardLife life;
  life.anchor(first);
  life.reach(Milestone::kAtRisk);
  std::int64_t expected = 0;
  for (int i = 0; i < 10; ++i) {  // 10 spans are more than 2^51 ms
    ASSERT_TRUE(life.hold(s, nullptr, last));
    expected = std::min(expected + span, StandardLife::kMaxCountedMs);
    EXPECT_EQ(life.elapsed(s, nullptr, last).count(), expected) << i;
    EXPECT_EQ(life.saved().counted_ms, expected) << i;
    EXPECT_EQ(life.phase(), StandardPhase::kAtRisk) << i;
    EXPECT_TRUE(life.paused()) << i;
    EXPECT_EQ(life.escalations(), 0) << i;
    ASSERT_TRUE(life.resume(first));
  }
  EXPECT_EQ(expected, StandardLife::kMaxCountedMs) << "the loop reached the limit";
  EXPECT_EQ(life.elapsed(s, nullptr, last).count(), StandardLife::kMaxCountedMs);
  ASSERT_TRUE(life.cancel(s, nullptr, last));
  EXPECT_EQ(life.phase(), StandardPhase::kCancelled);
  EXPECT_FALSE(life.paused());
  EXPECT_EQ(life.saved().counted_ms, StandardLife::kMaxCountedMs);
}

// A host may pass any instant; a stretch wider than 64 signed bits saturates too.
TEST(StandardLife, InstantsBeyondTheParsedRangeSaturate) {
  const DeliveryStandard s = standard_24h();
  const Timestamp lowest{Ms{std::numeric_limits<std::int64_t>::min()}};
  const Timestamp highest{Ms{std::numeric_limits<std::int64_t>::max()}};
  StandardLife life;
  life.anchor(lowest);
  EXPECT_EQ(life.elapsed(s, nullptr, highest).count(), StandardLife::kMaxCountedMs);
  EXPECT_EQ(life.remaining(s, nullptr, highest).count(),
            24 * 3'600'000 - StandardLife::kMaxCountedMs);
  ASSERT_TRUE(life.meet(s, nullptr, highest));
  EXPECT_EQ(life.phase(), StandardPhase::kMet);
  EXPECT_EQ(life.saved().counted_ms, StandardLife::kMaxCountedMs);
}

// Every part of the packed state keeps its value next to the others at their extremes.
TEST(StandardLife, SavedRoundTripsEveryPartAtItsExtremes) {
  using P = StandardPhase;
  const Timestamp since = at("2026-03-02T09:00:00Z");
  for (const StandardLife::Saved& saved :
       {StandardLife::Saved{StandardLife::kMaxCountedMs, since, P::kCancelled, false, 255},
        StandardLife::Saved{StandardLife::kMaxCountedMs, since, P::kEscalated, true, 255},
        StandardLife::Saved{1, since, P::kAtRisk, true, 0},
        StandardLife::Saved{0, since, P::kWaiting, false, 0}}) {
    const auto life = StandardLife::restore(saved);
    ASSERT_TRUE(life) << saved.counted_ms;
    EXPECT_EQ(life->saved().counted_ms, saved.counted_ms);
    EXPECT_EQ(life->saved().since, saved.since);
    EXPECT_EQ(life->phase(), saved.phase) << saved.counted_ms;
    EXPECT_EQ(life->paused(), saved.paused) << saved.counted_ms;
    EXPECT_EQ(life->escalations(), saved.escalations) << saved.counted_ms;
  }
}

TEST(StandardLife, IsSmall) { EXPECT_EQ(sizeof(StandardLife), 16u); }

TEST(ManualClock, MovesOnlyForwardWhenTold) {
  ManualClock clock(at("2026-03-02T09:00:00Z"));
  EXPECT_EQ(clock.now(), at("2026-03-02T09:00:00Z"));
  EXPECT_TRUE(clock.advance(1h));
  EXPECT_EQ(clock.now(), at("2026-03-02T10:00:00Z"));
  EXPECT_FALSE(clock.set(at("2026-03-02T09:30:00Z")));
  EXPECT_EQ(clock.now(), at("2026-03-02T10:00:00Z"));
  EXPECT_FALSE(clock.advance(-1ms));
  SystemClock system;
  EXPECT_GT(system.now(), at("2020-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace salesflow
