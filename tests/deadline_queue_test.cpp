#include "deadlines/deadline_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace salesflow::internal {
namespace {

using Handle = DeadlineQueue::Handle;

std::vector<std::uint64_t> fire_until(DeadlineQueue& queue, DeadlineQueue::Time now) {
  std::vector<std::uint64_t> fired;
  queue.advance(now, [&](const DeadlineQueue::Due& due) { fired.push_back(due.payload); });
  return fired;
}

TEST(DeadlineQueue, FiresInTimeOrderOnlyWhenDue) {
  DeadlineQueue queue;
  queue.schedule(300, 3);
  queue.schedule(100, 1);
  queue.schedule(200, 2);
  EXPECT_EQ(queue.next_due(), 100);
  EXPECT_TRUE(fire_until(queue, 99).empty());
  EXPECT_EQ(fire_until(queue, 100), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(fire_until(queue, 1000), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, FiresEachDeadlineExactlyOnce) {
  DeadlineQueue queue;
  queue.schedule(10, 1);
  EXPECT_EQ(fire_until(queue, 10).size(), 1u);
  EXPECT_TRUE(fire_until(queue, 10).empty());
  EXPECT_TRUE(fire_until(queue, 1'000'000).empty());
}

TEST(DeadlineQueue, TiesFireInSchedulingOrder) {
  DeadlineQueue queue;
  for (std::uint64_t i = 0; i < 100; ++i) queue.schedule(50, i);
  const auto fired = fire_until(queue, 50);
  ASSERT_EQ(fired.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(fired[i], i);
}

TEST(DeadlineQueue, FiredDeadlinesCarryTheirOwnTimeNotTheAdvances) {
  DeadlineQueue queue;
  queue.schedule(10, 1);
  queue.schedule(20, 2);
  std::vector<DeadlineQueue::Time> times;
  queue.advance(1000, [&](const DeadlineQueue::Due& due) { times.push_back(due.due); });
  EXPECT_EQ(times, (std::vector<DeadlineQueue::Time>{10, 20}));
}

TEST(DeadlineQueue, CancelRemovesAndStaleHandlesAreRefused) {
  DeadlineQueue queue;
  const Handle a = queue.schedule(10, 1);
  const Handle b = queue.schedule(20, 2);
  EXPECT_TRUE(queue.cancel(a));
  EXPECT_FALSE(queue.cancel(a)) << "cancelled twice";
  EXPECT_EQ(fire_until(queue, 100), (std::vector<std::uint64_t>{2}));
  EXPECT_FALSE(queue.cancel(b)) << "already fired";
  // The slot of `a` is reused; the old handle must not reach the new deadline.
  const Handle c = queue.schedule(30, 3);
  EXPECT_NE(a, c);
  EXPECT_FALSE(queue.cancel(a));
  EXPECT_FALSE(queue.cancel(Handle{}));
  EXPECT_FALSE(queue.cancel(Handle{0xffffffffffffULL}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_TRUE(queue.cancel(c));
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, CancelPendingRemovesAndChecksItsPreconditionInCheckedBuilds) {
  DeadlineQueue queue;
  const Handle a = queue.schedule(10, 1);
  [[maybe_unused]] const Handle b = queue.schedule(20, 2);
  queue.cancel_pending(a);
  EXPECT_EQ(queue.size(), 1u);
  std::vector<std::uint64_t> fired;
  queue.advance(100, [&](const DeadlineQueue::Due& d) { fired.push_back(d.payload); });
  EXPECT_EQ(fired, std::vector<std::uint64_t>{2});
#if !defined(NDEBUG) || defined(SALESFLOW_CHECK_PRECONDITIONS)
  EXPECT_DEATH(queue.cancel_pending(b), "not pending") << "b has fired";
#else
  GTEST_SKIP() << "release build: cancel_pending() trusts its caller (checked in sanitizer builds)";
#endif
}

TEST(DeadlineQueue, RescheduleMovesEarlierAndLater) {
  DeadlineQueue queue;
  const Handle a = queue.schedule(10, 1);
  const Handle b = queue.schedule(20, 2);
  queue.schedule(30, 3);
  const Handle a2 = queue.reschedule(a, 40, 1);
  EXPECT_TRUE(a2);
  EXPECT_TRUE(queue.reschedule(b, 5, 2));
  EXPECT_FALSE(queue.cancel(a)) << "the old handle is stale";
  EXPECT_FALSE(queue.reschedule(a, 50, 1));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(fire_until(queue, 100), (std::vector<std::uint64_t>{2, 3, 1}));
  EXPECT_FALSE(queue.reschedule(a2, 50, 1)) << "fired";
}

TEST(DeadlineQueue, OneAdvanceFiresManyInOrderAndSeesWhatFireSchedules) {
  DeadlineQueue queue;
  for (std::uint64_t i = 0; i < 1000; ++i) queue.schedule(static_cast<std::int64_t>(1000 - i), i);
  std::vector<DeadlineQueue::Time> times;
  bool chained = false;
  queue.advance(2000, [&](const DeadlineQueue::Due& due) {
    times.push_back(due.due);
    if (due.due == 500 && !chained) {
      chained = true;
      queue.schedule(700, 9999);   // due within this advance: fires in its place
      queue.schedule(5000, 8888);  // not due yet
    }
  });
  EXPECT_EQ(times.size(), 1001u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.next_due(), 5000);
}

TEST(DeadlineQueue, ManyCancelsCompactTheHeapWithoutLosingOrder) {
  DeadlineQueue queue;
  std::vector<Handle> handles;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    handles.push_back(queue.schedule(static_cast<std::int64_t>(i * 7919 % 10000), i));
  }
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i % 10 != 0) {
      EXPECT_TRUE(queue.cancel(handles[i]));
    }
  }
  EXPECT_EQ(queue.size(), 1000u);
  std::vector<DeadlineQueue::Time> times;
  std::vector<std::uint64_t> payloads;
  queue.advance(1'000'000, [&](const DeadlineQueue::Due& due) {
    times.push_back(due.due);
    payloads.push_back(due.payload);
  });
  EXPECT_EQ(times.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  for (const std::uint64_t p : payloads) EXPECT_EQ(p % 10, 0u);
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, NextDueSkipsCancelled) {
  DeadlineQueue queue;
  const Handle first = queue.schedule(1, 1);
  queue.schedule(2, 2);
  queue.cancel(first);
  EXPECT_EQ(queue.next_due(), 2);
  EXPECT_EQ(queue.size(), 1u);
}

TEST(DeadlineQueue, PopDueTakesOneAtATime) {
  DeadlineQueue queue;
  queue.schedule(2, 2);
  queue.schedule(1, 1);
  DeadlineQueue::Due due;
  ASSERT_TRUE(queue.pop_due(5, due));
  EXPECT_EQ(due.payload, 1u);
  ASSERT_TRUE(queue.pop_due(5, due));
  EXPECT_EQ(due.payload, 2u);
  EXPECT_FALSE(queue.pop_due(5, due));
}

// Random schedules, cancels, reschedules and advances against a plain ordered model.
TEST(DeadlineQueue, AgreesWithAnOrderedModel) {
  std::mt19937_64 random(12345);
  DeadlineQueue queue;
  // key (due, order) -> payload; the model's order mirrors the queue's tie rule.
  std::map<std::pair<std::int64_t, std::uint64_t>, std::uint64_t> model;
  std::map<std::uint64_t, std::pair<Handle, std::pair<std::int64_t, std::uint64_t>>> live;
  std::uint64_t order = 0;
  std::uint64_t next_payload = 0;
  std::int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto action = random() % 10;
    if (action < 5) {
      const std::int64_t due = now + static_cast<std::int64_t>(random() % 1000);
      const std::uint64_t payload = next_payload++;
      const Handle h = queue.schedule(due, payload);
      model[{due, order}] = payload;
      live[payload] = {h, {due, order}};
      ++order;
    } else if (action < 7 && !live.empty()) {
      auto it = live.begin();
      std::advance(it, static_cast<long>(random() % live.size()));
      ASSERT_TRUE(queue.cancel(it->second.first));
      model.erase(it->second.second);
      live.erase(it);
    } else if (action < 8 && !live.empty()) {
      auto it = live.begin();
      std::advance(it, static_cast<long>(random() % live.size()));
      const std::int64_t due = now + static_cast<std::int64_t>(random() % 1000);
      it->second.first = queue.reschedule(it->second.first, due, it->first);
      ASSERT_TRUE(it->second.first);
      model.erase(it->second.second);
      it->second.second = {due, order++};
      model[it->second.second] = it->first;
    } else {
      now += static_cast<std::int64_t>(random() % 300);
      std::vector<std::uint64_t> expected;
      while (!model.empty() && model.begin()->first.first <= now) {
        expected.push_back(model.begin()->second);
        live.erase(model.begin()->second);
        model.erase(model.begin());
      }
      ASSERT_EQ(fire_until(queue, now), expected) << "step " << step;
    }
    ASSERT_EQ(queue.size(), model.size());
  }
}

// ---------------------------------------------------------------------------------------------
// The timing wheel's edges: level boundaries, cascades, ties across cascades, the past, the far
// future, and a randomized comparison with a plain ordered model.

using Time = DeadlineQueue::Time;
constexpr Time kMin = std::numeric_limits<Time>::min();
constexpr Time kMax = std::numeric_limits<Time>::max();

std::vector<Time> fire_times_until(DeadlineQueue& queue, Time now) {
  std::vector<Time> times;
  queue.advance(now, [&](const DeadlineQueue::Due& due) { times.push_back(due.due); });
  return times;
}

// Dues on, just before and just after every level boundary (multiples of 2^8k) near `base`.
std::vector<Time> boundary_dues(Time base) {
  std::vector<Time> dues;
  for (int bits = 0; bits <= 56; bits += 8) {
    const Time step = Time{1} << bits;
    const Time boundary = (base / step + 1) * step;  // the next multiple of 2^bits above base
    for (const Time delta : {Time{-1}, Time{0}, Time{1}}) dues.push_back(boundary + delta);
  }
  return dues;
}

TEST(DeadlineQueue, DuesOnLevelBoundariesFireInOrderWhateverTheAdvanceSteps) {
  for (const Time base : {Time{0}, Time{1'764'000'000'000}, Time{-5'000'000'000}, Time{255}}) {
    DeadlineQueue queue;
    queue.advance(base, [](const DeadlineQueue::Due&) {});  // the wheel starts at `base`
    std::vector<Time> dues = boundary_dues(base);
    for (std::size_t i = 0; i < dues.size(); ++i) queue.schedule(dues[i], i);
    std::sort(dues.begin(), dues.end());
    // Advance to each due minus one, then to the due: each fires exactly at its time.
    std::vector<Time> fired;
    for (const Time due : dues) {
      EXPECT_TRUE(fire_times_until(queue, due - 1).empty());
      for (const Time t : fire_times_until(queue, due)) fired.push_back(t);
      ASSERT_FALSE(fired.empty());
      EXPECT_EQ(fired.back(), due) << "base " << base;
    }
    EXPECT_EQ(fired, dues) << "base " << base;
    EXPECT_TRUE(queue.empty());
  }
}

TEST(DeadlineQueue, OneAdvanceOverManyLevelsFiresEverythingInOrder) {
  std::mt19937_64 random(7);
  DeadlineQueue queue;
  const Time now = 1'764'000'000'000;
  queue.advance(now, [](const DeadlineQueue::Due&) {});
  std::vector<std::pair<Time, std::uint64_t>> expected;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    // Spread over every level: 1 ms to ~50 years ahead, with many ties.
    const int bits = static_cast<int>(random() % 41);
    const Time due = now + static_cast<Time>(random() % (std::uint64_t{1} << bits)) / 4 * 4;
    queue.schedule(due, i);
    expected.emplace_back(due, i);
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<Time, std::uint64_t>> fired;
  queue.advance(kMax,
                [&](const DeadlineQueue::Due& due) { fired.emplace_back(due.due, due.payload); });
  EXPECT_EQ(fired, expected);
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, TiesKeepSchedulingOrderWhenScheduledAtDifferentLevels) {
  // The same due scheduled while the wheel is far from it (high level), then nearer and nearer
  // (lower levels, after cascades): they fire in scheduling order.
  DeadlineQueue queue;
  const Time due = 5'000'000'123;
  std::uint64_t payload = 0;
  queue.schedule(due, payload++);
  for (const Time now : {Time{0}, due - (Time{1} << 30), due - (Time{1} << 20), due - 70'000,
                         due - 300, due - 1, due - 1}) {
    queue.schedule(due + 1, 1000 + payload);  // a neighbour one millisecond later
    EXPECT_TRUE(fire_until(queue, now).empty());
    queue.schedule(due, payload++);
  }
  std::vector<std::uint64_t> expected;
  for (std::uint64_t i = 0; i < payload; ++i) expected.push_back(i);
  EXPECT_EQ(fire_until(queue, due), expected);
  EXPECT_EQ(queue.size(), payload - 1);  // the neighbours
  EXPECT_EQ(queue.next_due(), due + 1);
}

TEST(DeadlineQueue, CancelWorksAtEveryLevelAndInTheReadyRun) {
  DeadlineQueue queue;
  const Time now = 1'000'000;
  queue.advance(now, [](const DeadlineQueue::Due&) {});
  std::vector<Handle> kept;
  std::vector<Handle> cancelled;
  for (int bits = 0; bits <= 56; bits += 8) {
    const Time due = now + (Time{1} << bits) + 3;
    kept.push_back(queue.schedule(due, 1));
    cancelled.push_back(queue.schedule(due, 0));
  }
  // Two at the same millisecond, one cancelled once its bucket became the ready run.
  const Handle first = queue.schedule(now + 2, 2);
  const Handle second = queue.schedule(now + 2, 0);
  DeadlineQueue::Due due;
  ASSERT_TRUE(queue.pop_due(now + 2, due));
  EXPECT_EQ(due.handle, first);
  EXPECT_TRUE(queue.cancel(second));
  for (const Handle h : cancelled) EXPECT_TRUE(queue.cancel(h));
  for (const Handle h : cancelled) EXPECT_FALSE(queue.cancel(h));
  EXPECT_EQ(queue.size(), kept.size());
  std::vector<Handle> fired;
  queue.advance(kMax, [&](const DeadlineQueue::Due& d) {
    EXPECT_EQ(d.payload, 1u);
    fired.push_back(d.handle);
  });
  EXPECT_EQ(fired, kept);
  for (const Handle h : kept) EXPECT_FALSE(queue.cancel(h)) << "fired";
}

TEST(DeadlineQueue, StaleHandlesAreRefusedAfterTheirSlotIsReused) {
  DeadlineQueue queue;
  std::vector<Handle> stale;
  // Fired handles, then cancelled ones (enough to compact), then the slots are reused.
  for (std::uint64_t i = 0; i < 100; ++i) stale.push_back(queue.schedule(10, i));
  EXPECT_EQ(fire_until(queue, 10).size(), 100u);
  for (std::uint64_t i = 0; i < 1000; ++i) stale.push_back(queue.schedule(20 + Time(i), i));
  for (std::size_t i = 100; i < stale.size(); ++i) EXPECT_TRUE(queue.cancel(stale[i]));
  std::vector<Handle> fresh;
  for (std::uint64_t i = 0; i < 1100; ++i) fresh.push_back(queue.schedule(30, i));
  for (const Handle h : stale) {
    EXPECT_FALSE(queue.cancel(h));
    EXPECT_FALSE(queue.reschedule(h, 40, 0));
  }
  EXPECT_EQ(queue.size(), fresh.size());
  std::vector<Handle> fired;
  queue.advance(100, [&](const DeadlineQueue::Due& d) { fired.push_back(d.handle); });
  EXPECT_EQ(fired, fresh) << "a fired deadline reports the handle schedule() returned";
}

TEST(DeadlineQueue, DuesInThePastAndYearsAheadFireInOrder) {
  DeadlineQueue queue;
  const Time now = 1'764'000'000'000;
  const Time year = 365LL * 24 * 3600 * 1000;
  queue.schedule(now + 10, 0);
  EXPECT_EQ(fire_until(queue, now + 10), (std::vector<std::uint64_t>{0}));
  // The wheel is at now + 10: these are in its past, fire at the next advance, in time order.
  queue.schedule(now - year, 1);
  queue.schedule(now + 9, 3);
  queue.schedule(kMin, 0);
  queue.schedule(now, 2);
  queue.schedule(now + 9, 4);
  queue.schedule(now + 20 * year, 7);
  queue.schedule(kMax, 8);
  queue.schedule(now + 10, 5);  // the wheel's own millisecond
  queue.schedule(now + year, 6);
  EXPECT_EQ(queue.next_due(), kMin);
  EXPECT_EQ(fire_until(queue, now + 10), (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(queue.next_due(), now + year);
  EXPECT_EQ(fire_until(queue, now + 20 * year - 1), (std::vector<std::uint64_t>{6}));
  EXPECT_EQ(fire_until(queue, kMax - 1), (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(fire_until(queue, kMax), (std::vector<std::uint64_t>{8}));
  EXPECT_TRUE(queue.empty());
}

TEST(DeadlineQueue, FireCanScheduleAndCancelAnywhereInTheOrder) {
  DeadlineQueue queue;
  const Handle a = queue.schedule(100, 1);
  queue.schedule(100, 2);
  const Handle later = queue.schedule(150, 99);
  queue.schedule(200, 5);
  std::vector<std::uint64_t> fired;
  queue.advance(200, [&](const DeadlineQueue::Due& due) {
    fired.push_back(due.payload);
    if (due.handle == a) {
      EXPECT_FALSE(queue.cancel(a)) << "already fired";
      EXPECT_TRUE(queue.cancel(later));
      queue.schedule(100, 3);  // same due: after the deadlines already at 100
      queue.schedule(50, 21);  // in the past: next
      queue.schedule(180, 4);
      queue.schedule(201, 6);  // not due in this advance
    }
  });
  EXPECT_EQ(fired, (std::vector<std::uint64_t>{1, 21, 2, 3, 4, 5}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.next_due(), 201);
}

TEST(DeadlineQueue, ClearCancelsEverythingAndTheQueueIsReusable) {
  DeadlineQueue queue;
  std::vector<Handle> handles;
  for (std::uint64_t i = 0; i < 500; ++i) handles.push_back(queue.schedule(Time(i * 997), i));
  EXPECT_EQ(fire_until(queue, 10'000).size(), 11u);
  queue.schedule(5, 1000);  // in the past
  queue.clear();
  EXPECT_TRUE(queue.empty());
  for (const Handle h : handles) EXPECT_FALSE(queue.cancel(h));
  EXPECT_TRUE(fire_until(queue, kMax).empty());
  queue.schedule(3, 1);
  queue.schedule(1'000'000, 2);
  EXPECT_EQ(fire_until(queue, kMax), (std::vector<std::uint64_t>{1, 2}));
}

TEST(DeadlineQueue, AMoveHandsOverEverythingAndLeavesAnEmptyQueue) {
  DeadlineQueue queue;
  for (std::uint64_t i = 0; i < 100; ++i) queue.schedule(Time(i % 10) * 1000, i);
  const Handle h = queue.schedule(5, 100);
  queue.schedule(-5, 101);
  EXPECT_EQ(fire_until(queue, 0).size(), 11u);  // the wheel moved; 101 and ten at 0
  queue.schedule(-1, 102);                      // in the wheel's past
  DeadlineQueue moved(std::move(queue));
  EXPECT_TRUE(queue.empty());  // NOLINT(bugprone-use-after-move): specified as empty
  EXPECT_FALSE(queue.cancel(h));
  queue.schedule(1, 7);
  EXPECT_EQ(fire_until(queue, 1), (std::vector<std::uint64_t>{7}));
  EXPECT_TRUE(moved.cancel(h));
  DeadlineQueue assigned;
  assigned.schedule(3, 999);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.size(), 91u);  // 90 at 1000..9000 and 102
  const auto fired = fire_until(assigned, 1000);
  ASSERT_EQ(fired.size(), 11u);
  EXPECT_EQ(fired.front(), 102u);
  EXPECT_EQ(assigned.size(), 80u);
}

// Random schedules (near, far, past, on boundaries), cancels (also of stale handles),
// reschedules, advances small and huge, next_due, and fire() callbacks that schedule and cancel,
// against std::multimap; fixed seed.
class ModelledQueue {
 public:
  // `churn`: mostly schedules and cancels over a large pending set (so that cancelled entries
  // pile up and are compacted away across many buckets), few advances, no next_due().
  ModelledQueue(std::uint64_t seed, bool churn) : random_(seed), churn_(churn) {}

  Time pick_due() {
    switch (random_() % 8) {
      case 0:
        return now_ - static_cast<Time>(random_() % 100'000);  // past
      case 1:
        return now_ + static_cast<Time>(random_() % (Time{1} << (random_() % 45)));  // far
      case 2: {  // a level boundary of the wheel's neighbourhood
        const Time step = Time{1} << (8 * (1 + random_() % 4));
        return (now_ / step + 1) * step + static_cast<Time>(random_() % 3) - 1;
      }
      case 3:
        return now_;
      default:
        return now_ + static_cast<Time>(random_() % 5000);  // near, with ties
    }
  }

  void schedule() {
    const Time due = pick_due();
    const std::uint64_t payload = next_payload_++;
    const Handle h = queue_.schedule(due, payload);
    auto it = model_.emplace(std::pair{due, order_++}, payload);
    live_.emplace(payload, Live{h, it});
    issued_.push_back(h);
  }

  void cancel() {
    if (random_() % 4 == 0 || live_.empty()) {  // any handle ever issued, maybe stale
      if (issued_.empty()) return;
      const Handle h = issued_[random_() % issued_.size()];
      const auto it = find_live(h);
      ASSERT_EQ(queue_.cancel(h), it != live_.end());
      if (it != live_.end()) erase(it);
      return;
    }
    auto it = live_.begin();
    std::advance(it, static_cast<long>(random_() % live_.size()));
    // A handle known to be pending: either form of cancel, as the engine uses the second.
    if (random_() % 2 == 0) {
      ASSERT_TRUE(queue_.cancel(it->second.handle));
    } else {
      queue_.cancel_pending(it->second.handle);
      ASSERT_FALSE(queue_.cancel(it->second.handle)) << "cancel_pending() left it pending";
    }
    erase(it);
  }

  void reschedule() {
    if (live_.empty()) return;
    auto it = live_.begin();
    std::advance(it, static_cast<long>(random_() % live_.size()));
    const Time due = pick_due();
    const Handle moved = queue_.reschedule(it->second.handle, due, it->first);
    ASSERT_TRUE(moved);
    ASSERT_FALSE(queue_.cancel(it->second.handle));
    model_.erase(it->second.at);
    it->second = Live{moved, model_.emplace(std::pair{due, order_++}, it->first)};
    issued_.push_back(moved);
  }

  void advance(Time now) {
    now_ = std::max(now_, now);
    queue_.advance(now, [&](const DeadlineQueue::Due& due) {
      ASSERT_FALSE(model_.empty());
      const auto first = model_.begin();
      ASSERT_LE(first->first.first, now);
      ASSERT_EQ(due.due, first->first.first);
      ASSERT_EQ(due.payload, first->second);
      ASSERT_EQ(due.handle, live_.at(first->second).handle);
      live_.erase(first->second);
      model_.erase(first);
      // fire() schedules and cancels too.
      const auto action = random_() % 8;
      if (action == 0) schedule();
      if (action == 1) cancel();
    });
    ASSERT_TRUE(model_.empty() || model_.begin()->first.first > now);
  }

  void step() {
    if (churn_) {
      const auto action = random_() % 100;
      if (action < 45) {
        schedule();
      } else if (action < 85) {
        cancel();
      } else if (action < 90) {
        reschedule();
      } else {
        advance(now_ + static_cast<Time>(random_() % 200));
      }
      ASSERT_EQ(queue_.size(), model_.size());
      return;
    }
    const auto action = random_() % 100;
    if (action < 45) {
      schedule();
    } else if (action < 65) {
      cancel();
    } else if (action < 72) {
      reschedule();
    } else if (action < 95) {
      advance(now_ + static_cast<Time>(random_() % 2000));
    } else if (action < 97) {
      advance(now_ + static_cast<Time>(random_() % (Time{1} << (random_() % 40))));  // a jump
    } else if (action < 98) {
      advance(now_ - static_cast<Time>(random_() % 1000));  // an earlier time: fires nothing new
    } else if (!model_.empty()) {
      ASSERT_EQ(queue_.next_due(), model_.begin()->first.first);
    }
    ASSERT_EQ(queue_.size(), model_.size());
  }

 private:
  using Model = std::multimap<std::pair<Time, std::uint64_t>, std::uint64_t>;
  struct Live {
    Handle handle;
    Model::iterator at;
  };

  std::map<std::uint64_t, Live>::iterator find_live(Handle h) {
    for (auto it = live_.begin(); it != live_.end(); ++it) {
      if (it->second.handle == h) return it;
    }
    return live_.end();
  }
  void erase(std::map<std::uint64_t, Live>::iterator it) {
    model_.erase(it->second.at);
    live_.erase(it);
  }

  std::mt19937_64 random_;
  bool churn_;
  DeadlineQueue queue_;
  Model model_;                         // (due, scheduling order) -> payload
  std::map<std::uint64_t, Live> live_;  // payload -> pending deadline
  std::vector<Handle> issued_;
  std::uint64_t order_ = 0;
  std::uint64_t next_payload_ = 0;
  Time now_ = 1'764'000'000'000;
};

TEST(DeadlineQueue, AgreesWithAMultimapOverAHundredThousandRandomOperations) {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    for (const bool churn : {false, true}) {
      ModelledQueue queue(seed, churn);
      if (churn) {
        for (int i = 0; i < 5000; ++i) queue.schedule();
      }
      for (int step = 0; step < 20'000; ++step) {
        queue.step();
        if (::testing::Test::HasFatalFailure()) {
          FAIL() << "seed " << seed << (churn ? " churn" : "") << " step " << step;
        }
      }
    }
  }
}

}  // namespace
}  // namespace salesflow::internal
