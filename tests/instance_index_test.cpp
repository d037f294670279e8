// The engine's per-stripe instance index (src/engine/instance_index.hpp): growth, colliding
// hashes, absent ids, states that stay where they are while the index grows, and ids of any
// length and bytes (inline up to 15 bytes, on the heap beyond).
#include <cstdint>
#include <string>
#include <string_view>
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
  index.prefetch_entry(instance_hash("deal-1"));
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

// --- Ids: inline up to 15 bytes, on the heap beyond ---------------------------------------

static_assert(sizeof(InstanceIndex::Id) == 16);

// Ids around the inline limit, with NUL bytes, on both sides of it; each a prefix or near miss of
// another, so that only comparing every byte tells them apart.
std::vector<std::string> edge_ids() {
  using namespace std::string_literals;
  std::string thousand(1000, 'k');
  thousand[500] = '\0';
  std::string thousand_b = thousand;
  thousand_b.back() = 'K';
  std::string big(70'000, '\0');  // a length that takes three bytes
  big[0] = 'b';
  return {"",
          "\0"s,
          std::string(15, 'x'),
          std::string(15, '\0'),
          std::string(14, 'x') + "\0"s,
          std::string(16, 'x'),
          std::string(16, '\0'),
          std::string(15, 'x') + "\0"s,
          "a\0b"s,
          "a\0c"s,
          thousand,
          thousand_b,
          thousand + "\0"s,
          big};
}

TEST(InstanceIndexId, HoldsTheExactBytesInlineAndOnTheHeap) {
  for (const std::string& bytes : edge_ids()) {
    const InstanceIndex::Id id(bytes);
    EXPECT_EQ(id.view().size(), bytes.size());
    EXPECT_EQ(id.view(), bytes) << bytes.size();
    EXPECT_TRUE(id == bytes);
    EXPECT_FALSE(id == bytes + "x");
    if (!bytes.empty()) {
      EXPECT_FALSE(id == std::string_view(bytes).substr(1));
    }
    // Inline ids live inside the holder, longer ones outside it.
    const auto* begin = reinterpret_cast<const char*>(&id);
    const bool inside = id.view().data() >= begin && id.view().data() < begin + sizeof id;
    EXPECT_EQ(inside, bytes.size() <= InstanceIndex::Id::kInline) << bytes.size();
  }
}

// Replacing an id: inline and heap in every order, and from a view of the id itself (the
// sanitizer builds catch a leak, a double free or a read of freed bytes).
TEST(InstanceIndexId, AssignReplacesInEveryDirection) {
  const std::string shorter("short\0id", 8);
  const std::string longer(40, 'L');
  const std::string other(100, 'O');
  InstanceIndex::Id id;
  EXPECT_EQ(id.view(), "");
  id.assign(longer);
  EXPECT_EQ(id.view(), longer);
  id.assign(other);
  EXPECT_EQ(id.view(), other);
  id.assign(shorter);
  EXPECT_EQ(id.view(), shorter);
  id.assign(id.view().substr(1));
  EXPECT_EQ(id.view(), shorter.substr(1));
  id.assign(other);
  id.assign(id.view().substr(50));
  EXPECT_EQ(id.view(), other.substr(50));
  id.assign(id.view().substr(40));
  EXPECT_EQ(id.view(), other.substr(90));
  id.assign(longer);  // freed by the destructor
}

// All edge ids under one hash: a single probe run of inline and heap ids, told apart by their
// bytes; for_each gives back exactly what was inserted.
TEST(InstanceIndex, InlineAndHeapIdsUnderOneHash) {
  const std::vector<std::string> ids = edge_ids();
  InstanceIndex index;
  constexpr std::uint64_t kHash = 0xfeed'0000'0000'0007;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(index.find(ids[i], kHash), nullptr) << i;
    index.insert(ids[i], kHash).version = i + 1;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const InstanceState* s = index.find(ids[i], kHash);
    ASSERT_NE(s, nullptr) << i;
    EXPECT_EQ(s->version, i + 1) << i;
  }
  using namespace std::string_literals;
  for (const std::string& absent : {"\0\0"s, std::string(16, 'y'), std::string(15, 'x') + "y"s,
                                    std::string(999, 'k'), std::string(17, '\0'), "a\0"s, "a"s}) {
    EXPECT_EQ(index.find(absent, kHash), nullptr) << absent.size();
  }
  std::vector<std::string> visited;
  std::vector<std::uint64_t> versions;
  index.for_each([&](std::string_view id, const InstanceState& state) {
    visited.emplace_back(id);
    versions.push_back(state.version);
  });
  EXPECT_EQ(visited, ids);
  ASSERT_EQ(versions.size(), ids.size());
  for (std::size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i], i + 1);
}

// Instance ids come from outside: their hash is seeded per process, so that ids crafted against
// a hash anyone can compute do not all land on one home slot. The seed is drawn afresh per process
// (here: per draw), stays fixed within it, and is applied.
TEST(TextHash, IsSeededOncePerProcess) {
  EXPECT_NE(draw_text_hash_seed(), draw_text_hash_seed());
  EXPECT_EQ(text_hash_seed(), text_hash_seed());
  EXPECT_EQ(instance_hash("deal-000123"), instance_hash(std::string("deal-000123")));
  EXPECT_EQ(instance_hash("deal-000123"),
            XXH3_64bits_withSeed("deal-000123", 11, text_hash_seed()));
  EXPECT_NE(instance_hash("deal-000123"), XXH3_64bits("deal-000123", 11));
}

}  // namespace
}  // namespace salesflow::internal
