// open_store(): URIs to stores; the in-memory EventStore.
#include <map>
#include <mutex>
#include <utility>

#include "definition/json_document.hpp"
#include "salesflow/postgres_storage.hpp"
#include "salesflow/sqlite_storage.hpp"
#include "salesflow/storage.hpp"

namespace salesflow {
namespace {

// InMemoryStorage with the definitions an EventStore keeps. It keeps no snapshots (the Storage
// defaults): its events die with the process, so no later recovery could use them.
class MemoryStore final : public EventStore {
 public:
  AppendResult append(std::string_view instance, std::uint64_t expected_version,
                      std::span<const Event> events) override {
    return events_.append(instance, expected_version, events);
  }
  AppendResult append_keyed(std::string_view instance, std::uint64_t expected_version,
                            std::span<const Event> events, std::string_view key,
                            const KeyRecord& record) override {
    return events_.append_keyed(instance, expected_version, events, key, record);
  }
  std::optional<KeyRecord> find_key(std::string_view key) const override {
    return events_.find_key(key);
  }
  std::vector<Event> load(std::string_view instance) const override {
    return events_.load(instance);
  }
  void scan(const std::function<void(const Event&)>& visit) const override { events_.scan(visit); }
  std::string uri() const override { return "memory"; }
  std::string last_error() const override { return {}; }
  KeepResult keep_definition(std::string_view id, std::uint32_t version,
                             std::string_view source) override {
    std::lock_guard lock(mutex_);
    const auto [it, added] =
        definitions_.try_emplace(std::make_pair(std::string(id), version), source);
    if (added) return KeepResult::kKept;
    return it->second == source ? KeepResult::kSame : KeepResult::kDifferent;
  }
  std::vector<StoredDefinition> definitions() const override {
    std::lock_guard lock(mutex_);
    std::vector<StoredDefinition> out;
    for (const auto& [key, source] : definitions_) {
      out.push_back(StoredDefinition{key.first, key.second, source});
    }
    return out;
  }
  bool flush() override { return true; }

 private:
  InMemoryStorage events_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::uint32_t>, std::string> definitions_;
};

constexpr std::string_view kForms = "expected \"memory\", \"sqlite:PATH\" or \"postgres:CONNINFO\"";

}  // namespace

OpenStoreResult open_store(std::string_view uri, const StoreOptions& options) {
  const auto refuse = [&](std::string why) {
    return OpenStoreResult{nullptr, "store " + internal::quote_text(uri) + ": " + std::move(why)};
  };
  if (uri == "memory") {
    if (options.read_only) return refuse("a memory store is empty: there is nothing to read");
    return OpenStoreResult{std::make_unique<MemoryStore>(), {}};
  }
  if (uri.starts_with("sqlite:")) {
    const std::string_view path = uri.substr(7);
    if (path.empty()) return refuse("no file after \"sqlite:\"; " + std::string(kForms));
    if (path.find('\0') != std::string_view::npos) return refuse("the path holds a NUL byte");
    SqliteOptions sqlite_options;
    sqlite_options.read_only = options.read_only;
    sqlite_options.batch_appends = options.batch_appends;
    auto opened = SqliteStorage::open(std::string(path), sqlite_options);
    if (!opened.storage) return OpenStoreResult{nullptr, std::move(opened.error)};
    return OpenStoreResult{std::move(opened.storage), {}};
  }
  if (uri.starts_with("postgres:")) {
    const std::string_view conninfo = uri.substr(9);
    if (conninfo.find('\0') != std::string_view::npos) {
      return refuse("the connection string holds a NUL byte");
    }
    if (conninfo.starts_with("//")) {
      // libpq would read "postgres://..." as a URI; "postgres:" takes a key=value string.
      return refuse(
          "after \"postgres:\" give a key=value connection string such as "
          "\"host=/run/postgresql dbname=sales\"");
    }
    PostgresOptions postgres_options;
    postgres_options.read_only = options.read_only;
    auto opened = PostgresStorage::open(std::string(conninfo), postgres_options);
    if (!opened.storage) return OpenStoreResult{nullptr, std::move(opened.error)};
    return OpenStoreResult{std::move(opened.storage), {}};
  }
  return refuse("unknown kind of store; " + std::string(kForms));
}

}  // namespace salesflow
