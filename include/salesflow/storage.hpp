// Event stores a host opens by URI: the Storage hook (hooks.hpp) plus what a durable store adds
// (the definitions kept with the events, errors that say what failed), and open_store().
//
//     memory            events in memory, lost when the process ends (InMemoryStorage)
//     sqlite:PATH       a SQLite file (sqlite_storage.hpp): the embedded default for durability
//     postgres:CONNINFO a PostgreSQL database (postgres_storage.hpp), shared by many processes;
//                       CONNINFO is a libpq key=value string ("host=/run/postgresql dbname=x")
//
// The schemas and guarantees are in docs/storage.md.
//
// [Thread safety] Every method of an EventStore may be called from any number of threads.
// [Ownership] open_store() hands the store to the caller, who keeps it alive as long as an Engine
// borrows it (EngineOptions::storage).
// [Errors] Nothing throws for bad input or a failing store (only std::bad_alloc may escape):
// open_store() returns an error sentence that names the URI or file and what is wrong; a failing
// operation answers kUnavailable (append) or nothing (load, scan) and last_error() says why.
#ifndef SALESFLOW_STORAGE_HPP_
#define SALESFLOW_STORAGE_HPP_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "salesflow/hooks.hpp"

namespace salesflow {

// A process definition's source text as a store keeps it, so that the store describes itself:
// `salesflow events` names stages and fields without being given the definition files.
struct StoredDefinition {
  std::string id;
  std::uint32_t version = 0;
  std::string source;  // the JSON text as loaded
};

class EventStore : public Storage {
 public:
  // The URI the store was opened with ("sqlite:/tmp/deals.sqlite", "memory").
  virtual std::string uri() const = 0;
  // Why the most recent failing operation failed (empty: nothing failed since opening).
  virtual std::string last_error() const = 0;

  enum class KeepResult : std::uint8_t {
    kKept,         // stored now
    kSame,         // already stored with the same text
    kDifferent,    // this id and version is stored with another text: nothing was changed
    kUnavailable,  // the store failed (last_error())
  };
  // Keeps a definition's source text. Events name their definition by id and version, so a
  // version's text must never change once events use it: a changed text needs a new version.
  virtual KeepResult keep_definition(std::string_view id, std::uint32_t version,
                                     std::string_view source) = 0;
  // Every kept definition, by id then version.
  virtual std::vector<StoredDefinition> definitions() const = 0;
  // Writes what the store keeps lazily (delivery marks) and commits an open batch
  // (StoreOptions::batch_appends). False when the store failed.
  virtual bool flush() = 0;
};

struct StoreOptions {
  // Open an existing store for reading only: nothing is created, migrated or written (appends
  // answer kUnavailable). For tools that only look.
  bool read_only = false;
  // SQLite: batch mode, at most this many appends per transaction (SqliteOptions::batch_appends,
  // whose contract the host then follows). 0: one transaction per append. Other stores ignore
  // it: each of their appends commits before it returns.
  std::uint32_t batch_appends = 0;
};

struct OpenStoreResult {
  std::unique_ptr<EventStore> store;  // null on failure
  std::string error;                  // on failure: one sentence naming the URI or file
};

// Opens the store a URI names: "memory", "sqlite:PATH" (PATH taken literally; relative to the
// working directory), "postgres:CONNINFO". Any other text is refused with an error that lists the
// accepted forms.
OpenStoreResult open_store(std::string_view uri, const StoreOptions& options = {});

}  // namespace salesflow

#endif  // SALESFLOW_STORAGE_HPP_
