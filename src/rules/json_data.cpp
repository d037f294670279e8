#include "rules/json_data.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "definition/json_document.hpp"

namespace salesflow::internal {
namespace {

const nlohmann::json& as_json(const void* handle) {
  return *static_cast<const nlohmann::json*>(handle);
}

// Slots of an object's member table: a power of two, at least twice the members.
std::size_t slot_count(std::size_t members) {
  std::size_t n = 2;
  while (n < members * 2) n *= 2;
  return n;
}

}  // namespace

void build_json_tree(const nlohmann::json& root, JsonTree& tree) {
  // Count everything first, so that each vector is allocated once and pointers into it stay valid.
  std::size_t nodes = 1, slots = 0, key_bytes = 0;
  std::vector<const nlohmann::json*> stack{&root};
  while (!stack.empty()) {
    const nlohmann::json* j = stack.back();
    stack.pop_back();
    if (!j->is_structured()) continue;
    nodes += j->size();
    if (j->is_object()) {
      slots += slot_count(j->size());
      for (const auto& member : j->items()) key_bytes += member.key().size();
    }
    for (const auto& child : *j) {
      if (child.is_structured()) stack.push_back(&child);
    }
  }
  tree.nodes_.reserve(nodes);
  tree.member_keys_.resize(nodes);
  tree.slots_.resize(slots);
  tree.key_text_.reserve(key_bytes);

  using Node = JsonTree::Node;
  std::size_t slots_used = 0;
  tree.nodes_.emplace_back();
  std::vector<std::pair<const nlohmann::json*, Node*>> work{{&root, &tree.nodes_.front()}};
  while (!work.empty()) {
    const auto [j, node] = work.back();
    work.pop_back();
    using value_t = nlohmann::json::value_t;
    switch (j->type()) {
      case value_t::boolean:
        node->kind = ValueKind::kBoolean;
        node->boolean = j->get<bool>();
        break;
      case value_t::number_integer:
      case value_t::number_unsigned:
      case value_t::number_float:
        node->kind = ValueKind::kNumber;
        node->number = j->get<double>();
        break;
      case value_t::string: {
        const std::string& s = j->get_ref<const std::string&>();
        node->kind = ValueKind::kString;
        node->chars = s.data();
        node->size = static_cast<std::uint32_t>(s.size());  // parse() bounds the document
        break;
      }
      case value_t::array:
        node->kind = ValueKind::kDataArray;
        node->size = static_cast<std::uint32_t>(j->size());
        node->items = tree.nodes_.data() + tree.nodes_.size();
        for (const auto& item : *j) {
          tree.nodes_.emplace_back();
          work.emplace_back(&item, &tree.nodes_.back());
        }
        break;
      case value_t::object: {
        const std::size_t n_slots = slot_count(j->size());
        const auto mask = static_cast<std::uint32_t>(n_slots - 1);
        JsonTree::Slot* table = tree.slots_.data() + slots_used;
        slots_used += n_slots;
        for (const auto& [key, value] : j->items()) {
          const std::size_t at = tree.key_text_.size();
          tree.key_text_ += key;  // reserved: no reallocation
          const std::string_view stored(tree.key_text_.data() + at, key.size());
          tree.member_keys_[tree.nodes_.size()] = stored;
          Node* member = &tree.nodes_.emplace_back();
          work.emplace_back(&value, member);
          const std::uint64_t hash = key_hash(stored);
          std::uint32_t slot = static_cast<std::uint32_t>(hash) & mask;
          while (table[slot].value != nullptr) slot = (slot + 1) & mask;
          table[slot] = JsonTree::Slot{hash, stored.data(),
                                       static_cast<std::uint32_t>(stored.size()), member};
        }
        node->kind = ValueKind::kDataObject;
        node->size = mask;
        node->slots = table;
        break;
      }
      default:
        break;  // null
    }
  }
}

RuleDataValue JsonTree::to_data_value(const Node& node) noexcept {
  switch (node.kind) {
    case ValueKind::kBoolean:
      return RuleDataValue::boolean(node.boolean);
    case ValueKind::kNumber:
      return RuleDataValue::number(node.number);
    case ValueKind::kString:
      return RuleDataValue::string(node.str());
    case ValueKind::kDataArray:
      return RuleDataValue::array(&node);
    case ValueKind::kDataObject:
      return RuleDataValue::object(&node);
    default:
      return RuleDataValue::null();
  }
}

RuleDataValue to_data_value(const nlohmann::json& j) noexcept {
  using value_t = nlohmann::json::value_t;
  switch (j.type()) {
    case value_t::null:
      return RuleDataValue::null();
    case value_t::boolean:
      return RuleDataValue::boolean(j.get<bool>());
    case value_t::number_integer:
    case value_t::number_unsigned:
    case value_t::number_float:
      return RuleDataValue::number(j.get<double>());
    case value_t::string:
      return RuleDataValue::string(j.get_ref<const std::string&>());
    case value_t::array:
      return RuleDataValue::array(&j);
    case value_t::object:
      return RuleDataValue::object(&j);
    default:
      return RuleDataValue::missing();
  }
}

RuleDataValue JsonDataView::lookup(std::span<const std::string_view> path) const {
  // Objects and arrays directly on the JSON; the rest (strings, "length") through walk().
  const nlohmann::json* current = root_;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (current->is_object()) {
      const auto it = current->find(path[i]);
      if (it == current->end()) return RuleDataValue::missing();
      current = &*it;
    } else if (current->is_array() && path[i] != "length") {
      const std::optional<std::size_t> index = rule_array_index(path[i]);
      if (!index || *index >= current->size()) return RuleDataValue::missing();
      current = &(*current)[*index];
    } else {
      return walk(to_data_value(*current), path.subspan(i));
    }
  }
  return to_data_value(*current);
}

RuleDataValue JsonDataView::member(const void* object, std::string_view key) const {
  const auto& j = as_json(object);
  const auto it = j.find(key);
  return it == j.end() ? RuleDataValue::missing() : to_data_value(*it);
}

std::size_t JsonDataView::size(const void* array) const { return as_json(array).size(); }

RuleDataValue JsonDataView::element(const void* array, std::size_t index) const {
  return to_data_value(as_json(array)[index]);
}

void JsonDataView::for_each_member(
    const void* object,
    const std::function<void(std::string_view, const RuleDataValue&)>& visit) const {
  for (const auto& [key, value] : as_json(object).items()) visit(key, to_data_value(value));
}

}  // namespace salesflow::internal

namespace salesflow {

struct JsonRuleData::Impl {
  explicit Impl(nlohmann::json j) : document(std::move(j)) {
    internal::build_json_tree(document, tree);
  }
  nlohmann::json document;  // owns the strings the tree refers to
  internal::JsonTree tree;
};

using internal::JsonTree;

JsonRuleData::JsonRuleData(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {
  json_tree_ = &impl_->tree;
}
JsonRuleData::JsonRuleData(JsonRuleData&& other) noexcept
    : RuleData(), impl_(std::move(other.impl_)) {
  json_tree_ = std::exchange(other.json_tree_, nullptr);
}
JsonRuleData& JsonRuleData::operator=(JsonRuleData&& other) noexcept {
  impl_ = std::move(other.impl_);
  json_tree_ = std::exchange(other.json_tree_, nullptr);
  return *this;
}
JsonRuleData::~JsonRuleData() = default;

std::variant<JsonRuleData, Diagnostic> JsonRuleData::parse(std::string_view json_text,
                                                           const RuleDataLimits& limits) {
  if (json_text.size() > UINT32_MAX) {  // tree nodes count string bytes in 32 bits
    return Diagnostic{DiagnosticCode::kLimit, "", "JSON data is limited to 4 GiB"};
  }
  internal::JsonLimits json_limits;
  json_limits.max_document_bytes = limits.max_document_bytes;
  json_limits.max_depth = limits.max_depth;
  json_limits.max_string_bytes = limits.max_string_bytes;
  json_limits.max_values = limits.max_values;
  auto parsed = internal::parse_json(json_text, json_limits);
  if (auto* diagnostic = std::get_if<Diagnostic>(&parsed)) return std::move(*diagnostic);
  return JsonRuleData(std::make_unique<Impl>(std::move(std::get<nlohmann::json>(parsed))));
}

RuleDataValue JsonRuleData::lookup(std::span<const std::string_view> path) const {
  // Objects and arrays directly on the tree; the rest (strings, "length") through walk().
  const JsonTree::Node* current = &impl_->tree.root();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (current->kind == internal::ValueKind::kDataObject) {
      current = JsonTree::find(*current, path[i], internal::key_hash(path[i]));
      if (current == nullptr) return RuleDataValue::missing();
    } else if (current->kind == internal::ValueKind::kDataArray && path[i] != "length") {
      const std::optional<std::size_t> index = rule_array_index(path[i]);
      if (!index || *index >= current->size) return RuleDataValue::missing();
      current = &current->items[*index];
    } else {
      return walk(JsonTree::to_data_value(*current), path.subspan(i));
    }
  }
  return JsonTree::to_data_value(*current);
}

RuleDataValue JsonRuleData::member(const void* object, std::string_view key) const {
  const JsonTree::Node* found =
      JsonTree::find(JsonTree::node_of(object), key, internal::key_hash(key));
  return found == nullptr ? RuleDataValue::missing() : JsonTree::to_data_value(*found);
}

std::size_t JsonRuleData::size(const void* array) const { return JsonTree::node_of(array).size; }

RuleDataValue JsonRuleData::element(const void* array, std::size_t index) const {
  return JsonTree::to_data_value(JsonTree::node_of(array).items[index]);
}

void JsonRuleData::for_each_member(
    const void* object,
    const std::function<void(std::string_view, const RuleDataValue&)>& visit) const {
  impl_->tree.for_each_member(JsonTree::node_of(object),
                              [&visit](std::string_view key, const JsonTree::Node& value) {
                                visit(key, JsonTree::to_data_value(value));
                              });
}

}  // namespace salesflow
