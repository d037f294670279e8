// The engine on a real SQLite store: recovery equals the state before the stop, idempotency keys
// across restarts and engines, the outbox delivered again after a restart, and two engines (as two
// processes would) racing on one deal.
#include <unistd.h>

#include <filesystem>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "salesflow/sqlite_storage.hpp"
#include "support/store_dir.hpp"

namespace salesflow::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using namespace std::chrono_literals;

std::shared_ptr<const ProcessDefinition> b2b() {
  static const auto def =
      load_definition_file(fs::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json")
          .definition;
  return def;
}

class Recorder : public EventListener {
 public:
  void on_event(const Event& e) override {
    ids.push_back(e.instance + "#" + std::to_string(e.version));
  }
  std::vector<std::string> ids;
};

// One "process": a store on the file and an engine on it.
struct Node {
  Node(const std::string& path, EventListener* listener = nullptr) {
    auto opened = SqliteStorage::open(path);
    EXPECT_TRUE(opened.storage) << opened.error;
    store = std::move(opened.storage);
    directory.grant("maria", "sales_rep");
    directory.grant("max", "sales_manager");
    EngineOptions options;
    options.storage = store.get();
    options.directory = &directory;
    if (listener) options.listeners.push_back(listener);
    engine = std::make_unique<Engine>(options);
    engine->register_definition(b2b());
    EXPECT_EQ(engine->recover(), 0u);
  }
  std::unique_ptr<SqliteStorage> store;
  InMemoryDirectory directory;
  std::unique_ptr<Engine> engine;
};

class EngineStorageTest : public StoreDirTest {
 protected:
  static Command create(const std::string& id) {
    Command c;
    c.type = CommandType::kCreate;
    c.instance = id;
    c.actor = "maria";
    c.definition_id = "b2b_pipeline";
    c.fields = {{"company", std::string("Acme")}};  // the grade is computed
    return c;
  }
  static Command command(CommandType type, const std::string& id, std::string target = "") {
    Command c;
    c.type = type;
    c.instance = id;
    c.actor = "maria";
    c.target = std::move(target);
    return c;
  }

  // Two engines on the store, as two processes: `a` creates deal-1, then `b` starts and recovers
  // it at version `v` (handing its listener the events of a, which has none).
  struct Two {
    Node& a;
    Node& b;
    std::uint64_t v;
  };
  void TearDown() override {
    b_.reset();  // the stores close before their directory goes
    a_.reset();
    StoreDirTest::TearDown();
  }
  Two start_two(EventListener* b_listener = nullptr) {
    a_.emplace(path_);
    EXPECT_TRUE(a_->engine->execute(create("deal-1"), now_).ok());
    b_.emplace(path_, b_listener);
    return Two{*a_, *b_, b_->engine->instance("deal-1")->version};
  }
  static Command keyed(Command c, std::string key) {
    c.idempotency_key = std::move(key);
    return c;
  }
  // Executes `c` on `first`, then on `second`, which must give the first's answer back. Returns
  // the first's.
  CommandResult answer_twice(Node& first, Node& second, const Command& c) {
    CommandResult original = first.engine->execute(c, now_);
    const CommandResult repeated = second.engine->execute(c, now_);
    EXPECT_EQ(repeated.ok(), original.ok());
    EXPECT_EQ(repeated.version, original.version);
    EXPECT_EQ(repeated.events, original.events);
    if (original.rejection && repeated.rejection) {
      EXPECT_EQ(repeated.rejection->unmet, original.rejection->unmet);
    }
    return original;
  }

  Timestamp now_ = *parse_timestamp("2026-11-23T09:00:00Z");
  std::optional<Node> a_, b_;
};

TEST_F(EngineStorageTest, RecoveryRebuildsEveryInstanceAsItWasBeforeTheStop) {
  std::vector<InstanceState> before;
  {
    Node node(path_);
    for (int i = 0; i < 20; ++i) {
      const std::string id = "deal-" + std::to_string(i);
      ASSERT_TRUE(node.engine->execute(create(id), now_ += 1min).ok());
      if (i % 2 == 0) {
        ASSERT_TRUE(
            node.engine->execute(command(CommandType::kCheckItem, id, "lead_cleaned"), now_ += 1min)
                .ok());
      }
      if (i % 3 == 0) {
        Command hold = command(CommandType::kHold, id);
        hold.text = "waiting";
        ASSERT_TRUE(node.engine->execute(hold, now_ += 1min).ok());
      }
      before.push_back(*node.engine->instance(id));
    }
  }
  Node restarted(path_);
  EXPECT_EQ(restarted.engine->instance_count(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(*restarted.engine->instance("deal-" + std::to_string(i)), before[i]) << i;
  }
}

TEST_F(EngineStorageTest, AKeyedCommandIsAnsweredOnceAcrossARestart) {
  Command c = create("deal-1");
  c.idempotency_key = "create-1";
  Command move = command(CommandType::kAdvance, "deal-1", "needs_diagnosis");
  move.idempotency_key = "move-1";
  CommandResult first, blocked;
  {
    Node node(path_);
    first = node.engine->execute(c, now_);
    ASSERT_TRUE(first.ok());
    blocked = node.engine->execute(move, now_);
    ASSERT_FALSE(blocked.ok());
    const CommandResult again = node.engine->execute(c, now_ + 1h);
    EXPECT_EQ(again.events, first.events);
  }
  Node node(path_);
  const CommandResult again = node.engine->execute(c, now_ + 2h);
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(again.events, first.events);
  EXPECT_EQ(again.version, first.version);
  // The rejection is the answer too, although the gate is met now.
  ASSERT_TRUE(
      node.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_ + 3h)
          .ok());
  const CommandResult rejected = node.engine->execute(move, now_ + 4h);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.rejection->code, blocked.rejection->code);
  EXPECT_EQ(rejected.rejection->message, blocked.rejection->message);
  EXPECT_EQ(rejected.rejection->unmet, blocked.rejection->unmet);
  EXPECT_EQ(node.store->event_count(), first.version + 1);
  // Another command under a used key is refused.
  Command other = command(CommandType::kHold, "deal-1");
  other.idempotency_key = "create-1";
  const CommandResult refused = node.engine->execute(other, now_ + 5h);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.rejection->code, ErrorCode::kBadCommand);
  EXPECT_THAT(refused.rejection->message, HasSubstr("was used for another command"));
}

TEST_F(EngineStorageTest, UndeliveredEventsAreDeliveredOnRestart) {
  std::size_t stored = 0;
  {
    Node silent(path_);  // no listener: everything stays in the outbox
    ASSERT_TRUE(silent.engine->execute(create("deal-1"), now_).ok());
    stored = silent.store->event_count();
  }
  Recorder recorder;
  {
    Node node(path_, &recorder);
    EXPECT_THAT(recorder.ids, SizeIs(stored));
    EXPECT_EQ(recorder.ids.front(), "deal-1#1");
    ASSERT_TRUE(
        node.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_)
            .ok());
    EXPECT_EQ(recorder.ids.back(), "deal-1#" + std::to_string(stored + 1));
  }
  Recorder after;
  Node node(path_, &after);
  EXPECT_THAT(after.ids, SizeIs(0));  // all were delivered and marked
}

TEST_F(EngineStorageTest, TwoEnginesOnOneStoreNeverBothWinAndTheLoserCatchesUp) {
  auto [a, b, v] = start_two();
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_).ok());
  // b still holds version v: its append conflicts in the store.
  const CommandResult stale =
      b.engine->execute(command(CommandType::kCheckItem, "deal-1", "grade_verified"), now_);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.rejection->code, ErrorCode::kConflict);
  EXPECT_EQ(stale.version, v + 1);
  // The conflict reloaded the stored state: the retry decides on it and wins.
  const CommandResult retry =
      b.engine->execute(command(CommandType::kCheckItem, "deal-1", "grade_verified"), now_);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry.version, v + 2);
  EXPECT_THAT(a.store->load("deal-1"), SizeIs(v + 2));
}

// A stored answer beyond the state an engine holds (here another engine's; after a crash, the
// commit of a process that died while committing, landing after the restart recovered) brings
// the instance up to the store: the next commands decide on the stored state.
TEST_F(EngineStorageTest, AStoredAnswerAheadOfTheEngineBringsTheInstanceUpToTheStore) {
  auto [a, b, v] = start_two();
  ASSERT_TRUE(
      answer_twice(a, b,
                   keyed(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), "check-1"))
          .ok());
  EXPECT_EQ(b.engine->instance("deal-1")->version, v + 1);
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
  const auto missing = b.engine->missing_to_leave("deal-1");
  ASSERT_TRUE(missing.has_value());
  for (const UnmetCriterion& c : *missing) EXPECT_NE(c.id, "lead_cleaned");
  // A stored rejection counts too: it was decided at a version beyond b's.
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "grade_verified"), now_).ok());
  ASSERT_FALSE(
      answer_twice(a, b,
                   keyed(command(CommandType::kAdvance, "deal-1", "needs_diagnosis"), "move-1"))
          .ok());
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
  // b's next command appends at the stored version: no conflict.
  Command hold = command(CommandType::kHold, "deal-1");
  hold.text = "waiting";
  const CommandResult held = b.engine->execute(hold, now_);
  ASSERT_TRUE(held.ok()) << held.rejection->message;
  EXPECT_EQ(held.version, v + 3);
}

// An instance b has never held: the stored answer brings it in.
TEST_F(EngineStorageTest, AStoredAnswerOfAnInstanceNotHeldBringsItIn) {
  Node a(path_);
  Node b(path_);  // recovers nothing
  ASSERT_TRUE(answer_twice(a, b, keyed(create("deal-1"), "create-1")).ok());
  ASSERT_TRUE(b.engine->instance("deal-1").has_value());
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
}

// A rejection decided on a state the store has left behind is not given: the store's refusal of
// the key (at the old version) reloads the instance and answers conflict.
TEST_F(EngineStorageTest, AKeyedRejectionOnAStaleStateIsAConflictAndTheRetryDecidesAfresh) {
  auto [a, b, v] = start_two();
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_).ok());
  const CommandResult stale = b.engine->execute(
      keyed(command(CommandType::kAdvance, "deal-1", "needs_diagnosis"), "m-1"), now_);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.rejection->code, ErrorCode::kConflict);
  EXPECT_EQ(stale.version, v + 1);
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
  // The key was not used up: the retry is decided on the stored state.
  const CommandResult retry =
      answer_twice(b, a, keyed(command(CommandType::kAdvance, "deal-1", "needs_diagnosis"), "m-1"));
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.rejection->code, ErrorCode::kGateBlocked);
  for (const UnmetCriterion& c : retry.rejection->unmet) EXPECT_NE(c.id, "lead_cleaned");
}

// Without a key a rejection stores nothing, so nothing conflicts in the store: the engine compares
// the store's version with its own before it answers, and takes the stored state when the store
// is ahead (before, b answered gate_blocked on its old state until some accepted command of its
// own happened to conflict).
TEST_F(EngineStorageTest, AnUnkeyedRejectionOnAStaleStateIsAConflictAndTheRetryDecidesAfresh) {
  auto [a, b, v] = start_two();
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_).ok());
  const Command move = command(CommandType::kAdvance, "deal-1", "needs_diagnosis");
  const CommandResult stale = b.engine->execute(move, now_);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.rejection->code, ErrorCode::kConflict);
  EXPECT_EQ(stale.version, v + 1);
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
  const CommandResult retry = b.engine->execute(move, now_);
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.rejection->code, ErrorCode::kGateBlocked);
  EXPECT_EQ(retry.version, v + 1);
  for (const UnmetCriterion& c : retry.rejection->unmet) EXPECT_NE(c.id, "lead_cleaned");
}

// An instance another engine created after this one recovered is not unknown: it is taken from
// the store.
TEST_F(EngineStorageTest, AnInstanceAnotherEngineCreatedIsTakenNotUnknown) {
  Node a(path_);
  Node b(path_);  // recovers nothing
  ASSERT_TRUE(a.engine->execute(create("deal-1"), now_).ok());
  const Command check = command(CommandType::kCheckItem, "deal-1", "lead_cleaned");
  const CommandResult first = b.engine->execute(check, now_);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.rejection->code, ErrorCode::kConflict);
  ASSERT_TRUE(b.engine->instance("deal-1").has_value());
  EXPECT_EQ(*b.engine->instance("deal-1"), *a.engine->instance("deal-1"));
  EXPECT_EQ(first.version, a.engine->instance("deal-1")->version);
  const CommandResult retry = b.engine->execute(check, now_);
  ASSERT_TRUE(retry.ok()) << retry.rejection->message;
  EXPECT_EQ(retry.version, first.version + 1);
  // An instance nobody created stays unknown.
  const CommandResult nobody =
      b.engine->execute(command(CommandType::kCheckItem, "deal-9", "lead_cleaned"), now_);
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.rejection->code, ErrorCode::kUnknownInstance);
}

// A Storage that counts the engine's stored_version() questions.
class CountingStorage final : public Storage {
 public:
  AppendResult append(std::string_view instance, std::uint64_t expected_version,
                      std::span<const Event> events) override {
    return inner_.append(instance, expected_version, events);
  }
  std::vector<Event> load(std::string_view instance) const override {
    return inner_.load(instance);
  }
  void scan(const std::function<void(const Event&)>& visit) const override { inner_.scan(visit); }
  std::optional<std::uint64_t> stored_version(std::string_view instance) const override {
    ++asked;
    return inner_.stored_version(instance);
  }
  mutable int asked = 0;

 private:
  InMemoryStorage inner_;
};

// The question costs a read of the store: only rejections that depend on the instance's state
// ask it; those decided on the command and the definition alone, and accepted commands, do not.
TEST(EngineStoredVersion, OnlyRejectionsThatDependOnTheStateAskTheStore) {
  CountingStorage storage;
  InMemoryDirectory directory;
  directory.grant("maria", "sales_rep");
  EngineOptions options;
  options.storage = &storage;
  options.directory = &directory;
  Engine engine(options);
  ASSERT_TRUE(engine.register_definition(b2b()));
  const Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
  Command create;
  create.instance = "deal-1";
  create.actor = "maria";
  create.definition_id = "b2b_pipeline";
  ASSERT_TRUE(engine.execute(create, now).ok());
  Command c;
  c.instance = "deal-1";
  c.actor = "maria";
  c.type = CommandType::kSetFields;
  c.fields = {{"no_such_field", std::string("x")}};
  EXPECT_EQ(engine.execute(c, now).rejection->code, ErrorCode::kInvalidField);
  c.type = CommandType::kCheckItem;
  c.target = "no_such_item";
  EXPECT_EQ(engine.execute(c, now).rejection->code, ErrorCode::kBadCommand);
  EXPECT_EQ(storage.asked, 0);
  c.type = CommandType::kAdvance;
  c.target = "needs_diagnosis";
  EXPECT_EQ(engine.execute(c, now).rejection->code, ErrorCode::kGateBlocked);  // same version
  EXPECT_EQ(storage.asked, 1);
  c.instance = "deal-9";
  EXPECT_EQ(engine.execute(c, now).rejection->code, ErrorCode::kUnknownInstance);
  EXPECT_EQ(storage.asked, 2);
  c.instance = "deal-1";
  c.type = CommandType::kCheckItem;
  c.target = "lead_cleaned";
  ASSERT_TRUE(engine.execute(c, now).ok());
  EXPECT_EQ(storage.asked, 2);
}

// A deadline of an instance another writer moved on: the store refuses the milestone's append,
// the engine takes the stored state and goes on firing (before, it stopped at the refusal, and
// every deadline behind it waited for a command on that instance).
TEST_F(EngineStorageTest, AMilestoneOfAStaleInstanceReloadsItAndTheAdvanceGoesOn) {
  auto [a, b, v] = start_two();
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_).ok());
  ASSERT_TRUE(b.engine->execute(create("deal-2"), now_ + 1min).ok());  // due after deal-1's
  const std::vector<Event> fired = b.engine->advance_to(now_ + std::chrono::days(10));
  std::vector<std::uint64_t> deal1, deal2;
  for (const Event& e : fired) (e.instance == "deal-1" ? deal1 : deal2).push_back(e.version);
  ASSERT_FALSE(deal1.empty());
  ASSERT_FALSE(deal2.empty());
  EXPECT_EQ(deal1.front(), v + 2);  // after a's check, not in its place
  const std::vector<Event> stored = b.store->load("deal-1");
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(b.engine->instance("deal-1")->version, stored.back().version);
  EXPECT_EQ(*b.engine->instance("deal-1"), replay(*b2b(), stored));
}

// When the store is ahead with a log that does not fit the definition (edited storage), there is
// no newer state to take: a rejection, keyed or not, stands (unstored) rather than answering a
// conflict that every retry would meet again.
TEST_F(EngineStorageTest, ARejectionStandsWhenTheStoredLogCannotBeTaken) {
  auto [a, b, v] = start_two();
  Event bogus = a.store->load("deal-1").back();
  bogus.version = v + 1;
  bogus.type = EventType::kStageChanged;
  bogus.stage = StageId{999};  // no such stage
  ASSERT_EQ(a.store->append("deal-1", v, std::span<const Event>(&bogus, 1)),
            Storage::AppendResult::kOk);
  const Command move = keyed(command(CommandType::kAdvance, "deal-1", "needs_diagnosis"), "m-1");
  for (const Command& c : {move, command(CommandType::kAdvance, "deal-1", "needs_diagnosis")}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const CommandResult answer = b.engine->execute(c, now_);
      ASSERT_FALSE(answer.ok());
      EXPECT_EQ(answer.rejection->code, ErrorCode::kGateBlocked) << attempt;
      EXPECT_EQ(b.engine->instance("deal-1")->version, v);
    }
  }
  EXPECT_FALSE(b.store->find_key("m-1").has_value());
}

// Events an engine takes from the store (a conflict's reload, a stored answer ahead of it) are
// handed to its listeners: their writer may have died before it could, and the delivery mark
// this engine writes next would cover them.
TEST_F(EngineStorageTest, EventsTakenFromTheStoreAreHandedOverBeforeTheEnginesOwn) {
  Recorder recorder;
  auto [a, b, v] = start_two(&recorder);
  ASSERT_THAT(recorder.ids, SizeIs(v));  // recovery handed over a's (a has no listener)
  // A stored answer ahead of b.
  ASSERT_TRUE(
      answer_twice(a, b, keyed(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), "c-1"))
          .ok());
  // A conflict.
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "grade_verified"), now_).ok());
  Command hold = command(CommandType::kHold, "deal-1");
  hold.text = "waiting";
  ASSERT_EQ(b.engine->execute(hold, now_).rejection->code, ErrorCode::kConflict);
  // b's own.
  ASSERT_TRUE(b.engine->execute(hold, now_).ok());
  std::vector<std::string> expected;
  for (std::uint64_t i = 1; i <= v + 3; ++i) expected.push_back("deal-1#" + std::to_string(i));
  EXPECT_EQ(recorder.ids, expected);
  // All marked (the marks are written when the stores close): a restart with a listener has
  // nothing left to hand over.
  b_.reset();
  a_.reset();
  Recorder after;
  Node restarted(path_, &after);
  EXPECT_THAT(after.ids, SizeIs(0));
}

// What another engine has handed over and marked is not handed over again by the engine that
// takes it from the store.
TEST_F(EngineStorageTest, EventsTakenFromTheStoreThatAreMarkedDeliveredAreNotRepeated) {
  Recorder a_heard, b_heard;
  Node a(path_, &a_heard);
  ASSERT_TRUE(a.engine->execute(create("deal-1"), now_).ok());
  Node b(path_, &b_heard);  // recovers deal-1; a's marks are not written yet, so b hands it over
  const std::size_t recovered = b_heard.ids.size();
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "lead_cleaned"), now_).ok());
  // a's next transaction writes the mark of the check: b's reload finds it marked, all but the
  // last of a's events.
  ASSERT_TRUE(
      a.engine->execute(command(CommandType::kCheckItem, "deal-1", "grade_verified"), now_).ok());
  Command hold = command(CommandType::kHold, "deal-1");
  hold.text = "waiting";
  ASSERT_EQ(b.engine->execute(hold, now_).rejection->code, ErrorCode::kConflict);
  const std::uint64_t last = a.engine->instance("deal-1")->version;
  ASSERT_EQ(b_heard.ids.size(), recovered + 1);
  EXPECT_EQ(b_heard.ids.back(), "deal-1#" + std::to_string(last));
}

// A commit that lands after an engine recovered (its writer died while committing) is handed
// over by deliver_undelivered(), once.
TEST_F(EngineStorageTest, DeliverUndeliveredHandsOverWhatLandedAfterRecovery) {
  Recorder recorder;
  Node b(path_, &recorder);  // recovers an empty store
  std::size_t stored = 0;
  {
    Node silent(path_);  // no listener: its events stay in the outbox, as a dead writer's would
    ASSERT_TRUE(silent.engine->execute(create("deal-1"), now_).ok());
    stored = silent.store->event_count();
  }
  ASSERT_GT(stored, 0u);
  EXPECT_THAT(recorder.ids, SizeIs(0));
  EXPECT_EQ(b.engine->deliver_undelivered(), stored);
  ASSERT_THAT(recorder.ids, SizeIs(stored));
  for (std::size_t i = 0; i < stored; ++i) {
    EXPECT_EQ(recorder.ids[i], "deal-1#" + std::to_string(i + 1));
  }
  EXPECT_EQ(b.engine->deliver_undelivered(), 0u);  // marked delivered
  EXPECT_THAT(recorder.ids, SizeIs(stored));
  Node silent(path_);
  EXPECT_EQ(silent.engine->deliver_undelivered(), 0u);  // no listeners
}

}  // namespace
}  // namespace salesflow::testing
