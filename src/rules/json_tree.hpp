// A compact, read-only tree of one JSON document: what JsonRuleData serves rules from.
//
// Built once (without recursion), then only read. Every value is a 16-byte node; the items of an
// array and the member values of an object are contiguous. Each object has a small open-addressing
// table over its members' key hashes, so that finding a member costs one hash (computed when the
// rule was compiled, for constant "var" paths) and usually one probe. Evaluation reads the tree
// directly when the RuleData is a JsonRuleData (see RuleAccess::json_tree), without the virtual
// RuleData interface; the interface is implemented over the same tree.
#ifndef SALESFLOW_RULES_JSON_TREE_HPP_
#define SALESFLOW_RULES_JSON_TREE_HPP_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/value.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::internal {

// The hash of an object member's key, the same at compile time and at lookup time.
inline std::uint64_t key_hash(std::string_view key) noexcept {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char* p = key.data();
  const std::size_t n = key.size();
  std::uint64_t h = (n + 1) * kMul;
  if (n >= 8) {
    std::uint64_t word;
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&word, p + i, 8);
      h = (h ^ word) * kMul;
      h ^= h >> 29;
    }
    std::memcpy(&word, p + n - 8, 8);  // the last 8 bytes, overlapping the loop's if need be
    h = (h ^ word) * kMul;
  } else if (n >= 4) {
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    h = (h ^ (static_cast<std::uint64_t>(first) << 32 | last)) * kMul;
  } else if (n > 0) {
    const auto byte = [p](std::size_t i) { return static_cast<std::uint64_t>(std::uint8_t(p[i])); };
    h = (h ^ (byte(0) << 16 | byte(n / 2) << 8 | byte(n - 1))) * kMul;
  }
  return h ^ (h >> 32);
}

// a == b, inline for the short keys data has (no call to memcmp).
inline bool same_text(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
  if (n >= 8) {
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4) {
    std::uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n == 0) return true;
  // Bytes 0, n / 2 and n - 1 are all the bytes of 1 to 3.
  return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) | (a[n - 1] ^ b[n - 1])) == 0;
}

class JsonTree {
 public:
  struct Slot;

  // kind is kNull, kBoolean, kNumber, kString, kDataArray or kDataObject.
  struct Node {
    ValueKind kind = ValueKind::kNull;
    bool boolean = false;
    std::uint32_t size = 0;  // string bytes, array items; for an object, its slot mask
    union {
      double number = 0;
      const char* chars;
      const Node* items;  // kDataArray
      const Slot* slots;  // kDataObject: size + 1 of them, a power of two
    };
    std::string_view str() const noexcept { return {chars, size}; }
  };

  // An entry of an object's member table: the key, its hash and the value together, so that a
  // lookup reads the object node, one slot (usually) and the key's bytes.
  struct Slot {
    std::uint64_t hash = 0;
    const char* key = nullptr;
    std::uint32_t key_size = 0;
    const Node* value = nullptr;  // nullptr for an empty slot
  };

  JsonTree() = default;
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  const Node& root() const noexcept { return nodes_.front(); }

  // The member `key` (whose key_hash is `hash`) of an object node, or nullptr.
  static const Node* find(const Node& object, std::string_view key, std::uint64_t hash) noexcept {
    const std::uint32_t mask = object.size;
    for (std::uint32_t i = static_cast<std::uint32_t>(hash) & mask;; i = (i + 1) & mask) {
      const Slot& slot = object.slots[i];
      if (slot.value == nullptr) return nullptr;
      if (slot.hash == hash && same_text({slot.key, slot.key_size}, key)) return slot.value;
    }
  }

  // Calls visit(key, value) for each member of an object node, in document order.
  template <typename Visit>
  void for_each_member(const Node& object, Visit&& visit) const {
    // The values of an object's members are consecutive nodes, in order.
    const Node* first = nullptr;
    std::size_t count = 0;
    for (std::uint32_t i = 0; i <= object.size; ++i) {
      const Node* value = object.slots[i].value;
      if (value == nullptr) continue;
      ++count;
      if (first == nullptr || value < first) first = value;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const Node& value = first[i];
      visit(member_keys_[static_cast<std::size_t>(&value - nodes_.data())], value);
    }
  }

  // The rule value of a node: arrays and objects become handles (the node's address).
  static Value to_value(const Node& node) noexcept {
    // The same layout: one 16-byte copy (cheaper than building the Value field by field, which
    // makes the processor stall when the whole Value is read back).
    Value v;
    std::memcpy(static_cast<void*>(&v), &node, sizeof v);
    if (node.kind == ValueKind::kDataArray || node.kind == ValueKind::kDataObject) v.handle = &node;
    return v;
  }
  static RuleDataValue to_data_value(const Node& node) noexcept;
  static const Node& node_of(const void* handle) noexcept {
    return *static_cast<const Node*>(handle);
  }

  // Filled by the builder (json_data.cpp); pointers between them stay valid as long as the tree
  // lives, since each vector is allocated once at its final size.
  std::vector<Node> nodes_;
  std::vector<Slot> slots_;
  std::vector<std::string_view> member_keys_;  // of each node that is an object member, by index
  std::string key_text_;                       // the keys' bytes, together
};

static_assert(sizeof(JsonTree::Node) == sizeof(Value) &&
              offsetof(JsonTree::Node, kind) == offsetof(Value, kind) &&
              offsetof(JsonTree::Node, boolean) == offsetof(Value, boolean) &&
              offsetof(JsonTree::Node, size) == offsetof(Value, size) &&
              offsetof(JsonTree::Node, number) == offsetof(Value, number) &&
              offsetof(JsonTree::Node, chars) == offsetof(Value, chars));

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_JSON_TREE_HPP_
