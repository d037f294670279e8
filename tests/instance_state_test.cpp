// The storage of an instance's state: SmallBitSet (checked items) and InstanceState's one block of
// field values and standard lives. Value semantics: copies are deep, moves leave an empty state.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "engine/instance_details.hpp"
#include "salesflow/process.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

TEST(SmallBitSet, HoldsLowAndHighBitsAndGrowsOnlyWhenNeeded) {
  SmallBitSet set;
  for (const std::size_t i : {0u, 63u, 64u, 127u, 128u, 1000u}) {
    EXPECT_FALSE(set.contains(i)) << i;
    set.insert(i);
    EXPECT_TRUE(set.contains(i)) << i;
  }
  for (const std::size_t i : {1u, 62u, 65u, 129u, 999u, 1001u, 100000u}) {
    EXPECT_FALSE(set.contains(i)) << i;
  }
  set.erase(64);
  set.erase(1000);
  set.erase(5000);  // beyond what it holds: nothing to do
  EXPECT_FALSE(set.contains(64));
  EXPECT_FALSE(set.contains(1000));
  EXPECT_TRUE(set.contains(127));
  EXPECT_TRUE(set.contains(0));
}

TEST(SmallBitSet, EqualityIgnoresHowManyHighWordsAreHeld) {
  SmallBitSet a, b;
  a.insert(3);
  b.insert(3);
  EXPECT_EQ(a, b);
  b.insert(700);  // b now holds 10 high words
  EXPECT_NE(a, b);
  b.erase(700);  // all zero, but still held
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, a);
  a.insert(65);
  EXPECT_NE(a, b);
  b.insert(65);
  EXPECT_EQ(a, b);
}

TEST(SmallBitSet, CopiesAreIndependent) {
  SmallBitSet a;
  a.insert(2);
  a.insert(200);
  SmallBitSet b = a;
  EXPECT_EQ(a, b);
  b.insert(201);
  b.erase(2);
  EXPECT_TRUE(a.contains(2));
  EXPECT_FALSE(a.contains(201));
  a = b;
  EXPECT_EQ(a, b);
  a = a;  // NOLINT: self-assignment keeps the value
  EXPECT_TRUE(a.contains(201));
  SmallBitSet c = std::move(a);
  EXPECT_TRUE(c.contains(200));
  EXPECT_TRUE(c.contains(201));
}

class InstanceStateSlots : public ::testing::Test {
 protected:
  static StandardLife running(std::int64_t at_ms) {
    StandardLife life;
    life.anchor(Timestamp(std::chrono::milliseconds(at_ms)));
    return life;
  }
};

TEST_F(InstanceStateSlots, AnEmptyStateHasNoSlots) {
  const InstanceState state;
  EXPECT_TRUE(state.fields().empty());
  EXPECT_TRUE(state.standards().empty());
  EXPECT_EQ(state, InstanceState());
}

TEST_F(InstanceStateSlots, ResizingKeepsTheSlotsThatRemainAndStartsNewOnesEmpty) {
  InstanceState state;
  state.resize_slots(3, 2);
  ASSERT_EQ(state.fields().size(), 3u);
  ASSERT_EQ(state.standards().size(), 2u);
  for (const FieldValue& v : state.fields()) EXPECT_FALSE(is_set(v));
  for (const StandardLife& l : state.standards()) EXPECT_EQ(l.phase(), StandardPhase::kWaiting);

  state.fields()[0] = FieldValue(std::string(100, 'x'));  // on the heap: a deep copy is needed
  state.fields()[2] = FieldValue(2.5);
  state.standards()[1] = running(1000);

  state.resize_slots(4, 3);  // grows both
  ASSERT_EQ(state.fields().size(), 4u);
  EXPECT_EQ(state.fields()[0], FieldValue(std::string(100, 'x')));
  EXPECT_FALSE(is_set(state.fields()[1]));
  EXPECT_EQ(state.fields()[2], FieldValue(2.5));
  EXPECT_FALSE(is_set(state.fields()[3]));
  ASSERT_EQ(state.standards().size(), 3u);
  EXPECT_EQ(state.standards()[0].phase(), StandardPhase::kWaiting);
  EXPECT_EQ(state.standards()[1], running(1000));
  EXPECT_EQ(state.standards()[2].phase(), StandardPhase::kWaiting);

  state.resize_slots(1, 0);  // shrinks both
  ASSERT_EQ(state.fields().size(), 1u);
  EXPECT_EQ(state.fields()[0], FieldValue(std::string(100, 'x')));
  EXPECT_TRUE(state.standards().empty());

  state.resize_slots(0, 0);
  EXPECT_TRUE(state.fields().empty());
  EXPECT_EQ(state, InstanceState());
}

TEST_F(InstanceStateSlots, TooManySlotsAreRefusedAndChangeNothing) {
  InstanceState state;
  state.resize_slots(1, 1);
  state.fields()[0] = FieldValue(std::int64_t{7});
  EXPECT_THROW(state.resize_slots(1, kMaxDeliveryStandards + 1), std::length_error);
  EXPECT_THROW(state.resize_slots(InstanceState::kMaxFieldSlots + 1, 0), std::length_error);
  ASSERT_EQ(state.fields().size(), 1u);
  EXPECT_EQ(state.fields()[0], FieldValue(std::int64_t{7}));
  EXPECT_EQ(state.standards().size(), 1u);
}

TEST_F(InstanceStateSlots, CopiesAreDeepAndEqualUntilOneChanges) {
  InstanceState a;
  a.version = 4;
  a.status = InstanceStatus::kOnHold;
  a.resize_slots(2, 1);
  a.fields()[1] = FieldValue(std::string(50, 'y'));
  a.standards()[0] = running(5);
  a.checked_items.insert(70);
  a.details().lost_reason = "budget";

  InstanceState b = a;
  EXPECT_EQ(a, b);
  EXPECT_NE(a.fields().data(), b.fields().data());
  b.fields()[1] = FieldValue(std::string(50, 'z'));
  EXPECT_NE(a, b);
  EXPECT_EQ(a.fields()[1], FieldValue(std::string(50, 'y')));
  b = a;
  EXPECT_EQ(a, b);
  b.details().lost_reason = "timing";
  EXPECT_EQ(a.lost_reason(), "budget");
  EXPECT_NE(a, b);
  b = a;
  b.standards()[0] = running(6);
  EXPECT_NE(a, b);
  b = a;
  b.checked_items.erase(70);
  EXPECT_NE(a, b);
  b = a;
  b = b;  // NOLINT: self-assignment keeps the value
  EXPECT_EQ(a, b);
}

TEST_F(InstanceStateSlots, MovesHandTheBlockOverAndLeaveAnEmptyState) {
  InstanceState a;
  a.resize_slots(2, 1);
  a.fields()[0] = FieldValue(std::string(40, 'q'));
  a.standards()[0] = running(9);
  const FieldValue* block = a.fields().data();
  InstanceState b = std::move(a);
  EXPECT_EQ(b.fields().data(), block);
  EXPECT_EQ(b.standards()[0], running(9));
  EXPECT_TRUE(a.fields().empty());  // NOLINT(bugprone-use-after-move): the moved-from state
  EXPECT_TRUE(a.standards().empty());
  InstanceState c;
  c.resize_slots(5, 0);
  c = std::move(b);
  EXPECT_EQ(c.fields().size(), 2u);
  EXPECT_EQ(c.fields()[0], FieldValue(std::string(40, 'q')));
  a = std::move(c);  // into a moved-from state
  EXPECT_EQ(a.fields().size(), 2u);
}

// A created instance gets exactly one slot per field and one life per standard of its definition.
TEST_F(InstanceStateSlots, ApplyingCreatedSizesTheSlotsToTheDefinition) {
  const LoadResult loaded = load_definition(minimal_definition());
  ASSERT_TRUE(loaded.ok());
  const ProcessDefinition& def = *loaded.definition;
  InstanceState state;
  Event created;
  created.type = EventType::kCreated;
  created.version = 1;
  created.stage = def.start();
  created.at = Timestamp(std::chrono::milliseconds(1000));
  apply(def, state, created);
  EXPECT_EQ(state.fields().size(), def.fields().size());
  ASSERT_EQ(state.standards().size(), def.delivery_standards().size());
  EXPECT_EQ(state.standards()[0].phase(), StandardPhase::kRunning);  // anchored at creation
}

}  // namespace
}  // namespace salesflow::testing
