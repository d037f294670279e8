// SQLite store throughput next to its raw ceiling, in one binary (docs/PERFORMANCE.md):
//
//   BM_SqliteRawInsertLoop/N    the ceiling: one prepared INSERT per event into the same events
//                               table (same pragmas), N events per transaction, no version check
//   BM_SqliteAppendPerCommand   SqliteStorage::append, one transaction per command (1 event)
//   BM_SqliteGroupCommit/N      SqliteStorage::append in batch mode (batch_appends = N): N commands
//                               per transaction, each in its own savepoint with its version check
//   BM_SqliteConcurrentAppends  SqliteStorage::append from 8 threads with group_commit: the
//                               appends that wait while one commits share the next transaction
//   BM_PostgresAppendPerCommand PostgresStorage::append with 1 and 8 sessions (next to pgbench:
//                               bench/storage/run_postgres_bench.sh)
//   BM_RecoverWithoutSnapshots  Engine::recover() of 1,000,000 stored events (100,000 B2B deals)
//   BM_RecoverWithSnapshots/N   the same events with a snapshot of each deal at version N (8, 10)
//
// Files go to $SALESFLOW_BENCH_DIR (default /tmp), on the machine's disk.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "salesflow/engine.hpp"
#include "salesflow/postgres_storage.hpp"
#include "salesflow/sqlite_storage.hpp"

namespace salesflow {
namespace {

namespace fs = std::filesystem;

std::string bench_file(const std::string& name) {
  const char* dir = std::getenv("SALESFLOW_BENCH_DIR");
  const fs::path path = fs::path(dir ? dir : "/tmp") / ("salesflow-bench-" + name + ".sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  return path.string();
}

// A field_set event as a command would append it.
Event field_event(const std::string& instance, std::uint64_t version) {
  Event e;
  e.instance = instance;
  e.version = version;
  e.type = version == 1 ? EventType::kCreated : EventType::kFieldSet;
  e.at = Timestamp(std::chrono::milliseconds(1'764'000'000'000 + static_cast<long>(version)));
  e.actor = "maria";
  e.definition_id = "b2b_pipeline";
  e.definition_version = 1;
  e.target = 3;
  e.value = std::int64_t{72};
  return e;
}

// A store created by SqliteStorage (same schema and pragmas), opened with the plain SQLite API,
// and an INSERT into its events table: "?1, ?2, " + `values` for the columns after version.
sqlite3* open_raw(const std::string& path, const std::string& values, sqlite3_stmt*& insert,
                  benchmark::State& state) {
  auto opened = SqliteStorage::open(path);
  if (!opened.storage) {
    state.SkipWithError(opened.error.c_str());
    return nullptr;
  }
  opened.storage.reset();
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const std::string pragmas =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
      "PRAGMA wal_autocheckpoint=" +
      std::to_string(SqliteOptions{}.wal_autocheckpoint_pages);
  sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr);
  const std::string sql =
      "INSERT INTO events (instance, version, type, at, actor, definition_id, definition_version, "
      "stage, from_stage, target, value_type, value, text) VALUES (?1, ?2, " +
      values + ")";
  sqlite3_prepare_v2(db, sql.c_str(), -1, &insert, nullptr);
  return db;
}

void BM_SqliteRawInsertLoop(benchmark::State& state) {
  sqlite3_stmt* insert = nullptr;
  sqlite3* db = open_raw(bench_file("raw"),
                         "?3, ?4, 'maria', 'b2b_pipeline', 1, 0, 0, 3, 3, 72, ''", insert, state);
  if (db == nullptr) return;
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("deal-" + std::to_string(i));
  std::vector<std::uint64_t> versions(ids.size(), 0);
  const auto per_transaction = static_cast<std::size_t>(state.range(0));
  std::size_t n = 0;
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (auto _ : state) {
    const std::size_t i = n % ids.size();
    sqlite3_bind_text(insert, 1, ids[i].data(), static_cast<int>(ids[i].size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(++versions[i]));
    sqlite3_bind_int(insert, 3, 1);
    sqlite3_bind_int64(insert, 4, 1'764'000'000'000);
    if (sqlite3_step(insert) != SQLITE_DONE) state.SkipWithError(sqlite3_errmsg(db));
    sqlite3_reset(insert);
    if (++n % per_transaction == 0) sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("events; N per transaction");
}
BENCHMARK(BM_SqliteRawInsertLoop)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Appends one event per command to 1,000 deals in turn; with flush_every > 0, flush() after
// every flush_every commands (batch mode).
void append_round_robin(benchmark::State& state, SqliteStorage& store, std::size_t flush_every) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("deal-" + std::to_string(i));
  std::vector<std::uint64_t> versions(ids.size(), 0);
  std::size_t n = 0;
  for (auto _ : state) {
    const std::size_t i = n++ % ids.size();
    const Event e = field_event(ids[i], versions[i] + 1);
    if (store.append(ids[i], versions[i], std::span(&e, 1)) != Storage::AppendResult::kOk ||
        (flush_every > 0 && n % flush_every == 0 && !store.flush())) {
      state.SkipWithError(store.last_error().c_str());
      break;
    }
    ++versions[i];
  }
  if (!store.flush()) state.SkipWithError(store.last_error().c_str());
  state.SetItemsProcessed(state.iterations());
}

void BM_SqliteAppendPerCommand(benchmark::State& state) {
  auto opened = SqliteStorage::open(bench_file("append"));
  if (!opened.storage) return state.SkipWithError(opened.error.c_str());
  append_round_robin(state, *opened.storage, 0);
  state.SetLabel("events; one transaction per command");
}
BENCHMARK(BM_SqliteAppendPerCommand)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Batch mode as `salesflow run` uses it: N commands per transaction, flush() after each N.
void BM_SqliteGroupCommit(benchmark::State& state) {
  const auto per_transaction = static_cast<std::uint32_t>(state.range(0));
  auto opened =
      SqliteStorage::open(bench_file("batch"), SqliteOptions{.batch_appends = per_transaction});
  if (!opened.storage) return state.SkipWithError(opened.error.c_str());
  append_round_robin(state, *opened.storage, per_transaction);
  state.SetLabel("events; N commands per transaction");
}
BENCHMARK(BM_SqliteGroupCommit)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

SqliteStorage* g_shared = nullptr;
std::unique_ptr<SqliteStorage> g_owner;

void BM_SqliteConcurrentAppends(benchmark::State& state) {
  if (state.thread_index() == 0) {
    auto opened = SqliteStorage::open(bench_file("group"), SqliteOptions{.group_commit = true});
    g_owner = std::move(opened.storage);
    g_shared = g_owner.get();
  }
  // Google Benchmark starts the threads' loops together, after thread 0's setup.
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(std::string("t")
                      .append(std::to_string(state.thread_index()))
                      .append("-deal-")
                      .append(std::to_string(i)));
  }
  std::vector<std::uint64_t> versions(ids.size(), 0);
  std::size_t n = 0;
  for (auto _ : state) {
    if (g_shared == nullptr) {
      state.SkipWithError("cannot open the store");
      break;
    }
    const std::size_t i = n++ % ids.size();
    const Event e = field_event(ids[i], versions[i] + 1);
    if (g_shared->append(ids[i], versions[i], std::span(&e, 1)) != Storage::AppendResult::kOk) {
      state.SkipWithError("append failed");
      break;
    }
    ++versions[i];
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("events; concurrent commands share transactions");
  if (state.thread_index() == 0) {
    // The other threads may still be in their last append: the store goes in the next setup.
  }
}
BENCHMARK(BM_SqliteConcurrentAppends)->Threads(8)->Unit(benchmark::kMicrosecond)->UseRealTime();

// PostgreSQL: one session per thread (its own connection), one transaction per command, each
// thread on its own 1,000 deals. Needs $SALESFLOW_BENCH_POSTGRES (a conninfo;
// bench/storage/run_postgres_bench.sh starts a cluster and sets it).
void BM_PostgresAppendPerCommand(benchmark::State& state) {
  const char* conninfo = std::getenv("SALESFLOW_BENCH_POSTGRES");
  if (conninfo == nullptr) return state.SkipWithError("SALESFLOW_BENCH_POSTGRES is not set");
  auto opened = PostgresStorage::open(conninfo);
  if (!opened.storage) return state.SkipWithError(opened.error.c_str());
  PostgresStorage& store = *opened.storage;
  static std::atomic<int> run{0};
  const std::string prefix = std::string("r").append(std::to_string(run++)).append("-");
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(prefix + "deal-" + std::to_string(i));
  std::vector<std::uint64_t> versions(ids.size(), 0);
  std::size_t n = 0;
  for (auto _ : state) {
    const std::size_t i = n++ % ids.size();
    const Event e = field_event(ids[i], versions[i] + 1);
    if (store.append(ids[i], versions[i], std::span(&e, 1)) != Storage::AppendResult::kOk) {
      state.SkipWithError(store.last_error().c_str());
      break;
    }
    ++versions[i];
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("events; one session per thread, one transaction per command");
}
BENCHMARK(BM_PostgresAppendPerCommand)
    ->Threads(1)
    ->Threads(8)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(5);

std::shared_ptr<const ProcessDefinition> b2b_definition() {
  static const auto definition =
      load_definition_file(fs::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json")
          .definition;
  return definition;
}

// Writes versions first..last of 100,000 deals into the store at `path` (created by
// SqliteStorage): version 1 created, then field values (the company, as text).
bool write_deals(const std::string& path, int first, int last, benchmark::State& state) {
  sqlite3_stmt* insert = nullptr;
  sqlite3* db = open_raw(
      path, "?3, 1764000000000, 'maria', 'b2b_pipeline', 1, 0, 0, ?4, ?5, ?6, ''", insert, state);
  if (db == nullptr) return false;
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  const auto company = b2b_definition()->find_field("company");
  for (int d = 0; d < 100'000; ++d) {
    const std::string id = "deal-" + std::to_string(d);
    for (int v = first; v <= last; ++v) {
      sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
      sqlite3_bind_int(insert, 2, v);
      sqlite3_bind_int(insert, 3, v == 1 ? 0 : 1);
      sqlite3_bind_int(insert, 4, v == 1 ? 0 : static_cast<int>(to_index(*company)));
      sqlite3_bind_int(insert, 5, v == 1 ? 0 : 1);
      if (v == 1) {
        sqlite3_bind_null(insert, 6);
      } else {
        sqlite3_bind_text(insert, 6, "Nordwind Logistics GmbH", -1, SQLITE_STATIC);
      }
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return true;
}

// Opens the store and recovers every deal, as `salesflow run --store` does at start.
void recover_deals(const std::string& path, benchmark::State& state) {
  auto opened = SqliteStorage::open(path);
  EngineOptions options;
  options.storage = opened.storage.get();
  Engine engine(options);
  engine.register_definition(b2b_definition());
  const std::size_t skipped = engine.recover();
  if (skipped != 0 || engine.instance_count() != 100'000 ||
      engine.instance("deal-99999")->version != 10) {
    state.SkipWithError("recovery did not rebuild every deal");
  }
}

void BM_RecoverWithoutSnapshots(benchmark::State& state) {
  const std::string path = bench_file("recover");
  // 100,000 deals of 10 events: created, then 9 field values (string fields set to text).
  if (!write_deals(path, 1, 10, state)) return;
  for (auto _ : state) recover_deals(path, state);
  state.SetItemsProcessed(state.iterations() * 1'000'000);
  state.SetLabel("1,000,000 events, 100,000 deals; open + scan + replay");
}
BENCHMARK(BM_RecoverWithoutSnapshots)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// The same 1,000,000 events, with a snapshot of every deal at version N (Engine::snapshot_all(),
// as a host would take before a planned stop) and 10 - N events after it. /8: recovery reads
// 100,000 snapshots and 200,000 events; /10: the snapshots alone.
void BM_RecoverWithSnapshots(benchmark::State& state) {
  const int at = static_cast<int>(state.range(0));
  const std::string path = bench_file("recover-snapshots-" + std::to_string(at));
  if (!write_deals(path, 1, at, state)) return;
  {
    auto opened = SqliteStorage::open(path);
    EngineOptions options;
    options.storage = opened.storage.get();
    Engine engine(options);
    engine.register_definition(b2b_definition());
    if (engine.recover() != 0 || engine.snapshot_all() != 100'000) {
      return state.SkipWithError("cannot take the snapshots");
    }
  }
  if (at < 10 && !write_deals(path, at + 1, 10, state)) return;
  for (auto _ : state) recover_deals(path, state);
  state.SetItemsProcessed(state.iterations() * 1'000'000);
  state.SetLabel("1,000,000 events, 100,000 deals; open + 100,000 snapshots + " +
                 std::to_string(10 - at) + " events after each");
}
BENCHMARK(BM_RecoverWithSnapshots)
    ->Arg(8)
    ->Arg(10)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
}  // namespace salesflow

BENCHMARK_MAIN();
