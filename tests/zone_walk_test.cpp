// ZoneWalk must answer exactly what the time zone answers: checked against date::time_zone itself
// around every offset change of zones with unusual rules, walking forwards, backwards and at
// random.
#include "calendar/zone_walk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace salesflow::internal {
namespace {

using Ms = std::chrono::milliseconds;
using std::chrono::hours;
using std::chrono::minutes;

// Daylight saving, negative daylight saving (Dublin), half-hour changes (Lord Howe), a skipped
// day (Apia, 2011), several changes a year (Casablanca), odd offsets (Kathmandu, St John's).
const char* const kZones[] = {"Europe/Berlin",  "America/New_York",  "Australia/Lord_Howe",
                              "Pacific/Apia",   "Africa/Casablanca", "Europe/Dublin",
                              "Asia/Kathmandu", "America/St_Johns",  "UTC"};

// The instants at which `zone`'s offset changes between 1900 and 2100.
std::vector<date::sys_seconds> changes(const date::time_zone* zone) {
  std::vector<date::sys_seconds> out;
  const date::sys_seconds last = date::sys_days(date::year(2100) / 1 / 1);
  date::sys_seconds t = date::sys_days(date::year(1900) / 1 / 1);
  while (t < last) {
    const date::sys_info info = zone->get_info(t);
    if (info.end >= last) break;
    out.push_back(info.end);
    t = info.end;
  }
  return out;
}

class ZoneWalkTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    zone_ = date::locate_zone(GetParam());
    ASSERT_NE(zone_, nullptr);
  }

  // Both directions for one local time and one instant, through `walk`.
  void expect_exact(ZoneWalk& walk, date::local_time<Ms> local, date::sys_time<Ms> instant) {
    ASSERT_EQ(walk.to_utc(local), zone_->to_sys(local, date::choose::earliest))
        << GetParam() << " local " << date::format("%F %T", local);
    ASSERT_EQ(walk.to_local(instant), zone_->to_local(instant))
        << GetParam() << " instant " << date::format("%F %T", instant);
  }

  const date::time_zone* zone_ = nullptr;
};

TEST_P(ZoneWalkTest, AgreesWithTheZoneAroundEveryChangeWalkingForwards) {
  const auto all = changes(zone_);
  if (std::string(GetParam()) != "UTC") {
    ASSERT_FALSE(all.empty()) << "no tz database?";
  }
  ZoneWalk walk(zone_);
  for (const date::sys_seconds change : all) {
    // Every 15 minutes from 3 days before to 3 days after, in local time and in UTC.
    const date::local_time<Ms> local(Ms(change.time_since_epoch()) - hours(72));
    const date::sys_time<Ms> instant(Ms(change.time_since_epoch()) - hours(72));
    for (minutes step{0}; step <= hours(144); step += minutes(15)) {
      expect_exact(walk, local + step, instant + step);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(ZoneWalkTest, AgreesWithTheZoneWalkingBackwardsAndAtRandom) {
  const auto all = changes(zone_);
  ZoneWalk backwards(zone_);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const date::local_time<Ms> local(Ms(it->time_since_epoch()) + hours(30));
    const date::sys_time<Ms> instant(Ms(it->time_since_epoch()) + hours(30));
    for (minutes step{0}; step <= hours(60); step += minutes(10)) {
      expect_exact(backwards, local - step, instant - step);
      if (HasFatalFailure()) return;
    }
  }
  // Random instants 1900..2100, to the millisecond, sometimes near the previous one (the cache
  // holds) and sometimes anywhere (it must move).
  std::mt19937_64 random(20261127);
  const std::int64_t begin =
      Ms(date::sys_days(date::year(1900) / 1 / 1).time_since_epoch()).count();
  const std::int64_t end = Ms(date::sys_days(date::year(2100) / 1 / 1).time_since_epoch()).count();
  std::uniform_int_distribution<std::int64_t> anywhere(begin, end);
  std::uniform_int_distribution<std::int64_t> nearby(-3 * 86'400'000, 3 * 86'400'000);
  ZoneWalk walk(zone_);
  std::int64_t t = anywhere(random);
  for (int i = 0; i < 200'000; ++i) {
    t = (i % 4 == 0) ? anywhere(random) : std::clamp(t + nearby(random), begin, end);
    expect_exact(walk, date::local_time<Ms>(Ms(t)), date::sys_time<Ms>(Ms(t)));
    if (HasFatalFailure()) return;
  }
}

// Each walk starts from the period the thread's previous walk ended in. A walk per conversion,
// alternating with walks of another zone (whose period must not be taken for this one's), near
// the previous instant and anywhere, in two threads at once.
TEST_P(ZoneWalkTest, AgreesWithTheZoneWalkAfterWalkAndZoneAfterZone) {
  const date::time_zone* other = date::locate_zone(
      std::string(GetParam()) == "Asia/Kathmandu" ? "America/St_Johns" : "Asia/Kathmandu");
  const auto run = [&](std::uint64_t seed, std::vector<std::string>& failures) {
    std::mt19937_64 random(seed);
    const std::int64_t begin =
        Ms(date::sys_days(date::year(1900) / 1 / 1).time_since_epoch()).count();
    const std::int64_t end =
        Ms(date::sys_days(date::year(2100) / 1 / 1).time_since_epoch()).count();
    std::uniform_int_distribution<std::int64_t> anywhere(begin, end);
    std::uniform_int_distribution<std::int64_t> nearby(-3 * 86'400'000, 3 * 86'400'000);
    std::int64_t t = anywhere(random);
    for (int i = 0; i < 50'000 && failures.empty(); ++i) {
      t = (i % 8 == 0) ? anywhere(random) : std::clamp(t + nearby(random), begin, end);
      const date::time_zone* zone = (i % 3 == 0) ? other : zone_;
      const date::local_time<Ms> local{Ms(t)};
      const date::sys_time<Ms> instant{Ms(t)};
      if (ZoneWalk(zone).to_utc(local) != zone->to_sys(local, date::choose::earliest) ||
          ZoneWalk(zone).to_local(instant) != zone->to_local(instant)) {
        failures.push_back(zone->name() + " at " + std::to_string(t) + " ms");
      }
    }
  };
  std::vector<std::string> here, there;
  std::thread second(run, 2, std::ref(there));
  run(1, here);
  second.join();
  EXPECT_EQ(here, std::vector<std::string>());
  EXPECT_EQ(there, std::vector<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Zones, ZoneWalkTest, ::testing::ValuesIn(kZones),
                         [](const ::testing::TestParamInfo<const char*>& zone) {
                           std::string name = zone.param;
                           for (char& c : name) {
                             if (c == '/') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace salesflow::internal
