// The engine's per-stripe instance index (src/engine/instance_index.hpp): growth, colliding
// hashes, absent ids, and states that stay where they are while the index grows.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/instance_index.hpp"

namespace salesflow::internal {
namespace {

std::string id_of(std::size_t i) { return "deal-" + std::to_string(i); }

TEST(InstanceIndex, EmptyFindsNothing) {
  InstanceIndex index;
  EXPECT_EQ(index.find("deal-1", instance_hash("deal-1")), nullptr);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.capacity(), 0u);
  index.prefetch_slot(instance_hash("deal-1"));  // harmless on an empty table
}

TEST(InstanceIndex, InsertThenFindAcrossGrowth) {
  InstanceIndex index;
  constexpr std::size_t kCount = 5000;  // several doublings and chunks of every size
  std::vector<InstanceState*> states;
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string id = id_of(i);
    ASSERT_EQ(index.find(id, instance_hash(id)), nullptr) << id;
    InstanceState& s = index.insert(id, instance_hash(id));
    s.version = i + 1;
    states.push_back(&s);
    ASSERT_EQ(index.size(), i + 1);
    ASSERT_LE(index.size() * 2, index.capacity());
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    const std::string id = id_of(i);
    InstanceState* s = index.find(id, instance_hash(id));
    ASSERT_NE(s, nullptr) << id;
    // Growth moved slots, never states: the pointer from insert() still holds.
    EXPECT_EQ(s, states[i]) << id;
    EXPECT_EQ(s->version, i + 1) << id;
  }
  for (std::size_t i = kCount; i < 2 * kCount; ++i) {
    const std::string id = id_of(i);
    EXPECT_EQ(index.find(id, instance_hash(id)), nullptr) << id;
  }
  const InstanceIndex& constant = index;
  EXPECT_EQ(constant.find(id_of(7), instance_hash(id_of(7))), states[7]);
}

// Every id has the same hash: one long probe run, told apart by comparing ids.
TEST(InstanceIndex, AllHashesEqual) {
  InstanceIndex index;
  constexpr std::uint64_t kHash = 0x1234'5678'9abc'def0;
  for (std::size_t i = 0; i < 300; ++i) index.insert(id_of(i), kHash).version = i + 1;
  for (std::size_t i = 0; i < 300; ++i) {
    const InstanceState* s = index.find(id_of(i), kHash);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->version, i + 1);
  }
  EXPECT_EQ(index.find("absent", kHash), nullptr);
  EXPECT_EQ(index.find(id_of(3), kHash + (std::uint64_t{1} << 32)), nullptr);  // another tag
}

// Inserts ids 0..count-1 with hash(i), then finds each, and not id `count`.
template <class Hash>
void insert_and_find(std::size_t count, Hash hash) {
  InstanceIndex index;
  for (std::size_t i = 0; i < count; ++i) index.insert(id_of(i), hash(i)).version = i + 1;
  for (std::size_t i = 0; i < count; ++i) {
    const InstanceState* s = index.find(id_of(i), hash(i));
    ASSERT_NE(s, nullptr) << i;
    EXPECT_EQ(s->version, i + 1) << i;
  }
  EXPECT_EQ(index.find(id_of(count), hash(count)), nullptr);
}

// Equal tags (high 32 bits), different low bits: the tag matches, the ids decide.
TEST(InstanceIndex, EqualTagsDifferentHashes) {
  insert_and_find(100, [](std::size_t i) { return (std::uint64_t{42} << 32) | i; });
}

// Tags that share their low bits land on the same home slot (the table's last) in every table
// size, and probing wraps around the end of the table.
TEST(InstanceIndex, SameHomeSlotAndWrapAround) {
  insert_and_find(40, [](std::size_t i) { return ((std::uint64_t{i} << 20) | 0xfffff) << 32; });
}

TEST(InstanceIndex, IdsThatDifferOnlyLate) {
  InstanceIndex index;
  const std::string long_a(100, 'x');
  std::string long_b = long_a;
  long_b.back() = 'y';
  index.insert(long_a, 1).version = 1;
  index.insert(long_b, 1).version = 2;
  index.insert("", 1).version = 3;
  EXPECT_EQ(index.find(long_a, 1)->version, 1u);
  EXPECT_EQ(index.find(long_b, 1)->version, 2u);
  EXPECT_EQ(index.find("", 1)->version, 3u);
  EXPECT_EQ(index.find(long_a.substr(0, 99), 1), nullptr);
}

}  // namespace
}  // namespace salesflow::internal
