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
// - With batch_appends (a writer that decides when its answers go out, like `salesflow run`),
//   appends go into one open transaction that commits at flush() or when it holds batch_appends
//   appends: many commands per transaction, the delay bounded by how often the host flushes. An
//   append that answered kOk is durable only once a later flush() returned true; see
//   SqliteOptions::batch_appends for what the host must do.
// - The file carries application_id 0x53464C57 ("SFLW") and its schema version in user_version.
//   Opening checks both before anything is written: a file that is not SQLite, a SQLite file of
//   another application, or one written by a newer salesflow is refused with an error and left
//   exactly as it was. Files of older schema versions are migrated forward in one transaction.
//
// [Thread safety] All methods may be called from any number of threads (one connection, guarded
// by a mutex; with group_commit, appends queue up behind the thread that is writing).
// [Ownership] open() returns the sole owner; destroying it writes pending delivery marks (in batch
// mode, those released by the last flush()) and closes the file.
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
  // When > 0: batch mode. Appends are written into one open transaction (each append in its own
  // savepoint: a conflict undoes that append alone) that commits when flush() is called or when
  // it holds this many appends. Until then an append that answered kOk is visible to this store's
  // reads but not durable. The host therefore:
  //   - calls flush() before it tells anyone outside the process an answer or a notification of
  //     a command, and often enough to bound the delay (salesflow run: when its input pauses,
  //     every batch_appends lines, and at least every 100 ms);
  //   - treats flush() == false as the possible loss of every append since the previous
  //     successful flush (a full disk at COMMIT; the ones a size-triggered commit wrote are kept):
  //     the engine's memory is then ahead of the store, so the host stops using that engine and
  //     recovers a new one from the store, which says what was kept. After such a loss every append
  //     answers kUnavailable, so nothing is built on the lost appends.
  // Delivery marks recorded while a batch is open are written after the following flush(), so a
  // host that hands notifications on after flush() returns loses none in a crash. Marks recorded
  // since the last flush() are not written when the store closes (their notifications repeat on
  // the next recovery).
  // Cannot be combined with group_commit (open() refuses).
  std::uint32_t batch_appends = 0;
  // WAL pages after which a commit checkpoints the log into the database file (SQLite's
  // wal_autocheckpoint; its default is 1,000). Larger means fewer checkpoints: appends spread over
  // many instances rewrite the same index pages, and a checkpoint copies each page once however
  // often it was rewritten since the last one. The log file grows to about 4 KiB per page.
  std::uint32_t wal_autocheckpoint_pages = 10'000;
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
  std::optional<std::uint64_t> stored_version(std::string_view instance) const override;
  void scan(const std::function<void(const Event&)>& visit) const override;
  void mark_delivered(std::string_view instance, std::uint64_t version) override;
  std::uint64_t delivery_mark(std::string_view instance) const override;
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
