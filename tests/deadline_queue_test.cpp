#include "deadlines/deadline_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(DeadlineQueue, RescheduleMovesEarlierAndLater) {
  DeadlineQueue queue;
  const Handle a = queue.schedule(10, 1);
  const Handle b = queue.schedule(20, 2);
  queue.schedule(30, 3);
  const Handle a2 = queue.reschedule(a, 40);
  EXPECT_TRUE(a2);
  EXPECT_TRUE(queue.reschedule(b, 5));
  EXPECT_FALSE(queue.cancel(a)) << "the old handle is stale";
  EXPECT_FALSE(queue.reschedule(a, 50));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(fire_until(queue, 100), (std::vector<std::uint64_t>{2, 3, 1}));
  EXPECT_FALSE(queue.reschedule(a2, 50)) << "fired";
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
      it->second.first = queue.reschedule(it->second.first, due);
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

}  // namespace
}  // namespace salesflow::internal
