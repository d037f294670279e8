// Snapshots: the format round-trips every member of an instance's state and refuses anything
// damaged, foreign or unfitting; recovery from snapshots plus the events after them equals the
// state before the stop and a pure replay, deadlines included, on memory and on real SQLite files;
// a snapshot that cannot be used falls back to replaying the instance's events.
#include "salesflow/snapshot.hpp"
#include "support/store_dir.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <boost/crc.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "salesflow/engine.hpp"
#include "salesflow/sqlite_storage.hpp"
#include "support/snapshot_scenario.hpp"

namespace salesflow::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

const Timestamp kMonday = *parse_timestamp("2026-11-23T09:00:00Z");

// Replaces the CRC at the end, so that a changed body passes the checksum and must be refused by
// the checks behind it.
std::string with_crc(std::string bytes) {
  bytes.resize(bytes.size() - 4);
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  const std::uint32_t sum = crc.checksum();
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(sum >> (8 * i)));
  return bytes;
}

// One engine on `storage`, with the B2B example and its people.
struct Host {
  explicit Host(Storage& storage, std::uint32_t snapshot_every = 3) {
    grant_b2b_people(directory);
    EngineOptions options;
    options.storage = &storage;
    options.directory = &directory;
    options.snapshot_every = snapshot_every;
    engine = std::make_unique<Engine>(options);
    engine->register_definition(b2b_pipeline());
  }
  InMemoryDirectory directory;
  std::unique_ptr<Engine> engine;
};

std::map<std::string, InstanceState> states(const Engine& engine,
                                            const std::vector<std::string>& ids) {
  std::map<std::string, InstanceState> out;
  for (const std::string& id : ids) {
    const auto state = engine.instance(id);
    EXPECT_TRUE(state) << id;
    if (state) out.emplace(id, *state);
  }
  return out;
}

// The same events in a fresh store that keeps no snapshots of them.
std::unique_ptr<InMemoryStorage> events_only(const Storage& storage) {
  auto copy = std::make_unique<InMemoryStorage>();
  std::map<std::string, std::vector<Event>> by_instance;
  storage.scan([&](const Event& e) { by_instance[e.instance].push_back(e); });
  for (const auto& [id, events] : by_instance) {
    EXPECT_EQ(copy->append(id, 0, events), Storage::AppendResult::kOk);
  }
  return copy;
}

// The checks every store's recovery must pass: the states equal those before the stop and a pure
// replay of all events, and the deadlines to come fire exactly as after a pure replay.
void expect_recovered(Storage& storage, const std::map<std::string, InstanceState>& before,
                      Timestamp now) {
  Host recovered(storage);
  EXPECT_EQ(recovered.engine->recover(), 0u);
  EXPECT_EQ(recovered.engine->instance_count(), before.size());
  for (const auto& [id, state] : before) {
    const auto after = recovered.engine->instance(id);
    ASSERT_TRUE(after) << id;
    EXPECT_TRUE(*after == state) << id;
    EXPECT_TRUE(*after == replay(*b2b_pipeline(), storage.load(id))) << id;
  }
  auto plain = events_only(storage);
  Host replayed(*plain, 0);
  EXPECT_EQ(replayed.engine->recover(), 0u);
  const Timestamp later = now + 24h * 14;
  const std::vector<Event> fired = recovered.engine->advance_to(later);
  EXPECT_EQ(fired, replayed.engine->advance_to(later));
  EXPECT_THAT(fired, Not(IsEmpty())) << "the scenario leaves deadlines pending";
  for (const auto& [id, state] : before) {
    EXPECT_TRUE(*recovered.engine->instance(id) == *replayed.engine->instance(id)) << id;
  }
}

// --- The format --------------------------------------------------------------------------

class SnapshotFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    Host host(storage_, 0);
    ids_ = B2bScenario(*host.engine).run(now_);
    before_ = states(*host.engine, ids_);
  }
  InMemoryStorage storage_;
  std::vector<std::string> ids_;
  std::map<std::string, InstanceState> before_;
  Timestamp now_ = kMonday;
};

TEST_F(SnapshotFormat, EveryStateRoundTrips) {
  bool approvals = false, assignments = false, lost = false, team = false, paused = false,
       escalated = false, met = false, hold = false;
  for (const auto& [id, state] : before_) {
    const std::string bytes = encode_snapshot(id, state);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), kSnapshotFormat);
    DecodedSnapshot decoded = decode_snapshot(*b2b_pipeline(), id, bytes);
    ASSERT_TRUE(decoded.ok()) << id << ": " << decoded.error();
    EXPECT_TRUE(decoded.state() == state) << id;
    approvals |= !state.approvals().empty();
    assignments |= !state.assignments().empty();
    lost |= !state.lost_reason().empty();
    team |= !state.team_required().empty();
    hold |= state.status == InstanceStatus::kOnHold;
    for (const StandardLife& life : state.standards()) {
      paused |= life.paused();
      escalated |= life.phase() == StandardPhase::kEscalated;
      met |= life.phase() == StandardPhase::kMet;
    }
  }
  // The scenario covers what it promises.
  EXPECT_TRUE(approvals && assignments && lost && team && paused && escalated && met && hold);
  EXPECT_EQ(before_.at("reopened").status, InstanceStatus::kOpen);
  EXPECT_EQ(before_.at("lost").status, InstanceStatus::kLost);
}

TEST_F(SnapshotFormat, EveryTruncationAndEveryFlippedBitIsRefused) {
  const std::string bytes = encode_snapshot("closing", before_.at("closing"));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_snapshot(*b2b_pipeline(), "closing", bytes.substr(0, n)).ok()) << n;
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_FALSE(decode_snapshot(*b2b_pipeline(), "closing", damaged).ok()) << i << ":" << bit;
    }
  }
  EXPECT_FALSE(decode_snapshot(*b2b_pipeline(), "closing", bytes + "x").ok());
  EXPECT_FALSE(decode_snapshot(*b2b_pipeline(), "closing", with_crc(bytes + "xxxx")).ok());
}

TEST_F(SnapshotFormat, AForeignOrUnfittingSnapshotIsRefusedWithAReason) {
  const std::string bytes = encode_snapshot("closing", before_.at("closing"));
  std::string newer = bytes;
  newer[0] = static_cast<char>(kSnapshotFormat + 1);
  EXPECT_THAT(decode_snapshot(*b2b_pipeline(), "closing", with_crc(newer)).error(),
              HasSubstr("format version is 2"));
  EXPECT_THAT(decode_snapshot(*b2b_pipeline(), "deal-9", bytes).error(),
              HasSubstr("another instance"));
  // The same id and version with another field list (a definition changed without a new
  // version): refused, not read into the wrong fields.
  nlohmann::json doc = nlohmann::json::parse(
      std::ifstream(fs::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json"));
  doc["fields"].push_back({{"id", "extra"}, {"label", "Extra"}, {"type", "string"}});
  const auto changed = load_definition(doc.dump());
  ASSERT_TRUE(changed.ok());
  EXPECT_THAT(decode_snapshot(*changed.definition, "closing", bytes).error(),
              HasSubstr("field count"));
  doc["version"] = 2;
  const auto v2 = load_definition(doc.dump());
  ASSERT_TRUE(v2.ok());
  EXPECT_THAT(decode_snapshot(*v2.definition, "closing", bytes).error(),
              HasSubstr("another definition"));
  EXPECT_THAT(decode_snapshot(*b2b_pipeline(), "closing", "").error(), HasSubstr("empty"));
}

TEST(StandardLifeRestore, RefusesLivesNoTransitionsReach) {
  using P = StandardPhase;
  const auto saved = [](P phase, bool paused, std::uint8_t escalations) {
    return StandardLife::Saved{0, Timestamp{}, phase, paused, escalations};
  };
  EXPECT_TRUE(StandardLife::restore(saved(P::kEscalated, false, 2)));
  EXPECT_TRUE(StandardLife::restore(saved(P::kMet, false, 1)));
  EXPECT_TRUE(StandardLife::restore(saved(P::kAtRisk, true, 0)));
  EXPECT_FALSE(StandardLife::restore(saved(P::kEscalated, false, 0)));
  EXPECT_FALSE(StandardLife::restore(saved(P::kRunning, false, 1)));
  EXPECT_FALSE(StandardLife::restore(saved(P::kMet, true, 0)));
  EXPECT_FALSE(StandardLife::restore(saved(P::kWaiting, true, 0)));
  EXPECT_FALSE(StandardLife::restore(saved(static_cast<P>(7), false, 0)));
}

// Counted time comes from the file: a value the packed field cannot hold is refused, the largest
// that it can is kept.
TEST(StandardLifeRestore, RefusesCountedTimeThatDoesNotFit) {
  const auto with_counted = [](std::int64_t ms) {
    return StandardLife::restore(StandardLife::Saved{ms, kMonday, StandardPhase::kMet, false, 0});
  };
  for (const std::int64_t fits : {StandardLife::kMaxCountedMs, std::int64_t{0}}) {
    const auto life = with_counted(fits);
    ASSERT_TRUE(life) << fits;
    EXPECT_EQ(life->saved().counted_ms, fits);
    EXPECT_EQ(life->phase(), StandardPhase::kMet);
  }
  EXPECT_EQ(StandardLife::kMaxCountedMs, (std::int64_t{1} << 51) - 1);
  EXPECT_FALSE(with_counted(StandardLife::kMaxCountedMs + 1));
  // Counted time only grows from 0: a negative one would put the next milestone ~71,000 years
  // away, and a calendar would walk every day to it.
  EXPECT_FALSE(with_counted(-1));
  EXPECT_FALSE(with_counted(-(std::int64_t{1} << 51)));
  EXPECT_FALSE(with_counted(std::numeric_limits<std::int64_t>::max()));
  EXPECT_FALSE(with_counted(std::numeric_limits<std::int64_t>::min()));
}

// The same through a file: the largest counted time round-trips; one more, with a valid checksum,
// is refused.
TEST_F(SnapshotFormat, RefusesCountedTimeThatDoesNotFit) {
  const auto varint = [](std::uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
    return out;
  };
  InstanceState state = before_.at("closing");
  ASSERT_FALSE(state.standards().empty());
  state.standards().back() = *StandardLife::restore(StandardLife::Saved{
      StandardLife::kMaxCountedMs, kMonday, StandardPhase::kCancelled, false, 0});
  const std::string bytes = encode_snapshot("closing", state);
  DecodedSnapshot decoded = decode_snapshot(*b2b_pipeline(), "closing", bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_TRUE(decoded.state() == state);
  // Zigzag: 2 * kMaxCountedMs, and 2 * (kMaxCountedMs + 1); both take 8 bytes.
  const std::string largest = varint(2 * static_cast<std::uint64_t>(StandardLife::kMaxCountedMs));
  const std::string beyond =
      varint(2 * (static_cast<std::uint64_t>(StandardLife::kMaxCountedMs) + 1));
  ASSERT_EQ(largest.size(), beyond.size());
  const std::size_t at = bytes.find(largest);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(largest, at + 1), std::string::npos);
  std::string hostile = bytes;
  hostile.replace(at, largest.size(), beyond);
  EXPECT_THAT(decode_snapshot(*b2b_pipeline(), "closing", with_crc(hostile)).error(),
              HasSubstr("is not possible"));
}

// Every instant a snapshot names must be one a command can carry (a calendar walks the days
// between two of them): the extremes round-trip, one millisecond beyond is refused.
TEST_F(SnapshotFormat, RefusesInstantsNoCommandCanCarry) {
  EXPECT_EQ(parse_timestamp("0000-01-01T00:00:00+23:59"), kEarliestTimestamp);
  EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59.999-23:59"), kLatestTimestamp);
  for (const Timestamp edge : {kEarliestTimestamp, kLatestTimestamp}) {
    InstanceState state = before_.at("closing");
    state.stage_entered_at = edge;
    DecodedSnapshot decoded =
        decode_snapshot(*b2b_pipeline(), "closing", encode_snapshot("closing", state));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_TRUE(decoded.state() == state);
  }
  // A field's timestamp is the host's value, not an instant the engine counts from: any fits.
  for (const Timestamp value : {Timestamp::min(), Timestamp::max()}) {
    InstanceState state = before_.at("closing");
    const auto field = b2b_pipeline()->find_field("contract_signed_at");
    ASSERT_TRUE(field.has_value());
    state.fields()[to_index(*field)] = FieldValue(value);
    DecodedSnapshot decoded =
        decode_snapshot(*b2b_pipeline(), "closing", encode_snapshot("closing", state));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_TRUE(decoded.state() == state);
  }
  const std::chrono::milliseconds one(1);
  for (const Timestamp beyond : {kEarliestTimestamp - one, kLatestTimestamp + one}) {
    InstanceState state = before_.at("closing");
    state.created_at = beyond;
    EXPECT_THAT(
        decode_snapshot(*b2b_pipeline(), "closing", encode_snapshot("closing", state)).error(),
        HasSubstr("outside the years 0000 to 9999"));
    state = before_.at("closing");
    ASSERT_FALSE(state.standards().empty());
    const StandardLife::Saved running{0, beyond, StandardPhase::kRunning, false, 0};
    state.standards().front() = *StandardLife::restore(running);
    EXPECT_THAT(
        decode_snapshot(*b2b_pipeline(), "closing", encode_snapshot("closing", state)).error(),
        HasSubstr("outside the years 0000 to 9999"));
  }
}

// --- Recovery in memory ------------------------------------------------------------------

TEST(SnapshotRecovery, InMemoryFromSnapshotsAndTheEventsAfterThem) {
  InMemoryStorage storage;
  Timestamp now = kMonday;
  std::map<std::string, InstanceState> before;
  {
    Host host(storage);
    before = states(*host.engine, B2bScenario(*host.engine).run(now));
  }
  std::size_t older = 0;
  for (const auto& [id, state] : before) {
    const auto snapshot = storage.snapshot(id);
    ASSERT_TRUE(snapshot) << id;
    EXPECT_GE(snapshot->version, 3u) << "taken when a commit crossed a multiple of 3";
    older += snapshot->version < state.version;
  }
  EXPECT_GT(older, 0u) << "some snapshots are older than the latest events";
  expect_recovered(storage, before, now);
}

TEST(SnapshotRecovery, SnapshotAllSavesEveryInstanceAtItsVersion) {
  InMemoryStorage storage;
  Timestamp now = kMonday;
  Host host(storage, 0);
  const auto before = states(*host.engine, B2bScenario(*host.engine).run(now));
  EXPECT_FALSE(storage.snapshot("lead")) << "snapshot_every 0 takes none";
  EXPECT_EQ(host.engine->snapshot_all(), before.size());
  for (const auto& [id, state] : before) EXPECT_EQ(storage.snapshot(id)->version, state.version);
  expect_recovered(storage, before, now);
}

TEST(SnapshotRecovery, UnusableSnapshotsFallBackToReplayingTheEvents) {
  InMemoryStorage storage;
  Timestamp now = kMonday;
  std::map<std::string, InstanceState> before;
  {
    Host host(storage, 0);
    before = states(*host.engine, B2bScenario(*host.engine).run(now));
    host.engine->snapshot_all();
  }
  // Damaged bytes; a definition version nobody registered; another instance's snapshot; one
  // ahead of the log; one whose stated version is not its content's.
  auto damaged = *storage.snapshot("closing");
  damaged.data[damaged.data.size() / 2] ^= 0x10;
  storage.put_snapshot(damaged);
  auto unregistered = *storage.snapshot("team");
  unregistered.definition_version = 7;
  storage.put_snapshot(unregistered);
  auto foreign = *storage.snapshot("lost");
  foreign.instance = "reopened";
  storage.put_snapshot(foreign);
  auto ahead = *storage.snapshot("hold");
  ahead.version += 5;
  storage.put_snapshot(ahead);
  auto stale = *storage.snapshot("late");
  stale.version -= 1;
  storage.put_snapshot(stale);
  expect_recovered(storage, before, now);
}

TEST(SnapshotRecovery, AnInstanceOfADefinitionNotRegisteredIsSkippedWithAllItsEvents) {
  InMemoryStorage storage;
  Timestamp now = kMonday;
  std::size_t events = 0;
  {
    Host host(storage, 2);
    B2bScenario(*host.engine).run(now);
    events = storage.event_count();
  }
  Engine bare(EngineOptions{&storage, nullptr, {}});
  EXPECT_EQ(bare.recover(), events);
  EXPECT_EQ(bare.instance_count(), 0u);
}

// A store whose snapshot saving fails: commands are answered as if snapshots did not exist.
class FailingSnapshots final : public Storage {
 public:
  AppendResult append(std::string_view instance, std::uint64_t expected,
                      std::span<const Event> events) override {
    return inner.append(instance, expected, events);
  }
  std::vector<Event> load(std::string_view instance) const override { return inner.load(instance); }
  void scan(const std::function<void(const Event&)>& visit) const override { inner.scan(visit); }
  bool save_snapshots(std::span<const Snapshot> snapshots) override {
    tries += snapshots.size();
    if (tries % 2 == 0) throw std::runtime_error("disk on fire");
    return false;
  }
  InMemoryStorage inner;
  std::size_t tries = 0;
};

TEST(SnapshotRecovery, AFailingSnapshotNeverFailsACommand) {
  FailingSnapshots storage;
  Timestamp now = kMonday;
  std::map<std::string, InstanceState> before;
  {
    Host host(storage, 1);
    before = states(*host.engine, B2bScenario(*host.engine).run(now));
    EXPECT_EQ(host.engine->snapshot_all(), 0u);
  }
  EXPECT_GT(storage.tries, 10u);
  Host recovered(storage);
  EXPECT_EQ(recovered.engine->recover(), 0u);
  for (const auto& [id, state] : before) EXPECT_TRUE(*recovered.engine->instance(id) == state);
}

// --- Recovery on SQLite files ----------------------------------------------------------------

class SqliteSnapshots : public StoreDirTest {
 protected:
  std::unique_ptr<SqliteStorage> open() {
    auto opened = SqliteStorage::open(path_);
    EXPECT_TRUE(opened.storage) << opened.error;
    return std::move(opened.storage);
  }

  // Runs the scenario on a store on the file and stops.
  std::map<std::string, InstanceState> run_scenario(std::uint32_t snapshot_every) {
    auto store = open();
    Host host(*store, snapshot_every);
    return states(*host.engine, B2bScenario(*host.engine).run(now_));
  }

  std::int64_t count(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    const std::int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }

  Timestamp now_ = kMonday;
};

TEST_F(SqliteSnapshots, RecoveryFromSnapshotsEqualsTheStateBeforeTheStopAndAReplay) {
  const auto before = run_scenario(3);
  EXPECT_EQ(count("SELECT count(*) FROM snapshots"), static_cast<std::int64_t>(before.size()));
  EXPECT_GT(count("SELECT count(*) FROM snapshots s WHERE s.version < (SELECT max(version) FROM "
                  "events e WHERE e.instance = s.instance)"),
            0)
      << "some snapshots are older than the latest events";
  auto store = open();
  expect_recovered(*store, before, now_);
}

TEST_F(SqliteSnapshots, RecoveryReadsOnlyTheEventsAfterTheSnapshot) {
  const auto before = run_scenario(3);
  // Without the events a snapshot covers, recovery still gives every state: it never read them.
  raw_sql(
      "DELETE FROM events WHERE version < (SELECT s.version FROM snapshots s WHERE s.instance = "
      "events.instance)");
  ASSERT_GT(count("SELECT count(*) FROM snapshots"), 0);
  auto store = open();
  Host recovered(*store);
  EXPECT_EQ(recovered.engine->recover(), 0u);
  for (const auto& [id, state] : before) {
    EXPECT_TRUE(*recovered.engine->instance(id) == state) << id;
  }
}

TEST_F(SqliteSnapshots, DamagedOrUnregisteredOrAheadSnapshotsFallBackToTheEvents) {
  const auto before = run_scenario(3);
  raw_sql(R"sql(
    UPDATE snapshots SET data = substr(data, 1, 20) WHERE instance = 'closing';
    UPDATE snapshots SET data = x'02' || substr(data, 2) WHERE instance = 'lead';
    UPDATE snapshots SET definition_version = 9 WHERE instance = 'team';
    UPDATE snapshots SET version = version + 100 WHERE instance = 'hold';
    UPDATE snapshots SET data = 'not a blob' WHERE instance = 'late';
    UPDATE snapshots SET data = (SELECT data FROM snapshots WHERE instance = 'lost')
      WHERE instance = 'reopened';)sql");
  auto store = open();
  expect_recovered(*store, before, now_);
  EXPECT_EQ(store->last_error(), "");
}

TEST_F(SqliteSnapshots, SnapshotAllThenRecoverAndANewerSnapshotIsNeverReplacedByAnOlderOne) {
  const auto before = run_scenario(0);
  EXPECT_EQ(count("SELECT count(*) FROM snapshots"), 0);
  {
    auto store = open();
    Host host(*store, 0);
    ASSERT_EQ(host.engine->recover(), 0u);
    EXPECT_EQ(host.engine->snapshot_all(), before.size());
    const Storage::Snapshot old{"lead", 1, "b2b_pipeline", 1, "old"};
    EXPECT_TRUE(store->save_snapshots(std::span(&old, 1)));
  }
  EXPECT_EQ(count("SELECT version FROM snapshots WHERE instance = 'lead'"),
            static_cast<std::int64_t>(before.at("lead").version));
  auto store = open();
  expect_recovered(*store, before, now_);
}

TEST_F(SqliteSnapshots, SnapshotsTakenWhileCommandsRunFromManyThreadsRecoverExactly) {
  std::map<std::string, InstanceState> before;
  {
    auto opened = SqliteStorage::open(path_, SqliteOptions{.group_commit = true});
    ASSERT_TRUE(opened.storage) << opened.error;
    Host host(*opened.storage, 2);
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int d = 0; d < 10; ++d) {
          const std::string id =
              std::string("t").append(std::to_string(t)).append("-").append(std::to_string(d));
          Command c;
          c.type = CommandType::kCreate;
          c.instance = id;
          c.actor = "maria";
          c.definition_id = "b2b_pipeline";
          c.fields = {{"company", std::string("Acme")}};
          EXPECT_TRUE(host.engine->execute(c, kMonday).ok());
          c.type = CommandType::kSetFields;
          for (int i = 0; i < 7; ++i) {
            c.fields = {{"company", "Acme " + std::to_string(i)}};
            const CommandResult r = host.engine->execute(c, kMonday + std::chrono::minutes(i));
            EXPECT_TRUE(r.ok()) << (r.rejection ? r.rejection->message : "");
          }
        }
      });
    }
    std::thread snapshots([&] {
      while (!done) host.engine->snapshot_all();
    });
    for (std::thread& t : threads) t.join();
    done = true;
    snapshots.join();
    for (int t = 0; t < 4; ++t) {
      for (int d = 0; d < 10; ++d) {
        const std::string id =
            std::string("t").append(std::to_string(t)).append("-").append(std::to_string(d));
        before.emplace(id, *host.engine->instance(id));
      }
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM snapshots"), 40);
  auto store = open();
  Host recovered(*store);
  EXPECT_EQ(recovered.engine->recover(), 0u);
  for (const auto& [id, state] : before) {
    EXPECT_TRUE(*recovered.engine->instance(id) == state) << id;
    EXPECT_TRUE(*recovered.engine->instance(id) == replay(*b2b_pipeline(), store->load(id))) << id;
  }
}

TEST_F(SqliteSnapshots, AVersion2StoreIsMigratedTo3AndKeepsItsData) {
  // A schema-2 store as salesflow 2 wrote it: the scenario's events, a key and a mark.
  std::map<std::string, InstanceState> before = run_scenario(0);
  raw_sql(
      "DROP TABLE snapshots; PRAGMA user_version = 2; INSERT INTO idempotency VALUES ('k', "
      "'lead', 1, 1, 'fp', ''); INSERT INTO delivered VALUES ('lead', 1);");
  const std::int64_t events = count("SELECT count(*) FROM events");
  auto store = open();
  EXPECT_EQ(count("PRAGMA user_version"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM events"), events);
  EXPECT_EQ(count("SELECT count(*) FROM snapshots"), 0);
  EXPECT_EQ(store->find_key("k")->fingerprint, "fp");
  std::size_t undelivered = 0;
  store->scan_undelivered([&](const Event&) { ++undelivered; });
  EXPECT_EQ(undelivered, static_cast<std::size_t>(events - 1));
  expect_recovered(*store, before, now_);
  Host host(*store, 0);
  ASSERT_EQ(host.engine->recover(), 0u);
  EXPECT_EQ(host.engine->snapshot_all(), before.size());
}

TEST_F(SqliteSnapshots, AStoreMissingTheSnapshotsTableIsDamaged) {
  { auto store = open(); }
  raw_sql("DROP TABLE snapshots");
  const auto opened = SqliteStorage::open(path_);
  EXPECT_FALSE(opened.storage);
  EXPECT_THAT(opened.error, HasSubstr("no such table: snapshots"));
}

TEST_F(SqliteSnapshots, ARecoveryScanUsesTheIndexesAndReadsNoEventBeforeASnapshot) {
  { auto store = open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  // The statement the store runs, asked for its plan: no full scan of the events table.
  const std::string sql =
      "EXPLAIN QUERY PLAN WITH RECURSIVE ids(instance) AS (SELECT (SELECT min(instance) FROM "
      "events) UNION ALL SELECT (SELECT min(n.instance) FROM events n WHERE n.instance > "
      "ids.instance) FROM ids WHERE ids.instance IS NOT NULL) SELECT e.instance, s.data, (SELECT "
      "max(m.version) FROM events m WHERE m.instance = ids.instance) FROM ids LEFT JOIN snapshots "
      "s ON s.instance = ids.instance LEFT JOIN events e ON e.instance = ids.instance AND "
      "e.version > coalesce(s.version, 0) WHERE ids.instance IS NOT NULL";
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
  std::string plan;
  while (sqlite3_step(s) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    plan += "\n";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_THAT(plan, Not(HasSubstr("SCAN e"))) << plan;
  EXPECT_THAT(plan, Not(HasSubstr("SCAN events"))) << plan;
  EXPECT_THAT(plan, HasSubstr("(instance=? AND version>?)")) << plan;
}

}  // namespace
}  // namespace salesflow::testing
