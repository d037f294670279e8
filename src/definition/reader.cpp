#include "definition/reader.hpp"

#include <cmath>

#include "definition/json_document.hpp"

namespace salesflow::internal {

using nlohmann::json;

std::string_view describe_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "a value of another kind";
  }
}

bool is_identifier(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxIdentifierBytes) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(text.front())) return false;
  for (const char c : text) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

ObjectReader::ObjectReader(const json& value, std::string pointer, Diagnostics& out,
                           std::string_view what,
                           std::initializer_list<std::string_view> known_keys)
    : pointer_(std::move(pointer)), out_(out), what_(what) {
  if (!value.is_object()) {
    out_.add(DiagnosticCode::kWrongType, pointer_,
             std::string(what_) + " must be an object, not " + std::string(describe_type(value)));
    return;
  }
  object_ = &value;
  for (const auto& [key, unused] : value.items()) {
    if (key.starts_with("x-")) continue;
    bool known = false;
    for (const std::string_view k : known_keys) known = known || k == key;
    if (!known) {
      out_.add(DiagnosticCode::kUnknownKey, child_pointer(pointer_, key),
               "unknown key " + quote_text(key) + " in " + std::string(what_) +
                   " (extensions must start with \"x-\")");
    }
  }
}

std::string ObjectReader::pointer(std::string_view key) const {
  return child_pointer(pointer_, key);
}

const json* ObjectReader::get(std::string_view key, Presence presence) const {
  if (object_ == nullptr) return nullptr;
  const auto it = object_->find(key);
  if (it == object_->end()) {
    if (presence == Presence::kRequired) {
      out_.add(DiagnosticCode::kMissingKey, pointer_,
               std::string(what_) + " needs the key \"" + std::string(key) + "\"");
    }
    return nullptr;
  }
  return &*it;
}

void ObjectReader::wrong_type(std::string_view key, const json& value,
                              std::string_view expected) const {
  out_.add(DiagnosticCode::kWrongType, pointer(key),
           "\"" + std::string(key) + "\" must be " + std::string(expected) + ", not " +
               std::string(describe_type(value)));
}

std::optional<std::string> ObjectReader::identifier(std::string_view key,
                                                    Presence presence) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    wrong_type(key, *value, "an identifier string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if (!is_identifier(text)) {
    out_.add(DiagnosticCode::kInvalidValue, pointer(key),
             quote_text(text) + " is not a valid identifier: it must start with a letter, contain "
                            "only letters, digits, '_', '.' and '-', and be at most 64 bytes");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> ObjectReader::text(std::string_view key, Presence presence,
                                              std::size_t max_bytes) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    wrong_type(key, *value, "a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  if (text.empty()) {
    out_.add(DiagnosticCode::kInvalidValue, pointer(key),
             "\"" + std::string(key) + "\" must not be empty");
    return std::nullopt;
  }
  if (text.size() > max_bytes) {
    out_.add(DiagnosticCode::kOutOfRange, pointer(key),
             "\"" + std::string(key) + "\" is " + std::to_string(text.size()) +
                 " bytes long; at most " + std::to_string(max_bytes) + " are allowed");
    return std::nullopt;
  }
  return text;
}

std::optional<std::size_t> ObjectReader::choice(
    std::string_view key, Presence presence,
    std::initializer_list<std::string_view> choices) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  std::string listed;
  for (const std::string_view c : choices) {
    listed += listed.empty() ? "\"" : ", \"";
    listed += c;
    listed += '"';
  }
  if (!value->is_string()) {
    wrong_type(key, *value, "one of " + listed);
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  std::size_t position = 0;
  for (const std::string_view c : choices) {
    if (c == text) return position;
    ++position;
  }
  out_.add(DiagnosticCode::kInvalidValue, pointer(key),
           quote_text(text) + " is not allowed here; expected one of " + listed);
  return std::nullopt;
}

std::optional<bool> ObjectReader::boolean(std::string_view key, Presence presence) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    wrong_type(key, *value, "true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<double> ObjectReader::number(std::string_view key, Presence presence) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    wrong_type(key, *value, "a number");
    return std::nullopt;
  }
  return value->get<double>();
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, Presence presence,
                                                  std::int64_t min, std::int64_t max) const {
  const json* value = get(key, presence);
  if (value == nullptr) return std::nullopt;
  const std::string range = " between " + std::to_string(min) + " and " + std::to_string(max);
  if (!value->is_number()) {
    wrong_type(key, *value, "an integer" + range);
    return std::nullopt;
  }
  // Compare as double first: it holds every JSON number's magnitude without overflow.
  const double d = value->get<double>();
  if (d != std::floor(d)) {
    out_.add(DiagnosticCode::kInvalidValue, pointer(key),
             "\"" + std::string(key) + "\" must be a whole number, not " + value->dump());
    return std::nullopt;
  }
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    out_.add(DiagnosticCode::kOutOfRange, pointer(key),
             "\"" + std::string(key) + "\" is " + value->dump() + "; it must be" + range);
    return std::nullopt;
  }
  return value->is_number_float() ? static_cast<std::int64_t>(d) : value->get<std::int64_t>();
}

const json* ObjectReader::array(std::string_view key, Presence presence,
                                std::size_t max_items) const {
  const json* value = get(key, presence);
  if (value == nullptr) return nullptr;
  if (!value->is_array()) {
    wrong_type(key, *value, "an array");
    return nullptr;
  }
  if (value->size() > max_items) {
    out_.add(DiagnosticCode::kLimit, pointer(key),
             "\"" + std::string(key) + "\" has " + std::to_string(value->size()) +
                 " entries; at most " + std::to_string(max_items) + " are allowed");
    return nullptr;
  }
  return value;
}

const json* ObjectReader::object(std::string_view key, Presence presence) const {
  const json* value = get(key, presence);
  if (value == nullptr) return nullptr;
  if (!value->is_object()) {
    wrong_type(key, *value, "an object");
    return nullptr;
  }
  return value;
}

std::vector<ObjectReader::Reference> ObjectReader::identifiers(std::string_view key,
                                                               Presence presence,
                                                               std::size_t max_items,
                                                               bool allow_single) const {
  std::vector<Reference> result;
  const json* value = get(key, presence);
  if (value == nullptr) return result;
  const auto add = [&](const json& item, std::string item_pointer) {
    if (!item.is_string()) {
      out_.add(DiagnosticCode::kWrongType, item_pointer,
               "expected an identifier string, not " + std::string(describe_type(item)));
    } else if (!is_identifier(item.get_ref<const std::string&>())) {
      out_.add(DiagnosticCode::kInvalidValue, item_pointer,
               quote_text(item.get_ref<const std::string&>()) + " is not a valid identifier");
    } else {
      result.push_back(Reference{item.get<std::string>(), std::move(item_pointer)});
    }
  };
  if (allow_single && value->is_string()) {
    add(*value, pointer(key));
    return result;
  }
  if (!value->is_array()) {
    wrong_type(key, *value, allow_single ? "an identifier or an array of identifiers"
                                         : "an array of identifiers");
    return result;
  }
  if (value->size() > max_items) {
    out_.add(DiagnosticCode::kLimit, pointer(key),
             "\"" + std::string(key) + "\" has " + std::to_string(value->size()) +
                 " entries; at most " + std::to_string(max_items) + " are allowed");
    return result;
  }
  const std::string base = pointer(key);
  for (std::size_t i = 0; i < value->size(); ++i) add((*value)[i], child_pointer(base, i));
  return result;
}

bool Namespace::declare(const std::string& id, std::uint32_t index, const std::string& pointer,
                        Diagnostics& out) {
  const auto [it, inserted] = ids_.emplace(id, index);
  if (!inserted) {
    out.add(DiagnosticCode::kDuplicateId, pointer,
            "duplicate " + std::string(what_) + " id " + quote_text(id) +
                "; ids must be unique among the definition's " + std::string(what_) + "s");
  }
  return inserted;
}

std::optional<std::uint32_t> Namespace::find(std::string_view id) const {
  const auto it = ids_.find(id);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint32_t> Namespace::resolve(std::string_view id, const std::string& pointer,
                                                Diagnostics& out) const {
  if (auto found = find(id)) return found;
  if (unreadable_) return std::nullopt;
  out.add(DiagnosticCode::kUnknownReference, pointer,
          "unknown " + std::string(what_) + " " + quote_text(id) + ": no " + std::string(what_) +
              " with that id is declared");
  return std::nullopt;
}

}  // namespace salesflow::internal
