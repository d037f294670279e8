// PostgresStorage over libpq: one connection, prepared statements, text parameters. Schema:
// docs/storage.md (keep in step).
#include "salesflow/postgres_storage.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "definition/json_document.hpp"
#include "storage/list_text.hpp"

namespace salesflow {
namespace {

using internal::quote_text;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE salesflow_events (
  seq                bigserial PRIMARY KEY,
  instance           text      NOT NULL,
  version            bigint    NOT NULL CHECK (version >= 1),
  type               integer   NOT NULL,
  at                 bigint    NOT NULL,
  actor              text      NOT NULL,
  definition_id      text      NOT NULL,
  definition_version bigint    NOT NULL,
  stage              bigint    NOT NULL,
  from_stage         bigint    NOT NULL,
  target             bigint    NOT NULL,
  value_type         integer   NOT NULL,
  value              text,
  text               text      NOT NULL,
  UNIQUE (instance, version)
);
CREATE TABLE salesflow_definitions (
  id      text   NOT NULL,
  version bigint NOT NULL,
  source  text   NOT NULL,
  PRIMARY KEY (id, version)
);
)sql";

constexpr const char* kMigrateV1ToV2 = R"sql(
CREATE TABLE salesflow_idempotency (
  key         text   NOT NULL PRIMARY KEY,
  instance    text   NOT NULL,
  version     bigint NOT NULL,
  event_count bigint NOT NULL,
  fingerprint text   NOT NULL,
  rejection   text   NOT NULL DEFAULT ''
);
CREATE TABLE salesflow_delivered (
  instance text   NOT NULL PRIMARY KEY,
  version  bigint NOT NULL
);
)sql";

constexpr const char* kMigrateV2ToV3 = R"sql(
CREATE TABLE salesflow_snapshots (
  instance           text   NOT NULL PRIMARY KEY,
  version            bigint NOT NULL CHECK (version >= 1),
  definition_id      text   NOT NULL,
  definition_version bigint NOT NULL,
  data               bytea  NOT NULL
);
)sql";

// Recovery (as in the SQLite store): each instance by a loose index scan of the unique
// (instance, version) index, its snapshot, its stored version, and only the events after the
// snapshot (an index range). Event columns first; NULL when no event follows the snapshot.
constexpr const char* kScanRecoverySql = R"sql(
WITH RECURSIVE ids(instance) AS (
  (SELECT instance FROM salesflow_events ORDER BY instance LIMIT 1)
  UNION ALL
  SELECT (SELECT n.instance FROM salesflow_events n WHERE n.instance > ids.instance
          ORDER BY n.instance LIMIT 1)
  FROM ids WHERE ids.instance IS NOT NULL
)
SELECT e.instance, e.version, e.type, e.at, e.actor, e.definition_id, e.definition_version,
       e.stage, e.from_stage, e.target, e.value_type, e.value, e.text,
       ids.instance, s.version, s.definition_id, s.definition_version, s.data, l.last
FROM ids
LEFT JOIN salesflow_snapshots s ON s.instance = ids.instance
CROSS JOIN LATERAL (
  SELECT max(m.version) AS last FROM salesflow_events m WHERE m.instance = ids.instance) l
LEFT JOIN LATERAL (
  SELECT x.* FROM salesflow_events x
  WHERE x.instance = ids.instance AND x.version > coalesce(s.version, 0)
  ORDER BY x.version) e ON true
WHERE ids.instance IS NOT NULL
)sql";

constexpr const char* kColumns =
    "instance, version, type, at, actor, definition_id, definition_version, stage, from_stage, "
    "target, value_type, value, text";

// The value types, as in the SQLite store (docs/storage.md); the value is text here.
enum class ValueType : int { kNone, kString, kNumber, kInteger, kBoolean, kTimestamp, kStringList };

struct Result {
  PGresult* r = nullptr;
  explicit Result(PGresult* result) : r(result) {}
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result() { PQclear(r); }
  ExecStatusType status() const { return PQresultStatus(r); }
  bool ok() const { return status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK; }
  std::string sqlstate() const {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return s ? s : "";
  }
  std::string message() const {
    std::string m = PQresultErrorMessage(r);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  }
};

template <class T>
bool parse_number(const char* text, T& out) {
  const char* end = text + std::strlen(text);
  const auto [p, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && p == end;
}

void encode_value(const FieldValue& value, int& type, std::string& text, bool& null) {
  null = false;
  struct Visitor {
    int& type;
    std::string& text;
    bool& null;
    void operator()(std::monostate) const {
      type = static_cast<int>(ValueType::kNone);
      null = true;
    }
    void operator()(const std::string& s) const {
      type = static_cast<int>(ValueType::kString);
      text = s;
    }
    void operator()(double d) const {
      type = static_cast<int>(ValueType::kNumber);
      char buffer[32];
      text.assign(buffer, std::to_chars(buffer, buffer + sizeof buffer, d).ptr);
    }
    void operator()(std::int64_t i) const {
      type = static_cast<int>(ValueType::kInteger);
      text = std::to_string(i);
    }
    void operator()(bool b) const {
      type = static_cast<int>(ValueType::kBoolean);
      text = b ? "1" : "0";
    }
    void operator()(Timestamp t) const {
      type = static_cast<int>(ValueType::kTimestamp);
      text = std::to_string(t.time_since_epoch().count());
    }
    void operator()(const std::vector<std::string>& list) const {
      type = static_cast<int>(ValueType::kStringList);
      text = internal::list_text(list);
    }
  };
  std::visit(Visitor{type, text, null}, value);
}

// One row of kColumns. False (with `problem`) for a row this build did not write.
bool read_event(PGresult* r, int row, Event& e, std::string& problem) {
  const auto get = [&](int c) { return PQgetvalue(r, row, c); };
  e.instance = get(0);
  std::int64_t version = 0, type = 0, at = 0, def_version = 0, stage = 0, from = 0, target = 0,
               value_type = 0;
  if (!parse_number(get(1), version) || !parse_number(get(2), type) || !parse_number(get(3), at) ||
      !parse_number(get(6), def_version) || !parse_number(get(7), stage) ||
      !parse_number(get(8), from) || !parse_number(get(9), target) ||
      !parse_number(get(10), value_type)) {
    problem = "a number that does not parse";
    return false;
  }
  const auto u32 = [](std::int64_t n) { return n >= 0 && n <= 0xFFFFFFFFll; };
  if (version < 1 || type < 0 || type > static_cast<std::int64_t>(kLastEventType) ||
      !u32(def_version) || !u32(stage) || !u32(from) || !u32(target)) {
    problem = "a number out of range";
    return false;
  }
  e.version = static_cast<std::uint64_t>(version);
  e.type = static_cast<EventType>(type);
  e.at = Timestamp(std::chrono::milliseconds(at));
  e.actor = get(4);
  e.definition_id = get(5);
  e.definition_version = static_cast<std::uint32_t>(def_version);
  e.stage = StageId(static_cast<std::uint32_t>(stage));
  e.from_stage = StageId(static_cast<std::uint32_t>(from));
  e.target = static_cast<std::uint32_t>(target);
  const bool null = PQgetisnull(r, row, 11);
  const char* v = get(11);
  bool ok = true;
  switch (static_cast<ValueType>(value_type)) {
    case ValueType::kNone:
      ok = null;
      e.value = FieldValue{};
      break;
    case ValueType::kString:
      ok = !null;
      e.value = std::string(v);
      break;
    case ValueType::kNumber: {
      double d = 0;
      ok = !null && parse_number(v, d) && std::isfinite(d);
      e.value = d;
      break;
    }
    case ValueType::kInteger: {
      std::int64_t i = 0;
      ok = !null && parse_number(v, i);
      e.value = i;
      break;
    }
    case ValueType::kBoolean:
      ok = !null && (std::strcmp(v, "0") == 0 || std::strcmp(v, "1") == 0);
      e.value = std::strcmp(v, "1") == 0;
      break;
    case ValueType::kTimestamp: {
      std::int64_t ms = 0;
      ok = !null && parse_number(v, ms);
      e.value = Timestamp(std::chrono::milliseconds(ms));
      break;
    }
    case ValueType::kStringList: {
      const auto list = nlohmann::json::parse(v, nullptr, false);
      std::vector<std::string> items;
      ok = !null && list.is_array();
      for (const auto& item : list) {
        if (!item.is_string()) ok = false;
        if (ok) items.push_back(item.get<std::string>());
      }
      e.value = std::move(items);
      break;
    }
    default:
      ok = false;
  }
  if (!ok) {
    problem = "a value that does not match its type";
    return false;
  }
  e.text = get(12);
  return true;
}

// The conninfo without its password, for messages and uri().
std::string printable_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "(a connection string that does not parse)";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "password") continue;
    out += (out.empty() ? "" : " ") + std::string(o->keyword) + "=" + o->val;
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

class PostgresStorage::Impl {
 public:
  ~Impl() {
    if (conn_ == nullptr) return;
    {
      std::lock_guard lock(mutex_);
      if (!options_.read_only && !marks_.empty()) {
        if (exec("BEGIN").ok() && write_marks()) exec("COMMIT");
      }
    }
    PQfinish(conn_);
  }

  std::string open(const std::string& conninfo, const PostgresOptions& options) {
    options_ = options;
    shown_ = printable_conninfo(conninfo);
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (parsed == nullptr) {
      std::string why = parse_error ? parse_error : "out of memory";
      PQfreemem(parse_error);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return "postgres: the connection string does not parse: " + why;
    }
    PQconninfoFree(parsed);
    // Give up on an unreachable server after 10 s unless the connection string says otherwise.
    conn_ = PQconnectdb(("connect_timeout=10 " + conninfo).c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      return "cannot connect to PostgreSQL (" + shown_ + "): " + why;
    }
    exec("SET client_min_messages = warning");
    return prepare_schema();
  }

  using Pending = std::pair<const KeyRecord*, std::string_view>;

  AppendResult append(std::string_view instance, std::uint64_t expected,
                      std::span<const Event> events, std::string_view key,
                      const KeyRecord* record) {
    std::lock_guard lock(mutex_);
    if (options_.read_only) {
      set_error("the store is open for reading only");
      return AppendResult::kUnavailable;
    }
    if (!exec("BEGIN").ok()) return fail("cannot begin a transaction");
    AppendResult result;
    try {
      result = append_in_transaction(instance, expected, events, key, record);
    } catch (...) {
      // Out of memory while building a row: the rows written so far must not wait in an open
      // transaction for the next COMMIT.
      exec("ROLLBACK");
      restore_marks();
      throw;
    }
    if (result != AppendResult::kOk) {
      exec("ROLLBACK");
      restore_marks();
      return result;
    }
    Result commit = exec("COMMIT");
    if (!commit.ok()) {
      restore_marks();
      return classify(commit, "cannot commit");
    }
    written_marks_.clear();
    return AppendResult::kOk;
  }

  std::optional<KeyRecord> find_key(std::string_view key) const {
    std::lock_guard lock(mutex_);
    const std::string k(key);
    Result r = run("find_key", {k.c_str()});
    if (!r.ok()) {
      set_error("cannot read idempotency keys: " + r.message());
      return std::nullopt;
    }
    if (PQntuples(r.r) == 0) return std::nullopt;
    KeyRecord record;
    record.instance = PQgetvalue(r.r, 0, 0);
    std::int64_t version = 0, count = 0;
    parse_number(PQgetvalue(r.r, 0, 1), version);
    parse_number(PQgetvalue(r.r, 0, 2), count);
    record.version = static_cast<std::uint64_t>(version);
    record.event_count = static_cast<std::uint64_t>(count);
    record.fingerprint = PQgetvalue(r.r, 0, 3);
    record.rejection = PQgetvalue(r.r, 0, 4);
    return record;
  }

  std::vector<Event> load(std::string_view instance) const {
    std::lock_guard lock(mutex_);
    const std::string id(instance);
    Result r = run("load", {id.c_str()});
    std::vector<Event> events;
    if (!r.ok()) {
      set_error("cannot read events: " + r.message());
      return events;
    }
    std::string problem;
    for (int row = 0; row < PQntuples(r.r); ++row) {
      Event e;
      if (!read_event(r.r, row, e, problem)) {
        set_error("the event " + quote_text(PQgetvalue(r.r, row, 0)) + " version " +
                  PQgetvalue(r.r, row, 1) + " is damaged: " + problem);
        return {};
      }
      events.push_back(std::move(e));
    }
    return events;
  }

  // Streams the rows (single-row mode): a million events need not sit in memory twice.
  void scan(const std::function<void(const Event&)>& visit, bool undelivered) const {
    std::lock_guard lock(mutex_);
    const std::string sql =
        undelivered ? std::string(
                          "SELECT e.instance, e.version, e.type, e.at, e.actor, "
                          "e.definition_id, e.definition_version, e.stage, e.from_stage, "
                          "e.target, e.value_type, e.value, e.text FROM salesflow_events "
                          "e LEFT JOIN salesflow_delivered d ON d.instance = e.instance "
                          "WHERE e.version > coalesce(d.version, 0) ORDER BY e.seq")
                    : std::string("SELECT ") + kColumns + " FROM salesflow_events ORDER BY seq";
    stream_rows(sql.c_str(), [&](PGresult* row) {
      Event e;
      if (!read_row_event(row, e)) return false;
      if (undelivered && e.version <= recorded_mark(e.instance)) return true;
      visit(e);
      return true;
    });
  }

  // The highest mark of `instance` this object recorded and has not committed (0: none): as good
  // as written for this process. REQUIRES: mutex_ is held.
  std::uint64_t recorded_mark(std::string_view instance) const {
    std::uint64_t mark = 0;
    for (const auto* marks : {&marks_, &written_marks_}) {
      const auto it = marks->find(instance);
      if (it != marks->end()) mark = std::max(mark, it->second);
    }
    return mark;
  }

  std::optional<std::uint64_t> stored_version(std::string_view instance) const {
    std::lock_guard lock(mutex_);
    const std::string id(instance);
    Result r = run("version", {id.c_str()});
    if (!r.ok()) {
      set_error("cannot read the version: " + r.message());
      return std::nullopt;
    }
    std::uint64_t stored = 0;
    parse_number(PQgetvalue(r.r, 0, 0), stored);
    return stored;
  }

  std::uint64_t delivery_mark(std::string_view instance) const {
    std::lock_guard lock(mutex_);
    std::uint64_t mark = recorded_mark(instance);
    const std::string id(instance);
    Result r = run("delivery_mark", {id.c_str()});
    if (!r.ok()) {
      set_error("cannot read delivery marks: " + r.message());
      return mark;
    }
    if (PQntuples(r.r) > 0) {
      std::int64_t stored = 0;
      parse_number(PQgetvalue(r.r, 0, 0), stored);
      mark = std::max(mark, static_cast<std::uint64_t>(stored));
    }
    return mark;
  }

  void mark_delivered(std::string_view instance, std::uint64_t version) {
    std::lock_guard lock(mutex_);
    auto [it, added] = marks_.emplace(std::string(instance), version);
    if (!added && it->second < version) it->second = version;
  }

  bool flush() {
    std::lock_guard lock(mutex_);
    if (options_.read_only || marks_.empty()) return true;
    if (!exec("BEGIN").ok()) return fail("cannot begin a transaction") == AppendResult::kOk;
    bool written = false;
    try {
      written = write_marks();
    } catch (...) {  // as in append()
      exec("ROLLBACK");
      restore_marks();
      throw;
    }
    if (!written) {
      exec("ROLLBACK");
      restore_marks();
      return false;
    }
    Result commit = exec("COMMIT");
    if (!commit.ok()) {
      set_error("cannot commit delivery marks: " + commit.message());
      restore_marks();
      return false;
    }
    written_marks_.clear();
    return true;
  }

  KeepResult keep_definition(std::string_view id, std::uint32_t version, std::string_view source) {
    std::lock_guard lock(mutex_);
    const std::string i(id), v = std::to_string(version), s(source);
    {
      Result r = run("find_definition", {i.c_str(), v.c_str()});
      if (!r.ok()) {
        set_error("cannot read the stored definitions: " + r.message());
        return KeepResult::kUnavailable;
      }
      if (PQntuples(r.r) > 0) {
        return s == PQgetvalue(r.r, 0, 0) ? KeepResult::kSame : KeepResult::kDifferent;
      }
    }
    if (options_.read_only) {
      set_error("the store is open for reading only");
      return KeepResult::kUnavailable;
    }
    Result r = run("insert_definition", {i.c_str(), v.c_str(), s.c_str()});
    if (!r.ok()) {
      set_error("cannot store definition " + quote_text(id) + ": " + r.message());
      return KeepResult::kUnavailable;
    }
    if (std::string_view(PQcmdTuples(r.r)) == "0") {  // another process stored it meanwhile
      Result again = run("find_definition", {i.c_str(), v.c_str()});
      if (again.ok() && PQntuples(again.r) > 0 && s == PQgetvalue(again.r, 0, 0)) {
        return KeepResult::kSame;
      }
      return KeepResult::kDifferent;
    }
    return KeepResult::kKept;
  }

  std::vector<StoredDefinition> definitions() const {
    std::lock_guard lock(mutex_);
    Result r(PQexec(conn_,
                    "SELECT id, version, source FROM salesflow_definitions ORDER BY id, version"));
    std::vector<StoredDefinition> out;
    if (!r.ok()) {
      set_error("cannot read the stored definitions: " + r.message());
      return out;
    }
    for (int row = 0; row < PQntuples(r.r); ++row) {
      std::uint32_t version = 0;
      parse_number(PQgetvalue(r.r, row, 1), version);
      out.push_back(StoredDefinition{PQgetvalue(r.r, row, 0), version, PQgetvalue(r.r, row, 2)});
    }
    return out;
  }

  bool save_snapshots(std::span<const Snapshot> snapshots) {
    std::lock_guard lock(mutex_);
    if (options_.read_only) {
      set_error("the store is open for reading only");
      return false;
    }
    if (snapshots.empty()) return true;
    if (!exec("BEGIN").ok()) {
      fail("cannot begin a transaction");
      return false;
    }
    try {
      if (!write_snapshots(snapshots)) return false;
    } catch (...) {  // as in append()
      exec("ROLLBACK");
      throw;
    }
    Result commit = exec("COMMIT");
    if (!commit.ok()) {
      set_error("cannot commit snapshots: " + commit.message());
      if (PQstatus(conn_) == CONNECTION_BAD) PQreset(conn_);
      return false;
    }
    return true;
  }

  // The snapshots' rows, in the open transaction; rolls it back and returns false when a row
  // cannot be written.
  bool write_snapshots(std::span<const Snapshot> snapshots) {
    for (const Snapshot& snapshot : snapshots) {
      const std::string version = std::to_string(snapshot.version),
                        def_version = std::to_string(snapshot.definition_version);
      // The data goes as a binary parameter: bytea needs no escaping then.
      const char* values[] = {snapshot.instance.c_str(), version.c_str(),
                              snapshot.definition_id.c_str(), def_version.c_str(),
                              snapshot.data.data()};
      const int lengths[] = {0, 0, 0, 0, static_cast<int>(snapshot.data.size())};
      const int formats[] = {0, 0, 0, 0, 1};
      Result r(PQexecPrepared(conn_, "save_snapshot", 5, values, lengths, formats, 0));
      if (!r.ok()) {
        set_error("cannot write snapshots: " + r.message());
        exec("ROLLBACK");
        if (PQstatus(conn_) == CONNECTION_BAD) PQreset(conn_);
        return false;
      }
    }
    return true;
  }

  // Streams the rows (single-row mode), one instance at a time.
  void scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
    std::lock_guard lock(mutex_);
    std::string current;
    bool open = false, has_snapshot = false, failed = false;
    Snapshot snapshot;
    std::vector<Event> events;
    std::uint64_t stored = 0;
    const auto flush = [&] {
      if (open && !failed) {
        visit(RecoveryLog{current, has_snapshot ? &snapshot : nullptr, events, stored});
      }
      open = false;
    };
    failed = !stream_rows(kScanRecoverySql, [&](PGresult* row) {
      const std::string id = PQgetvalue(row, 0, 13);
      if (!open || id != current) {
        flush();
        current = id;
        events.clear();
        open = true;
        std::int64_t n = 0;
        stored =
            parse_number(PQgetvalue(row, 0, 18), n) && n > 0 ? static_cast<std::uint64_t>(n) : 0;
        has_snapshot = !PQgetisnull(row, 0, 14);
        if (has_snapshot) {
          std::int64_t version = 0, def_version = 0;
          // A number out of range is kept as 0: the engine refuses the snapshot and replays.
          if (!parse_number(PQgetvalue(row, 0, 14), version) || version < 1) version = 0;
          if (!parse_number(PQgetvalue(row, 0, 16), def_version) || def_version < 0 ||
              def_version > 0xFFFFFFFFll) {
            def_version = 0;
          }
          snapshot.instance = id;
          snapshot.version = static_cast<std::uint64_t>(version);
          snapshot.definition_id = PQgetvalue(row, 0, 15);
          snapshot.definition_version = static_cast<std::uint32_t>(def_version);
          std::size_t length = 0;
          unsigned char* data = PQunescapeBytea(
              reinterpret_cast<const unsigned char*>(PQgetvalue(row, 0, 17)), &length);
          if (data == nullptr) {
            snapshot.data.clear();
          } else {
            snapshot.data.assign(reinterpret_cast<const char*>(data), length);
            PQfreemem(data);
          }
        }
      }
      if (PQgetisnull(row, 0, 1)) return true;  // no event after the snapshot
      Event e;
      if (!read_row_event(row, e)) return false;
      events.push_back(std::move(e));
      return true;
    });
    flush();
  }

  std::string uri() const { return "postgres:" + shown_; }
  std::string last_error() const {
    std::lock_guard lock(error_mutex_);
    return last_error_;
  }

 private:
  Result exec(const char* sql) const { return Result(PQexec(conn_, sql)); }

  // Runs `sql` in single-row mode (a million rows need not sit in memory at once) and calls
  // on_row for each row until it returns false. The connection is drained either way. False
  // when the query failed or on_row stopped it (last_error() says why). REQUIRES: mutex_ held.
  template <class OnRow>
  bool stream_rows(const char* sql, OnRow&& on_row) const {
    if (!PQsendQuery(conn_, sql) || !PQsetSingleRowMode(conn_)) {
      set_error(std::string("cannot read events: ") + PQerrorMessage(conn_));
      return false;
    }
    bool failed = false;
    for (;;) {
      PGresult* raw = PQgetResult(conn_);
      if (raw == nullptr) break;
      Result r(raw);
      if (failed) continue;                         // drain the rest
      if (r.status() == PGRES_TUPLES_OK) continue;  // the end of the rows
      if (r.status() != PGRES_SINGLE_TUPLE) {
        set_error("cannot read events: " + r.message());
        failed = true;
      } else if (!on_row(r.r)) {
        failed = true;
      }
    }
    return !failed;
  }

  // The event in a row of kColumns; false (with last_error() set) when it is damaged.
  bool read_row_event(PGresult* row, Event& e) const {
    std::string problem;
    if (read_event(row, 0, e, problem)) return true;
    set_error("the event " + quote_text(PQgetvalue(row, 0, 0)) + " version " +
              PQgetvalue(row, 0, 1) + " is damaged: " + problem);
    return false;
  }

  Result run(const char* statement, std::initializer_list<const char*> params) const {
    std::vector<const char*> values(params);
    return Result(PQexecPrepared(conn_, statement, static_cast<int>(values.size()), values.data(),
                                 nullptr, nullptr, 0));
  }

  void set_error(std::string message) const {
    std::lock_guard lock(error_mutex_);
    last_error_ = std::move(message);
  }

  AppendResult fail(const std::string& what) {
    set_error(what + ": " + PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD) PQreset(conn_);  // for the next call
    return AppendResult::kUnavailable;
  }

  // A unique violation or a serialization failure is a conflict; anything else, the store failed.
  AppendResult classify(const Result& r, const std::string& what) {
    const std::string state = r.sqlstate();
    if (state == "23505" || state == "40001" || state == "40P01") return AppendResult::kConflict;
    set_error(what + ": " + r.message());
    if (PQstatus(conn_) == CONNECTION_BAD) PQreset(conn_);
    return AppendResult::kUnavailable;
  }

  AppendResult append_in_transaction(std::string_view instance, std::uint64_t expected,
                                     std::span<const Event> events, std::string_view key,
                                     const KeyRecord* record) {
    const std::string id(instance);
    {
      Result r = run("version", {id.c_str()});
      if (!r.ok()) return classify(r, "cannot read the version");
      std::uint64_t stored = 0;
      parse_number(PQgetvalue(r.r, 0, 0), stored);
      if (stored != expected) return AppendResult::kConflict;
    }
    if (!key.empty()) {
      const std::string k(key), v = std::to_string(record->version),
                                n = std::to_string(record->event_count);
      Result r = run("insert_key", {k.c_str(), record->instance.c_str(), v.c_str(), n.c_str(),
                                    record->fingerprint.c_str(), record->rejection.c_str()});
      if (!r.ok()) return classify(r, "cannot store the idempotency key");
      if (std::string_view(PQcmdTuples(r.r)) == "0") return AppendResult::kConflict;
    }
    std::uint64_t version = expected;
    std::string value;
    for (const Event& e : events) {
      int value_type = 0;
      bool null = false;
      encode_value(e.value, value_type, value, null);
      const std::string v = std::to_string(++version),
                        type = std::to_string(static_cast<int>(e.type)),
                        at = std::to_string(e.at.time_since_epoch().count()),
                        dv = std::to_string(e.definition_version),
                        stage = std::to_string(to_index(e.stage)),
                        from = std::to_string(to_index(e.from_stage)),
                        target = std::to_string(e.target), vt = std::to_string(value_type);
      Result r = run("insert_event",
                     {id.c_str(), v.c_str(), type.c_str(), at.c_str(), e.actor.c_str(),
                      e.definition_id.c_str(), dv.c_str(), stage.c_str(), from.c_str(),
                      target.c_str(), vt.c_str(), null ? nullptr : value.c_str(), e.text.c_str()});
      if (!r.ok()) return classify(r, "cannot store an event");
    }
    if (!write_marks()) return AppendResult::kUnavailable;
    return AppendResult::kOk;
  }

  bool write_marks() {
    for (const auto& [instance, version] : marks_) {
      const std::string v = std::to_string(version);
      Result r = run("mark", {instance.c_str(), v.c_str()});
      if (!r.ok()) {
        set_error("cannot write delivery marks: " + r.message());
        return false;
      }
    }
    for (auto& [instance, version] : marks_) written_marks_.insert_or_assign(instance, version);
    marks_.clear();
    return true;
  }

  void restore_marks() {
    for (auto& [instance, version] : written_marks_) {
      auto [it, added] = marks_.emplace(instance, version);
      if (!added && it->second < version) it->second = version;
    }
    written_marks_.clear();
  }

  // Reads the schema version; creates or migrates (unless read-only) under an advisory lock.
  std::string prepare_schema() {
    const auto version_now = [&](std::int64_t& version, std::string& error) {
      Result exists(PQexec(conn_, "SELECT to_regclass('salesflow_meta') IS NOT NULL"));
      if (!exists.ok()) {
        error = exists.message();
        return false;
      }
      version = 0;
      if (std::string_view(PQgetvalue(exists.r, 0, 0)) != "t") return true;
      Result r(PQexec(conn_, "SELECT value FROM salesflow_meta WHERE key = 'schema_version'"));
      if (!r.ok()) {
        error = r.message();
        return false;
      }
      if (PQntuples(r.r) == 0 || !parse_number(PQgetvalue(r.r, 0, 0), version) || version < 1) {
        error = "salesflow_meta holds no valid schema_version";
        return false;
      }
      return true;
    };
    const std::string where = "the database of " + shown_;
    std::int64_t version = 0;
    std::string error;
    if (!version_now(version, error)) return where + " is a damaged salesflow store: " + error;
    if (version > kSchemaVersion) {
      return where + " was written by a newer salesflow (schema version " +
             std::to_string(version) + "; this build reads versions 1 to " +
             std::to_string(kSchemaVersion) + "): use a newer salesflow";
    }
    if (options_.read_only && version < kSchemaVersion) {
      return version == 0 ? where + " holds no salesflow store"
                          : where + " has schema version " + std::to_string(version) +
                                "; open it once for writing to migrate it";
    }
    if (version < kSchemaVersion) {
      const auto step = [&](const char* sql) {
        Result r(PQexec(conn_, sql));
        if (!r.ok()) error = r.message();
        return r.ok();
      };
      bool ok = step("BEGIN") && step("SELECT pg_advisory_xact_lock(5453464)") &&
                version_now(version, error);
      if (ok && version < 1) {
        ok = step(kSchemaV1) &&
             step(
                 "CREATE TABLE salesflow_meta (key text PRIMARY KEY, value text NOT NULL); "
                 "INSERT INTO salesflow_meta VALUES ('schema_version', '1')");
      }
      if (ok && version < 2) {
        ok = step(kMigrateV1ToV2) &&
             step("UPDATE salesflow_meta SET value = '2' WHERE key = 'schema_version'");
      }
      if (ok && version < 3) {
        ok = step(kMigrateV2ToV3) &&
             step("UPDATE salesflow_meta SET value = '3' WHERE key = 'schema_version'");
      }
      ok = ok && step("COMMIT");
      if (!ok) {
        exec("ROLLBACK");
        return "cannot create or migrate the salesflow schema in " + where + ": " + error;
      }
    }
    const std::pair<const char*, std::string> statements[] = {
        {"version", "SELECT coalesce(max(version), 0) FROM salesflow_events WHERE instance = $1"},
        {"insert_event", std::string("INSERT INTO salesflow_events (") + kColumns +
                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"},
        {"insert_key",
         "INSERT INTO salesflow_idempotency (key, instance, version, event_count, fingerprint, "
         "rejection) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"},
        {"find_key",
         "SELECT instance, version, event_count, fingerprint, rejection FROM "
         "salesflow_idempotency WHERE key = $1"},
        {"load", std::string("SELECT ") + kColumns +
                     " FROM salesflow_events WHERE instance = $1 ORDER BY version"},
        {"mark",
         "INSERT INTO salesflow_delivered (instance, version) VALUES ($1, $2) ON CONFLICT "
         "(instance) DO UPDATE SET version = greatest(salesflow_delivered.version, "
         "excluded.version)"},
        {"delivery_mark", "SELECT version FROM salesflow_delivered WHERE instance = $1"},
        {"find_definition",
         "SELECT source FROM salesflow_definitions WHERE id = $1 AND version = $2"},
        {"insert_definition",
         "INSERT INTO salesflow_definitions (id, version, source) VALUES ($1, $2, $3) ON "
         "CONFLICT DO NOTHING"},
        {"save_snapshot",
         "INSERT INTO salesflow_snapshots AS s (instance, version, definition_id, "
         "definition_version, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (instance) DO UPDATE "
         "SET version = excluded.version, definition_id = excluded.definition_id, "
         "definition_version = excluded.definition_version, data = excluded.data "
         "WHERE excluded.version >= s.version"},
    };
    for (const auto& [name, sql] : statements) {
      Result r(PQprepare(conn_, name, sql.c_str(), 0, nullptr));
      if (!r.ok()) return where + " is a damaged salesflow store: " + r.message();
    }
    return {};
  }

  PostgresOptions options_;
  std::string shown_;
  PGconn* conn_ = nullptr;
  mutable std::mutex mutex_;  // the connection and the marks
  std::map<std::string, std::uint64_t, std::less<>> marks_, written_marks_;
  mutable std::mutex error_mutex_;
  mutable std::string last_error_;
};

PostgresStorage::OpenResult PostgresStorage::open(const std::string& conninfo,
                                                  const PostgresOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::string error = impl->open(conninfo, options);
  if (!error.empty()) return OpenResult{nullptr, std::move(error)};
  return OpenResult{std::unique_ptr<PostgresStorage>(new PostgresStorage(std::move(impl))), {}};
}

PostgresStorage::PostgresStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStorage::~PostgresStorage() = default;

Storage::AppendResult PostgresStorage::append(std::string_view instance,
                                              std::uint64_t expected_version,
                                              std::span<const Event> events) {
  return impl_->append(instance, expected_version, events, {}, nullptr);
}
Storage::AppendResult PostgresStorage::append_keyed(std::string_view instance,
                                                    std::uint64_t expected_version,
                                                    std::span<const Event> events,
                                                    std::string_view key, const KeyRecord& record) {
  return impl_->append(instance, expected_version, events, key, &record);
}
std::optional<Storage::KeyRecord> PostgresStorage::find_key(std::string_view key) const {
  return impl_->find_key(key);
}
std::vector<Event> PostgresStorage::load(std::string_view instance) const {
  return impl_->load(instance);
}
std::optional<std::uint64_t> PostgresStorage::stored_version(std::string_view instance) const {
  return impl_->stored_version(instance);
}
void PostgresStorage::scan(const std::function<void(const Event&)>& visit) const {
  impl_->scan(visit, false);
}
std::uint64_t PostgresStorage::delivery_mark(std::string_view instance) const {
  return impl_->delivery_mark(instance);
}
void PostgresStorage::mark_delivered(std::string_view instance, std::uint64_t version) {
  impl_->mark_delivered(instance, version);
}
void PostgresStorage::scan_undelivered(const std::function<void(const Event&)>& visit) const {
  impl_->scan(visit, true);
}
bool PostgresStorage::save_snapshots(std::span<const Snapshot> snapshots) {
  return impl_->save_snapshots(snapshots);
}
void PostgresStorage::scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
  impl_->scan_recovery(visit);
}
std::string PostgresStorage::uri() const { return impl_->uri(); }
std::string PostgresStorage::last_error() const { return impl_->last_error(); }
EventStore::KeepResult PostgresStorage::keep_definition(std::string_view id, std::uint32_t version,
                                                        std::string_view source) {
  return impl_->keep_definition(id, version, source);
}
std::vector<StoredDefinition> PostgresStorage::definitions() const { return impl_->definitions(); }
bool PostgresStorage::flush() { return impl_->flush(); }

}  // namespace salesflow
