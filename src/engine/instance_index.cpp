#include "engine/instance_index.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <new>

namespace salesflow::internal {

InstanceIndex::~InstanceIndex() = default;

void InstanceIndex::Id::assign(std::string_view id) {
  // `id` may view this id's own bytes: they are read before any is overwritten or freed.
  const char* old_heap = tag_ == kHeap ? heap_data() : nullptr;
  if (id.size() <= kInline) {
    char copy[kInline];
    std::copy_n(id.data(), id.size(), copy);
    std::copy_n(copy, id.size(), bytes_);
    tag_ = static_cast<std::uint8_t>(id.size());
  } else {
    // Unreachable in practice (no process addresses 2^56 bytes), but not left to chance.
    if (id.size() > kMaxHeapSize) throw std::bad_alloc();
    char* data = new char[id.size()];  // may throw: nothing is changed yet
    std::copy_n(id.data(), id.size(), data);
    std::memcpy(bytes_, &data, sizeof data);
    const std::uint64_t size = id.size();
    for (std::size_t i = 0; i < kSizeBytes; ++i) {
      bytes_[sizeof data + i] = static_cast<char>(static_cast<unsigned char>(size >> (8 * i)));
    }
    tag_ = kHeap;
  }
  delete[] old_heap;
}

InstanceIndex::Place InstanceIndex::place_of(std::uint32_t number) noexcept {
  if (number >= kChunk) {
    // Chunks 0..4 hold the first 256 entries; chunk 5 on hold 256 each.
    return Place{4 + number / kChunk, number % kChunk, kChunk};
  }
  if (number < kFirstChunk) return Place{0, number, kFirstChunk};
  // 16..31 -> chunk 1, 32..63 -> 2, 64..127 -> 3, 128..255 -> 4; chunk c >= 1 starts at 16 << (c-1)
  // and holds as many entries.
  const auto chunk = static_cast<std::uint32_t>(std::bit_width(number / kFirstChunk));
  const std::uint32_t begin = kFirstChunk << (chunk - 1);
  return Place{chunk, number - begin, begin};
}

std::int64_t InstanceIndex::locate(std::string_view id, std::uint64_t hash) const noexcept {
  if (slots_.empty()) return -1;
  const std::uint32_t tag = tag_of(hash);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
    const std::uint64_t slot = slots_[i];
    if (slot == kEmpty) return -1;  // the table is at most half full: probing ends
    if (static_cast<std::uint32_t>(slot >> 32) != tag) continue;
    const auto number = static_cast<std::uint32_t>(slot) - 1;
    const Entry& e = entry(number);
    // The entry spans three cache lines; the caller reads them all (the state): ask for the
    // other two now, so that their misses overlap the first's.
    __builtin_prefetch(reinterpret_cast<const char*>(&e) + 64);
    __builtin_prefetch(reinterpret_cast<const char*>(&e) + 128);
    if (e.id == id) return number;
  }
}

InstanceState* InstanceIndex::find(std::string_view id, std::uint64_t hash) noexcept {
  const std::int64_t number = locate(id, hash);
  return number < 0 ? nullptr : &entry(static_cast<std::uint32_t>(number)).state;
}

const InstanceState* InstanceIndex::find(std::string_view id, std::uint64_t hash) const noexcept {
  const std::int64_t number = locate(id, hash);
  return number < 0 ? nullptr : &entry(static_cast<std::uint32_t>(number)).state;
}

void InstanceIndex::prefetch_slot(std::uint64_t hash) const noexcept {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[tag_of(hash) & (slots_.size() - 1)]);
}

void InstanceIndex::prefetch_entry(std::uint64_t hash) const noexcept {
  if (slots_.empty()) return;
  const std::uint32_t tag = tag_of(hash);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
    const std::uint64_t slot = slots_[i];
    if (slot == kEmpty) return;
    if (static_cast<std::uint32_t>(slot >> 32) != tag) continue;
    const auto* const e =
        reinterpret_cast<const char*>(&entry(static_cast<std::uint32_t>(slot) - 1));
    for (std::size_t at = 0; at < sizeof(Entry); at += 64) __builtin_prefetch(e + at);
    __builtin_prefetch(e + sizeof(Entry) - 1);
    return;
  }
}

InstanceIndex::Entry* InstanceIndex::find_entry(std::string_view id, std::uint64_t hash) noexcept {
  const std::int64_t number = locate(id, hash);
  return number < 0 ? nullptr : &entry(static_cast<std::uint32_t>(number));
}

InstanceState& InstanceIndex::insert(std::string_view id, std::uint64_t hash) {
  return insert_entry(id, hash).state;
}

InstanceIndex::Entry& InstanceIndex::insert_entry(std::string_view id, std::uint64_t hash) {
  // Entry numbers are stored + 1 in 32 bits.
  if (size_ >= std::numeric_limits<std::uint32_t>::max() - 1) throw std::bad_alloc();
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const auto number = static_cast<std::uint32_t>(size_);
  const Place p = place_of(number);
  if (p.chunk == chunks_.size()) chunks_.push_back(std::make_unique<Entry[]>(p.chunk_size));
  Entry& e = chunks_[p.chunk][p.offset];
  e.id.assign(id);  // may throw: nothing is published yet
  const std::uint32_t tag = tag_of(hash);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = tag & mask;
  while (slots_[i] != kEmpty) i = (i + 1) & mask;
  slots_[i] = (std::uint64_t{tag} << 32) | (std::uint64_t{number} + 1);
  ++size_;
  return e;
}

void InstanceIndex::grow() {
  const std::size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
  std::vector<std::uint64_t> slots(capacity, kEmpty);
  const std::size_t mask = capacity - 1;
  for (const std::uint64_t slot : slots_) {
    if (slot == kEmpty) continue;
    std::size_t i = static_cast<std::uint32_t>(slot >> 32) & mask;
    while (slots[i] != kEmpty) i = (i + 1) & mask;
    slots[i] = slot;
  }
  slots_.swap(slots);
}

}  // namespace salesflow::internal
