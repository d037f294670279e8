// SqliteStorage: the event log in one SQLite file (Debian libsqlite3), the embedded default for
// durability. Schema and guarantees: docs/storage.md.
//
// - Write-ahead logging (journal_mode=WAL) with synchronous=NORMAL: an append that returned kOk
//   survives the process being killed at any point; after a power loss the last commits before
//   the loss may be missing, never half of one.
// - append() runs in one transaction: the events, the idempotency key, and (being the events
//   themselves) the outbox entries are stored together or not at all. The stored version is
//   checked inside the transaction, so several processes may share one file: a stale expected
//   version answers kConflict.
// - With group_commit, concurrent appends from several threads are written in one transaction
//   (each still all or nothing, each answered on its own); without it, one transaction each.
// - The file carries application_id 0x53464C57 ("SFLW") and its schema version in user_version.
//   Opening checks both before anything is written: a file that is not SQLite, a SQLite file of
//   another application, or one written by a newer salesflow is refused with an error and left
//   exactly as it was. Files of older schema versions are migrated forward in one transaction.
//
// [Thread safety] All methods may be called from any number of threads (one connection, guarded
// by a mutex; with group_commit, appends queue up behind the thread that is writing).
// [Ownership] open() returns the sole owner; destroying it writes pending delivery marks and
// closes the file.
// [Errors] As EventStore (storage.hpp): nothing throws for a bad file or a failing disk.
#ifndef SALESFLOW_SQLITE_STORAGE_HPP_
#define SALESFLOW_SQLITE_STORAGE_HPP_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "salesflow/storage.hpp"

namespace salesflow {

struct SqliteOptions {
  // Open only an existing store, for reading (see StoreOptions::read_only).
  bool read_only = false;
  // Batch the appends of concurrent threads into one transaction.
  bool group_commit = false;
  // When > 0, the database may not grow beyond this many pages (PRAGMA max_page_count): appends
  // past it answer kUnavailable ("database or disk is full"), as on a full disk.
  std::uint32_t max_page_count = 0;
  // How long to wait for another process's write lock before answering kUnavailable.
  int busy_timeout_ms = 10'000;
};

class SqliteStorage final : public EventStore {
 public:
  // The schema version this build writes; it reads and migrates every older one.
  static constexpr int kSchemaVersion = 3;
  static constexpr std::uint32_t kApplicationId = 0x53464C57;  // "SFLW"

  struct OpenResult {
    std::unique_ptr<SqliteStorage> storage;  // null on failure
    std::string error;                       // on failure: names the file and the problem
  };
  // Opens or creates the store at `path` (created only when missing and not read_only).
  static OpenResult open(const std::string& path, const SqliteOptions& options = {});

  ~SqliteStorage() override;

  AppendResult append(std::string_view instance, std::uint64_t expected_version,
                      std::span<const Event> events) override;
  AppendResult append_keyed(std::string_view instance, std::uint64_t expected_version,
                            std::span<const Event> events, std::string_view key,
                            const KeyRecord& record) override;
  std::optional<KeyRecord> find_key(std::string_view key) const override;
  std::vector<Event> load(std::string_view instance) const override;
  void scan(const std::function<void(const Event&)>& visit) const override;
  void mark_delivered(std::string_view instance, std::uint64_t version) override;
  void scan_undelivered(const std::function<void(const Event&)>& visit) const override;
  bool save_snapshots(std::span<const Snapshot> snapshots) override;
  void scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const override;

  std::string uri() const override;
  std::string last_error() const override;
  KeepResult keep_definition(std::string_view id, std::uint32_t version,
                             std::string_view source) override;
  std::vector<StoredDefinition> definitions() const override;
  bool flush() override;

  // The number of stored events (all instances).
  std::uint64_t event_count() const;

 private:
  class Impl;
  explicit SqliteStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace salesflow

#endif  // SALESFLOW_SQLITE_STORAGE_HPP_
