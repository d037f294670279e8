// The live instances of one lock stripe, by id: a flat open-addressing index over a chunked,
// address-stable store of entries {id, InstanceState, Timer}. The id takes 16 bytes in the entry
// (InstanceIndex::Id): ids of up to 15 bytes inline, longer ones on the heap.
//
// Finding an instance costs two cache misses at most when nothing is in cache: one for the slot
// (8 bytes: a 32-bit tag from the id's hash and a 32-bit entry number), one for the entry (the id
// is compared there, and the state is next to it). A chained std::unordered_map costs a bucket, a
// node per link walked (the hash is not cached, so each link means comparing the id) and the
// node's state. See docs/ARCHITECTURE.md ("The instance index") for why this is not a library's.
//
// The index never removes an instance (the engine keeps every instance it has seen), so there are
// no tombstones: linear probing over a table at most half full, doubled when it would be fuller.
//
// [Thread safety] None: the engine holds the stripe's lock around every call.
// [References] A reference to an entry's state stays valid for the index's whole life: growth
// moves slots, never entries.
#ifndef SALESFLOW_ENGINE_INSTANCE_INDEX_HPP_
#define SALESFLOW_ENGINE_INSTANCE_INDEX_HPP_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "salesflow/process.hpp"
#include "util/text_hash.hpp"

namespace salesflow::internal {

class InstanceIndex {
 public:
  InstanceIndex() = default;
  InstanceIndex(const InstanceIndex&) = delete;
  InstanceIndex& operator=(const InstanceIndex&) = delete;
  ~InstanceIndex();

  // What the engine keeps of an instance's pending deadline, beside its state (so that it needs
  // no map of its own). The index only stores it; the engine's timers lock guards it.
  struct Timer {
    std::uint64_t handle = 0;  // the deadline queue's handle; 0: none pending
    std::int64_t due = 0;      // of `handle`, while it is pending
  };
  // An instance id, 16 bytes where std::string takes 32: up to kInline bytes inline (the length in
  // the last byte), longer ids on the heap (pointer, then the length in 7 bytes: 2^56 - 1 at most,
  // more than a process can address). Any bytes, NUL included. Neither copied nor moved: entries
  // never move.
  class Id {
   public:
    static constexpr std::size_t kInline = 15;

    Id() noexcept = default;
    explicit Id(std::string_view id) { assign(id); }
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() {
      if (tag_ == kHeap) delete[] heap_data();
    }

    // Replaces the id. Throws std::bad_alloc (and keeps the id it had) when out of memory.
    void assign(std::string_view id);
    std::string_view view() const noexcept {
      return tag_ == kHeap ? std::string_view(heap_data(), heap_size())
                           : std::string_view(bytes_, tag_);
    }
    friend bool operator==(const Id& id, std::string_view other) noexcept {
      return id.view() == other;
    }

   private:
    static constexpr std::uint8_t kHeap = 0xFF;  // tag_ of a heap id; else tag_ is the length
    static constexpr std::size_t kSizeBytes = 7;
    static constexpr std::uint64_t kMaxHeapSize = (std::uint64_t{1} << (8 * kSizeBytes)) - 1;
    static_assert(sizeof(char*) + kSizeBytes <= kInline);

    const char* heap_data() const noexcept {
      const char* data;
      std::memcpy(&data, bytes_, sizeof data);
      return data;
    }
    std::size_t heap_size() const noexcept {
      std::uint64_t size = 0;
      for (std::size_t i = 0; i < kSizeBytes; ++i) {
        size |= std::uint64_t{static_cast<unsigned char>(bytes_[sizeof(char*) + i])} << (8 * i);
      }
      return static_cast<std::size_t>(size);
    }

    // Inline: the id's bytes. On the heap: the pointer to them, then their count (little-endian).
    alignas(char*) char bytes_[kInline] = {};
    std::uint8_t tag_ = 0;
  };
  static_assert(sizeof(Id) == 16);

  struct Entry {
    Id id;  // never changes once the entry is in the index
    InstanceState state;
    Timer timer;
  };

  // `hash` is the id's hash (instance_hash()); the caller computes it once, for the stripe too.
  // Any function of the id works as long as the same one is used for all calls: the tests use
  // colliding ones on purpose.
  InstanceState* find(std::string_view id, std::uint64_t hash) noexcept;
  const InstanceState* find(std::string_view id, std::uint64_t hash) const noexcept;
  // Adds `id` with an empty state and returns it. REQUIRES: find(id, hash) is null. Throws
  // std::bad_alloc (and adds nothing) when out of memory or when the index holds 2^32 - 2 entries.
  InstanceState& insert(std::string_view id, std::uint64_t hash);

  // As find() and insert(), with the whole entry (its address is stable for the index's life,
  // and its id never changes).
  Entry* find_entry(std::string_view id, std::uint64_t hash) noexcept;
  Entry& insert_entry(std::string_view id, std::uint64_t hash);

  std::size_t size() const noexcept { return size_; }
  // Slots in the table (0 before the first insert); size() <= capacity() / 2.
  std::size_t capacity() const noexcept { return slots_.size(); }

  // Calls visit(id, state) for every instance, in the order they were added.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t n = 0; n < size_; ++n) {
      const Entry& e = entry(static_cast<std::uint32_t>(n));
      visit(e.id.view(), e.state);
    }
  }

  // Cache hints for a batch of commands (Engine::execute_batch), which asks for a later command's
  // memory a step at a time so that each step finds the previous one's line in cache and the
  // misses of several commands overlap. Neither changes anything nor waits for memory beyond
  // what it names:
  // prefetch_slot: the home slot of `hash`;
  // prefetch_entry: the entry of the first slot from there whose tag is the hash's (without
  // comparing its id, which would wait for the entry); reads the slots, so call it once
  // prefetch_slot(hash) has had time to bring them in.
  void prefetch_slot(std::uint64_t hash) const noexcept;
  void prefetch_entry(std::uint64_t hash) const noexcept;

  // The store's chunks: 16, 16, 32, 64 and 128 entries (so that a small engine's 256 stripes
  // stay small), then 256 entries each.
  static constexpr std::uint32_t kFirstChunk = 16;
  static constexpr std::uint32_t kChunk = 256;

 private:
  static constexpr std::uint64_t kEmpty = 0;

  static std::uint32_t tag_of(std::uint64_t hash) noexcept {
    return static_cast<std::uint32_t>(hash >> 32);
  }
  // Where entry `number` lives: its chunk and its place there.
  struct Place {
    std::uint32_t chunk, offset, chunk_size;
  };
  static Place place_of(std::uint32_t number) noexcept;
  Entry& entry(std::uint32_t number) noexcept {
    const Place p = place_of(number);
    return chunks_[p.chunk][p.offset];
  }
  const Entry& entry(std::uint32_t number) const noexcept {
    const Place p = place_of(number);
    return chunks_[p.chunk][p.offset];
  }
  // The entry number of `id`, or -1.
  std::int64_t locate(std::string_view id, std::uint64_t hash) const noexcept;
  void grow();

  // A slot is kEmpty, or (tag << 32) | (entry number + 1). The tag's low bits pick the home slot,
  // so that growing needs no entry (and no rehash of any id).
  std::vector<std::uint64_t> slots_;
  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::size_t size_ = 0;
};

// The hash of an instance id, for the stripe (low bits) and the index (high bits).
inline std::uint64_t instance_hash(std::string_view id) noexcept { return text_hash(id); }

}  // namespace salesflow::internal

#endif  // SALESFLOW_ENGINE_INSTANCE_INDEX_HPP_
