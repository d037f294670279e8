// Out of memory in the middle of a command: for every allocation a step of a B2B deal's life
// makes, a run where exactly that allocation fails. Whatever it hits (deciding, the storage's
// append, the index, apply(), the deadline queue, the outbox), afterwards
//   - the engine's state of every instance is the fold of its stored log (memory is neither
//     behind the log nor beside it with a half-applied command), and
//   - retrying the step when it was not stored, then finishing the script, stores exactly the log
//     of a run without failures and ends in the same states (no deadline was lost: the
//     milestones the clock brings later are all there).
//
// Its own executable: it replaces the global operator new (a per-thread countdown; off unless a
// test arms it), which must not touch the other test programs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <libpq-fe.h>

#include "salesflow/engine.hpp"
#include "salesflow/postgres_storage.hpp"
#include "salesflow/sqlite_storage.hpp"
#include "support/snapshot_scenario.hpp"
#include "support/store_dir.hpp"

namespace {
// Allocations left before one fails; negative: none fails.
thread_local long g_allocations_left = -1;
}  // namespace

// GCC sees free() of what its operator new returned; these are that pair's replacements.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_allocations_left >= 0 && g_allocations_left-- == 0) throw std::bad_alloc();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (g_allocations_left >= 0 && g_allocations_left-- == 0) throw std::bad_alloc();
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new[](std::size_t size, std::align_val_t align) {
  return ::operator new(size, align);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return ::operator new(size, std::nothrow);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace salesflow::testing {
namespace {

using namespace std::chrono_literals;

// Fails the `n`th allocation (0: the first) from here until disarmed.
struct FailAllocation {
  explicit FailAllocation(long n) { g_allocations_left = n; }
  ~FailAllocation() { g_allocations_left = -1; }
  FailAllocation(const FailAllocation&) = delete;
  FailAllocation& operator=(const FailAllocation&) = delete;
  bool fired() const { return g_allocations_left < 0; }
};

class Counter final : public EventListener {
 public:
  void on_event(const Event&) override { ++events; }
  std::size_t events = 0;
};

// One engine on an in-memory store, with a listener (so the outbox is in play).
struct World {
  World() {
    grant_b2b_people(directory);
    EngineOptions options;
    options.storage = &storage;
    options.directory = &directory;
    options.listeners.push_back(&counter);
    engine.emplace(options);
    engine->register_definition(b2b_pipeline());
  }
  InMemoryStorage storage;
  InMemoryDirectory directory;
  Counter counter;
  std::optional<Engine> engine;
  Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
};

// A step: a command, or the clock moving on (`command` unset).
struct Step {
  std::optional<Command> command;
  std::chrono::milliseconds later{};
};

Command make(CommandType type, const std::string& id, const std::string& actor = "maria",
             const std::string& target = "") {
  Command c;
  c.type = type;
  c.instance = id;
  c.actor = actor;
  c.target = target;
  return c;
}

// Two deals: one through three gates (fields, items, an approval, standards met and started on
// the way), one left to its deadlines; hold and resume; the clock bringing milestones.
std::vector<Step> script() {
  std::vector<Step> steps;
  const auto add = [&](Command c) { steps.push_back({std::move(c), 7min}); };
  for (const char* id : {"deal", "late"}) {
    Command create = make(CommandType::kCreate, id);
    create.definition_id = "b2b_pipeline";
    create.fields = {{"company", std::string("Acme")},         {"industry", std::string("retail")},
                     {"company_size", std::string("small")},   {"urgency", std::string("high")},
                     {"purchases_last_year", std::int64_t{2}}, {"average_order_value", 1250.75}};
    add(create);
  }
  add(make(CommandType::kCheckItem, "deal", "maria", "lead_cleaned"));
  add(make(CommandType::kCheckItem, "deal", "maria", "grade_verified"));
  add(make(CommandType::kAdvance, "deal", "maria", "needs_diagnosis"));
  Command set = make(CommandType::kSetFields, "deal");
  set.fields = {{"decision_maker", std::string("CFO")},
                {"needs_summary", std::string("https://wiki/acme")}};
  add(set);
  for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
    add(make(CommandType::kCheckItem, "deal", "maria", item));
  }
  add(make(CommandType::kAdvance, "deal", "maria", "solution_matching"));
  set.fields = {{"solution_type", std::string("standard")},
                {"solution_modules", std::vector<std::string>{"crm", "billing"}},
                {"deal_value", 20000.5}};
  add(set);
  add(make(CommandType::kCheckItem, "deal", "maria", "proposal_sent"));
  add(make(CommandType::kAdvance, "deal", "maria", "deal_closing"));
  add(make(CommandType::kApprove, "deal", "lena", "legal_pre_review"));
  Command hold = make(CommandType::kHold, "deal");
  hold.text = "budget round";
  add(hold);
  steps.push_back({std::nullopt, 30h});  // milestones of "late" fall due
  add(make(CommandType::kResume, "deal"));
  steps.push_back({std::nullopt, 24h * 5});
  return steps;
}

const std::vector<std::string> kIds = {"deal", "late"};

// Runs `step`; true when it threw std::bad_alloc.
bool run(World& w, const Step& step) {
  w.now += step.later;
  try {
    if (step.command) {
      const CommandResult r = w.engine->execute(*step.command, w.now);
      EXPECT_TRUE(r.ok()) << to_string(step.command->type) << " " << step.command->instance << ": "
                          << (r.rejection ? r.rejection->message : "");
    } else {
      w.engine->advance_to(w.now);
    }
  } catch (const std::bad_alloc&) {
    return true;
  }
  return false;
}

std::size_t stored_events(const World& w) {
  std::size_t n = 0;
  for (const std::string& id : kIds) n += w.storage.load(id).size();
  return n;
}

// Every instance in memory is the fold of its stored log (or absent from both).
void expect_memory_follows_storage(const World& w, const std::string& where) {
  for (const std::string& id : kIds) {
    const std::vector<Event> log = w.storage.load(id);
    const std::optional<InstanceState> live = w.engine->instance(id);
    if (log.empty()) {
      EXPECT_TRUE(!live || !live->exists()) << where << ": " << id << " exists only in memory";
      continue;
    }
    ASSERT_TRUE(live.has_value()) << where << ": " << id << " is stored but not in memory";
    EXPECT_TRUE(*live == replay(*b2b_pipeline(), log))
        << where << ": " << id << " in memory (version " << live->version
        << ") is not the fold of its " << log.size() << " stored events";
  }
}

TEST(AllocationFailure, EveryFailedAllocationLeavesMemoryFollowingTheStorage) {
  const std::vector<Step> steps = script();
  World reference;
  for (const Step& step : steps) ASSERT_FALSE(run(reference, step));
  std::vector<std::vector<Event>> reference_logs;
  for (const std::string& id : kIds) reference_logs.push_back(reference.storage.load(id));
  ASSERT_GT(reference_logs[1].size(), 3u) << "the script must let milestones fire";

  std::size_t failures = 0, stored_then_failed = 0;
  for (std::size_t at = 0; at < steps.size(); ++at) {
    for (long n = 0;; ++n) {
      ASSERT_LT(n, 100'000) << "step " << at << " never completes";
      if (std::getenv("SALESFLOW_ALLOC_TRACE"))
        std::fprintf(stderr, "step %zu allocation %ld\n", at, n);
      World w;
      for (std::size_t i = 0; i < at; ++i) ASSERT_FALSE(run(w, steps[i]));
      const std::size_t before = stored_events(w);
      bool threw = false, fired = false;
      {
        FailAllocation fail(n);
        threw = run(w, steps[at]);
        fired = fail.fired();
      }
      if (!fired) {
        EXPECT_FALSE(threw);
        break;  // the step made fewer than n + 1 allocations: every one has failed once
      }
      const std::string where = "step " + std::to_string(at) + ", allocation " + std::to_string(n);
      if (threw) ++failures;
      expect_memory_follows_storage(w, where);
      // A caller that did not see its command stored retries it (the clock: ticks again).
      const bool stored = stored_events(w) > before;
      if (threw && stored) ++stored_then_failed;
      if (threw && (!stored || !steps[at].command)) {
        ASSERT_FALSE(run(w, {steps[at].command, {}})) << where;  // at the same time
      }
      for (std::size_t i = at + 1; i < steps.size(); ++i) ASSERT_FALSE(run(w, steps[i])) << where;
      for (std::size_t k = 0; k < kIds.size(); ++k) {
        const std::vector<Event> log = w.storage.load(kIds[k]);
        EXPECT_EQ(log.size(), reference_logs[k].size()) << where << ": " << kIds[k];
        EXPECT_TRUE(log == reference_logs[k]) << where << ": " << kIds[k] << "'s log differs";
        EXPECT_TRUE(w.engine->instance(kIds[k]) == reference.engine->instance(kIds[k]))
            << where << ": " << kIds[k];
      }
      if (::testing::Test::HasFailure()) return;  // one failing run says it all
    }
  }
  // The loop reached allocations after the storage's append, not only before it.
  EXPECT_GT(stored_then_failed, 0u);
  EXPECT_GT(failures, steps.size());
}

// A store's append is all or nothing, also when it throws. (vector::insert of copies is not: when
// it reallocates and a copy throws, the elements it had moved to the new buffer are lost.) Logs of
// 1, 2, 4 and 8 events (an in-memory log with no room left) get 1 or 3 events holding lists on the
// heap, so that appends reallocate and copies and encodings throw. `open` makes an empty store;
// `settle` (for a batching store: its flush) runs unarmed after the append, before the log is
// read back.
void expect_appends_all_or_nothing(const std::function<std::unique_ptr<Storage>()>& open,
                                   const std::function<void(Storage&)>& settle) {
  const auto event = [](std::uint64_t version) {
    Event e;
    e.instance = "deal-with-a-long-id-on-the-heap";
    e.version = version;
    e.type = EventType::kFieldSet;
    e.actor = "someone-with-a-long-name-too";
    e.definition_id = "b2b_pipeline";
    // A list: the stores encode it as JSON text, with allocations between rows.
    e.value = std::vector<std::string>{std::string(40, 'v'), std::string(version * 30, '"')};
    return e;
  };
  std::size_t failed = 0;
  for (const std::uint64_t before : {1, 2, 4, 8}) {
    for (const std::uint64_t adding : {1, 3}) {
      std::vector<Event> more;
      for (std::uint64_t v = before + 1; v <= before + adding; ++v) more.push_back(event(v));
      for (long n = 0;; ++n) {
        ASSERT_LT(n, 1000);
        const std::unique_ptr<Storage> storage = open();
        for (std::uint64_t v = 1; v <= before; ++v) {
          const Event e = event(v);
          ASSERT_EQ(storage->append(e.instance, v - 1, {&e, 1}), Storage::AppendResult::kOk);
        }
        settle(*storage);
        const std::vector<Event> stored = storage->load(more.front().instance);
        bool threw = false, fired = false;
        {
          FailAllocation fail(n);
          try {
            EXPECT_EQ(storage->append(more.front().instance, before, more),
                      Storage::AppendResult::kOk);
          } catch (const std::bad_alloc&) {
            threw = true;
          }
          fired = fail.fired();
        }
        if (!fired) break;
        ASSERT_TRUE(threw);
        ++failed;
        settle(*storage);
        EXPECT_TRUE(storage->load(more.front().instance) == stored)
            << before << " events, adding " << adding << ", allocation " << n
            << " failed: the log changed";
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
  EXPECT_GT(failed, 8u);
}

TEST(AllocationFailure, InMemoryStorageAppendIsAllOrNothing) {
  expect_appends_all_or_nothing([] { return std::make_unique<InMemoryStorage>(); },
                                [](Storage&) {});
}

class SqliteAllocationFailure : public StoreDirTest, public ::testing::WithParamInterface<int> {};

// On a real file, per append and in batches (flushed before the log is read back): encoding a
// list between rows may throw, and the batch's bookkeeping after the rows must not.
TEST_P(SqliteAllocationFailure, AppendIsAllOrNothing) {
  int opened = 0;
  SqliteOptions options;
  options.batch_appends = static_cast<std::uint32_t>(GetParam());
  expect_appends_all_or_nothing(
      [&] {
        const std::string path = (dir_ / ("store-" + std::to_string(opened++))).string();
        auto result = SqliteStorage::open(path, options);
        EXPECT_TRUE(result.storage) << result.error;
        return std::unique_ptr<Storage>(std::move(result.storage));
      },
      [](Storage& storage) { EXPECT_TRUE(static_cast<SqliteStorage&>(storage).flush()); });
}

INSTANTIATE_TEST_SUITE_P(PerAppendAndBatched, SqliteAllocationFailure, ::testing::Values(0, 100));

// On a real PostgreSQL server (the CTest fixture "postgres" starts one and names it in
// SALESFLOW_TEST_POSTGRES): building the statement's parameters may throw, and the transaction
// must then leave the log as it was. libpq allocates with malloc, which this program leaves alone.
TEST(AllocationFailure, PostgresStorageAppendIsAllOrNothing) {
  const char* base = std::getenv("SALESFLOW_TEST_POSTGRES");
  if (base == nullptr) {
    if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") {
      FAIL() << "SALESFLOW_TEST_POSTGRES is not set under CI (run through ctest)";
    }
    GTEST_SKIP() << "SALESFLOW_TEST_POSTGRES is not set: no PostgreSQL server to test against";
  }
  const std::string conninfo = std::string(base) + " dbname=postgres";
  const auto sql = [&](const char* text) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, text);
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
  };
  sql("DROP DATABASE IF EXISTS alloc_failure");
  sql("CREATE DATABASE alloc_failure");
  const std::string database = std::string(base) + " dbname=alloc_failure";
  expect_appends_all_or_nothing(
      [&] {
        // A store of its own for every attempt: an empty schema, made anew.
        PGconn* conn = PQconnectdb(database.c_str());
        EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
        PGresult* r = PQexec(conn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
        PQclear(r);
        PQfinish(conn);
        auto result = PostgresStorage::open(database);
        EXPECT_TRUE(result.storage) << result.error;
        return std::unique_ptr<Storage>(std::move(result.storage));
      },
      [](Storage&) {});
}

}  // namespace
}  // namespace salesflow::testing
