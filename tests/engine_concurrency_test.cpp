// Many threads, overlapping instances, commands one by one and in batches: the engine serialises
// commands per instance and loses nothing. Run it under ThreadSanitizer too (README: "A
// ThreadSanitizer build").
#include <mutex>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// open <-> review, review -> won, open -> lost: instances can move back and forth forever.
std::shared_ptr<const ProcessDefinition> ping_pong() {
  json doc = minimal_json();
  doc["stages"][0]["gate"] = json::object();
  doc["stages"].insert(doc["stages"].begin() + 1,
                       json::parse(R"({"id": "review", "name": "Review", "module": "main",
                                       "responsibility": {"accountable": "manager",
                                                          "responsible": ["rep"]}})"));
  doc["transitions"] = json::parse(R"([{"from": "open", "to": "review"},
                                       {"from": "review", "to": "open"},
                                       {"from": "review", "to": "won"},
                                       {"from": "open", "to": "lost"}])");
  LoadResult result = load_definition(doc.dump());
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  return result.definition;
}

// Records every event it is told, per instance, from any thread.
class CollectingListener : public EventListener {
 public:
  void on_event(const Event& event) override {
    std::lock_guard lock(mutex_);
    by_instance_[event.instance].push_back(event);
  }
  std::map<std::string, std::vector<Event>> take() {
    std::lock_guard lock(mutex_);
    return by_instance_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<Event>> by_instance_;
};

TEST(EngineConcurrency, EightThreadsOnOverlappingInstancesLoseNothingAndStayConsistent) {
  const auto def = ping_pong();
  ASSERT_NE(def, nullptr);
  InMemoryStorage storage;
  InMemoryDirectory directory;
  directory.grant("rep", "rep");
  CollectingListener listener;
  Engine engine(EngineOptions{&storage, &directory, {&listener}});
  ASSERT_TRUE(engine.register_definition(def));

  constexpr int kThreads = 8;
  constexpr int kInstances = 24;  // few, so that threads collide on the same instances
  constexpr int kCommandsPerThread = 1500;
  std::atomic<std::size_t> accepted_events{0};
  std::atomic<std::size_t> conflicts{0};
  const Timestamp start = *parse_timestamp("2026-11-23T09:00:00Z");

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(1000 + t));
      std::vector<Command> batch;
      std::vector<Timestamp> times;
      const auto tally = [&](const CommandResult& r) {
        accepted_events += r.events.size();
        if (!r.ok() && r.rejection->code == ErrorCode::kConflict) ++conflicts;
      };
      for (int i = 0; i < kCommandsPerThread; ++i) {
        Command c;
        c.instance = "deal-" + std::to_string(random() % kInstances);
        c.actor = "rep";
        switch (random() % 6) {
          case 0:
            c.type = CommandType::kCreate;
            c.definition_id = "minimal";
            break;
          case 1:
            c.type = CommandType::kSetFields;
            c.fields = {{"amount", static_cast<double>(random() % 1000)}};
            break;
          case 2:
            c.type = random() % 2 ? CommandType::kCheckItem : CommandType::kUncheckItem;
            c.target = "checked";
            break;
          case 3:
            c.type = CommandType::kAdvance;
            c.target = "review";
            break;
          case 4:
            c.type = CommandType::kAdvance;
            c.target = "open";
            break;
          default:
            // A stale or fresh expected version: exercises kConflict under contention.
            c.type = CommandType::kSetFields;
            c.fields = {{"amount", 1.0}};
            if (const auto state = engine.instance(c.instance)) c.expected_version = state->version;
        }
        const Timestamp at = start + std::chrono::milliseconds(i);
        // Odd threads send their commands in batches of 1 to 16 (Engine::execute_batch).
        if (t % 2 == 0) {
          tally(engine.execute(c, at));
          continue;
        }
        batch.push_back(std::move(c));
        times.push_back(at);
        if (batch.size() > random() % 16 || i + 1 == kCommandsPerThread) {
          std::vector<CommandResult> results;
          engine.execute_batch(batch, times, results);
          EXPECT_EQ(results.size(), batch.size());
          for (const CommandResult& r : results) tally(r);
          batch.clear();
          times.clear();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const auto told = listener.take();
  std::size_t stored_total = 0;
  for (int i = 0; i < kInstances; ++i) {
    const std::string id = "deal-" + std::to_string(i);
    const std::vector<Event> stored = storage.load(id);
    stored_total += stored.size();
    // Versions are gapless: 1, 2, 3, ...
    for (std::size_t v = 0; v < stored.size(); ++v) {
      ASSERT_EQ(stored[v].version, v + 1) << id;
      ASSERT_EQ(stored[v].instance, id);
    }
    // Listeners heard exactly the stored events, in version order.
    const auto heard = told.find(id);
    ASSERT_EQ(heard == told.end() ? 0u : heard->second.size(), stored.size()) << id;
    if (!stored.empty()) {
      EXPECT_EQ(heard->second, stored) << id;
    }
    // The live state equals a sequential replay of the log.
    const auto live = engine.instance(id);
    ASSERT_EQ(live.has_value(), !stored.empty()) << id;
    if (live) {
      EXPECT_EQ(*live, replay(*def, stored)) << id;
    }
  }
  EXPECT_EQ(stored_total, accepted_events.load()) << "no accepted event is lost or invented";
  EXPECT_EQ(storage.event_count(), stored_total);
  EXPECT_GT(stored_total, 1000u) << "the workload must actually do something";
}

}  // namespace
}  // namespace salesflow::testing
