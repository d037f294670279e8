// HeapDeadlineQueue: internal::DeadlineQueue as it was before the timing wheel, kept in the
// benchmark as a row to measure the wheel against (not part of the library).
//
// A 4-ary min-heap of 16-byte entries {due, sequence, slot} plus a slot table of 16-byte slots
// {payload, generation, state}. Cancel is lazy: a dense dead-bit set marks the slot; dead entries
// are dropped at the top or by a linear rebuild once they outnumber live ones. Same API and
// contract as internal::DeadlineQueue (src/deadlines/deadline_queue.hpp).
#ifndef SALESFLOW_BENCH_DEADLINES_HEAP_DEADLINE_QUEUE_HPP_
#define SALESFLOW_BENCH_DEADLINES_HEAP_DEADLINE_QUEUE_HPP_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "deadlines/deadline_queue.hpp"

namespace salesflow::bench {

class HeapDeadlineQueue {
 public:
  // The wheel's types, so that the benchmark rows use both alike.
  using Time = internal::DeadlineQueue::Time;
  using Handle = internal::DeadlineQueue::Handle;
  using Due = internal::DeadlineQueue::Due;

  // Pending (not fired, not cancelled) deadlines.
  std::size_t size() const noexcept { return heap_.size() - dead_; }
  bool empty() const noexcept { return size() == 0; }
  // The earliest pending due time. REQUIRES: !empty().
  Time next_due() noexcept {
    drop_dead_top();
    return heap_.front().due;
  }

  void reserve(std::size_t n) {
    heap_.reserve(n);
    slots_.reserve(n);
  }

  Handle schedule(Time due, std::uint64_t payload) {
    std::uint32_t slot;
    if (free_head_ != kNone) {
      slot = free_head_;
      free_head_ = slots_[slot].link;
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(Slot{});
      if (slots_.size() > dead_bits_.size() * 64) dead_bits_.push_back(0);
    }
    Slot& s = slots_[slot];
    s.payload = payload;
    s.link = kPending;
    heap_.push_back(Entry{due, sequence_++, slot});
    sift_up(static_cast<std::uint32_t>(heap_.size() - 1));
    return handle_of(slot);
  }

  // True when `handle` was pending (it will not fire); false when it already fired or was
  // cancelled, or was never issued.
  bool cancel(Handle handle) noexcept {
    Slot* s = find(handle);
    if (s == nullptr) return false;
    s->link = kDead;
    bump(*s);  // the handle is stale from now on
    const auto slot = static_cast<std::uint32_t>(s - slots_.data());
    dead_bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
    ++dead_;
    if (dead_ > kCompactMin && dead_ > heap_.size() / 2) compact();
    return true;
  }

  // Moves a pending deadline to `due`, behind deadlines already scheduled at `due`, with
  // `payload` (the wheel's signature); returns its new handle (the old one is stale), or a null
  // handle when `handle` was not pending.
  Handle reschedule(Handle handle, Time due, std::uint64_t payload) {
    if (find(handle) == nullptr) return Handle{};
    cancel(handle);
    return schedule(due, payload);
  }

  // Fires every deadline due at or before `now`, earliest first: removes it, then calls
  // fire(const Due&). Returns how many fired. One comparison when nothing is due (after dropping
  // cancelled entries that reached the top, which each cancel pays for once).
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
    drop_dead_top();
    if (heap_.empty() || heap_.front().due > now) return false;
    const Entry top = heap_.front();
    Slot& s = slots_[top.slot];
    out = Due{handle_of(top.slot), top.due, s.payload};
    pop_top();
    bump(s);
    release(top.slot);
    return true;
  }

  void clear() noexcept {  // cancels everything pending
    for (const Entry& e : heap_) {
      if (!is_dead(e.slot)) bump(slots_[e.slot]);
      release(e.slot);
    }
    heap_.clear();
    dead_ = 0;
  }

  // Bytes the queue holds at its current capacity (for the benchmarks).
  std::size_t bytes_allocated() const noexcept {
    return heap_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(Slot) +
           dead_bits_.capacity() * sizeof(std::uint64_t);
  }

 private:
  static constexpr std::uint32_t kArity = 4;
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint32_t kPending = kNone - 1;  // Slot::link of a pending deadline
  static constexpr std::uint32_t kDead = kNone - 2;     // cancelled, entry still in the heap
  static constexpr std::size_t kCompactMin = 64;

  struct Entry {
    Time due;
    std::uint32_t sequence;
    std::uint32_t slot;
  };
  static_assert(sizeof(Entry) == 16);

  struct Slot {
    std::uint64_t payload = 0;
    std::uint32_t generation = 1;  // bumped when the deadline fires or is cancelled
    std::uint32_t link = kNone;    // kPending, kDead, or (free) the next free slot
  };
  static_assert(sizeof(Slot) == 16);

  static bool before(const Entry& a, const Entry& b) noexcept {
    if (a.due != b.due) return a.due < b.due;
    return static_cast<std::int32_t>(a.sequence - b.sequence) < 0;
  }

  Handle handle_of(std::uint32_t slot) const noexcept {
    return Handle{(std::uint64_t{slots_[slot].generation} << 32) | (std::uint64_t{slot} + 1)};
  }

  Slot* find(Handle handle) noexcept {
    const std::uint64_t low = handle.value & 0xffffffffu;
    if (low == 0 || low > slots_.size()) return nullptr;
    Slot& s = slots_[low - 1];
    if (s.generation != (handle.value >> 32) || s.link != kPending) return nullptr;
    return &s;
  }

  static void bump(Slot& s) noexcept {
    if (++s.generation == 0) s.generation = 1;
  }

  bool is_dead(std::uint32_t slot) const noexcept {
    return (dead_bits_[slot / 64] >> (slot % 64)) & 1u;
  }

  void release(std::uint32_t slot) noexcept {
    dead_bits_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
    slots_[slot].link = free_head_;
    free_head_ = slot;
  }

  void drop_dead_top() noexcept {
    while (!heap_.empty() && is_dead(heap_.front().slot)) {
      const std::uint32_t slot = heap_.front().slot;
      pop_top();
      release(slot);
      --dead_;
    }
  }

  void pop_top() noexcept {
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
  }

  // Drops every dead entry and rebuilds the heap in linear time.
  void compact() noexcept {
    std::size_t kept = 0;
    for (const Entry& e : heap_) {
      if (is_dead(e.slot)) {
        release(e.slot);
      } else {
        heap_[kept++] = e;
      }
    }
    heap_.resize(kept);
    dead_ = 0;
    if (kept > 1) {
      for (auto pos = static_cast<std::uint32_t>((kept - 2) / kArity + 1); pos-- > 0;) {
        sift_down(pos);
      }
    }
  }

  void sift_up(std::uint32_t pos) noexcept {
    const Entry moving = heap_[pos];
    while (pos > 0) {
      const std::uint32_t parent = (pos - 1) / kArity;
      if (!before(moving, heap_[parent])) break;
      heap_[pos] = heap_[parent];
      pos = parent;
    }
    heap_[pos] = moving;
  }

  void sift_down(std::uint32_t pos) noexcept {
    const auto n = static_cast<std::uint32_t>(heap_.size());
    const Entry moving = heap_[pos];
    for (;;) {
      const std::uint64_t first = std::uint64_t{pos} * kArity + 1;
      if (first >= n) break;
      const auto end = static_cast<std::uint32_t>(std::min<std::uint64_t>(first + kArity, n));
      auto best = static_cast<std::uint32_t>(first);
      for (std::uint32_t c = best + 1; c < end; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
      if (!before(heap_[best], moving)) break;
      heap_[pos] = heap_[best];
      pos = best;
    }
    heap_[pos] = moving;
  }

  std::vector<Entry> heap_;  // live and dead entries
  std::vector<Slot> slots_;
  // One bit per slot: cancelled while its entry is still in heap_. Dense (1 MiB covers 8 million
  // slots), so dropping dead entries does not read the slot table at random.
  std::vector<std::uint64_t> dead_bits_;
  std::size_t dead_ = 0;             // cancelled entries still in heap_
  std::uint32_t free_head_ = kNone;  // first free slot; free slots link through `link`
  std::uint32_t sequence_ = 0;
};

}  // namespace salesflow::bench

#endif  // SALESFLOW_BENCH_DEADLINES_HEAP_DEADLINE_QUEUE_HPP_
