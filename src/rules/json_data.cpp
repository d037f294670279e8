#include "rules/json_data.hpp"

#include <cstring>
#include <memory>
#include <utility>

#include "definition/json_document.hpp"

namespace salesflow::internal {
namespace {

const nlohmann::json& as_json(const void* handle) {
  return *static_cast<const nlohmann::json*>(handle);
}

}  // namespace

JsonMemberIndex::JsonMemberIndex(const nlohmann::json& root) {
  // Count the members, then insert them, walking with an explicit stack.
  std::size_t members = 0;
  std::vector<const nlohmann::json*> stack{&root};
  while (!stack.empty()) {
    const nlohmann::json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) members += j->size();
    if (j->is_structured()) {
      for (const auto& child : *j) {
        if (child.is_structured()) stack.push_back(&child);
      }
    }
  }
  std::size_t capacity = 16;
  while (capacity < members * 2) capacity *= 2;
  slots_.resize(capacity);
  stack.push_back(&root);
  while (!stack.empty()) {
    const nlohmann::json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) {
      for (const auto& [key, value] : j->items()) insert(j, key, &value);
    }
    if (j->is_structured()) {
      for (const auto& child : *j) {
        if (child.is_structured()) stack.push_back(&child);
      }
    }
  }
}

std::uint64_t JsonMemberIndex::hash_of(const nlohmann::json* object,
                                       std::string_view key) noexcept {
  // Eight bytes at a time (keys are short), mixed with the object's address and the length.
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = reinterpret_cast<std::uintptr_t>(object) * kMul ^ key.size();
  std::size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, key.data() + i, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 32;
  }
  if (i < key.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, key.data() + i, key.size() - i);
    h = (h ^ word) * kMul;
    h ^= h >> 32;
  }
  return h;
}

void JsonMemberIndex::insert(const nlohmann::json* object, std::string_view key,
                             const nlohmann::json* value) {
  const std::uint64_t h = hash_of(object, key);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = h & mask;
  while (slots_[i].object != nullptr) i = (i + 1) & mask;
  slots_[i] = Slot{h, object, key, value};
}

const nlohmann::json* JsonMemberIndex::find(const nlohmann::json* object,
                                            std::string_view key) const noexcept {
  const std::uint64_t h = hash_of(object, key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.object == nullptr) return nullptr;
    if (slot.hash == h && slot.object == object && slot.key == key) return slot.value;
  }
}

const nlohmann::json* JsonDataView::find_member(const nlohmann::json& object,
                                                std::string_view key) const {
  if (index_ != nullptr) return index_->find(&object, key);
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
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
      current = find_member(*current, path[i]);
      if (current == nullptr) return RuleDataValue::missing();
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
  const nlohmann::json* found = find_member(as_json(object), key);
  return found == nullptr ? RuleDataValue::missing() : to_data_value(*found);
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
  explicit Impl(nlohmann::json j)
      : document(std::move(j)), index(document), view(document, &index) {}
  nlohmann::json document;
  internal::JsonMemberIndex index;
  internal::JsonDataView view;
};

JsonRuleData::JsonRuleData(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
JsonRuleData::JsonRuleData(JsonRuleData&&) noexcept = default;
JsonRuleData& JsonRuleData::operator=(JsonRuleData&&) noexcept = default;
JsonRuleData::~JsonRuleData() = default;

std::variant<JsonRuleData, Diagnostic> JsonRuleData::parse(std::string_view json_text,
                                                           const RuleDataLimits& limits) {
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
  return impl_->view.lookup(path);
}
RuleDataValue JsonRuleData::member(const void* object, std::string_view key) const {
  return impl_->view.member(object, key);
}
std::size_t JsonRuleData::size(const void* array) const { return impl_->view.size(array); }
RuleDataValue JsonRuleData::element(const void* array, std::size_t index) const {
  return impl_->view.element(array, index);
}
void JsonRuleData::for_each_member(
    const void* object,
    const std::function<void(std::string_view, const RuleDataValue&)>& visit) const {
  impl_->view.for_each_member(object, visit);
}

}  // namespace salesflow
