// The deadline queue with 1,000,000 pending deadlines, next to its peers in the same binary:
//
//   Salesflow      internal::DeadlineQueue: hierarchical timing wheel, handles, lazy cancel;
//                  cancels with cancel_pending(), as the engine does (it knows its handle is
//                  pending). SalesflowCheckedCancel: the same queue cancelling with cancel(),
//                  which also recognises stale handles (ScheduleCancel row only)
//   Heap           the queue it replaced (heap_deadline_queue.hpp, benchmark only): 4-ary heap,
//                  handles, lazy cancel with compaction
//   StdPQ          std::priority_queue of {due, id}; it cannot cancel, so a cancel marks a
//                  tombstone (one bit per id) that pop skips: the usual workaround
//   BoostDAry      boost::heap::d_ary_heap<arity<4>, mutable_<true>>: handles, erase(handle)
//   BoostPairing   boost::heap::pairing_heap: handles, erase(handle)
//
// Rows per structure:
//   ScheduleCancel  one pending deadline is cancelled and a new one scheduled (the set stays at
//                   1,000,000): what a deal's event costs when it stops one standard and starts
//                   another. Time per iteration = one schedule + one cancel.
//   Fire            1,000,000 pending deadlines fired in time order by one advance; the
//                   `per_item` counter is the cost of firing one.
//   ScheduleCancelHandleInCache  the same, the handles taken in order (in cache, as in the engine)
//   IdleAdvance     an advance that fires nothing, at 1,000 and 1,000,000 pending.
//   Memory          bytes per pending deadline: the growth of the process's live heap (glibc
//                   mallinfo2) while the structure holds 1,000,000 after as many replacements,
//                   divided by the number pending.
//
// Run: build/bench/deadlines/salesflow_bench_deadlines --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true (figures: docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <boost/heap/d_ary_heap.hpp>
#include <boost/heap/pairing_heap.hpp>
#include <cstdint>
#include <cstdlib>
#include <functional>

#include <memory>
#include <queue>
#include <vector>

#include "deadlines/deadline_queue.hpp"
#include "heap_deadline_queue.hpp"

// Live heap bytes of this process (glibc's allocator statistics), for the Memory rows: the
// arena's chunks in use and the chunks glibc maps on their own (large tables are: leaving those
// out counted a structure's big arrays or not depending on glibc's moving mmap threshold, that is
// on which rows ran before).
namespace {
std::int64_t live_heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}
}  // namespace

namespace salesflow::bench {
namespace {

constexpr std::int64_t kMonthMs = 30LL * 24 * 3600 * 1000;

// splitmix64: cheap, reproducible draws.
struct Random {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::int64_t due_within_month() noexcept { return static_cast<std::int64_t>(next() % kMonthMs); }
};

struct Item {
  std::int64_t due;
  std::uint64_t id;
};
struct Later {  // min-heap order for max-heaps
  bool operator()(const Item& a, const Item& b) const noexcept {
    return a.due != b.due ? a.due > b.due : a.id > b.id;
  }
};

// ---------------------------------------------------------------------------------------------
// The four structures behind one small interface: fill(n), replace(i) (cancel the i-th pending,
// schedule a new one in its place), drain(now), idle(now), bytes.

// internal::DeadlineQueue, or the heap it replaced (same API). kPendingCancel: cancel with
// cancel_pending(), as the engine does (it knows its handles are pending), instead of cancel(),
// which also recognises stale handles.
template <typename Queue, bool kPendingCancel = false>
class HandleQueue {
 public:
  void fill(std::size_t n, Random& random) {
    queue_.reserve(n);
    handles_.resize(n);
    for (std::size_t i = 0; i < n; ++i) handles_[i] = queue_.schedule(random.due_within_month(), i);
  }
  void replace(std::size_t i, Random& random) {
    if constexpr (kPendingCancel) {
      queue_.cancel_pending(handles_[i]);
    } else {
      queue_.cancel(handles_[i]);
    }
    handles_[i] = queue_.schedule(random.due_within_month(), i);
  }
  std::size_t drain(std::int64_t now) {
    std::uint64_t sum = 0;
    const std::size_t fired =
        queue_.advance(now, [&](const typename Queue::Due& due) { sum += due.payload; });
    benchmark::DoNotOptimize(sum);
    return fired;
  }
  std::size_t idle(std::int64_t now) {
    return queue_.advance(now, [](const typename Queue::Due&) {});
  }

 private:
  Queue queue_;
  std::vector<typename Queue::Handle> handles_;
};

using SalesflowQueue = HandleQueue<internal::DeadlineQueue, true>;
using SalesflowCheckedCancel = HandleQueue<internal::DeadlineQueue, false>;
using HeapQueue = HandleQueue<HeapDeadlineQueue>;

class StdPriorityQueue {
 public:
  void fill(std::size_t n, Random& random) {
    std::vector<Item> items;
    items.reserve(n);
    for (std::size_t i = 0; i < n; ++i) items.push_back({random.due_within_month(), i});
    queue_ = Queue(Later{}, std::move(items));
    id_of_.resize(n);
    for (std::size_t i = 0; i < n; ++i) id_of_[i] = i;
    cancelled_.assign(n, false);
    next_id_ = n;
  }
  void replace(std::size_t i, Random& random) {
    const std::uint64_t old = id_of_[i];
    cancelled_[old] = true;  // a tombstone; the entry stays in the heap until it reaches the top
    const std::uint64_t id = next_id_++;
    cancelled_.push_back(false);
    id_of_[i] = id;
    queue_.push({random.due_within_month(), id});
  }
  std::size_t drain(std::int64_t now) {
    std::size_t fired = 0;
    std::uint64_t sum = 0;
    while (!queue_.empty() && queue_.top().due <= now) {
      const Item top = queue_.top();
      queue_.pop();
      if (cancelled_[top.id]) continue;
      sum += top.id;
      ++fired;
    }
    benchmark::DoNotOptimize(sum);
    return fired;
  }
  std::size_t idle(std::int64_t now) {
    return !queue_.empty() && queue_.top().due <= now ? drain(now) : 0;
  }

 private:
  using Queue = std::priority_queue<Item, std::vector<Item>, Later>;
  Queue queue_;
  std::vector<std::uint64_t> id_of_;
  std::vector<bool> cancelled_;
  std::uint64_t next_id_ = 0;
};

template <typename Heap>
class BoostHeap {
 public:
  void fill(std::size_t n, Random& random) {
    handles_.resize(n);
    for (std::size_t i = 0; i < n; ++i) handles_[i] = heap_.push({random.due_within_month(), i});
  }
  void replace(std::size_t i, Random& random) {
    heap_.erase(handles_[i]);
    handles_[i] = heap_.push({random.due_within_month(), i});
  }
  std::size_t drain(std::int64_t now) {
    std::size_t fired = 0;
    std::uint64_t sum = 0;
    while (!heap_.empty() && heap_.top().due <= now) {
      sum += heap_.top().id;
      heap_.pop();
      ++fired;
    }
    benchmark::DoNotOptimize(sum);
    return fired;
  }
  std::size_t idle(std::int64_t now) {
    return !heap_.empty() && heap_.top().due <= now ? drain(now) : 0;
  }

 private:
  Heap heap_;
  std::vector<typename Heap::handle_type> handles_;
};

using BoostDAry =
    BoostHeap<boost::heap::d_ary_heap<Item, boost::heap::arity<4>, boost::heap::mutable_<true>,
                                      boost::heap::compare<Later>>>;
using BoostPairing = BoostHeap<boost::heap::pairing_heap<Item, boost::heap::compare<Later>>>;

// ---------------------------------------------------------------------------------------------
// The rows.

// Which pending deadline to cancel: a random one (its handle loaded from a random place in a
// table of 1,000,000, 8 MB: a DRAM miss that every structure pays alike), or the next in the order
// they were scheduled (the handle read sequentially, in cache, as in the engine, where the command
// has already loaded the deal's entry that holds its handle).
template <typename Structure, bool kInOrder>
void schedule_cancel(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Random random;
  Structure structure;
  structure.fill(n, random);
  std::size_t i = 0;
  for (auto _ : state) {
    if constexpr (kInOrder) {
      structure.replace(i, random);
      if (++i == n) i = 0;
    } else {
      structure.replace(random.next() % n, random);
    }
  }
  state.SetItemsProcessed(state.iterations());
}
template <typename Structure>
void BM_ScheduleCancel(benchmark::State& state) {
  schedule_cancel<Structure, false>(state);
}
template <typename Structure>
void BM_ScheduleCancelHandleInCache(benchmark::State& state) {
  schedule_cancel<Structure, true>(state);
}

template <typename Structure>
void BM_Fire(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::size_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Random random;
    auto structure = std::make_unique<Structure>();
    structure->fill(n, random);
    state.ResumeTiming();
    fired += structure->drain(kMonthMs);
    state.PauseTiming();
    structure.reset();
    state.ResumeTiming();
  }
  if (fired != n * state.iterations()) state.SkipWithError("not every deadline fired");
  state.counters["per_item"] = benchmark::Counter(
      static_cast<double>(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <typename Structure>
void BM_IdleAdvance(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Random random;
  Structure structure;
  structure.fill(n, random);
  std::int64_t now = -1'000'000;  // before every deadline
  for (auto _ : state) {
    benchmark::DoNotOptimize(structure.idle(now));
    ++now;
  }
}

template <typename Structure>
void BM_Memory(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double per_pending = 0;
  for (auto _ : state) {
    const std::int64_t before = live_heap_bytes();
    {
      Random random;
      Structure structure;
      structure.fill(n, random);
      // Steady state after churn: cancels and new schedules, as in a live engine.
      for (std::size_t i = 0; i < n; ++i) structure.replace(random.next() % n, random);
      per_pending = static_cast<double>(live_heap_bytes() - before) / static_cast<double>(n);
    }
  }
  state.counters["bytes_per_pending"] = per_pending;
}

constexpr std::int64_t kMillion = 1'000'000;

#define SALESFLOW_DEADLINE_ROWS(Structure)                                      \
  BENCHMARK_TEMPLATE(BM_ScheduleCancel, Structure)->Arg(kMillion);              \
  BENCHMARK_TEMPLATE(BM_ScheduleCancelHandleInCache, Structure)->Arg(kMillion); \
  BENCHMARK_TEMPLATE(BM_Fire, Structure)                                        \
      ->Arg(kMillion)                                                           \
      ->Iterations(3)                                                           \
      ->Unit(benchmark::kMillisecond);                                          \
  BENCHMARK_TEMPLATE(BM_IdleAdvance, Structure)->Arg(1000)->Arg(kMillion);      \
  BENCHMARK_TEMPLATE(BM_Memory, Structure)                                      \
      ->Arg(kMillion)                                                           \
      ->Iterations(1)                                                           \
      ->Unit(benchmark::kMillisecond)

SALESFLOW_DEADLINE_ROWS(SalesflowQueue);
BENCHMARK_TEMPLATE(BM_ScheduleCancel, SalesflowCheckedCancel)->Arg(kMillion);
BENCHMARK_TEMPLATE(BM_ScheduleCancelHandleInCache, SalesflowCheckedCancel)->Arg(kMillion);
SALESFLOW_DEADLINE_ROWS(HeapQueue);
SALESFLOW_DEADLINE_ROWS(StdPriorityQueue);
SALESFLOW_DEADLINE_ROWS(BoostDAry);
SALESFLOW_DEADLINE_ROWS(BoostPairing);

}  // namespace
}  // namespace salesflow::bench

BENCHMARK_MAIN();
