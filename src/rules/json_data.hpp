// JSON documents as rule data: the tree JsonRuleData builds, and a view over an nlohmann::json
// value for tests. Handles are the addresses of the values (nodes), so identity is preserved.
#ifndef SALESFLOW_RULES_JSON_DATA_HPP_
#define SALESFLOW_RULES_JSON_DATA_HPP_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/json_tree.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::internal {

// The tree of a JSON document (json_tree.hpp), built without recursion.
void build_json_tree(const nlohmann::json& root, JsonTree& tree);

// RuleData over an nlohmann::json value that someone else owns, read through the virtual
// interface (JsonRuleData reads its own tree instead).
class JsonDataView final : public RuleData {
 public:
  // `root` must outlive the view and stay unmodified while rules evaluate against it.
  explicit JsonDataView(const nlohmann::json& root) noexcept : root_(&root) {}

  RuleDataValue lookup(std::span<const std::string_view> path) const override;
  RuleDataValue member(const void* object, std::string_view key) const override;
  std::size_t size(const void* array) const override;
  RuleDataValue element(const void* array, std::size_t index) const override;
  void for_each_member(
      const void* object,
      const std::function<void(std::string_view, const RuleDataValue&)>& visit) const override;

 private:
  const nlohmann::json* root_;
};

// The view of one JSON value.
RuleDataValue to_data_value(const nlohmann::json& j) noexcept;

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_JSON_DATA_HPP_
