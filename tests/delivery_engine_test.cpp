// Delivery standards in the engine: deadlines fired by advancing time, exactly once and in time
// order, restored by recovery, reported by the queries and addressed to roles.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "salesflow/engine.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

const Timestamp kStart = *parse_timestamp("2026-11-23T09:00:00Z");

// The minimal definition: standard "quick" from creation to leaving "open", 24 h, at risk at 18 h,
// escalated to the manager 4 h after the deadline.
std::shared_ptr<const ProcessDefinition> minimal() {
  static const auto def = load_definition(minimal_definition()).definition;
  return def;
}

// The engine calls listeners from any thread (hooks.hpp): the tests with threads need the lock.
class Recorder : public EventListener {
 public:
  void on_standard(const StandardNotice& notice) override {
    std::lock_guard lock(mutex_);
    notices.emplace_back(notice.event->type, notice.roles);
  }
  std::vector<std::pair<EventType, RoleSet>> notices;  // read once the engine is idle

 private:
  std::mutex mutex_;
};

// "d<i>" (appended: GCC 12 warns falsely, -Wrestrict, about `"d" + std::to_string(i)`).
std::string deal_id(int i) { return std::string("d").append(std::to_string(i)); }

class DeliveryEngine : public ::testing::Test {
 protected:
  DeliveryEngine() {
    directory_.grant("ann", "rep");
    directory_.grant("bob", "manager");
  }

  // An engine on `storage` (the fixture's by default), with the minimal definition.
  std::unique_ptr<Engine> make_engine(Storage* storage = nullptr) {
    EngineOptions options;
    options.storage = storage != nullptr ? storage : &storage_;
    options.directory = &directory_;
    options.listeners = {&recorder_};
    options.clock = &clock_;
    auto engine = std::make_unique<Engine>(options);
    engine->register_definition(minimal());
    return engine;
  }

  CommandResult run(Engine& engine, CommandType type, std::string instance, Timestamp at,
                    std::string target = {}) {
    Command c;
    c.type = type;
    c.instance = std::move(instance);
    c.actor = "ann";
    c.definition_id = "minimal";
    c.target = std::move(target);
    return engine.execute(c, at);
  }

  static std::vector<std::pair<std::string, EventType>> kinds(const std::vector<Event>& events) {
    std::vector<std::pair<std::string, EventType>> out;
    for (const Event& e : events) out.emplace_back(e.instance, e.type);
    return out;
  }

  InMemoryStorage storage_;
  InMemoryDirectory directory_;
  ManualClock clock_{kStart};
  Recorder recorder_;
};

TEST_F(DeliveryEngine, OneAdvanceFiresEveryDueMilestoneOnceInTimeOrderAcrossDeals) {
  auto engine = make_engine();
  ASSERT_TRUE(run(*engine, CommandType::kCreate, "b", kStart + 1h).ok());
  ASSERT_TRUE(run(*engine, CommandType::kCreate, "a", kStart).ok());
  EXPECT_THAT(engine->advance_to(kStart + 17h), IsEmpty());
  const std::vector<Event> fired = engine->advance_to(kStart + 30h);
  EXPECT_THAT(kinds(fired), ElementsAre(std::pair{"a", EventType::kStandardAtRisk},
                                        std::pair{"b", EventType::kStandardAtRisk},
                                        std::pair{"a", EventType::kStandardBreached},
                                        std::pair{"b", EventType::kStandardBreached},
                                        std::pair{"a", EventType::kStandardEscalated},
                                        std::pair{"b", EventType::kStandardEscalated}));
  // Each carries its deadline's time, not the advance's.
  EXPECT_EQ(fired[0].at, kStart + 18h);
  EXPECT_EQ(fired[3].at, kStart + 1h + 24h);
  EXPECT_EQ(fired[5].at, kStart + 1h + 28h);
  EXPECT_EQ(fired[0].actor, "system");
  EXPECT_THAT(engine->advance_to(kStart + 100h), IsEmpty()) << "exactly once";
  // Addressed to roles: at risk and breach to the stage's people, escalation to the manager.
  const ProcessDefinition& def = *minimal();
  RoleSet stage_people;
  stage_people.insert(*def.find_role("rep"));
  stage_people.insert(*def.find_role("manager"));
  RoleSet manager;
  manager.insert(*def.find_role("manager"));
  ASSERT_EQ(recorder_.notices.size(), 6u);
  EXPECT_EQ(recorder_.notices[0], std::pair(EventType::kStandardAtRisk, stage_people));
  EXPECT_EQ(recorder_.notices[4], std::pair(EventType::kStandardEscalated, manager));
}

// Fired milestones find their instance through the index entry: they carry its id byte for byte,
// whether the index keeps it inline (up to 15 bytes) or on the heap, NUL bytes included.
TEST_F(DeliveryEngine, FiredMilestonesCarryTheExactIdInlineOrOnTheHeap) {
  using namespace std::string_literals;
  const std::vector<std::string> ids = {"inline\0id15byte"s, "heap\0id-16-bytes"s,
                                        std::string(300, '\0') + "long"};
  ASSERT_EQ(ids[0].size(), 15u);
  ASSERT_EQ(ids[1].size(), 16u);
  auto engine = make_engine();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(
        run(*engine, CommandType::kCreate, ids[i], kStart + static_cast<int>(i) * 1min).ok())
        << i;
  }
  const std::vector<Event> fired = engine->advance_to(kStart + 19h);
  EXPECT_THAT(kinds(fired), ElementsAre(std::pair{ids[0], EventType::kStandardAtRisk},
                                        std::pair{ids[1], EventType::kStandardAtRisk},
                                        std::pair{ids[2], EventType::kStandardAtRisk}));
  for (const std::string& id : ids) {
    const std::vector<Event> stored = storage_.load(id);
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.back().type, EventType::kStandardAtRisk);
    EXPECT_EQ(stored.back().instance, id);
  }
}

TEST_F(DeliveryEngine, LeavingTheScopeCancelsWithElapsedTimeAndNothingFiresAfterwards) {
  auto engine = make_engine();
  run(*engine, CommandType::kCreate, "a", kStart);
  const CommandResult lost = run(*engine, CommandType::kAdvance, "a", kStart + 2h, "lost");
  ASSERT_TRUE(lost.ok()) << lost.rejection->message;
  // Closing as lost leaves the scope: cancelled, not met.
  EXPECT_EQ(lost.events.back().type, EventType::kStandardCancelled);
  EXPECT_EQ(std::get<std::int64_t>(lost.events.back().value), 2 * 3600 * 1000);
  EXPECT_THAT(engine->advance_to(kStart + 100h), IsEmpty());
}

TEST_F(DeliveryEngine, ApplyKeepsTheElapsedTimeTheEventRecords) {
  // The log is the truth: replay takes the figure a StandardCancelled event records, and counts
  // the time itself only for an event without one.
  auto engine = make_engine();
  run(*engine, CommandType::kCreate, "a", kStart);
  const CommandResult lost = run(*engine, CommandType::kAdvance, "a", kStart + 2h, "lost");
  ASSERT_TRUE(lost.ok()) << lost.rejection->message;
  std::vector<Event> log = storage_.load("a");
  ASSERT_EQ(log.back().type, EventType::kStandardCancelled);
  const auto elapsed_after = [&](FieldValue recorded) {
    log.back().value = std::move(recorded);
    return replay(*minimal(), log)
        .standards()[0]
        .elapsed(minimal()->delivery_standards()[0], nullptr, kStart + 100h);
  };
  EXPECT_EQ(elapsed_after(std::int64_t{2 * 3600 * 1000}), 2h) << "as decided";
  EXPECT_EQ(elapsed_after(std::int64_t{90 * 60 * 1000}), 90min) << "as recorded";
  EXPECT_EQ(elapsed_after(FieldValue{}), 2h) << "counted from anchor to the event's time";
  EXPECT_EQ(elapsed_after(std::int64_t{-5}), 0ms) << "clamped";
  EXPECT_EQ(replay(*minimal(), log).standards()[0].phase(), StandardPhase::kCancelled);
}

TEST_F(DeliveryEngine, HoldPausesAndResumeKeepsTheHistory) {
  auto engine = make_engine();
  run(*engine, CommandType::kCreate, "a", kStart);
  EXPECT_THAT(kinds(engine->advance_to(kStart + 19h)),
              ElementsAre(std::pair{"a", EventType::kStandardAtRisk}));
  ASSERT_TRUE(run(*engine, CommandType::kHold, "a", kStart + 20h).ok());
  EXPECT_THAT(engine->advance_to(kStart + 200h), IsEmpty()) << "paused";
  auto standards = engine->standards("a", kStart + 200h);
  ASSERT_TRUE(standards);
  EXPECT_EQ((*standards)[0].phase, StandardPhase::kAtRisk);
  EXPECT_TRUE((*standards)[0].paused);
  EXPECT_EQ((*standards)[0].remaining, 4h);
  ASSERT_TRUE(run(*engine, CommandType::kResume, "a", kStart + 200h).ok());
  standards = engine->standards("a", kStart + 201h);
  EXPECT_EQ((*standards)[0].phase, StandardPhase::kAtRisk) << "at risk before, at risk after";
  EXPECT_EQ((*standards)[0].deadline, kStart + 204h);
  const auto fired = engine->advance_to(kStart + 204h);
  ASSERT_THAT(kinds(fired), ElementsAre(std::pair{"a", EventType::kStandardBreached}));
  EXPECT_EQ(fired[0].at, kStart + 204h);
}

TEST_F(DeliveryEngine, ClockAdvancesBesideCommandsFromOtherThreadsFireEachMilestoneOnce) {
  // One thread advances the clock while three put their deals on hold and resume them (each
  // hold or resume takes a deadline out of the queue or puts one in). Run it under TSan too.
  auto engine = make_engine();
  constexpr int kDeals = 150, kWorkers = 3, kRounds = 30;
  for (int i = 0; i < kDeals; ++i) {
    ASSERT_TRUE(run(*engine, CommandType::kCreate, deal_id(i), kStart).ok());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const Timestamp at = kStart + round * 2h;
        for (int i = t; i < kDeals; i += kWorkers) {
          const std::string id = deal_id(i);
          run(*engine, CommandType::kHold, id, at);
          run(*engine, CommandType::kResume, id, at + 1h);
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int step = 0; step <= 4 * kRounds * 2; ++step) engine->advance_to(kStart + step * 15min);
  });
  for (auto& thread : threads) thread.join();
  engine->advance_to(kStart + 10'000h);
  const std::size_t steps = minimal()->delivery_standards()[0].escalation.size();
  for (int i = 0; i < kDeals; ++i) {
    const std::string id = "d" + std::to_string(i);
    const std::vector<Event> log = storage_.load(id);
    std::map<EventType, int> count;
    for (std::size_t v = 0; v < log.size(); ++v) {
      ASSERT_EQ(log[v].version, v + 1) << id;
      ++count[log[v].type];
    }
    EXPECT_EQ(count[EventType::kStandardAtRisk], 1) << id;
    EXPECT_EQ(count[EventType::kStandardBreached], 1) << id;
    EXPECT_EQ(count[EventType::kStandardEscalated], static_cast<int>(steps)) << id;
    EXPECT_EQ(engine->instance(id), replay(*minimal(), log)) << id;
  }
  EXPECT_THAT(engine->advance_to(kStart + 20'000h), IsEmpty()) << "nothing left pending";
}

TEST_F(DeliveryEngine, RecoveryRestoresPendingDeadlinesWithoutLosingOrDoublingAny) {
  {
    auto engine = make_engine();
    run(*engine, CommandType::kCreate, "a", kStart);
    run(*engine, CommandType::kCreate, "b", kStart + 10h);
    ASSERT_THAT(kinds(engine->advance_to(kStart + 19h)),
                ElementsAre(std::pair{"a", EventType::kStandardAtRisk}));
  }  // the engine goes down; its log stays in storage_
  auto engine = make_engine();
  engine->recover();
  // "a" breached at +24h while the engine was down: it fires on the next advance, once; its
  // at-risk event is not repeated.
  clock_.set(kStart + 25h);
  const auto fired = engine->advance();
  EXPECT_THAT(kinds(fired), ElementsAre(std::pair{"a", EventType::kStandardBreached}));
  EXPECT_EQ(fired[0].at, kStart + 24h);
  EXPECT_THAT(kinds(engine->advance_to(kStart + 28h + 10h)),
              ElementsAre(std::pair{"b", EventType::kStandardAtRisk},
                          std::pair{"a", EventType::kStandardEscalated},
                          std::pair{"b", EventType::kStandardBreached},
                          std::pair{"b", EventType::kStandardEscalated}));
  // Replay of the log gives the live state, standards included.
  const auto events = storage_.load("a");
  EXPECT_EQ(replay(*minimal(), events), *engine->instance("a"));
}

TEST_F(DeliveryEngine, RecoverySkipsLogsWithHostileStandardEvents) {
  {
    auto engine = make_engine();
    run(*engine, CommandType::kCreate, "a", kStart);
  }
  Event bad;
  bad.instance = "a";
  bad.type = EventType::kStandardEscalated;
  bad.definition_id = "minimal";
  bad.definition_version = 1;
  bad.target = 0;
  bad.value = std::int64_t{7};  // the standard has one escalation step
  bad.version = storage_.load("a").size() + 1;
  ASSERT_EQ(storage_.append("a", bad.version - 1, std::span(&bad, 1)), Storage::AppendResult::kOk);
  auto engine = make_engine();
  EXPECT_GT(engine->recover(), 0u);
  EXPECT_FALSE(engine->instance("a").has_value());
}

TEST_F(DeliveryEngine, RecoverySkipsLogsWhoseMetOrCancelledTimeIsNotACountedTime) {
  // apply() keeps the figure: one it could not keep (negative, beyond the counted range, not a
  // whole number of milliseconds) makes the log unfit, as an out-of-range snapshot life does.
  const std::vector<FieldValue> hostile = {std::int64_t{-1},
                                           std::int64_t{StandardLife::kMaxCountedMs} + 1,
                                           FieldValue(2.5), FieldValue(std::string("1h"))};
  for (const FieldValue& value : hostile) {
    InMemoryStorage storage;
    {
      const auto engine = make_engine(&storage);
      ASSERT_TRUE(run(*engine, CommandType::kCreate, "a", kStart).ok());
      ASSERT_TRUE(run(*engine, CommandType::kAdvance, "a", kStart + 2h, "lost").ok());
    }
    std::vector<Event> log = storage.load("a");
    ASSERT_EQ(log.back().type, EventType::kStandardCancelled);
    log.back().value = value;
    InMemoryStorage edited;
    ASSERT_EQ(edited.append("a", 0, log), Storage::AppendResult::kOk);
    const auto engine = make_engine(&edited);
    EXPECT_EQ(engine->recover(), log.size()) << "value index " << value.index();
    EXPECT_FALSE(engine->instance("a").has_value());
  }
}

TEST_F(DeliveryEngine, StandardsInTroubleAreOrderedByDeadline) {
  auto engine = make_engine();
  run(*engine, CommandType::kCreate, "late", kStart + 2h);
  run(*engine, CommandType::kCreate, "early", kStart);
  run(*engine, CommandType::kCreate, "fine", kStart + 10h);
  engine->advance_to(kStart + 21h);
  const auto trouble = engine->standards_in_trouble(kStart + 21h);
  ASSERT_EQ(trouble.size(), 2u);
  EXPECT_EQ(trouble[0].instance, "early");
  EXPECT_EQ(trouble[1].instance, "late");
  EXPECT_EQ(trouble[0].status.phase, StandardPhase::kAtRisk);
  EXPECT_EQ(trouble[0].status.remaining, 3h);
  EXPECT_FALSE(engine->standards("nobody", kStart).has_value());
}

}  // namespace
}  // namespace salesflow::testing
