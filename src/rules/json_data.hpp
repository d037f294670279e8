// RuleData over an nlohmann::json value that someone else owns: for the definition loader, tests
// and JsonRuleData. Handles are the addresses of the JSON values, so identity is preserved.
#ifndef SALESFLOW_RULES_JSON_DATA_HPP_
#define SALESFLOW_RULES_JSON_DATA_HPP_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "salesflow/rules.hpp"

namespace salesflow::internal {

// A hash index of every object member of a JSON document, for lookups faster than nlohmann's
// std::map. Built once, without recursion; read-only afterwards.
class JsonMemberIndex {
 public:
  explicit JsonMemberIndex(const nlohmann::json& root);
  // The member `key` of `object` (which must belong to the indexed document), or nullptr.
  const nlohmann::json* find(const nlohmann::json* object, std::string_view key) const noexcept;

 private:
  struct Slot {
    std::uint64_t hash = 0;
    const nlohmann::json* object = nullptr;  // nullptr: an empty slot
    std::string_view key;
    const nlohmann::json* value = nullptr;
  };
  static std::uint64_t hash_of(const nlohmann::json* object, std::string_view key) noexcept;
  void insert(const nlohmann::json* object, std::string_view key, const nlohmann::json* value);

  std::vector<Slot> slots_;  // open addressing, linear probing; size a power of two
};

class JsonDataView final : public RuleData {
 public:
  // `root` (and `index`, if given, built over `root`) must outlive the view and stay unmodified
  // while rules evaluate against it.
  explicit JsonDataView(const nlohmann::json& root, const JsonMemberIndex* index = nullptr) noexcept
      : root_(&root), index_(index) {}

  RuleDataValue lookup(std::span<const std::string_view> path) const override;
  RuleDataValue member(const void* object, std::string_view key) const override;
  std::size_t size(const void* array) const override;
  RuleDataValue element(const void* array, std::size_t index) const override;
  void for_each_member(
      const void* object,
      const std::function<void(std::string_view, const RuleDataValue&)>& visit) const override;

 private:
  const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key) const;

  const nlohmann::json* root_;
  const JsonMemberIndex* index_;
};

// The view of one JSON value.
RuleDataValue to_data_value(const nlohmann::json& j) noexcept;

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_JSON_DATA_HPP_
