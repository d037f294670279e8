#include "salesflow/hooks.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace salesflow {

Directory::~Directory() = default;
Storage::~Storage() = default;
EventListener::~EventListener() = default;

std::uint64_t InMemoryDirectory::next_revision() noexcept {
  // Process-wide, so that a directory made where another one was never repeats its numbers.
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void InMemoryDirectory::grant(std::string person, std::string role) {
  std::unique_lock lock(mutex_);
  auto& roles = roles_[std::move(person)];
  if (std::find(roles.begin(), roles.end(), role) != roles.end()) return;  // no change
  roles.push_back(std::move(role));
  // Under the lock, after the change: a reader that sees the new number sees the new roles.
  revision_.store(next_revision(), std::memory_order_release);
}

std::vector<std::string> InMemoryDirectory::roles_of(std::string_view person) const {
  std::shared_lock lock(mutex_);
  const auto it = roles_.find(person);
  return it == roles_.end() ? std::vector<std::string>{} : it->second;
}

void Directory::visit_roles(std::string_view person,
                            const std::function<void(std::string_view role)>& visit) const {
  for (const std::string& role : roles_of(person)) visit(role);
}

void InMemoryDirectory::visit_roles(std::string_view person,
                                    const std::function<void(std::string_view role)>& visit) const {
  std::shared_lock lock(mutex_);
  const auto it = roles_.find(person);
  if (it == roles_.end()) return;
  for (const std::string& role : it->second) visit(role);
}

Storage::AppendResult Storage::append_keyed(std::string_view instance,
                                            std::uint64_t expected_version,
                                            std::span<const Event> events, std::string_view,
                                            const KeyRecord&) {
  return append(instance, expected_version, events);
}
std::optional<Storage::KeyRecord> Storage::find_key(std::string_view) const { return {}; }
std::optional<std::uint64_t> Storage::stored_version(std::string_view) const { return {}; }
void Storage::mark_delivered(std::string_view, std::uint64_t) {}
std::uint64_t Storage::delivery_mark(std::string_view) const {
  return std::numeric_limits<std::uint64_t>::max();
}
void Storage::scan_undelivered(const std::function<void(const Event&)>&) const {}
bool Storage::save_snapshots(std::span<const Snapshot>) { return false; }

void Storage::scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
  std::map<std::string, std::vector<Event>, std::less<>> by_instance;
  scan([&](const Event& e) { by_instance[e.instance].push_back(e); });
  for (const auto& [id, events] : by_instance) {
    visit(RecoveryLog{id, nullptr, events, events.back().version});
  }
}

bool InMemoryStorage::save_snapshots(std::span<const Snapshot> snapshots) {
  std::unique_lock lock(mutex_);
  for (const Snapshot& s : snapshots) {
    auto it = snapshots_.find(s.instance);
    if (it == snapshots_.end()) {
      snapshots_.emplace(s.instance, s);
    } else if (it->second.version <= s.version) {
      it->second = s;
    }
  }
  return true;
}

void InMemoryStorage::scan_recovery(const std::function<void(const RecoveryLog&)>& visit) const {
  std::shared_lock lock(mutex_);
  for (const auto& [id, events] : events_) {
    if (events.empty()) continue;
    const auto it = snapshots_.find(id);
    const Snapshot* snapshot = it == snapshots_.end() ? nullptr : &it->second;
    const std::span<const Event> all(events);
    const std::size_t from =
        snapshot == nullptr
            ? 0
            : static_cast<std::size_t>(std::min<std::uint64_t>(snapshot->version, all.size()));
    visit(RecoveryLog{id, snapshot, all.subspan(from), events.back().version});
  }
}

std::optional<Storage::Snapshot> InMemoryStorage::snapshot(std::string_view instance) const {
  std::shared_lock lock(mutex_);
  const auto it = snapshots_.find(instance);
  if (it == snapshots_.end()) return std::nullopt;
  return it->second;
}

void InMemoryStorage::put_snapshot(Snapshot snapshot) {
  std::unique_lock lock(mutex_);
  std::string id = snapshot.instance;
  snapshots_.insert_or_assign(std::move(id), std::move(snapshot));
}

Storage::AppendResult InMemoryStorage::append(std::string_view instance,
                                              std::uint64_t expected_version,
                                              std::span<const Event> events) {
  std::unique_lock lock(mutex_);
  return append_locked(instance, expected_version, events);
}

Storage::AppendResult InMemoryStorage::append_keyed(std::string_view instance,
                                                    std::uint64_t expected_version,
                                                    std::span<const Event> events,
                                                    std::string_view key, const KeyRecord& record) {
  std::unique_lock lock(mutex_);
  if (keys_.find(key) != keys_.end()) return AppendResult::kConflict;
  const AppendResult result = append_locked(instance, expected_version, events);
  if (result == AppendResult::kOk) keys_.emplace(std::string(key), record);
  return result;
}

std::optional<Storage::KeyRecord> InMemoryStorage::find_key(std::string_view key) const {
  std::shared_lock lock(mutex_);
  const auto it = keys_.find(key);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Storage::AppendResult InMemoryStorage::append_locked(std::string_view instance,
                                                     std::uint64_t expected_version,
                                                     std::span<const Event> events) {
  auto it = events_.find(instance);
  const std::uint64_t stored = it == events_.end() ? 0 : it->second.size();
  if (stored != expected_version) return AppendResult::kConflict;
  if (events.empty()) return AppendResult::kOk;
  // All or nothing, also when memory runs out: room first, then copies, undone if one throws.
  // (vector::insert of copies gives no such guarantee: when it reallocates and a copy throws, the
  // elements it moved are lost.)
  if (it == events_.end()) {
    events_.emplace(std::string(instance), std::vector<Event>(events.begin(), events.end()));
    return AppendResult::kOk;
  }
  std::vector<Event>& log = it->second;
  const std::size_t before = log.size();
  if (log.capacity() - before < events.size()) {
    log.reserve(std::max(before + events.size(), 2 * log.capacity()));  // geometric growth
  }
  try {
    for (const Event& e : events) log.push_back(e);  // within capacity: no element moves
  } catch (...) {
    log.resize(before);
    throw;
  }
  return AppendResult::kOk;
}

std::vector<Event> InMemoryStorage::load(std::string_view instance) const {
  std::shared_lock lock(mutex_);
  const auto it = events_.find(instance);
  return it == events_.end() ? std::vector<Event>{} : it->second;
}

std::optional<std::uint64_t> InMemoryStorage::stored_version(std::string_view instance) const {
  std::shared_lock lock(mutex_);
  const auto it = events_.find(instance);
  return it == events_.end() || it->second.empty() ? 0 : it->second.back().version;
}

void InMemoryStorage::scan(const std::function<void(const Event&)>& visit) const {
  std::shared_lock lock(mutex_);
  for (const auto& [instance, events] : events_) {
    for (const Event& e : events) visit(e);
  }
}

std::size_t InMemoryStorage::event_count() const {
  std::shared_lock lock(mutex_);
  std::size_t count = 0;
  for (const auto& [instance, events] : events_) count += events.size();
  return count;
}

}  // namespace salesflow
