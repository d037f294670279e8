// SqliteStorage: one connection guarded by a mutex, prepared statements kept for the life of the
// store, appends as leader/follower group commits. Schema: docs/storage.md (keep in step).
#include "salesflow/sqlite_storage.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "definition/json_document.hpp"
#include "storage/list_text.hpp"

namespace salesflow {
namespace {

using internal::quote_text;

// Schema version 1: events and definitions. Version 2 adds idempotency keys and delivery marks,
// version 3 snapshots.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE events (
  seq                INTEGER PRIMARY KEY,  -- commit order: appends write at the table's end
  instance           TEXT    NOT NULL,
  version            INTEGER NOT NULL CHECK (version >= 1),
  type               INTEGER NOT NULL,
  at                 INTEGER NOT NULL,
  actor              TEXT    NOT NULL,
  definition_id      TEXT    NOT NULL,
  definition_version INTEGER NOT NULL,
  stage              INTEGER NOT NULL,
  from_stage         INTEGER NOT NULL,
  target             INTEGER NOT NULL,
  value_type         INTEGER NOT NULL,
  value,                     -- no type: no affinity, kept as bound (see value_type)
  text               TEXT    NOT NULL,
  UNIQUE (instance, version)
);
CREATE TABLE definitions (
  id      TEXT    NOT NULL,
  version INTEGER NOT NULL,
  source  TEXT    NOT NULL,
  PRIMARY KEY (id, version)
) WITHOUT ROWID;
)sql";

constexpr const char* kMigrateV1ToV2 = R"sql(
CREATE TABLE idempotency (
  key         TEXT    NOT NULL PRIMARY KEY,
  instance    TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  fingerprint TEXT    NOT NULL,
  rejection   TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE delivered (
  instance TEXT    NOT NULL PRIMARY KEY,
  version  INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// One row per instance: its latest snapshot (snapshot.hpp; the engine encodes, the store keeps).
constexpr const char* kMigrateV2ToV3 = R"sql(
CREATE TABLE snapshots (
  instance           TEXT    NOT NULL PRIMARY KEY,
  version            INTEGER NOT NULL CHECK (version >= 1),
  definition_id      TEXT    NOT NULL,
  definition_version INTEGER NOT NULL,
  data               BLOB    NOT NULL
) WITHOUT ROWID;
)sql";

// Recovery: each instance (found by stepping through the (instance, version) index from one
// instance id to the next, so that no event row is read for it), its snapshot, its stored
// version (the index's last entry for it) and only the events after the snapshot (a range of the
// same index). Event columns first, in kEventColumns order; e.* is NULL when no event follows the
// snapshot.
constexpr const char* kScanRecoverySql = R"sql(
WITH RECURSIVE ids(instance) AS (
  SELECT (SELECT min(instance) FROM events)
  UNION ALL
  SELECT (SELECT min(n.instance) FROM events n WHERE n.instance > ids.instance)
  FROM ids WHERE ids.instance IS NOT NULL
)
SELECT e.instance, e.version, e.type, e.at, e.actor, e.definition_id, e.definition_version,
       e.stage, e.from_stage, e.target, e.value_type, e.value, e.text,
       ids.instance, s.version, s.definition_id, s.definition_version, s.data,
       (SELECT max(m.version) FROM events m WHERE m.instance = ids.instance)
FROM ids
LEFT JOIN snapshots s ON s.instance = ids.instance
LEFT JOIN events e ON e.instance = ids.instance AND e.version > coalesce(s.version, 0)
WHERE ids.instance IS NOT NULL
)sql";

constexpr const char* kEventColumns =
    "instance, version, type, at, actor, definition_id, definition_version, stage, from_stage, "
    "target, value_type, value, text";

// How a FieldValue is kept: its alternative in value_type, the value in `value`.
enum class ValueType : int {
  kNone = 0,
  kString = 1,      // TEXT
  kNumber = 2,      // REAL
  kInteger = 3,     // INTEGER
  kBoolean = 4,     // INTEGER 0 or 1
  kTimestamp = 5,   // INTEGER, milliseconds since 1970 UTC
  kStringList = 6,  // TEXT, a JSON array of strings
};

std::string text_of(sqlite3_stmt* s, int column) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  return p == nullptr ? std::string()
                      : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, column)));
}

void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void bind_value(sqlite3_stmt* s, int type_index, int value_index, const FieldValue& value,
                std::string& scratch) {
  struct Visitor {
    sqlite3_stmt* s;
    int t, v;
    std::string& scratch;
    void operator()(std::monostate) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kNone));
      sqlite3_bind_null(s, v);
    }
    void operator()(const std::string& text) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kString));
      bind_text(s, v, text);
    }
    void operator()(double d) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kNumber));
      sqlite3_bind_double(s, v, d);
    }
    void operator()(std::int64_t i) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kInteger));
      sqlite3_bind_int64(s, v, i);
    }
    void operator()(bool b) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kBoolean));
      sqlite3_bind_int(s, v, b ? 1 : 0);
    }
    void operator()(Timestamp at) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kTimestamp));
      sqlite3_bind_int64(s, v, at.time_since_epoch().count());
    }
    void operator()(const std::vector<std::string>& list) const {
      sqlite3_bind_int(s, t, static_cast<int>(ValueType::kStringList));
      scratch = internal::list_text(list);
      bind_text(s, v, scratch);
    }
  };
  std::visit(Visitor{s, type_index, value_index, scratch}, value);
}

// Reads one event row (columns in kEventColumns order, from column 0). False when the row does
// not hold an event this build wrote: an unknown type, a value that does not match its type.
bool read_event(sqlite3_stmt* s, Event& e, std::string& problem) {
  e.instance = text_of(s, 0);
  e.version = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
  const std::int64_t type = sqlite3_column_int64(s, 2);
  if (type < 0 || type > static_cast<std::int64_t>(kLastEventType)) {
    problem = "unknown event type " + std::to_string(type);
    return false;
  }
  e.type = static_cast<EventType>(type);
  e.at = Timestamp(std::chrono::milliseconds(sqlite3_column_int64(s, 3)));
  e.actor = text_of(s, 4);
  e.definition_id = text_of(s, 5);
  const auto u32 = [&](int column, std::uint32_t& out) {
    const std::int64_t n = sqlite3_column_int64(s, column);
    if (n < 0 || n > std::numeric_limits<std::uint32_t>::max()) return false;
    out = static_cast<std::uint32_t>(n);
    return true;
  };
  std::uint32_t stage = 0, from = 0;
  if (!u32(6, e.definition_version) || !u32(7, stage) || !u32(8, from) || !u32(9, e.target)) {
    problem = "a number out of range";
    return false;
  }
  e.stage = StageId(stage);
  e.from_stage = StageId(from);
  const int column_type = sqlite3_column_type(s, 11);
  const auto expect = [&](int sqlite_type) {
    if (column_type == sqlite_type) return true;
    problem = "a value that does not match its type";
    return false;
  };
  switch (static_cast<ValueType>(sqlite3_column_int(s, 10))) {
    case ValueType::kNone:
      if (!expect(SQLITE_NULL)) return false;
      e.value = FieldValue{};
      break;
    case ValueType::kString:
      if (!expect(SQLITE_TEXT)) return false;
      e.value = text_of(s, 11);
      break;
    case ValueType::kNumber:
      if (column_type != SQLITE_INTEGER && !expect(SQLITE_FLOAT)) return false;
      e.value = sqlite3_column_double(s, 11);
      break;
    case ValueType::kInteger:
      if (!expect(SQLITE_INTEGER)) return false;
      e.value = static_cast<std::int64_t>(sqlite3_column_int64(s, 11));
      break;
    case ValueType::kBoolean:
      if (!expect(SQLITE_INTEGER)) return false;
      e.value = sqlite3_column_int64(s, 11) != 0;
      break;
    case ValueType::kTimestamp:
      if (!expect(SQLITE_INTEGER)) return false;
      e.value = Timestamp(std::chrono::milliseconds(sqlite3_column_int64(s, 11)));
      break;
    case ValueType::kStringList: {
      if (!expect(SQLITE_TEXT)) return false;
      auto list = nlohmann::json::parse(text_of(s, 11), nullptr, false);
      std::vector<std::string> items;
      bool ok = list.is_array();
      for (const auto& item : list) {
        if (!item.is_string()) {
          ok = false;
          break;
        }
        items.push_back(item.get<std::string>());
      }
      if (!ok) {
        problem = "a string list that is not a JSON array of strings";
        return false;
      }
      e.value = std::move(items);
      break;
    }
    default:
      problem = "an unknown value type";
      return false;
  }
  e.text = text_of(s, 12);
  return true;
}

// A prepared statement, finalized with its owner.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }
  int prepare(sqlite3* db, const char* sql) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Hashes std::string keys and std::string_view lookups alike.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// Resets a statement when a scope ends, whatever the path out.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

class SqliteStorage::Impl {
 public:
  ~Impl() {
    if (db_ == nullptr) return;
    {
      std::lock_guard lock(db_mutex_);
      if (!options_.read_only && commit_batch()) {
        // The marks released by the last flush(). Held marks stay unwritten: without a flush()
        // since, the host has not said that their notifications went out (a failed flush, a
        // batch committed only here), and the next recovery hands those over again.
        write_marks_in_own_transaction();
      }
      statements_.clear();
    }
    sqlite3_close_v2(db_);
  }

  // Opens, checks and (when writable) creates or migrates. Empty on success, else the error.
  std::string open(const std::string& path, const SqliteOptions& options) {
    path_ = path;
    options_ = options;
    if (path.empty()) return "sqlite: the path is empty";
    if (options.group_commit && options.batch_appends > 0) {
      return "sqlite: group_commit and batch_appends cannot be combined (" + quote_text(path) + ")";
    }
    struct stat info {};
    const bool existed = ::stat(path.c_str(), &info) == 0;
    if (existed && S_ISDIR(info.st_mode)) return quote_text(path) + " is a directory, not a file";
    if (!existed && options.read_only) {
      return "no store at " + quote_text(path) + ": " + std::strerror(errno);
    }
    const int flags =
        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
        (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string error = "cannot open " + quote_text(path) + ": " +
                          (db_ ? sqlite3_errmsg(db_) : "out of memory") + describe_errno();
      return error;
    }
    std::string error = check_and_prepare(existed);
    if (!error.empty()) {
      statements_.clear();
      sqlite3_close_v2(db_);
      db_ = nullptr;
      if (!existed) {  // leave nothing behind that was not there before
        ::unlink(path.c_str());
        ::unlink((path + "-wal").c_str());
        ::unlink((path + "-shm").c_str());
      }
    }
    return error;
  }

  // --- Appends ----------------------------------------------------------------------------
  struct Pending {
    std::string_view instance;
    std::uint64_t expected_version;
    std::span<const Event> events;
    std::string_view key;  // empty: none
    const KeyRecord* record;
    AppendResult result = AppendResult::kUnavailable;
    bool done = false;
  };

  AppendResult append(Pending& p) {
    if (options_.read_only) {
      set_error("the store " + quote_text(path_) + " is open for reading only");
      return AppendResult::kUnavailable;
    }
    if (options_.batch_appends > 0) {
      std::lock_guard lock(db_mutex_);
      return append_in_batch(p);
    }
    if (!options_.group_commit) {
      std::lock_guard lock(db_mutex_);
      Pending* one[] = {&p};
      commit(one);
      return p.result;
    }
    std::unique_lock lock(queue_mutex_);
    queue_.push_back(&p);
    while (!p.done) {
      if (writing_) {
        queue_cv_.wait(lock);
        continue;
      }
      writing_ = true;
      std::vector<Pending*> batch(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      std::exception_ptr failed;
      {
        std::lock_guard db_lock(db_mutex_);
        try {
          commit(batch);
        } catch (...) {
          failed = std::current_exception();  // the others' appends answer kUnavailable
        }
      }
      lock.lock();
      for (Pending* q : batch) q->done = true;
      writing_ = false;
      queue_cv_.notify_all();
      if (failed) std::rethrow_exception(failed);
    }
    return p.result;
  }

  std::optional<KeyRecord> find_key(std::string_view key) const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(kFindKey);
    Reset reset{s};
    bind_text(s, 1, key);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      KeyRecord r;
      r.instance = text_of(s, 0);
      r.version = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
      r.event_count = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
      r.fingerprint = text_of(s, 3);
      r.rejection = text_of(s, 4);
      return r;
    }
    if (rc != SQLITE_DONE) set_error("cannot read idempotency keys: " + db_error());
    return std::nullopt;
  }

  std::vector<Event> load(std::string_view instance) const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(kLoad);
    Reset reset{s};
    bind_text(s, 1, instance);
    std::vector<Event> events;
    if (!read_rows(s, [&](Event&& e) { events.push_back(std::move(e)); })) return {};
    return events;
  }

  void scan(const std::function<void(const Event&)>& visit, bool undelivered) const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(undelivered ? kScanUndelivered : kScan);
    Reset reset{s};
    read_rows(s, [&](Event&& e) {
      if (undelivered && e.version <= recorded_mark(e.instance)) return;
      visit(e);
    });
  }

  // The highest mark of `instance` this object recorded and has not committed (0: none): as good
  // as written for this process. REQUIRES: db_mutex_ is held.
  std::uint64_t recorded_mark(std::string_view instance) const {
    std::uint64_t mark = 0;
    for (const auto* marks : {&marks_, &held_marks_, &written_marks_}) {
      const auto it = marks->find(instance);
      if (it != marks->end()) mark = std::max(mark, it->second);
    }
    return mark;
  }

  // Storage::stored_version(): as append sees it (stored_version() below).
  std::optional<std::uint64_t> read_version(std::string_view instance) const {
    std::lock_guard lock(db_mutex_);
    return stored_version(instance);
  }

  std::uint64_t delivery_mark(std::string_view instance) const {
    std::lock_guard lock(db_mutex_);
    std::uint64_t mark = recorded_mark(instance);
    sqlite3_stmt* s = stmt(kDeliveryMark);
    Reset reset{s};
    bind_text(s, 1, instance);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      mark = std::max(mark, static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)));
    } else if (rc != SQLITE_DONE) {
      set_error("cannot read delivery marks: " + db_error());
    }
    return mark;
  }

  void mark_delivered(std::string_view instance, std::uint64_t version) {
    std::lock_guard lock(db_mutex_);
    // In batch mode the host has not handed this notification on yet: hold the mark back until
    // after the next flush().
    raise_mark(options_.batch_appends > 0 ? held_marks_ : marks_, instance, version);
  }

  bool flush() {
    std::lock_guard lock(db_mutex_);
    if (options_.read_only) return true;
    if (options_.batch_appends == 0) return write_marks_in_own_transaction();
    // The marks the previous flush released went into the batch when it opened, or go now.
    if (!commit_batch() || !write_marks_in_own_transaction()) return false;
    // The host hands this batch's notifications on after this returns: their marks go next time.
    for (const auto& [instance, version] : held_marks_) raise_mark(marks_, instance, version);
    held_marks_.clear();
    return true;
  }

  KeepResult keep_definition(std::string_view id, std::uint32_t version, std::string_view source) {
    std::lock_guard lock(db_mutex_);
    {
      sqlite3_stmt* s = stmt(kFindDefinition);
      Reset reset{s};
      bind_text(s, 1, id);
      sqlite3_bind_int64(s, 2, version);
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_ROW)
        return text_of(s, 0) == source ? KeepResult::kSame : KeepResult::kDifferent;
      if (rc != SQLITE_DONE) {
        set_error("cannot read the stored definitions: " + db_error());
        return KeepResult::kUnavailable;
      }
    }
    if (options_.read_only) {
      set_error("the store " + quote_text(path_) + " is open for reading only");
      return KeepResult::kUnavailable;
    }
    sqlite3_stmt* s = stmt(kInsertDefinition);
    Reset reset{s};
    bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, version);
    bind_text(s, 3, source);
    if (sqlite3_step(s) != SQLITE_DONE) {
      set_error("cannot store definition " + quote_text(id) + ": " + db_error());
      return KeepResult::kUnavailable;
    }
    return KeepResult::kKept;
  }

  std::vector<StoredDefinition> definitions() const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(kDefinitions);
    Reset reset{s};
    std::vector<StoredDefinition> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.push_back(StoredDefinition{
          text_of(s, 0), static_cast<std::uint32_t>(sqlite3_column_int64(s, 1)), text_of(s, 2)});
    }
    if (rc != SQLITE_DONE) set_error("cannot read the stored definitions: " + db_error());
    return out;
  }

  std::uint64_t event_count() const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(kCount);
    Reset reset{s};
    if (sqlite3_step(s) != SQLITE_ROW) {
      set_error("cannot count events: " + db_error());
      return 0;
    }
    return static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
  }

  bool save_snapshots(std::span<const Snapshot> snapshots) {
    std::lock_guard lock(db_mutex_);
    if (options_.read_only) {
      set_error("the store " + quote_text(path_) + " is open for reading only");
      return false;
    }
    if (snapshots.empty()) return true;
    if (!batch_lost_.empty()) {
      set_error(batch_lost_);
      return false;
    }
    // In an open batch the snapshots go into it (their events may be in it): a savepoint, so
    // that a failure undoes them alone.
    const bool in_batch = batch_open_;
    if (!step_done(in_batch ? kSavepoint : kBegin)) {
      set_error("cannot write snapshots to " + quote_text(path_) + ": " + db_error());
      return false;
    }
    sqlite3_stmt* s = stmt(kSaveSnapshot);
    for (const Snapshot& snapshot : snapshots) {
      Reset reset{s};
      bind_text(s, 1, snapshot.instance);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(snapshot.version));
      bind_text(s, 3, snapshot.definition_id);
      sqlite3_bind_int64(s, 4, snapshot.definition_version);
      sqlite3_bind_blob64(s, 5, snapshot.data.data(), snapshot.data.size(), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) {
        set_error("cannot write snapshots to " + quote_text(path_) + ": " + db_error());
        sqlite3_reset(s);
        if (in_batch) {
          step_done(kRollbackTo);
          step_done(kRelease);
          lose_batch_if_rolled_back();
        } else {
          step_done(kRollback);
        }
        return false;
      }
    }
    if (in_batch) return step_done(kRelease);
    if (!step_done(kCommit)) {
      set_error("cannot commit snapshots to " + quote_text(path_) + ": " + db_error());
      step_done(kRollback);
      return false;
    }
    return true;
  }

  void scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
    std::lock_guard lock(db_mutex_);
    sqlite3_stmt* s = stmt(kScanRecovery);
    Reset reset{s};
    std::string current;
    bool has_snapshot = false;
    Snapshot snapshot;
    std::vector<Event> events;
    std::uint64_t stored = 0;
    bool open = false;
    const auto flush = [&] {
      if (open) visit(RecoveryLog{current, has_snapshot ? &snapshot : nullptr, events, stored});
      open = false;
    };
    int rc;
    std::string problem;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const std::string id = text_of(s, 13);
      if (!open || id != current) {
        flush();
        current = id;
        events.clear();
        open = true;
        stored = static_cast<std::uint64_t>(sqlite3_column_int64(s, 18));
        has_snapshot = sqlite3_column_type(s, 14) != SQLITE_NULL;
        if (has_snapshot) {
          const std::int64_t version = sqlite3_column_int64(s, 14);
          const std::int64_t def_version = sqlite3_column_int64(s, 16);
          const auto* data = static_cast<const char*>(sqlite3_column_blob(s, 17));
          snapshot.instance = id;
          // A version out of range is kept as 0: the engine refuses it and replays the events.
          snapshot.version = version < 1 ? 0 : static_cast<std::uint64_t>(version);
          snapshot.definition_id = text_of(s, 15);
          snapshot.definition_version =
              def_version < 0 || def_version > std::numeric_limits<std::uint32_t>::max()
                  ? 0
                  : static_cast<std::uint32_t>(def_version);
          snapshot.data.assign(data == nullptr ? "" : data,
                               static_cast<std::size_t>(sqlite3_column_bytes(s, 17)));
        }
      }
      if (sqlite3_column_type(s, 1) == SQLITE_NULL) continue;  // no event after the snapshot
      Event e;
      if (!read_event(s, e, problem)) {
        set_error(quote_text(path_) + ": the event " + quote_text(text_of(s, 0)) + " version " +
                  std::to_string(sqlite3_column_int64(s, 1)) + " is damaged: " + problem);
        return;
      }
      events.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) {
      set_error("cannot read events from " + quote_text(path_) + ": " + db_error());
      return;
    }
    flush();
  }

  std::string path() const { return path_; }

  std::string last_error() const {
    std::lock_guard lock(error_mutex_);
    return last_error_;
  }

 private:
  enum StatementId {
    kBegin,
    kCommit,
    kRollback,
    kSavepoint,
    kRollbackTo,
    kRelease,
    kVersion,
    kInsert,
    kInsertKey,
    kFindKey,
    kLoad,
    kScan,
    kScanUndelivered,
    kMark,
    kFindDefinition,
    kInsertDefinition,
    kDefinitions,
    kCount,
    kSaveSnapshot,
    kScanRecovery,
    kDeliveryMark,
    kStatements
  };

  sqlite3_stmt* stmt(StatementId id) const { return statements_[id]->get(); }

  std::string db_error() const {
    return std::string(sqlite3_errmsg(db_)) + " (" + sqlite3_errstr(sqlite3_extended_errcode(db_)) +
           ")";
  }

  static std::string describe_errno() {
    return errno != 0 ? std::string(" [") + std::strerror(errno) + "]" : std::string();
  }

  void set_error(std::string message) const {
    std::lock_guard lock(error_mutex_);
    last_error_ = std::move(message);
  }

  bool exec(const char* sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
    error = message != nullptr ? message : db_error();
    sqlite3_free(message);
    return false;
  }

  // Reads one integer from a one-row query.
  bool query_int(const char* sql, std::int64_t& out, std::string& error) {
    Statement s;
    if (s.prepare(db_, sql) != SQLITE_OK) {
      error = db_error();
      return false;
    }
    if (sqlite3_step(s.get()) != SQLITE_ROW) {
      error = db_error();
      return false;
    }
    out = sqlite3_column_int64(s.get(), 0);
    return true;
  }

  std::string check_and_prepare(bool existed) {
    const std::string where = quote_text(path_);
    sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
    std::string error;
    std::int64_t application_id = 0, user_version = 0, objects = 0;
    // The first read of the file: a file that is not SQLite fails here, before anything is
    // written to it.
    if (!query_int("PRAGMA application_id", application_id, error) ||
        !query_int("SELECT count(*) FROM sqlite_master", objects, error) ||
        !query_int("PRAGMA user_version", user_version, error)) {
      return where + " is not a salesflow store: " + error;
    }
    const bool fresh = application_id == 0 && objects == 0 && user_version == 0;
    if (!fresh && static_cast<std::uint32_t>(application_id) != kApplicationId) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08X", static_cast<std::uint32_t>(application_id));
      return where + " is a SQLite database of another application (application_id " + hex + ", " +
             std::to_string(objects) + " schema objects), not a salesflow store";
    }
    if (!fresh && (user_version < 1)) {
      return where + " is a damaged salesflow store: its schema version is " +
             std::to_string(user_version);
    }
    if (user_version > kSchemaVersion) {
      return where + " was written by a newer salesflow (schema version " +
             std::to_string(user_version) + "; this build reads versions 1 to " +
             std::to_string(kSchemaVersion) + "): use a newer salesflow";
    }
    if (options_.read_only) {
      if (fresh) return where + " is not a salesflow store: it is empty";
      if (user_version < kSchemaVersion) {
        return where + " has schema version " + std::to_string(user_version) +
               "; open it once for writing to migrate it to version " +
               std::to_string(kSchemaVersion);
      }
    } else {
      // WAL first (it persists in the file), then create or migrate in one transaction.
      {
        Statement wal;
        if (wal.prepare(db_, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
            sqlite3_step(wal.get()) != SQLITE_ROW) {
          return "cannot use write-ahead logging for " + where + ": " + db_error() +
                 " (is its directory writable?)";
        }
        if (const std::string mode = text_of(wal.get(), 0); mode != "wal") {
          return "cannot use write-ahead logging for " + where + ": the journal mode stays " + mode;
        }
      }
      // A page cache of up to 64 MiB (the default 2 MiB makes appends to many instances read
      // B-tree pages back from the file once a store outgrows it).
      const std::string pragmas =
          "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=" +
          std::to_string(options_.wal_autocheckpoint_pages);
      if (!exec(pragmas.c_str(), error)) return where + ": " + error;
      if (options_.max_page_count > 0) {
        const std::string pragma =
            "PRAGMA max_page_count=" + std::to_string(options_.max_page_count);
        if (!exec(pragma.c_str(), error)) return where + ": " + error;
      }
      if (user_version < kSchemaVersion) {
        if (!exec("BEGIN IMMEDIATE", error)) return "cannot write " + where + ": " + error;
        // Another process may have created or migrated it meanwhile: read the version again.
        std::int64_t now = 0;
        bool ok = query_int("PRAGMA user_version", now, error);
        if (ok && now < 1) ok = exec(kSchemaV1, error);
        if (ok && now < 2) ok = exec(kMigrateV1ToV2, error);
        if (ok && now < 3) ok = exec(kMigrateV2ToV3, error);
        if (ok) {
          ok = exec(("PRAGMA application_id=" + std::to_string(kApplicationId) +
                     "; PRAGMA user_version=" + std::to_string(kSchemaVersion))
                        .c_str(),
                    error);
        }
        if (ok) ok = exec("COMMIT", error);
        if (!ok) {
          std::string ignored;
          exec("ROLLBACK", ignored);
          return (user_version == 0 ? "cannot create the store in " : "cannot migrate ") + where +
                 ": " + error;
        }
      }
    }
    (void)existed;
    static constexpr std::array<const char*, kStatements> kSql = {
        "BEGIN IMMEDIATE",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT append",
        "ROLLBACK TO append",
        "RELEASE append",
        "SELECT max(version) FROM events WHERE instance = ?1",
        "INSERT INTO events (instance, version, type, at, actor, definition_id, "
        "definition_version, stage, from_stage, target, value_type, value, text) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        "INSERT INTO idempotency (key, instance, version, event_count, fingerprint, rejection) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        "SELECT instance, version, event_count, fingerprint, rejection FROM idempotency "
        "WHERE key = ?1",
        "SELECT instance, version, type, at, actor, definition_id, definition_version, stage, "
        "from_stage, target, value_type, value, text FROM events WHERE instance = ?1 "
        "ORDER BY version",
        "SELECT instance, version, type, at, actor, definition_id, definition_version, stage, "
        "from_stage, target, value_type, value, text FROM events ORDER BY seq",
        "SELECT e.instance, e.version, e.type, e.at, e.actor, e.definition_id, "
        "e.definition_version, e.stage, e.from_stage, e.target, e.value_type, e.value, e.text "
        "FROM events e LEFT JOIN delivered d ON d.instance = e.instance "
        "WHERE e.version > coalesce(d.version, 0) ORDER BY e.seq",
        "INSERT INTO delivered (instance, version) VALUES (?1, ?2) ON CONFLICT (instance) "
        "DO UPDATE SET version = max(version, excluded.version)",
        "SELECT source FROM definitions WHERE id = ?1 AND version = ?2",
        "INSERT INTO definitions (id, version, source) VALUES (?1, ?2, ?3)",
        "SELECT id, version, source FROM definitions ORDER BY id, version",
        "SELECT count(*) FROM events",
        "INSERT INTO snapshots (instance, version, definition_id, definition_version, data) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (instance) DO UPDATE SET "
        "version = excluded.version, definition_id = excluded.definition_id, "
        "definition_version = excluded.definition_version, data = excluded.data "
        "WHERE excluded.version >= snapshots.version",
        kScanRecoverySql,
        "SELECT version FROM delivered WHERE instance = ?1",
    };
    (void)kEventColumns;
    for (std::size_t i = 0; i < kStatements; ++i) {
      statements_.push_back(std::make_unique<Statement>());
      if (statements_.back()->prepare(db_, kSql[i]) != SQLITE_OK) {
        return where + " is a damaged salesflow store (schema version " +
               std::to_string(user_version) + "): " + db_error();
      }
    }
    return {};
  }

  template <class F>
  bool read_rows(sqlite3_stmt* s, F&& take) const {
    int rc;
    std::string problem;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Event e;
      if (!read_event(s, e, problem)) {
        set_error(quote_text(path_) + ": the event " + quote_text(text_of(s, 0)) + " version " +
                  std::to_string(sqlite3_column_int64(s, 1)) + " is damaged: " + problem);
        return false;
      }
      take(std::move(e));
    }
    if (rc != SQLITE_DONE) {
      set_error("cannot read events from " + quote_text(path_) + ": " + db_error());
      return false;
    }
    return true;
  }

  bool step_done(StatementId id) {
    sqlite3_stmt* s = stmt(id);
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
  }

  // One transaction for the whole batch; each append inside its own savepoint.
  void commit(std::span<Pending*> batch) {
    for (Pending* p : batch) p->result = AppendResult::kUnavailable;
    if (!step_done(kBegin)) {
      set_error("cannot write to " + quote_text(path_) + ": " + db_error());
      return;
    }
    bool any = false;
    for (Pending* p : batch) {
      if (!step_done(kSavepoint)) {
        set_error("cannot write to " + quote_text(path_) + ": " + db_error());
        continue;
      }
      try {
        p->result = append_one(*p);
      } catch (...) {
        // Out of memory between rows: nothing of this transaction is written.
        step_done(kRollback);
        restore_marks();
        for (Pending* q : batch) q->result = AppendResult::kUnavailable;
        throw;
      }
      if (p->result == AppendResult::kOk) {
        step_done(kRelease);
        any = true;
      } else {
        step_done(kRollbackTo);
        step_done(kRelease);
      }
    }
    if (any && !write_marks()) any = false;
    if (!any) {
      step_done(kRollback);
      restore_marks();
      for (Pending* p : batch) {
        if (p->result == AppendResult::kOk) p->result = AppendResult::kUnavailable;
      }
      return;
    }
    if (!step_done(kCommit)) {
      set_error("cannot commit to " + quote_text(path_) + ": " + db_error());
      step_done(kRollback);
      restore_marks();
      for (Pending* p : batch) p->result = AppendResult::kUnavailable;
      return;
    }
    written_marks_.clear();
  }

  // The instance's stored version: from this batch's own appends when it has one (the batch holds
  // the write lock, so no other connection appends meanwhile), else from the file.
  std::optional<std::uint64_t> stored_version(std::string_view instance) const {
    if (batch_open_) {
      if (const auto it = batch_versions_.find(instance); it != batch_versions_.end()) {
        return it->second;
      }
    }
    sqlite3_stmt* s = stmt(kVersion);
    Reset reset{s};
    bind_text(s, 1, instance);
    if (sqlite3_step(s) != SQLITE_ROW) {
      set_error("cannot read " + quote_text(path_) + ": " + db_error());
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
  }

  AppendResult append_one(const Pending& p) {
    const std::optional<std::uint64_t> stored = stored_version(p.instance);
    if (!stored) return AppendResult::kUnavailable;
    if (*stored != p.expected_version) return AppendResult::kConflict;
    if (!p.key.empty()) {
      sqlite3_stmt* s = stmt(kInsertKey);
      Reset reset{s};
      bind_text(s, 1, p.key);
      bind_text(s, 2, p.record->instance);
      sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(p.record->version));
      sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(p.record->event_count));
      bind_text(s, 5, p.record->fingerprint);
      bind_text(s, 6, p.record->rejection);
      const int rc = sqlite3_step(s);
      if ((rc & 0xFF) == SQLITE_CONSTRAINT) {
        return AppendResult::kConflict;  // the key is taken
      }
      if (rc != SQLITE_DONE) {
        set_error("cannot write to " + quote_text(path_) + ": " + db_error());
        return AppendResult::kUnavailable;
      }
    }
    sqlite3_stmt* s = stmt(kInsert);
    std::uint64_t version = p.expected_version;
    for (const Event& e : p.events) {
      Reset reset{s};
      bind_text(s, 1, p.instance);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(++version));
      sqlite3_bind_int(s, 3, static_cast<int>(e.type));
      sqlite3_bind_int64(s, 4, e.at.time_since_epoch().count());
      bind_text(s, 5, e.actor);
      bind_text(s, 6, e.definition_id);
      sqlite3_bind_int64(s, 7, e.definition_version);
      sqlite3_bind_int64(s, 8, to_index(e.stage));
      sqlite3_bind_int64(s, 9, to_index(e.from_stage));
      sqlite3_bind_int64(s, 10, e.target);
      bind_value(s, 11, 12, e.value, scratch_);
      bind_text(s, 13, e.text);
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(db_) & 0xFF) == SQLITE_CONSTRAINT) {
          return AppendResult::kConflict;
        }
        set_error("cannot write to " + quote_text(path_) + ": " + db_error());
        return AppendResult::kUnavailable;
      }
    }
    return AppendResult::kOk;
  }

  static void raise_mark(std::map<std::string, std::uint64_t, std::less<>>& marks,
                         std::string_view instance, std::uint64_t version) {
    auto it = marks.find(instance);
    if (it == marks.end()) {
      marks.emplace(std::string(instance), version);
    } else if (it->second < version) {
      it->second = version;
    }
  }

  // Batch mode: the append goes into the open transaction (opened now if none is), in its own
  // savepoint. REQUIRES: db_mutex_ held.
  AppendResult append_in_batch(Pending& p) {
    if (!batch_lost_.empty()) {
      set_error(batch_lost_);
      return AppendResult::kUnavailable;
    }
    if (!batch_open_) {
      if (!step_done(kBegin)) {
        set_error("cannot write to " + quote_text(path_) + ": " + db_error());
        return AppendResult::kUnavailable;
      }
      // The marks released by the last flush() ride with the batch (rolled back with it).
      if (!write_marks()) {
        step_done(kRollback);
        restore_marks();
        return AppendResult::kUnavailable;
      }
      batch_open_ = true;
      batch_count_ = 0;
    }
    // The instance's entry in batch_versions_ is made before any row is written (with the version
    // stored now): once rows are written nothing may throw, or they would commit with the batch
    // though the append failed.
    auto version = batch_versions_.end();
    if (!p.events.empty()) {
      version = batch_versions_.find(p.instance);
      if (version == batch_versions_.end()) {
        const std::optional<std::uint64_t> stored = stored_version(p.instance);
        if (!stored) return AppendResult::kUnavailable;
        version = batch_versions_.emplace(std::string(p.instance), *stored).first;
      }
    }
    // An append that writes one row needs no savepoint: SQLite undoes a failed statement whole.
    const bool savepoint = p.events.size() + (p.key.empty() ? 0 : 1) > 1;
    if (savepoint && !step_done(kSavepoint)) {
      set_error("cannot write to " + quote_text(path_) + ": " + db_error());
      lose_batch_if_rolled_back();
      return AppendResult::kUnavailable;
    }
    try {
      p.result = append_one(p);
    } catch (...) {
      // Out of memory between rows (binding a value): undo the rows written so far. A single
      // row throws before it is written.
      if (savepoint) {
        step_done(kRollbackTo);
        step_done(kRelease);
      }
      throw;
    }
    if (p.result == AppendResult::kOk) {
      if (savepoint) step_done(kRelease);
      if (version != batch_versions_.end()) version->second = p.expected_version + p.events.size();
    } else {
      if (savepoint) {
        step_done(kRollbackTo);
        step_done(kRelease);
      }
      // SQLite rolls a whole transaction back on some errors (a full disk, an I/O error): the
      // appends before this one in the batch are gone, though they answered kOk.
      if (lose_batch_if_rolled_back()) return AppendResult::kUnavailable;
    }
    if (p.result == AppendResult::kOk && ++batch_count_ >= options_.batch_appends &&
        !commit_batch()) {
      return AppendResult::kUnavailable;
    }
    return p.result;
  }

  // Commits the open batch, if any. False (and the store refuses further appends) when it could
  // not be committed. REQUIRES: db_mutex_ held.
  bool commit_batch() {
    if (!batch_lost_.empty()) {
      set_error(batch_lost_);
      return false;
    }
    if (!batch_open_) return true;
    batch_versions_.clear();
    if (step_done(kCommit)) {
      batch_open_ = false;
      written_marks_.clear();
      return true;
    }
    const std::string why = db_error();
    step_done(kRollback);
    batch_open_ = false;
    restore_marks();
    batch_lost_ = "cannot commit to " + quote_text(path_) + ": " + why +
                  "; the appends of the batch since the last flush are lost, and this store "
                  "takes no more appends (open it again)";
    set_error(batch_lost_);
    return false;
  }

  // After an error inside the open batch: true when SQLite rolled the whole transaction back.
  bool lose_batch_if_rolled_back() {
    if (!batch_open_ || sqlite3_get_autocommit(db_) == 0) return false;
    const std::string why = last_error();
    batch_open_ = false;
    batch_versions_.clear();
    restore_marks();
    batch_lost_ = "the batch transaction on " + quote_text(path_) + " was rolled back (" + why +
                  "); its earlier appends are lost, and this store takes no more appends "
                  "(open it again)";
    set_error(batch_lost_);
    return true;
  }

  // Delivery marks not yet written go into the current transaction. REQUIRES: db_mutex_ held,
  // a transaction open.
  bool write_marks() {
    for (const auto& [instance, version] : marks_) {
      sqlite3_stmt* s = stmt(kMark);
      Reset reset{s};
      bind_text(s, 1, instance);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(version));
      if (sqlite3_step(s) != SQLITE_DONE) {
        set_error("cannot write delivery marks to " + quote_text(path_) + ": " + db_error());
        return false;
      }
    }
    for (auto& [instance, version] : marks_) written_marks_.insert_or_assign(instance, version);
    marks_.clear();
    return true;
  }

  // After a rollback: the marks that were to be written are pending again.
  void restore_marks() {
    for (auto& [instance, version] : written_marks_) {
      auto [it, added] = marks_.emplace(instance, version);
      if (!added && it->second < version) it->second = version;
    }
    written_marks_.clear();
  }

  bool write_marks_in_own_transaction() {
    if (marks_.empty()) return true;
    if (!step_done(kBegin)) {
      set_error("cannot write to " + quote_text(path_) + ": " + db_error());
      return false;
    }
    if (!write_marks()) {
      step_done(kRollback);
      restore_marks();
      return false;
    }
    if (!step_done(kCommit)) {
      set_error("cannot commit to " + quote_text(path_) + ": " + db_error());
      step_done(kRollback);
      restore_marks();
      return false;
    }
    written_marks_.clear();
    return true;
  }

  std::string path_;
  SqliteOptions options_;
  sqlite3* db_ = nullptr;
  mutable std::mutex db_mutex_;  // the connection, the statements, the marks
  std::vector<std::unique_ptr<Statement>> statements_;
  std::string scratch_;
  std::map<std::string, std::uint64_t, std::less<>> marks_;  // delivered, not yet written
  std::map<std::string, std::uint64_t, std::less<>> written_marks_;
  // Batch mode: marks recorded since the last flush() (their notifications are not out yet).
  std::map<std::string, std::uint64_t, std::less<>> held_marks_;
  bool batch_open_ = false;
  // The versions this batch's appends took instances to (valid while the batch is open).
  std::unordered_map<std::string, std::uint64_t, TextHash, std::equal_to<>> batch_versions_;
  std::uint32_t batch_count_ = 0;
  std::string batch_lost_;  // not empty: a batch was lost, and why

  std::mutex queue_mutex_;  // group commit
  std::condition_variable queue_cv_;
  std::deque<Pending*> queue_;
  bool writing_ = false;

  mutable std::mutex error_mutex_;
  mutable std::string last_error_;
};

SqliteStorage::OpenResult SqliteStorage::open(const std::string& path,
                                              const SqliteOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::string error = impl->open(path, options);
  if (!error.empty()) return OpenResult{nullptr, std::move(error)};
  return OpenResult{std::unique_ptr<SqliteStorage>(new SqliteStorage(std::move(impl))), {}};
}

SqliteStorage::SqliteStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStorage::~SqliteStorage() = default;

Storage::AppendResult SqliteStorage::append(std::string_view instance,
                                            std::uint64_t expected_version,
                                            std::span<const Event> events) {
  Impl::Pending p{instance, expected_version, events, {}, nullptr};
  return impl_->append(p);
}
Storage::AppendResult SqliteStorage::append_keyed(std::string_view instance,
                                                  std::uint64_t expected_version,
                                                  std::span<const Event> events,
                                                  std::string_view key, const KeyRecord& record) {
  Impl::Pending p{instance, expected_version, events, key, &record};
  return impl_->append(p);
}
std::optional<Storage::KeyRecord> SqliteStorage::find_key(std::string_view key) const {
  return impl_->find_key(key);
}
std::vector<Event> SqliteStorage::load(std::string_view instance) const {
  return impl_->load(instance);
}
std::optional<std::uint64_t> SqliteStorage::stored_version(std::string_view instance) const {
  return impl_->read_version(instance);
}
void SqliteStorage::scan(const std::function<void(const Event&)>& visit) const {
  impl_->scan(visit, false);
}
std::uint64_t SqliteStorage::delivery_mark(std::string_view instance) const {
  return impl_->delivery_mark(instance);
}
void SqliteStorage::mark_delivered(std::string_view instance, std::uint64_t version) {
  impl_->mark_delivered(instance, version);
}
void SqliteStorage::scan_undelivered(const std::function<void(const Event&)>& visit) const {
  impl_->scan(visit, true);
}
bool SqliteStorage::save_snapshots(std::span<const Snapshot> snapshots) {
  return impl_->save_snapshots(snapshots);
}
void SqliteStorage::scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
  impl_->scan_recovery(visit);
}
std::string SqliteStorage::uri() const { return "sqlite:" + impl_->path(); }
std::string SqliteStorage::last_error() const { return impl_->last_error(); }
EventStore::KeepResult SqliteStorage::keep_definition(std::string_view id, std::uint32_t version,
                                                      std::string_view source) {
  return impl_->keep_definition(id, version, source);
}
std::vector<StoredDefinition> SqliteStorage::definitions() const { return impl_->definitions(); }
bool SqliteStorage::flush() { return impl_->flush(); }
std::uint64_t SqliteStorage::event_count() const { return impl_->event_count(); }

}  // namespace salesflow
