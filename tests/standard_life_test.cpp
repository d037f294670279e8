#include "salesflow/delivery.hpp"

#include <gtest/gtest.h>

#include <variant>

#include "salesflow/clock.hpp"
#include "salesflow/value.hpp"

namespace salesflow {
namespace {

using namespace std::chrono_literals;

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

TEST(StandardLife, IsSmall) { EXPECT_LE(sizeof(StandardLife), 24u); }

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
