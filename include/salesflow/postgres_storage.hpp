// PostgresStorage: the event log in a PostgreSQL database (Debian libpq), for several engine
// processes sharing one database. Schema and guarantees: docs/storage.md.
//
// - append() is one transaction (events, idempotency key; the events are the outbox entries).
//   The events table's unique (instance, version) index decides races: of two processes appending
//   version n of one instance, one commits and the other answers kConflict; a stale expected
//   version answers kConflict.
// - The schema version is kept in salesflow_meta; opening refuses a newer one, creates a missing
//   schema and migrates an older one in one transaction (under an advisory lock, so that several
//   processes opening at once migrate once).
//
// [Thread safety] All methods may be called from any number of threads: one connection per
// store, guarded by a mutex. Open one store per thread (or process) for parallel sessions.
// [Ownership] open() returns the sole owner; destroying it writes pending delivery marks and
// closes the connection.
// [Errors] As EventStore (storage.hpp): nothing throws for an unreachable server or bad data.
#ifndef SALESFLOW_POSTGRES_STORAGE_HPP_
#define SALESFLOW_POSTGRES_STORAGE_HPP_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "salesflow/storage.hpp"

namespace salesflow {

struct PostgresOptions {
  // Open only an existing store, for reading (see StoreOptions::read_only).
  bool read_only = false;
};

class PostgresStorage final : public EventStore {
 public:
  static constexpr int kSchemaVersion = 3;

  struct OpenResult {
    std::unique_ptr<PostgresStorage> storage;  // null on failure
    std::string error;  // on failure: the server's reason, without the password
  };
  // Connects with a libpq connection string ("host=/tmp/pg port=5432 dbname=sales user=app").
  static OpenResult open(const std::string& conninfo, const PostgresOptions& options = {});

  ~PostgresStorage() override;

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

 private:
  class Impl;
  explicit PostgresStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace salesflow

#endif  // SALESFLOW_POSTGRES_STORAGE_HPP_
