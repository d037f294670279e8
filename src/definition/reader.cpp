#include "definition/reader.hpp"

#include <cmath>

#include "definition/json_document.hpp"

namespace salesflow::internal {

using simdjson::dom::element_type;

std::string_view describe_type(Element value) {
  switch (value.type()) {
    case element_type::NULL_VALUE:
      return "null";
    case element_type::OBJECT:
      return "an object";
    case element_type::ARRAY:
      return "an array";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
  }
  return "a value of another kind";
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

namespace {
// "key", with its quotes. (Built by appending: GCC 12 warns falsely, -Wrestrict, about the
// `"\"" + std::string(key)` that prepends to a temporary.)
std::string quoted(std::string_view key) {
  std::string text;
  text.reserve(key.size() + 2);
  text.append(1, '"').append(key).append(1, '"');
  return text;
}

bool is_number(Element value) {
  const auto type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 ||
         type == element_type::DOUBLE;
}

// Exact for integers up to 2^53 and any double; integers beyond round, which only matters for
// range checks far outside every limit of the format.
double as_double(Element value) {
  switch (value.type()) {
    case element_type::INT64:
      return static_cast<double>(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return static_cast<double>(value.get_uint64().value_unsafe());
    default:
      return value.get_double().value_unsafe();
  }
}

std::string number_text(Element value) { return simdjson::minify(value); }
}  // namespace

ObjectReader::ObjectReader(Element value, std::string pointer, Diagnostics& out,
                           std::string_view what,
                           std::initializer_list<std::string_view> known_keys)
    : pointer_(std::move(pointer)), out_(out), what_(what) {
  if (value.type() != element_type::OBJECT) {
    out_.add(DiagnosticCode::kWrongType, pointer_,
             std::string(what_) + " must be an object, not " + std::string(describe_type(value)));
    return;
  }
  object_ = value.get_object().value_unsafe();
  is_object_ = true;
  for (const auto field : object_) {
    if (field.key.starts_with("x-")) continue;
    bool known = false;
    for (const std::string_view k : known_keys) known = known || k == field.key;
    if (!known) {
      out_.add(DiagnosticCode::kUnknownKey, child_pointer(pointer_, field.key),
               "unknown key " + quote_text(field.key) + " in " + std::string(what_) +
                   " (extensions must start with \"x-\")");
    }
  }
}

std::string ObjectReader::pointer(std::string_view key) const {
  return child_pointer(pointer_, key);
}

std::optional<Element> ObjectReader::get(std::string_view key, Presence presence) const {
  if (!is_object_) return std::nullopt;
  Element value;
  if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
    if (presence == Presence::kRequired) {
      out_.add(DiagnosticCode::kMissingKey, pointer_,
               std::string(what_) + " needs the key \"" + std::string(key) + "\"");
    }
    return std::nullopt;
  }
  return value;
}

void ObjectReader::wrong_type(std::string_view key, Element value,
                              std::string_view expected) const {
  out_.add(DiagnosticCode::kWrongType, pointer(key),
           quoted(key) + " must be " + std::string(expected) + ", not " +
               std::string(describe_type(value)));
}

std::optional<std::string> ObjectReader::identifier(std::string_view key, Presence presence) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (value->type() != element_type::STRING) {
    wrong_type(key, *value, "an identifier string");
    return std::nullopt;
  }
  const std::string_view text = value->get_string().value_unsafe();
  if (!is_identifier(text)) {
    out_.add(DiagnosticCode::kInvalidValue, pointer(key),
             quote_text(text) +
                 " is not a valid identifier: it must start with a letter, "
                 "contain only letters, digits, '_', '.' and '-', and be at most "
                 "64 bytes");
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::string> ObjectReader::text(std::string_view key, Presence presence,
                                              std::size_t max_bytes) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (value->type() != element_type::STRING) {
    wrong_type(key, *value, "a string");
    return std::nullopt;
  }
  const std::string_view text = value->get_string().value_unsafe();
  if (text.empty()) {
    out_.add(DiagnosticCode::kInvalidValue, pointer(key), quoted(key) + " must not be empty");
    return std::nullopt;
  }
  if (text.size() > max_bytes) {
    out_.add(DiagnosticCode::kOutOfRange, pointer(key),
             quoted(key) + " is " + std::to_string(text.size()) + " bytes long; at most " +
                 std::to_string(max_bytes) + " are allowed");
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::size_t> ObjectReader::choice(
    std::string_view key, Presence presence,
    std::initializer_list<std::string_view> choices) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  std::string listed;
  for (const std::string_view c : choices) {
    listed += listed.empty() ? "\"" : ", \"";
    listed += c;
    listed += '"';
  }
  if (value->type() != element_type::STRING) {
    wrong_type(key, *value, "one of " + listed);
    return std::nullopt;
  }
  const std::string_view text = value->get_string().value_unsafe();
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
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (value->type() != element_type::BOOL) {
    wrong_type(key, *value, "true or false");
    return std::nullopt;
  }
  return value->get_bool().value_unsafe();
}

std::optional<double> ObjectReader::number(std::string_view key, Presence presence) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (!is_number(*value)) {
    wrong_type(key, *value, "a number");
    return std::nullopt;
  }
  return as_double(*value);
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, Presence presence,
                                                  std::int64_t min, std::int64_t max) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  const std::string range = " between " + std::to_string(min) + " and " + std::to_string(max);
  if (!is_number(*value)) {
    wrong_type(key, *value, "an integer" + range);
    return std::nullopt;
  }
  // Integers compare exactly; only a fractional spelling (1.0) goes through double.
  std::int64_t n = 0;
  bool in_range = true;
  switch (value->type()) {
    case element_type::INT64:
      n = value->get_int64().value_unsafe();
      in_range = n >= min && n <= max;
      break;
    case element_type::UINT64:  // above INT64_MAX, so above any max
      in_range = false;
      break;
    default: {
      const double d = value->get_double().value_unsafe();
      if (d != std::floor(d)) {
        out_.add(DiagnosticCode::kInvalidValue, pointer(key),
                 quoted(key) + " must be a whole number, not " + number_text(*value));
        return std::nullopt;
      }
      // Doubles at or beyond +-2^63 cannot be converted; they are out of every range here.
      in_range =
          d >= static_cast<double>(min) && d <= static_cast<double>(max) && std::abs(d) < 9.2e18;
      if (in_range) n = static_cast<std::int64_t>(d);
      in_range = in_range && n >= min && n <= max;
    }
  }
  if (!in_range) {
    out_.add(DiagnosticCode::kOutOfRange, pointer(key),
             quoted(key) + " is " + number_text(*value) + "; it must be" + range);
    return std::nullopt;
  }
  return n;
}

std::optional<simdjson::dom::array> ObjectReader::array(std::string_view key, Presence presence,
                                                        std::size_t max_items) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (value->type() != element_type::ARRAY) {
    wrong_type(key, *value, "an array");
    return std::nullopt;
  }
  const auto array = value->get_array().value_unsafe();
  if (array.size() > max_items) {
    out_.add(DiagnosticCode::kLimit, pointer(key),
             quoted(key) + " has " + std::to_string(array.size()) + " entries; at most " +
                 std::to_string(max_items) + " are allowed");
    return std::nullopt;
  }
  return array;
}

std::optional<Element> ObjectReader::object(std::string_view key, Presence presence) const {
  const auto value = get(key, presence);
  if (!value) return std::nullopt;
  if (value->type() != element_type::OBJECT) {
    wrong_type(key, *value, "an object");
    return std::nullopt;
  }
  return value;
}

std::vector<ObjectReader::Reference> ObjectReader::identifiers(std::string_view key,
                                                               Presence presence,
                                                               std::size_t max_items,
                                                               bool allow_single) const {
  std::vector<Reference> result;
  const auto value = get(key, presence);
  if (!value) return result;
  const auto add = [&](Element item, std::string item_pointer) {
    if (item.type() != element_type::STRING) {
      out_.add(DiagnosticCode::kWrongType, item_pointer,
               "expected an identifier string, not " + std::string(describe_type(item)));
    } else if (const std::string_view id = item.get_string().value_unsafe(); !is_identifier(id)) {
      out_.add(DiagnosticCode::kInvalidValue, item_pointer,
               quote_text(id) + " is not a valid identifier");
    } else {
      result.push_back(Reference{std::string(id), std::move(item_pointer)});
    }
  };
  if (allow_single && value->type() == element_type::STRING) {
    add(*value, pointer(key));
    return result;
  }
  if (value->type() != element_type::ARRAY) {
    wrong_type(
        key, *value,
        allow_single ? "an identifier or an array of identifiers" : "an array of identifiers");
    return result;
  }
  const auto array = value->get_array().value_unsafe();
  if (array.size() > max_items) {
    out_.add(DiagnosticCode::kLimit, pointer(key),
             quoted(key) + " has " + std::to_string(array.size()) + " entries; at most " +
                 std::to_string(max_items) + " are allowed");
    return result;
  }
  const std::string base = pointer(key);
  std::size_t i = 0;
  for (const Element item : array) add(item, child_pointer(base, i++));
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
