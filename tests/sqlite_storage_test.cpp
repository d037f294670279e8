// SqliteStorage against real files on disk: round trips, conflicts, idempotency keys, delivery
// marks, definitions, migration, and every kind of bad file (each must be refused and left as it
// was).
#include "salesflow/sqlite_storage.hpp"
#include "support/store_dir.hpp"

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/storage.hpp"

namespace salesflow::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using AppendResult = Storage::AppendResult;

class SqliteStorageTest : public StoreDirTest {
 protected:
  std::unique_ptr<SqliteStorage> open(const SqliteOptions& options = {}) {
    auto opened = SqliteStorage::open(path_, options);
    EXPECT_TRUE(opened.storage) << opened.error;
    return std::move(opened.storage);
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // An event of every value type, stamped for `instance` at `version`.
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
};

TEST_F(SqliteStorageTest, EventsOfEveryValueTypeRoundTripAcrossAReopen) {
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
    EXPECT_EQ(store->load("deal-1"), events);
  }
  auto store = open();
  EXPECT_EQ(store->load("deal-1"), events);
  EXPECT_THAT(store->load("deal-2"), IsEmpty());
  EXPECT_EQ(store->event_count(), 7u);
  EXPECT_EQ(store->last_error(), "");
}

TEST_F(SqliteStorageTest, AStaleExpectedVersionIsAConflictAndWritesNothing) {
  auto store = open();
  ASSERT_EQ(store->append("deal-1", 0, std::vector{event("deal-1", 1)}), AppendResult::kOk);
  EXPECT_EQ(store->append("deal-1", 0, std::vector{event("deal-1", 1)}), AppendResult::kConflict);
  EXPECT_EQ(store->append("deal-1", 5, std::vector{event("deal-1", 6)}), AppendResult::kConflict);
  EXPECT_EQ(store->append("deal-1", 1, std::vector{event("deal-1", 2), event("deal-1", 3)}),
            AppendResult::kOk);
  EXPECT_THAT(store->load("deal-1"), SizeIs(3));
  EXPECT_EQ(store->stored_version("deal-1"), 3u);
  EXPECT_EQ(store->stored_version("deal-2"), 0u);
}

TEST_F(SqliteStorageTest, ScanVisitsEachInstanceInVersionOrder) {
  auto store = open();
  for (const std::string id : {"b", "a", "c"}) {
    for (std::uint64_t v = 1; v <= 3; ++v) {
      ASSERT_EQ(store->append(id, v - 1, std::vector{event(id, v)}), AppendResult::kOk);
    }
  }
  std::vector<std::pair<std::string, std::uint64_t>> seen;
  store->scan([&](const Event& e) { seen.emplace_back(e.instance, e.version); });
  ASSERT_THAT(seen, SizeIs(9));
  for (std::size_t i = 1; i < seen.size(); ++i) {
    if (seen[i].first == seen[i - 1].first) {
      EXPECT_EQ(seen[i].second, seen[i - 1].second + 1);
    }
  }
}

TEST_F(SqliteStorageTest, AnIdempotencyKeyIsStoredWithItsEventsAndCannotBeTakenTwice) {
  auto store = open();
  const Storage::KeyRecord record{"deal-1", 1, 1, "create deal-1", ""};
  ASSERT_EQ(store->append_keyed("deal-1", 0, std::vector{event("deal-1", 1)}, "k1", record),
            AppendResult::kOk);
  EXPECT_EQ(store->find_key("k1"), record);
  EXPECT_EQ(store->find_key("k2"), std::nullopt);
  // The key is taken: nothing of the second append is written.
  EXPECT_EQ(store->append_keyed("deal-1", 1, std::vector{event("deal-1", 2)}, "k1",
                                Storage::KeyRecord{"deal-1", 2, 1, "set", ""}),
            AppendResult::kConflict);
  EXPECT_THAT(store->load("deal-1"), SizeIs(1));
  // A conflicting version does not take the key.
  EXPECT_EQ(store->append_keyed("deal-1", 0, std::vector{event("deal-1", 1)}, "k3", record),
            AppendResult::kConflict);
  EXPECT_EQ(store->find_key("k3"), std::nullopt);
  // An accepted command without events keeps its key too.
  EXPECT_EQ(store->append_keyed("deal-1", 1, {}, "k4", Storage::KeyRecord{"deal-1", 1, 0, "x", ""}),
            AppendResult::kOk);
  store.reset();
  EXPECT_EQ(open()->find_key("k4"), (Storage::KeyRecord{"deal-1", 1, 0, "x", ""}));
}

TEST_F(SqliteStorageTest, UndeliveredEventsAreThoseBeyondTheDeliveryMarkAcrossAReopen) {
  {
    auto store = open();
    ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1), event("a", 2)}), AppendResult::kOk);
    ASSERT_EQ(store->append("b", 0, std::vector{event("b", 1)}), AppendResult::kOk);
    std::size_t pending = 0;
    store->scan_undelivered([&](const Event&) { ++pending; });
    EXPECT_EQ(pending, 3u);
    store->mark_delivered("a", 1);
    store->mark_delivered("b", 1);
    pending = 0;
    store->scan_undelivered([&](const Event&) { ++pending; });
    EXPECT_EQ(pending, 1u);  // marks count before they are written
    EXPECT_EQ(store->delivery_mark("a"), 1u);
    EXPECT_EQ(store->delivery_mark("c"), 0u);
    EXPECT_EQ(open()->delivery_mark("a"), 0u);  // not written yet: another connection sees none
  }                                             // closing writes the marks
  auto store = open();
  std::vector<std::pair<std::string, std::uint64_t>> pending;
  store->scan_undelivered([&](const Event& e) { pending.emplace_back(e.instance, e.version); });
  EXPECT_EQ(pending, (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 2}}));
  EXPECT_EQ(store->delivery_mark("a"), 1u);
  store->mark_delivered("a", 1);  // an older mark never moves a newer one back
  store->mark_delivered("a", 2);
  EXPECT_EQ(store->delivery_mark("a"), 2u);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(open()->delivery_mark("a"), 2u);
  pending.clear();
  store->scan_undelivered([&](const Event& e) { pending.emplace_back(e.instance, e.version); });
  EXPECT_THAT(pending, IsEmpty());
}

TEST_F(SqliteStorageTest, ADefinitionVersionKeepsItsText) {
  auto store = open();
  EXPECT_EQ(store->keep_definition("b2b", 1, "{}"), EventStore::KeepResult::kKept);
  EXPECT_EQ(store->keep_definition("b2b", 1, "{}"), EventStore::KeepResult::kSame);
  EXPECT_EQ(store->keep_definition("b2b", 1, "{ }"), EventStore::KeepResult::kDifferent);
  EXPECT_EQ(store->keep_definition("b2b", 2, "{ }"), EventStore::KeepResult::kKept);
  const auto kept = store->definitions();
  ASSERT_THAT(kept, SizeIs(2));
  EXPECT_EQ(kept[0].source, "{}");
  EXPECT_EQ(kept[1].version, 2u);
}

TEST_F(SqliteStorageTest, TheFileCarriesItsApplicationIdSchemaVersionAndWal) {
  open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const auto one = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(one("PRAGMA application_id"), std::to_string(SqliteStorage::kApplicationId));
  EXPECT_EQ(one("PRAGMA user_version"), std::to_string(SqliteStorage::kSchemaVersion));
  EXPECT_EQ(one("PRAGMA journal_mode"), "wal");
  sqlite3_close(db);
}

TEST_F(SqliteStorageTest, AVersion1StoreIsMigratedForwardWithItsEvents) {
  raw_sql(R"sql(
    CREATE TABLE events (seq INTEGER PRIMARY KEY, instance TEXT NOT NULL,
      version INTEGER NOT NULL CHECK (version >= 1),
      type INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
      definition_id TEXT NOT NULL, definition_version INTEGER NOT NULL, stage INTEGER NOT NULL,
      from_stage INTEGER NOT NULL, target INTEGER NOT NULL, value_type INTEGER NOT NULL,
      value, text TEXT NOT NULL, UNIQUE (instance, version));
    CREATE TABLE definitions (id TEXT NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL,
      PRIMARY KEY (id, version)) WITHOUT ROWID;
    INSERT INTO events VALUES (1, 'deal-1', 1, 0, 1764000000000, 'maria', 'b2b', 1, 0, 0, 0, 0,
      NULL, '');
    PRAGMA application_id = 1397115991;
    PRAGMA user_version = 1;)sql");
  auto store = open();
  ASSERT_THAT(store->load("deal-1"), SizeIs(1));
  EXPECT_EQ(store->load("deal-1")[0].actor, "maria");
  EXPECT_EQ(store->append_keyed("deal-1", 1, {}, "k", Storage::KeyRecord{"deal-1", 1, 0, "", ""}),
            AppendResult::kOk);
}

TEST_F(SqliteStorageTest, AFileThatIsNotSqliteIsRefusedAndLeftAsItWas) {
  const std::string text(10000, 'x');
  std::ofstream(path_, std::ios::binary) << text;
  const auto opened = SqliteStorage::open(path_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("is not a salesflow store"));
  EXPECT_THAT(opened.error, HasSubstr(path_));
  EXPECT_EQ(read_file(path_), text);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
}

TEST_F(SqliteStorageTest, ASqliteFileOfAnotherApplicationIsRefusedAndLeftAsItWas) {
  raw_sql(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); "
      "INSERT INTO customers VALUES (1, 'x');");
  const std::string before = read_file(path_);
  const auto opened = SqliteStorage::open(path_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("another application"));
  EXPECT_EQ(read_file(path_), before);
}

TEST_F(SqliteStorageTest, AStoreOfANewerSchemaIsRefusedAndLeftAsItWas) {
  {
    auto store = open();
    ASSERT_EQ(store->append("deal-1", 0, std::vector{event("deal-1", 1)}), AppendResult::kOk);
  }
  raw_sql("PRAGMA user_version = 99");
  const std::string before = read_file(path_);
  const auto opened = SqliteStorage::open(path_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("newer salesflow (schema version 99"));
  EXPECT_EQ(read_file(path_), before);
}

TEST_F(SqliteStorageTest, AStoreWithAMissingTableIsDamaged) {
  open().reset();
  raw_sql("DROP TABLE idempotency");
  const auto opened = SqliteStorage::open(path_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("damaged"));
}

TEST_F(SqliteStorageTest, ADamagedRowIsReportedNotReplayed) {
  {
    auto store = open();
    ASSERT_EQ(store->append("deal-1", 0, std::vector{event("deal-1", 1, std::int64_t{5})}),
              AppendResult::kOk);
  }
  raw_sql("UPDATE events SET value = 'not a number'");
  auto store = open();
  EXPECT_THAT(store->load("deal-1"), IsEmpty());
  EXPECT_THAT(store->last_error(), HasSubstr("damaged"));
  raw_sql("UPDATE events SET value = 5, type = 77");
  EXPECT_THAT(store->load("deal-1"), IsEmpty());
  EXPECT_THAT(store->last_error(), HasSubstr("unknown event type 77"));
}

TEST_F(SqliteStorageTest, ATruncatedFileIsRefusedOrReportedNeverReplayedHalf) {
  {
    auto store = open();
    std::vector<Event> events;
    for (std::uint64_t v = 1; v <= 2000; ++v) events.push_back(event("deal-1", v, "padding"));
    ASSERT_EQ(store->append("deal-1", 0, events), AppendResult::kOk);
  }
  const std::string whole = read_file(path_);
  ASSERT_GT(whole.size(), 8192u);
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 2);
  auto opened = SqliteStorage::open(path_);
  if (!opened.storage) {
    EXPECT_FALSE(opened.error.empty());
    return;
  }
  std::size_t count = 0;
  opened.storage->scan([&](const Event&) { ++count; });
  EXPECT_NE(opened.storage->last_error(), "");
}

TEST_F(SqliteStorageTest, AFullDiskAnswersUnavailableAndKeepsWhatWasStored) {
  auto store = open(SqliteOptions{.max_page_count = 16});
  std::uint64_t version = 0;
  AppendResult result = AppendResult::kOk;
  const std::string big(2000, 'z');
  while (result == AppendResult::kOk && version < 10'000) {
    result = store->append("deal-1", version, std::vector{event("deal-1", version + 1, big)});
    if (result == AppendResult::kOk) ++version;
  }
  ASSERT_EQ(result, AppendResult::kUnavailable);
  EXPECT_THAT(store->last_error(), HasSubstr("full"));
  EXPECT_THAT(store->load("deal-1"), SizeIs(version));
  store.reset();
  EXPECT_THAT(open()->load("deal-1"), SizeIs(version));
}

TEST_F(SqliteStorageTest, ADirectoryOrAMissingFileForReadingIsRefused) {
  auto opened = SqliteStorage::open(dir_.string());
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("is a directory"));
  opened = SqliteStorage::open(path_, SqliteOptions{.read_only = true});
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("no store at"));
  EXPECT_FALSE(fs::exists(path_));
  opened = SqliteStorage::open((dir_ / "missing" / "x.sqlite").string());
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("cannot open"));
}

TEST_F(SqliteStorageTest, AReadOnlyStoreReadsButWritesNothing) {
  {
    auto store = open();
    ASSERT_EQ(store->append("deal-1", 0, std::vector{event("deal-1", 1)}), AppendResult::kOk);
  }
  auto store = open(SqliteOptions{.read_only = true});
  EXPECT_THAT(store->load("deal-1"), SizeIs(1));
  EXPECT_EQ(store->append("deal-1", 1, std::vector{event("deal-1", 2)}),
            AppendResult::kUnavailable);
  EXPECT_THAT(store->last_error(), HasSubstr("reading only"));
}

TEST_F(SqliteStorageTest, TwoConnectionsRacingOnOneInstanceNeverBothWin) {
  // Two stores on one file behave as two processes would: SQLite's file locks decide.
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

TEST_F(SqliteStorageTest, GroupCommitAnswersEveryAppendOnItsOwn) {
  auto store = open(SqliteOptions{.group_commit = true});
  constexpr int kThreads = 8, kPerThread = 200;
  std::atomic<int> ok{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = "deal-" + std::to_string(t);
      for (std::uint64_t v = 0; v < kPerThread; ++v) {
        if (store->append(id, v, std::vector{event(id, v + 1)}) == AppendResult::kOk) ++ok;
        // A stale append among good ones fails alone.
        if (store->append(id, 0, std::vector{event(id, 1)}) == AppendResult::kConflict) {
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(conflicts.load(), kThreads * kPerThread);
  EXPECT_EQ(store->event_count(), static_cast<std::uint64_t>(kThreads * kPerThread));
}

// --- Batch mode (SqliteOptions::batch_appends) ---------------------------------------------

// What another process sees in the file: committed events only.
std::uint64_t committed_events(const std::string& path) {
  auto reader = SqliteStorage::open(path, SqliteOptions{.read_only = true});
  EXPECT_TRUE(reader.storage) << reader.error;
  return reader.storage ? reader.storage->event_count() : 0;
}

TEST_F(SqliteStorageTest, ABatchIsVisibleToItsStoreAtOnceAndToOthersAfterFlush) {
  auto store = open(SqliteOptions{.batch_appends = 100});
  ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1), event("a", 2)}), AppendResult::kOk);
  ASSERT_EQ(store->append("b", 0, std::vector{event("b", 1)}), AppendResult::kOk);
  EXPECT_THAT(store->load("a"), SizeIs(2));  // its own reads see the open batch
  EXPECT_EQ(store->stored_version("a"), 2u);
  EXPECT_EQ(open()->stored_version("a"), 0u);  // another connection: not committed yet
  EXPECT_EQ(store->event_count(), 3u);
  EXPECT_EQ(committed_events(path_), 0u);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(committed_events(path_), 3u);
  EXPECT_EQ(open()->stored_version("a"), 2u);
  ASSERT_EQ(store->append("a", 2, std::vector{event("a", 3)}), AppendResult::kOk);
  store.reset();  // closing commits the open batch
  EXPECT_EQ(committed_events(path_), 4u);
}

TEST_F(SqliteStorageTest, AConflictInABatchUndoesThatAppendAlone) {
  auto store = open(SqliteOptions{.batch_appends = 100});
  ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1)}), AppendResult::kOk);
  EXPECT_EQ(store->append("a", 0, std::vector{event("a", 1), event("a", 2)}),
            AppendResult::kConflict);
  ASSERT_EQ(store->append_keyed("b", 0, std::vector{event("b", 1)}, "key-1",
                                Storage::KeyRecord{"b", 1, 1, "fp", ""}),
            AppendResult::kOk);
  // A key taken earlier in the same batch is a conflict too, and writes nothing.
  EXPECT_EQ(store->append_keyed("c", 0, std::vector{event("c", 1)}, "key-1",
                                Storage::KeyRecord{"c", 1, 1, "fp", ""}),
            AppendResult::kConflict);
  ASSERT_TRUE(store->flush());
  store.reset();
  auto reopened = open();
  EXPECT_THAT(reopened->load("a"), SizeIs(1));
  EXPECT_THAT(reopened->load("b"), SizeIs(1));
  EXPECT_THAT(reopened->load("c"), IsEmpty());
  EXPECT_EQ(reopened->find_key("key-1")->instance, "b");
}

TEST_F(SqliteStorageTest, ABatchCommitsByItselfWhenFull) {
  auto store = open(SqliteOptions{.batch_appends = 3});
  for (std::uint64_t v = 0; v < 7; ++v) {
    ASSERT_EQ(store->append("a", v, std::vector{event("a", v + 1)}), AppendResult::kOk);
    // Committed: the appends of every full batch of 3.
    EXPECT_EQ(committed_events(path_), (v + 1) / 3 * 3) << "after append " << v + 1;
  }
}

TEST_F(SqliteStorageTest, ABatchHoldsItsDeliveryMarksUntilAfterTheNextFlush) {
  auto store = open(SqliteOptions{.batch_appends = 100});
  const auto undelivered_in_file = [&] {
    auto reader = SqliteStorage::open(path_, SqliteOptions{.read_only = true});
    std::size_t n = 0;
    reader.storage->scan_undelivered([&](const Event&) { ++n; });
    return n;
  };
  ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1)}), AppendResult::kOk);
  store->mark_delivered("a", 1);  // the listener was told; the host has not handed it on
  std::size_t pending = 0;
  store->scan_undelivered([&](const Event&) { ++pending; });
  EXPECT_EQ(pending, 0u);  // for this process it is delivered
  ASSERT_TRUE(store->flush());
  // The event is committed, its mark is not: a crash now would deliver it again, never lose it.
  EXPECT_EQ(undelivered_in_file(), 1u);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(undelivered_in_file(), 0u);
}

TEST_F(SqliteStorageTest, AFullDiskInABatchKeepsExactlyTheFlushedAppendsNeverHalfOfOne) {
  // One event per append (no savepoint: one statement) and two (a savepoint each).
  for (const std::uint64_t per_append : {1u, 2u}) {
    const std::string id = "deal-" + std::to_string(per_append);
    fs::remove(path_);
    fs::remove(path_ + "-wal");
    fs::remove(path_ + "-shm");
    auto store = open(SqliteOptions{.batch_appends = 4, .max_page_count = 16});
    const std::string big(2000, 'z');
    std::uint64_t version = 0, durable = 0;
    bool failed = false;
    for (int i = 0; i < 10'000 && !failed; ++i) {
      std::vector<Event> events;
      for (std::uint64_t k = 1; k <= per_append; ++k) events.push_back(event(id, version + k, big));
      const AppendResult r = store->append(id, version, events);
      if (r == AppendResult::kOk) {
        version += per_append;
      } else {
        ASSERT_EQ(r, AppendResult::kUnavailable);
        failed = true;
      }
      if (i % 3 == 2 || failed) {
        if (store->flush()) durable = version;
      }
    }
    ASSERT_TRUE(failed) << per_append;
    EXPECT_THAT(store->last_error(), HasSubstr("full"));
    store.reset();
    const std::vector<Event> stored = open()->load(id);
    // Everything flushed is kept; nothing that answered kUnavailable is; no append is halved.
    EXPECT_GE(stored.size(), durable) << per_append;
    EXPECT_LE(stored.size(), version) << per_append;
    EXPECT_EQ(stored.size() % per_append, 0u) << per_append;
    for (std::size_t v = 0; v < stored.size(); ++v) EXPECT_EQ(stored[v].version, v + 1);
  }
}

TEST_F(SqliteStorageTest, AFailedBatchCommitLosesTheBatchAndRefusesLaterAppends) {
  auto store = open(SqliteOptions{.batch_appends = 1000});
  ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1)}), AppendResult::kOk);
  ASSERT_TRUE(store->flush());
  const std::string big(2000, 'z');
  for (std::uint64_t v = 1; v < 200; ++v) {
    ASSERT_EQ(store->append("a", v, std::vector{event("a", v + 1, big)}), AppendResult::kOk);
  }
  // The batch's pages reach the write-ahead log at COMMIT: a file size limit at the log's
  // current size makes that write fail, as a full disk would.
  const std::string wal = path_ + "-wal";
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limit = old_limit;
  limit.rlim_cur = static_cast<rlim_t>(fs::file_size(wal));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  const bool flushed = store->flush();
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(flushed);
  EXPECT_THAT(store->last_error(), HasSubstr("cannot commit"));
  EXPECT_THAT(store->last_error(), HasSubstr("lost"));
  // Nothing is built on the lost appends.
  EXPECT_EQ(store->append("b", 0, std::vector{event("b", 1)}), AppendResult::kUnavailable);
  EXPECT_FALSE(store->flush());
  store.reset();
  auto reopened = open();
  EXPECT_THAT(reopened->load("a"), SizeIs(1));
  EXPECT_THAT(reopened->load("b"), IsEmpty());
}

TEST_F(SqliteStorageTest, SnapshotsInABatchCommitWithIt) {
  auto store = open(SqliteOptions{.batch_appends = 100});
  ASSERT_EQ(store->append("a", 0, std::vector{event("a", 1), event("a", 2)}), AppendResult::kOk);
  const Storage::Snapshot snapshot{"a", 2, "b2b_pipeline", 1, std::string("\x01state", 6)};
  ASSERT_TRUE(store->save_snapshots(std::span(&snapshot, 1)));
  const auto snapshots_in_file = [&] {
    auto reader = SqliteStorage::open(path_, SqliteOptions{.read_only = true});
    std::vector<std::uint64_t> versions;
    reader.storage->scan_recovery([&](const Storage::RecoveryLog& log) {
      if (log.snapshot != nullptr) versions.push_back(log.snapshot->version);
    });
    return versions;
  };
  EXPECT_THAT(snapshots_in_file(), IsEmpty());  // not before the events it covers
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(snapshots_in_file(), std::vector<std::uint64_t>{2});
}

TEST_F(SqliteStorageTest, BatchAndGroupCommitCannotBeCombined) {
  auto opened = SqliteStorage::open(path_, SqliteOptions{.group_commit = true, .batch_appends = 8});
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("cannot be combined"));
  EXPECT_FALSE(fs::exists(path_));
}

TEST(OpenStore, UrisNameTheirStoreAndBadOnesSayWhatIsAccepted) {
  EXPECT_TRUE(open_store("memory").store);
  EXPECT_EQ(open_store("memory").store->uri(), "memory");
  for (const std::string_view bad : {"", "sqlite:", "mysql://x", "SQLITE:/tmp/x", "memory:x"}) {
    const auto opened = open_store(bad);
    EXPECT_FALSE(opened.store) << bad;
    EXPECT_THAT(opened.error, HasSubstr("store \"")) << bad;
  }
  EXPECT_THAT(open_store("nope").error, HasSubstr("\"sqlite:PATH\""));
  EXPECT_THAT(open_store(std::string_view("sqlite:/tmp/a\0b", 15)).error, HasSubstr("NUL"));
}

TEST(OpenStore, AMemoryStoreKeepsKeysAndDefinitions) {
  auto store = open_store("memory").store;
  Event e;
  e.instance = "x";
  e.version = 1;
  ASSERT_EQ(
      store->append_keyed("x", 0, std::vector{e}, "k", Storage::KeyRecord{"x", 1, 1, "f", ""}),
      AppendResult::kOk);
  EXPECT_EQ(store->find_key("k")->fingerprint, "f");
  EXPECT_EQ(store->keep_definition("d", 1, "a"), EventStore::KeepResult::kKept);
  EXPECT_EQ(store->keep_definition("d", 1, "b"), EventStore::KeepResult::kDifferent);
}

}  // namespace
}  // namespace salesflow::testing
