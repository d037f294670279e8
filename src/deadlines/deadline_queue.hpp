// DeadlineQueue: the pending deadlines of an engine, in time order, with O(1) schedule, cancel and
// fire.
//
// A hierarchical timing wheel over the whole 64-bit millisecond range: 8 levels of 256 buckets.
// The wheel has a current time `cur_`; a deadline sits at the level of the highest byte in which
// its due differs from `cur_`, in the bucket named by that byte of its due (level 0: one bucket
// per millisecond). So every deadline at level k is later than every deadline below k, and a
// level's buckets are in time order: the earliest deadline is in the first occupied bucket of the
// lowest occupied level, which two occupancy bitmaps find without scanning. When time reaches a
// bucket above level 0, its deadlines are cascaded (re-placed against the bucket's start, so into
// lower levels); a level-0 bucket that comes due becomes the ready run, fired front to back.
// Deadlines scheduled before `cur_` (in the past for the wheel) go to a binary heap that fires
// before the ready run: O(log n) like the heap this replaced, and only that common when a caller
// schedules many deadlines behind the last advance (or behind next_due(), which moves `cur_`).
// `cur_` moves only to the start of the earliest bucket, never past a stored deadline, and to
// `now` when an advance finds nothing stored.
//
// Buckets are chains of 1-KiB chunks from a pool, appended at their tail: scheduling writes into
// one of a few hot tails, cascading streams one chain into others. An entry carries everything a
// fire reports {due, payload, slot, tag}, so firing never reads the slot tables. A handle names a
// slot and the tag it was scheduled with; a dense bit set (one bit per slot, 192 KiB for 1.5
// million slots) says which slots are pending, and a 4-byte tag per slot (in huge pages: see
// huge_page_allocator.hpp) recognises stale handles. Cancel clears the bit and leaves the entry
// where it is: a cancelled entry is dropped when its bucket cascades or fires, or when cancelled
// entries pass half the pending ones, by one pass over all buckets (so cancel is O(1)
// amortised). The slot of a cancelled entry is reused only once the entry is gone.
//
// Order: earlier `due` first; equal `due` in scheduling order. A bucket's chain is in scheduling
// order, and all entries with one due are always in one bucket (a due's level only falls as
// `cur_` approaches it, and `cur_` enters a bucket's range only by cascading it), so a level-0
// bucket is already in order. The heap of past deadlines orders ties by a 32-bit sequence compared
// with wrap-around (exact for ties scheduled fewer than 2^31 schedules apart).
//
// Figures next to the previous 4-ary heap, std::priority_queue and boost::heap:
// docs/PERFORMANCE.md; design notes: docs/ARCHITECTURE.md.
//
// [Threading] Not thread-safe: one owner, or a lock around every call.
// [Exactly once] advance(now, fire) removes every deadline due at or before `now` and calls
// fire() once for each, in order. fire() may schedule and cancel: a deadline it schedules at or
// before `now` fires in the same advance, in its place in the order.
// [Memory] schedule() allocates (slots, chunks, past heap) so that nothing else does: pop_due,
// advance (apart from fire), next_due, cancel and clear never allocate.
#ifndef SALESFLOW_DEADLINES_DEADLINE_QUEUE_HPP_
#define SALESFLOW_DEADLINES_DEADLINE_QUEUE_HPP_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "deadlines/huge_page_allocator.hpp"

namespace salesflow::internal {

class DeadlineQueue {
 public:
  // Milliseconds since the Unix epoch (Timestamp's representation).
  using Time = std::int64_t;

  // Names one scheduled deadline. Value 0 is never a live handle.
  struct Handle {
    std::uint64_t value = 0;
    explicit operator bool() const noexcept { return value != 0; }
    friend bool operator==(Handle, Handle) = default;
  };

  struct Due {
    Handle handle;
    Time due = 0;
    std::uint64_t payload = 0;
  };

  DeadlineQueue() = default;
  // Buckets point into the chunk pool, which a move hands over whole: movable, not copyable. A
  // moved-from queue is empty.
  DeadlineQueue(const DeadlineQueue&) = delete;
  DeadlineQueue& operator=(const DeadlineQueue&) = delete;
  DeadlineQueue(DeadlineQueue&& other) noexcept { swap(other); }
  DeadlineQueue& operator=(DeadlineQueue&& other) noexcept {
    DeadlineQueue taken(std::move(other));
    swap(taken);
    return *this;
  }

  void swap(DeadlineQueue& other) noexcept {
    using std::swap;
    swap(buckets_, other.buckets_);
    swap(occupied_, other.occupied_);
    swap(levels_, other.levels_);
    swap(cur_, other.cur_);
    swap(ready_, other.ready_);
    swap(ready_pos_, other.ready_pos_);
    swap(late_, other.late_);
    swap(tags_, other.tags_);
    swap(live_bits_, other.live_bits_);
    swap(free_slots_, other.free_slots_);
    swap(blocks_, other.blocks_);
    swap(free_chunks_, other.free_chunks_);
    swap(stored_, other.stored_);
    swap(live_, other.live_);
    swap(dead_, other.dead_);
    swap(sequence_, other.sequence_);
  }

  // Pending (not fired, not cancelled) deadlines.
  std::size_t size() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0; }

  // The earliest pending due time. REQUIRES: !empty(). Moves the wheel up to that deadline's
  // bucket, so deadlines scheduled before it afterwards take the (slower) past heap.
  Time next_due() noexcept {
    for (;;) {
      if (!late_.empty()) {
        if (live(late_.front().slot)) return late_.front().due;
        discard(pop_late().slot);
      } else if (ready_.head != nullptr) {
        const Entry& front = ready_.head->entries[ready_pos_];
        if (live(front.slot)) return front.due;
        discard(pop_ready().slot);
      } else {
        unsigned level = 0;
        unsigned index = 0;
        if (!earliest_bucket(level, index)) return std::numeric_limits<Time>::max();  // empty()
        enter_bucket(level, index);
      }
    }
  }

  void reserve(std::size_t n) {
    tags_.reserve(n);
    free_slots_.reserve(n);
    live_bits_.reserve(n / 64 + 1);
    reserve_chunks(n);
  }

  Handle schedule(Time due, std::uint64_t payload) {
    const Key key = key_of(due);
    // Everything that can allocate comes first, so a throw leaves the queue as it was.
    if (free_slots_.empty()) add_slot();
    if (key < cur_) {
      if (late_.size() == late_.capacity())
        late_.reserve(std::max<std::size_t>(16, 2 * late_.size()));
    } else {
      reserve_chunks(stored_ + 1);
    }
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    const std::uint32_t tag = sequence_++;
    tags_[slot] = tag;
    live_bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
    ++live_;
    const Entry entry{due, payload, slot, tag};
    if (key < cur_) {
      late_.push_back(entry);
      std::push_heap(late_.begin(), late_.end(), after);
    } else {
      place(entry, key);
      ++stored_;
    }
    return handle_of(slot, tag);
  }

  // True when `handle` was pending (it will not fire); false when it already fired or was
  // cancelled, or was never issued.
  bool cancel(Handle handle) noexcept {
    const std::uint32_t slot = find(handle);
    if (slot == kNone) return false;
    kill(slot);
    return true;
  }

  // As cancel(), for an owner that knows `handle` is pending: returned by schedule() or
  // reschedule(), and neither fired (popped) nor cancelled since. It skips what recognises a
  // stale handle, a read of the slot's tag at a random place in a table of one tag per slot (a
  // cache miss at a million pending), and touches only the dense pending bits. The engine keeps
  // each instance's handle exactly while it is pending (it forgets it when the deadline is
  // popped), so it cancels this way. REQUIRES: `handle` is pending; anything else is undefined
  // (debug and sanitizer builds check it and abort).
  void cancel_pending(Handle handle) noexcept {
#if !defined(NDEBUG) || defined(SALESFLOW_CHECK_PRECONDITIONS)
    if (find(handle) == kNone) {
      std::fputs("DeadlineQueue::cancel_pending() of a handle that is not pending\n", stderr);
      std::abort();
    }
#endif
    kill(static_cast<std::uint32_t>((handle.value & 0xffffffffu) - 1));
  }

  // Moves a pending deadline to `due`, behind deadlines already scheduled at `due`, with
  // `payload` (the caller passes it again: the queue keeps no payload per slot, only in its
  // entries, which a handle does not find); returns its new handle (the old one is stale), or a
  // null handle when `handle` was not pending.
  Handle reschedule(Handle handle, Time due, std::uint64_t payload) {
    const std::uint32_t slot = find(handle);
    if (slot == kNone) return Handle{};
    const Handle moved = schedule(due, payload);  // may throw: nothing cancelled yet
    cancel(handle);
    return moved;
  }

  // Fires every deadline due at or before `now`, earliest first: removes it, then calls
  // fire(const Due&). Returns how many fired. When nothing is due: a look at the first occupied
  // bucket of the lowest occupied level, whatever the number pending.
  template <typename Fire>
  std::size_t advance(Time now, Fire&& fire) {
    std::size_t fired = 0;
    Due due;
    while (pop_due(now, due)) {
      ++fired;
      fire(due);
    }
    return fired;
  }

  // Removes the earliest deadline due at or before `now` into `out`; false when none is due.
  bool pop_due(Time now, Due& out) noexcept {
    for (;;) {
      // Past deadlines precede the ready run, which precedes the wheel.
      if (!late_.empty()) {
        const Entry& top = late_.front();
        if (live(top.slot) && top.due > now) return false;
        const Entry entry = pop_late();
        if (!live(entry.slot)) {
          discard(entry.slot);
          continue;
        }
        take(entry, out);
        return true;
      }
      if (ready_.head != nullptr) {
        const Entry& front = ready_.head->entries[ready_pos_];
        if (live(front.slot) && front.due > now) return false;
        const Entry entry = pop_ready();
        if (!live(entry.slot)) {
          discard(entry.slot);
          continue;
        }
        take(entry, out);
        return true;
      }
      unsigned level = 0;
      unsigned index = 0;
      if (!earliest_bucket(level, index)) {
        // Nothing stored: the wheel may jump to `now`, which keeps later schedules low.
        cur_ = std::max(cur_, key_of(now));
        return false;
      }
      if (bucket_start(level, index) > key_of(now)) return false;
      enter_bucket(level, index);
    }
  }

  void clear() noexcept {  // cancels everything pending
    const auto drop = [this](const Entry& entry) {
      live_bits_[entry.slot / 64] &= ~(std::uint64_t{1} << (entry.slot % 64));
      free_slots_.push_back(entry.slot);
    };
    for (unsigned level = 0; level < kLevels; ++level) {
      for (unsigned word = 0; word < kWords; ++word) {
        for (std::uint64_t bits = occupied_[level][word]; bits != 0; bits &= bits - 1) {
          const unsigned index = word * 64 + static_cast<unsigned>(std::countr_zero(bits));
          for_each_then_free(buckets_[level][index].head, 0, drop);
          vacate(level, index);
        }
      }
    }
    for_each_then_free(ready_.head, ready_pos_, drop);
    ready_ = Bucket{};
    ready_pos_ = 0;
    for (const Entry& entry : late_) drop(entry);
    late_.clear();
    live_ = 0;
    dead_ = 0;
    stored_ = 0;
  }

  // Bytes the queue holds at its current capacity (for the benchmarks), not counting the
  // object itself (its bucket heads and bitmaps, 33 KiB).
  std::size_t bytes_allocated() const noexcept {
    return blocks_.size() * kChunksPerBlock * sizeof(Chunk) +
           blocks_.capacity() * sizeof(blocks_[0]) + late_.capacity() * sizeof(Entry) +
           tags_.capacity() * sizeof(std::uint32_t) +
           live_bits_.capacity() * sizeof(std::uint64_t) +
           free_slots_.capacity() * sizeof(std::uint32_t);
  }

 private:
  // A due as an unsigned key with the same order (INT64_MIN -> 0).
  using Key = std::uint64_t;
  static constexpr unsigned kLevelBits = 8;
  static constexpr unsigned kBuckets = 1u << kLevelBits;  // per level
  static constexpr unsigned kLevels = 64 / kLevelBits;
  static constexpr unsigned kWords = kBuckets / 64;  // occupancy words per level
  static constexpr std::uint32_t kChunkEntries = 42;
  static constexpr std::size_t kChunksPerBlock = 64;
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t kCompactMin = 64;

  struct Entry {
    Time due;
    std::uint64_t payload;
    std::uint32_t slot;
    std::uint32_t tag;  // the schedule's sequence number: handle generation and tie order
  };
  static_assert(sizeof(Entry) == 24);

  // Every chunk of a chain but the last is full.
  struct Chunk {
    Chunk* next;
    std::uint32_t count;
    Entry entries[kChunkEntries];
  };
  static_assert(sizeof(Chunk) == 1024);

  struct Bucket {
    Chunk* head = nullptr;
    Chunk* tail = nullptr;
  };

  static Key key_of(Time due) noexcept { return static_cast<Key>(due) ^ (Key{1} << 63); }

  // Order of the past heap: true when `a` fires after `b`.
  static bool after(const Entry& a, const Entry& b) noexcept {
    if (a.due != b.due) return a.due > b.due;
    return static_cast<std::int32_t>(a.tag - b.tag) > 0;
  }

  static Handle handle_of(std::uint32_t slot, std::uint32_t tag) noexcept {
    return Handle{(std::uint64_t{tag} << 32) | (std::uint64_t{slot} + 1)};
  }

  // The slot of a pending handle, or kNone.
  std::uint32_t find(Handle handle) const noexcept {
    const std::uint64_t low = handle.value & 0xffffffffu;
    if (low == 0 || low > tags_.size()) return kNone;
    const auto slot = static_cast<std::uint32_t>(low - 1);
    if (!live(slot) || tags_[slot] != (handle.value >> 32)) return kNone;
    return slot;
  }

  void kill(std::uint32_t slot) noexcept {
    live_bits_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
    --live_;
    ++dead_;
    if (dead_ > kCompactMin && dead_ > live_ / 2) compact();
  }

  bool live(std::uint32_t slot) const noexcept {
    return (live_bits_[slot / 64] >> (slot % 64)) & 1u;
  }

  // Fires `entry`: its slot is free and its handle stale from now on.
  void take(const Entry& entry, Due& out) noexcept {
    live_bits_[entry.slot / 64] &= ~(std::uint64_t{1} << (entry.slot % 64));
    --live_;
    free_slots_.push_back(entry.slot);  // capacity reserved by add_slot()
    out = Due{handle_of(entry.slot, entry.tag), entry.due, entry.payload};
  }

  // A cancelled entry left the queue: its slot can be reused.
  void discard(std::uint32_t slot) noexcept {
    free_slots_.push_back(slot);
    --dead_;
  }

  void add_slot() {
    const auto slot = static_cast<std::uint32_t>(tags_.size());
    if (slot % 64 == 0) live_bits_.push_back(0);
    tags_.push_back(0);
    if (free_slots_.capacity() < tags_.capacity()) free_slots_.reserve(tags_.capacity());
    free_slots_.push_back(slot);
  }

  // Keeps enough chunks that cascades never allocate: each occupied bucket (at most kLevels *
  // kBuckets, plus the ready run and a chain being cascaded) holds at most one chunk that is not
  // full, and never more chunks than entries.
  void reserve_chunks(std::size_t entries) {
    const std::size_t needed =
        std::min(entries + 4, entries / kChunkEntries + kLevels * kBuckets + 8);
    while (blocks_.size() * kChunksPerBlock < needed) {
      blocks_.push_back(std::unique_ptr<Chunk[]>(new Chunk[kChunksPerBlock]));
      Chunk* block = blocks_.back().get();
      for (std::size_t i = kChunksPerBlock; i-- > 0;) free_chunk(&block[i]);
    }
  }

  Chunk* new_chunk() noexcept {
    Chunk* chunk = free_chunks_;
    free_chunks_ = chunk->next;
    chunk->next = nullptr;
    chunk->count = 0;
    return chunk;
  }

  void free_chunk(Chunk* chunk) noexcept {
    chunk->next = free_chunks_;
    free_chunks_ = chunk;
  }

  // Appends `entry` (key >= cur_) to its bucket.
  void place(const Entry& entry, Key key) noexcept {
    const Key differs = key ^ cur_;
    const unsigned level =
        differs == 0 ? 0 : static_cast<unsigned>(63 - std::countl_zero(differs)) / kLevelBits;
    const auto index = static_cast<unsigned>(key >> (level * kLevelBits)) % kBuckets;
    Bucket& bucket = buckets_[level][index];
    if (bucket.tail == nullptr) {
      bucket.head = bucket.tail = new_chunk();
      occupied_[level][index / 64] |= std::uint64_t{1} << (index % 64);
      levels_ |= 1u << level;
    } else if (bucket.tail->count == kChunkEntries) {
      Chunk* chunk = new_chunk();
      bucket.tail->next = chunk;
      bucket.tail = chunk;
    }
    bucket.tail->entries[bucket.tail->count++] = entry;
  }

  void vacate(unsigned level, unsigned index) noexcept {
    buckets_[level][index] = Bucket{};
    auto& words = occupied_[level];
    words[index / 64] &= ~(std::uint64_t{1} << (index % 64));
    bool any = false;
    for (const std::uint64_t word : words) any = any || word != 0;
    if (!any) levels_ &= ~(1u << level);
  }

  // The first occupied bucket of the lowest occupied level: the earliest stored entries (every
  // occupied bucket of a level lies at or after `cur_`'s own bucket). False when none is.
  bool earliest_bucket(unsigned& level, unsigned& index) const noexcept {
    if (levels_ == 0) return false;
    level = static_cast<unsigned>(std::countr_zero(levels_));
    for (unsigned word = 0;; ++word) {
      if (occupied_[level][word] != 0) {
        index = word * 64 + static_cast<unsigned>(std::countr_zero(occupied_[level][word]));
        return true;
      }
    }
  }

  // The first key of a bucket: `cur_` above the level, `index` at it, zeros below.
  Key bucket_start(unsigned level, unsigned index) const noexcept {
    const unsigned shift = level * kLevelBits;
    const unsigned above = shift + kLevelBits;
    const Key high = above >= 64 ? 0 : (cur_ >> above) << above;
    return high | (Key{index} << shift);
  }

  // Moves the wheel to the start of the earliest bucket (no stored entry is earlier) and empties
  // it: a level-0 bucket becomes the ready run, a higher one cascades into lower levels.
  // REQUIRES: the ready run is empty and (level, index) is earliest_bucket().
  void enter_bucket(unsigned level, unsigned index) noexcept {
    cur_ = bucket_start(level, index);
    const Bucket bucket = buckets_[level][index];
    vacate(level, index);
    if (level == 0) {
      ready_ = bucket;
      ready_pos_ = 0;
      return;
    }
    for (Chunk* chunk = bucket.head; chunk != nullptr;) {
      Chunk* const next = chunk->next;
      if (next != nullptr) __builtin_prefetch(next);
      for (std::uint32_t i = 0; i < chunk->count; ++i) {
        const Entry& entry = chunk->entries[i];
        if (live(entry.slot)) {
          place(entry, key_of(entry.due));
        } else {
          discard(entry.slot);
          --stored_;
        }
      }
      free_chunk(chunk);
      chunk = next;
    }
  }

  Entry pop_ready() noexcept {
    const Entry entry = ready_.head->entries[ready_pos_];
    if (++ready_pos_ == ready_.head->count) {
      Chunk* const done = ready_.head;
      ready_.head = done->next;
      free_chunk(done);
      ready_pos_ = 0;
      if (ready_.head == nullptr) ready_.tail = nullptr;
    }
    --stored_;
    return entry;
  }

  Entry pop_late() noexcept {
    std::pop_heap(late_.begin(), late_.end(), after);
    const Entry entry = late_.back();
    late_.pop_back();
    return entry;
  }

  // Calls visit(entry) on a chain's entries from position `first` of its head, and frees it.
  template <typename Visit>
  void for_each_then_free(Chunk* chunk, std::uint32_t first, Visit&& visit) noexcept {
    while (chunk != nullptr) {
      for (std::uint32_t i = first; i < chunk->count; ++i) visit(chunk->entries[i]);
      Chunk* const next = chunk->next;
      free_chunk(chunk);
      chunk = next;
      first = 0;
    }
  }

  // Drops the cancelled entries of a chain read from position `first` of its head, keeping the
  // order, compacting in place and freeing the chunks left over. Returns the new chain. The
  // dropped entries' slots are not freed here: compact() frees them all at once.
  Bucket without_cancelled(Bucket bucket, std::uint32_t first) noexcept {
    Chunk* write = bucket.head;
    std::uint32_t written = 0;
    std::size_t kept = 0;
    for (Chunk* read = bucket.head; read != nullptr; read = read->next, first = 0) {
      for (std::uint32_t i = first; i < read->count; ++i) {
        const Entry entry = read->entries[i];
        if (!live(entry.slot)) {
          --dead_;
          --stored_;
          continue;
        }
        if (written == kChunkEntries) {  // the next chunk has been read up to here already
          write = write->next;
          written = 0;
        }
        write->entries[written++] = entry;
        ++kept;
      }
    }
    if (kept == 0) {
      for_each_then_free(bucket.head, 0, [](const Entry&) {});
      return Bucket{};
    }
    Chunk* rest = write->next;
    write->next = nullptr;
    write->count = written;
    for_each_then_free(rest, 0, [](const Entry&) {});
    return Bucket{bucket.head, write};
  }

  // Drops every cancelled entry: one pass over the buckets, the ready run and the past heap. Then
  // every slot that is not pending is free: the free stack is rebuilt so that schedules take them
  // in ascending order (sequential writes to the slot tables, not one cache miss each).
  void compact() noexcept {
    for (unsigned level = 0; level < kLevels; ++level) {
      for (unsigned word = 0; word < kWords; ++word) {
        for (std::uint64_t bits = occupied_[level][word]; bits != 0; bits &= bits - 1) {
          const unsigned index = word * 64 + static_cast<unsigned>(std::countr_zero(bits));
          Bucket& bucket = buckets_[level][index];
          bucket = without_cancelled(bucket, 0);
          if (bucket.head == nullptr) vacate(level, index);
        }
      }
    }
    if (ready_.head != nullptr) {
      ready_ = without_cancelled(ready_, ready_pos_);
      ready_pos_ = 0;
    }
    const auto gone = std::remove_if(late_.begin(), late_.end(), [this](const Entry& entry) {
      if (live(entry.slot)) return false;
      --dead_;
      return true;
    });
    late_.erase(gone, late_.end());
    std::make_heap(late_.begin(), late_.end(), after);
    free_slots_.clear();
    const std::size_t slots = tags_.size();
    for (std::size_t word = (slots + 63) / 64; word-- > 0;) {
      std::uint64_t free = ~live_bits_[word];
      if (word * 64 + 64 > slots) free &= (std::uint64_t{1} << (slots % 64)) - 1;
      for (; free != 0; free &= ~(std::uint64_t{1} << (63 - std::countl_zero(free)))) {
        free_slots_.push_back(static_cast<std::uint32_t>(word * 64 + 63 - std::countl_zero(free)));
      }
    }
  }

  std::array<std::array<Bucket, kBuckets>, kLevels> buckets_{};
  std::array<std::array<std::uint64_t, kWords>, kLevels> occupied_{};  // non-empty buckets
  std::uint32_t levels_ = 0;  // bit k: level k has a non-empty bucket
  Key cur_ = 0;               // the wheel's time: every bucketed entry is at or after it
  Bucket ready_;              // a level-0 bucket that came due (due == cur_), fired from the front
  std::uint32_t ready_pos_ = 0;
  std::vector<Entry> late_;  // heap of entries scheduled before cur_, by `after`
  // Per slot: the tag of the deadline scheduled last in it.
  std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> tags_;
  std::vector<std::uint64_t> live_bits_;   // one bit per slot: pending
  std::vector<std::uint32_t> free_slots_;  // capacity >= tags_.size(): pushing never allocates
  std::vector<std::unique_ptr<Chunk[]>> blocks_;  // the chunk pool, kChunksPerBlock a block
  Chunk* free_chunks_ = nullptr;
  std::size_t stored_ = 0;  // entries in buckets and the ready run, pending or cancelled
  std::size_t live_ = 0;    // pending
  std::size_t dead_ = 0;    // cancelled, entry still stored (buckets, ready run, past heap)
  std::uint32_t sequence_ = 0;
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEADLINES_DEADLINE_QUEUE_HPP_
