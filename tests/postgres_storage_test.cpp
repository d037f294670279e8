// PostgresStorage against a real, throwaway PostgreSQL cluster (scripts/pg-test-cluster, started
// by the CTest fixture "postgres"; its connection string is in SALESFLOW_TEST_POSTGRES). Each test
// gets a database of its own.
#include "salesflow/postgres_storage.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "support/snapshot_scenario.hpp"

namespace salesflow::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using AppendResult = Storage::AppendResult;

class PostgresStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("SALESFLOW_TEST_POSTGRES");
    ASSERT_NE(base, nullptr) << "SALESFLOW_TEST_POSTGRES is not set (run through ctest)";
    base_ = base;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    database_ = "t_" + std::string(info->name());
    for (char& c : database_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    sql(base_, "DROP DATABASE IF EXISTS " + database_);
    sql(base_, "CREATE DATABASE " + database_);
    conninfo_ = base_ + " dbname=" + database_;
  }

  // Runs SQL as another program would.
  static void sql(const std::string& conninfo, const std::string& text) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, text.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
  }

  std::unique_ptr<PostgresStorage> open() {
    auto opened = PostgresStorage::open(conninfo_);
    EXPECT_TRUE(opened.storage) << opened.error;
    return std::move(opened.storage);
  }

  static Event event(std::string instance, std::uint64_t version, FieldValue value = {}) {
    Event e;
    e.instance = std::move(instance);
    e.version = version;
    e.type = version == 1 ? EventType::kCreated : EventType::kFieldSet;
    e.at = Timestamp(std::chrono::milliseconds(1'764'000'000'000 + static_cast<long>(version)));
    e.actor = "maria";
    e.definition_id = "b2b_pipeline";
    e.definition_version = 1;
    e.stage = StageId(2);
    e.from_stage = StageId(1);
    e.target = 3;
    e.value = std::move(value);
    e.text = "why: \"quoted\", ümlaut";
    return e;
  }

  std::string base_, database_, conninfo_;
};

TEST_F(PostgresStorageTest, EventsOfEveryValueTypeRoundTripAcrossAReopen) {
  const std::vector<Event> events = {
      event("deal-1", 1),
      event("deal-1", 2, std::string("Nordwind")),
      event("deal-1", 3, 129.5),
      event("deal-1", 4, std::int64_t{-9'000'000'000'000}),
      event("deal-1", 5, true),
      event("deal-1", 6, Timestamp(std::chrono::milliseconds(1'700'000'000'250))),
      event("deal-1", 7, std::vector<std::string>{"a", "b\"c", ""}),
  };
  {
    auto store = open();
    ASSERT_EQ(store->append("deal-1", 0, events), AppendResult::kOk);
  }
  auto store = open();
  EXPECT_EQ(store->load("deal-1"), events);
  std::vector<Event> scanned;
  store->scan([&](const Event& e) { scanned.push_back(e); });
  EXPECT_EQ(scanned, events);
  EXPECT_EQ(store->last_error(), "");
}

TEST_F(PostgresStorageTest, AStaleExpectedVersionIsAConflictAndWritesNothing) {
  auto store = open();
  ASSERT_EQ(store->append("d", 0, std::vector{event("d", 1)}), AppendResult::kOk);
  EXPECT_EQ(store->append("d", 0, std::vector{event("d", 1)}), AppendResult::kConflict);
  EXPECT_EQ(store->append("d", 3, std::vector{event("d", 4)}), AppendResult::kConflict);
  EXPECT_THAT(store->load("d"), SizeIs(1));
  EXPECT_EQ(store->stored_version("d"), 1u);
  EXPECT_EQ(open()->stored_version("d"), 1u);  // another session
  EXPECT_EQ(store->stored_version("e"), 0u);
}

TEST_F(PostgresStorageTest, TwoSessionsRacingOnOneInstanceNeverBothWin) {
  auto first = open();
  auto second = open();
  for (int round = 0; round < 50; ++round) {
    const auto expected = static_cast<std::uint64_t>(round);
    std::atomic<int> wins{0};
    std::thread a([&] {
      if (first->append("deal", expected, std::vector{event("deal", expected + 1)}) ==
          AppendResult::kOk)
        ++wins;
    });
    std::thread b([&] {
      if (second->append("deal", expected, std::vector{event("deal", expected + 1)}) ==
          AppendResult::kOk)
        ++wins;
    });
    a.join();
    b.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
  }
  EXPECT_THAT(first->load("deal"), SizeIs(50));
}

TEST_F(PostgresStorageTest, KeysMarksAndDefinitions) {
  auto store = open();
  const Storage::KeyRecord record{"d", 1, 1, "create d", ""};
  ASSERT_EQ(store->append_keyed("d", 0, std::vector{event("d", 1)}, "k", record),
            AppendResult::kOk);
  EXPECT_EQ(store->find_key("k"), record);
  EXPECT_EQ(store->append_keyed("d", 1, std::vector{event("d", 2)}, "k", record),
            AppendResult::kConflict);
  EXPECT_THAT(store->load("d"), SizeIs(1));
  std::size_t pending = 0;
  store->scan_undelivered([&](const Event&) { ++pending; });
  EXPECT_EQ(pending, 1u);
  EXPECT_EQ(store->delivery_mark("d"), 0u);
  store->mark_delivered("d", 1);
  EXPECT_EQ(store->delivery_mark("d"), 1u);  // recorded, not written yet
  EXPECT_EQ(open()->delivery_mark("d"), 0u);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(open()->delivery_mark("d"), 1u);
  store.reset();
  store = open();
  EXPECT_EQ(store->delivery_mark("d"), 1u);
  EXPECT_EQ(store->delivery_mark("e"), 0u);
  pending = 0;
  store->scan_undelivered([&](const Event&) { ++pending; });
  EXPECT_EQ(pending, 0u);
  EXPECT_EQ(store->keep_definition("b2b", 1, "{}"), EventStore::KeepResult::kKept);
  EXPECT_EQ(store->keep_definition("b2b", 1, "{}"), EventStore::KeepResult::kSame);
  EXPECT_EQ(store->keep_definition("b2b", 1, "{ }"), EventStore::KeepResult::kDifferent);
}

TEST_F(PostgresStorageTest, ANewerSchemaIsRefusedAndLeftAsItWas) {
  open().reset();
  sql(conninfo_, "UPDATE salesflow_meta SET value = '9' WHERE key = 'schema_version'");
  const auto opened = PostgresStorage::open(conninfo_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("newer salesflow (schema version 9"));
}

TEST_F(PostgresStorageTest, AVersion1SchemaIsMigratedForward) {
  sql(conninfo_, R"sql(
    CREATE TABLE salesflow_events (seq bigserial PRIMARY KEY, instance text NOT NULL,
      version bigint NOT NULL, type integer NOT NULL, at bigint NOT NULL, actor text NOT NULL,
      definition_id text NOT NULL, definition_version bigint NOT NULL, stage bigint NOT NULL,
      from_stage bigint NOT NULL, target bigint NOT NULL, value_type integer NOT NULL,
      value text, text text NOT NULL, UNIQUE (instance, version));
    CREATE TABLE salesflow_definitions (id text NOT NULL, version bigint NOT NULL,
      source text NOT NULL, PRIMARY KEY (id, version));
    CREATE TABLE salesflow_meta (key text PRIMARY KEY, value text NOT NULL);
    INSERT INTO salesflow_meta VALUES ('schema_version', '1');
    INSERT INTO salesflow_events (instance, version, type, at, actor, definition_id,
      definition_version, stage, from_stage, target, value_type, value, text)
      VALUES ('d', 1, 0, 1764000000000, 'maria', 'b2b', 1, 0, 0, 0, 0, NULL, ''))sql");
  auto store = open();
  ASSERT_THAT(store->load("d"), SizeIs(1));
  EXPECT_EQ(store->append_keyed("d", 1, {}, "k", Storage::KeyRecord{"d", 1, 0, "", ""}),
            AppendResult::kOk);
}

TEST_F(PostgresStorageTest, AnUnreachableServerOrABadConnectionStringIsAClearError) {
  auto opened = PostgresStorage::open("host=/nonexistent-salesflow-dir port=1 connect_timeout=2");
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("cannot connect to PostgreSQL"));
  opened = PostgresStorage::open("host = = =");
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("does not parse"));
  opened = PostgresStorage::open(conninfo_ + " password=secret123 user=nobody_here");
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, ::testing::Not(HasSubstr("secret123")));
  EXPECT_THAT(open_store("postgres://localhost/x").error, HasSubstr("key=value"));
}

TEST_F(PostgresStorageTest, AnEngineRecoversFromTheDatabase) {
  const auto def =
      load_definition_file(std::string(SALESFLOW_SOURCE_DIR) + "/examples/b2b_pipeline.json")
          .definition;
  InMemoryDirectory directory;
  directory.grant("maria", "sales_rep");
  Command create;
  create.type = CommandType::kCreate;
  create.instance = "deal-1";
  create.actor = "maria";
  create.definition_id = "b2b_pipeline";
  create.fields = {{"company", std::string("Acme")}};
  InstanceState before;
  {
    auto store = open();
    Engine engine(EngineOptions{store.get(), &directory, {}});
    engine.register_definition(def);
    ASSERT_TRUE(engine.execute(create, *parse_timestamp("2026-11-23T09:00:00Z")).ok());
    before = *engine.instance("deal-1");
  }
  auto store = open();
  Engine engine(EngineOptions{store.get(), &directory, {}});
  engine.register_definition(def);
  EXPECT_EQ(engine.recover(), 0u);
  EXPECT_EQ(*engine.instance("deal-1"), before);
}

// --- Snapshots -----------------------------------------------------------------------------

// The scenario's states on an engine that snapshots every 3 events, and the recovered ones.
class PostgresSnapshots : public PostgresStorageTest {
 protected:
  std::unique_ptr<Engine> engine_on(Storage& storage, std::uint32_t snapshot_every) {
    EngineOptions options;
    options.storage = &storage;
    options.directory = &directory_;
    options.snapshot_every = snapshot_every;
    auto engine = std::make_unique<Engine>(options);
    engine->register_definition(b2b_pipeline());
    return engine;
  }
  void run_scenario(std::uint32_t snapshot_every) {
    grant_b2b_people(directory_);
    auto store = open();
    auto engine = engine_on(*store, snapshot_every);
    ids_ = B2bScenario(*engine).run(now_);
    for (const std::string& id : ids_) before_.emplace(id, *engine->instance(id));
  }
  std::string one(const std::string& query) {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    PGresult* r = PQexec(conn, query.c_str());
    std::string value = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "(none)";
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    return value;
  }
  // Recovered states equal those before the stop and a replay of all events; the deadlines to
  // come fire as after a replay without snapshots.
  void expect_recovered() {
    auto store = open();
    auto engine = engine_on(*store, 3);
    EXPECT_EQ(engine->recover(), 0u);
    EXPECT_EQ(engine->instance_count(), ids_.size());
    InMemoryStorage plain;
    for (const std::string& id : ids_) {
      const std::vector<Event> events = store->load(id);
      EXPECT_TRUE(*engine->instance(id) == before_.at(id)) << id;
      EXPECT_TRUE(*engine->instance(id) == replay(*b2b_pipeline(), events)) << id;
      ASSERT_EQ(plain.append(id, 0, events), AppendResult::kOk);
    }
    auto replayed = engine_on(plain, 0);
    EXPECT_EQ(replayed->recover(), 0u);
    const Timestamp later = now_ + std::chrono::hours(24 * 14);
    const std::vector<Event> fired = engine->advance_to(later);
    EXPECT_THAT(fired, ::testing::Not(IsEmpty()));
    EXPECT_EQ(fired, replayed->advance_to(later));
    EXPECT_EQ(store->last_error(), "");
  }

  InMemoryDirectory directory_;
  std::vector<std::string> ids_;
  std::map<std::string, InstanceState> before_;
  Timestamp now_ = *parse_timestamp("2026-11-23T09:00:00Z");
};

TEST_F(PostgresSnapshots, RecoveryFromSnapshotsEqualsTheStateBeforeTheStopAndAReplay) {
  run_scenario(3);
  EXPECT_EQ(one("SELECT count(*) FROM salesflow_snapshots"), std::to_string(ids_.size()));
  EXPECT_NE(one("SELECT count(*) FROM salesflow_snapshots s WHERE s.version < (SELECT "
                "max(version) FROM salesflow_events e WHERE e.instance = s.instance)"),
            "0")
      << "some snapshots are older than the latest events";
  expect_recovered();
}

TEST_F(PostgresSnapshots, RecoveryReadsOnlyTheEventsAfterTheSnapshot) {
  run_scenario(3);
  sql(conninfo_,
      "DELETE FROM salesflow_events e USING salesflow_snapshots s WHERE s.instance = e.instance "
      "AND e.version < s.version");
  auto store = open();
  auto engine = engine_on(*store, 3);
  EXPECT_EQ(engine->recover(), 0u);
  for (const std::string& id : ids_) EXPECT_TRUE(*engine->instance(id) == before_.at(id)) << id;
}

TEST_F(PostgresSnapshots, DamagedOrUnregisteredOrAheadSnapshotsFallBackToTheEvents) {
  run_scenario(3);
  sql(conninfo_, R"sql(
    UPDATE salesflow_snapshots SET data = substring(data from 1 for 20) WHERE instance = 'closing';
    UPDATE salesflow_snapshots SET data = '\x02'::bytea || substring(data from 2)
      WHERE instance = 'lead';
    UPDATE salesflow_snapshots SET definition_version = 9 WHERE instance = 'team';
    UPDATE salesflow_snapshots SET version = version + 100 WHERE instance = 'hold';
    UPDATE salesflow_snapshots SET data = (SELECT data FROM salesflow_snapshots
      WHERE instance = 'lost') WHERE instance = 'reopened';)sql");
  expect_recovered();
}

TEST_F(PostgresSnapshots, SnapshotAllKeepsTheNewestAndRecoveryUsesThem) {
  run_scenario(0);
  EXPECT_EQ(one("SELECT count(*) FROM salesflow_snapshots"), "0");
  {
    auto store = open();
    auto engine = engine_on(*store, 0);
    ASSERT_EQ(engine->recover(), 0u);
    EXPECT_EQ(engine->snapshot_all(), ids_.size());
    const Storage::Snapshot old{"lead", 1, "b2b_pipeline", 1, std::string("o\0ld", 4)};
    EXPECT_TRUE(store->save_snapshots(std::span(&old, 1)));
  }
  EXPECT_EQ(one("SELECT version FROM salesflow_snapshots WHERE instance = 'lead'"),
            std::to_string(before_.at("lead").version));
  expect_recovered();
}

TEST_F(PostgresSnapshots, AVersion2SchemaIsMigratedTo3AndKeepsItsData) {
  run_scenario(0);
  sql(conninfo_,
      "DROP TABLE salesflow_snapshots; UPDATE salesflow_meta SET value = '2' WHERE key = "
      "'schema_version'; INSERT INTO salesflow_idempotency VALUES ('k', 'lead', 1, 1, 'fp', ''); "
      "INSERT INTO salesflow_delivered VALUES ('lead', 1)");
  const std::string events = one("SELECT count(*) FROM salesflow_events");
  {
    auto store = open();
    EXPECT_EQ(store->find_key("k")->fingerprint, "fp");
  }
  EXPECT_EQ(one("SELECT value FROM salesflow_meta WHERE key = 'schema_version'"), "3");
  EXPECT_EQ(one("SELECT count(*) FROM salesflow_events"), events);
  EXPECT_EQ(one("SELECT count(*) FROM salesflow_snapshots"), "0");
  EXPECT_EQ(one("SELECT version FROM salesflow_delivered WHERE instance = 'lead'"), "1");
  expect_recovered();
}

}  // namespace
}  // namespace salesflow::testing
