#include "cli/command_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salesflow::cli {
namespace {

using internal::append_json_string;
using internal::quote_text;
using nlohmann::json;
using simdjson::dom::element;
using simdjson::dom::element_type;

// Where an op's string argument goes in the Command.
enum class Slot : std::uint8_t { kTarget, kText, kDefinition };

struct Argument {
  std::string_view key;
  Slot slot;
  bool required;
};

struct Op {
  std::string_view name;
  CommandType type;
  std::array<Argument, 2> arguments;  // unused entries have an empty key
  bool takes_fields;                  // "fields": required by set, optional for create
};

constexpr Argument kNone{"", Slot::kTarget, false};

// The ops of docs/command-stream.md, besides "tick". Keep the two in step.
constexpr std::array<Op, 12> kOps{{
    {"create", CommandType::kCreate, {{{"definition", Slot::kDefinition, true}, kNone}}, true},
    {"set", CommandType::kSetFields, {{kNone, kNone}}, true},
    {"check", CommandType::kCheckItem, {{{"item", Slot::kTarget, true}, kNone}}, false},
    {"uncheck", CommandType::kUncheckItem, {{{"item", Slot::kTarget, true}, kNone}}, false},
    {"approve", CommandType::kApprove, {{{"approval", Slot::kTarget, true}, kNone}}, false},
    {"reject",
     CommandType::kReject,
     {{{"approval", Slot::kTarget, true}, {"comment", Slot::kText, false}}},
     false},
    {"assign",
     CommandType::kAssign,
     {{{"role", Slot::kTarget, true}, {"person", Slot::kText, true}}},
     false},
    {"advance", CommandType::kAdvance, {{{"to", Slot::kTarget, true}, kNone}}, false},
    {"hold", CommandType::kHold, {{{"reason", Slot::kText, false}, kNone}}, false},
    {"resume", CommandType::kResume, {{kNone, kNone}}, false},
    {"close",
     CommandType::kCloseLost,
     {{{"stage", Slot::kTarget, false}, {"reason", Slot::kText, false}}},
     false},
    {"reopen", CommandType::kReopen, {{kNone, kNone}}, false},
}};

constexpr std::array<std::string_view, 6> kCommonKeys{"op", "instance",         "actor",
                                                      "at", "expected_version", "idempotency_key"};

// Longer keys are refused: a key is an id, not a payload, and the store keeps every one.
constexpr std::size_t kMaxKeyBytes = 200;

std::string pointer_to(std::string_view key) { return internal::child_pointer("", key); }

LineError bad(std::string message, std::string pointer = "") {
  return LineError{ErrorCode::kBadCommand, std::move(message), std::move(pointer), "", ""};
}

// The few questions the decoder asks of a JSON value, over simdjson's tape (nearly every line)
// and nlohmann's tree (a line simdjson cannot read: an integer beyond 64 bits). One decoder, a
// template over the two, answers both alike.
enum class Kind : std::uint8_t {
  kNull,
  kBoolean,
  kInteger,   // a negative integer within int64, or (simdjson) any integer within int64
  kUnsigned,  // a non-negative integer within uint64 (nlohmann: every non-negative integer)
  kFloat,     // a number with a fraction or an exponent (nlohmann: also integers beyond 64 bits)
  kString,
  kArray,
  kObject,
};

Kind kind_of(element v) {
  switch (v.type()) {
    case element_type::NULL_VALUE:
      return Kind::kNull;
    case element_type::BOOL:
      return Kind::kBoolean;
    case element_type::INT64:
      return Kind::kInteger;
    case element_type::UINT64:
      return Kind::kUnsigned;
    case element_type::DOUBLE:
      return Kind::kFloat;
    case element_type::STRING:
      return Kind::kString;
    case element_type::ARRAY:
      return Kind::kArray;
    case element_type::OBJECT:
      return Kind::kObject;
  }
  return Kind::kNull;
}

Kind kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return Kind::kBoolean;
    case json::value_t::number_integer:
      return Kind::kInteger;
    case json::value_t::number_unsigned:
      return Kind::kUnsigned;
    case json::value_t::number_float:
      return Kind::kFloat;
    case json::value_t::string:
      return Kind::kString;
    case json::value_t::array:
      return Kind::kArray;
    case json::value_t::object:
      return Kind::kObject;
    default:  // null; the parser makes no binary or discarded values
      return Kind::kNull;
  }
}

bool is_number(Kind k) { return k == Kind::kInteger || k == Kind::kUnsigned || k == Kind::kFloat; }

// REQUIRES: the kind the name says.
std::string_view text_of(element v) { return v.get_string().value_unsafe(); }
std::string_view text_of(const json& v) { return v.get_ref<const json::string_t&>(); }
bool bool_of(element v) { return v.get_bool().value_unsafe(); }
bool bool_of(const json& v) { return v.get<bool>(); }
std::int64_t int_of(element v) { return v.get_int64().value_unsafe(); }
std::int64_t int_of(const json& v) { return v.get<std::int64_t>(); }
std::uint64_t uint_of(element v) { return v.get_uint64().value_unsafe(); }
std::uint64_t uint_of(const json& v) { return v.get<std::uint64_t>(); }
double number_of(element v) { return v.get_double().value_unsafe(); }  // any number kind
double number_of(const json& v) { return v.get<double>(); }

// The value as JSON text, for messages. Objects are written with their keys sorted, as nlohmann
// keeps them, so that a message does not depend on which tree read the line.
std::string dump(element v) {
  const element_type type = v.type();
  if (type != element_type::OBJECT && type != element_type::ARRAY) return simdjson::minify(v);
  return json::parse(simdjson::minify(v)).dump();  // an error path: the copy does not matter
}
std::string dump(const json& v) { return v.dump(); }

// The member `key` of an object: empty when absent.
std::optional<element> member(element object, std::string_view key) {
  element value;
  const simdjson::dom::object members = object.get_object().value_unsafe();
  if (members.at_key(key).get(value) != simdjson::SUCCESS) return {};
  return value;
}
const json* member(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// visit(key, value) for every member of an object, in the document's order (simdjson) or the
// keys' (nlohmann).
template <class Visit>
void for_each_member(element object, Visit&& visit) {
  const simdjson::dom::object members = object.get_object().value_unsafe();
  for (const auto m : members) visit(m.key, m.value);
}
template <class Visit>
void for_each_member(const json& object, Visit&& visit) {
  for (const auto& m : object.items()) visit(std::string_view(m.key()), m.value());
}

// visit(index, item) for every item of an array, in order, while it returns true.
template <class Visit>
bool each_item(element array, Visit&& visit) {
  std::size_t i = 0;
  const simdjson::dom::array items = array.get_array().value_unsafe();
  for (const element item : items) {
    if (!visit(i++, item)) return false;
  }
  return true;
}
template <class Visit>
bool each_item(const json& array, Visit&& visit) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!visit(i, array[i])) return false;
  }
  return true;
}
std::size_t array_size(element array) {
  const simdjson::dom::array items = array.get_array().value_unsafe();
  return items.size();
}
std::size_t array_size(const json& array) { return array.size(); }

// "a string", "an object", ...: the JSON type of `value`, for messages.
template <class V>
std::string a_type(const V& value) {
  switch (kind_of(value)) {
    case Kind::kNull:
      return "a null";
    case Kind::kBoolean:
      return "a boolean";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
    default:
      return "a number";
  }
}

// A JSON number with an integral value within int64 (1 and 1.0 alike: JSON does not tell them
// apart, and JSON Schema's "integer" accepts both).
template <class V>
std::optional<std::int64_t> as_int64(const V& value) {
  switch (kind_of(value)) {
    case Kind::kInteger:
      return int_of(value);
    case Kind::kUnsigned: {
      const std::uint64_t u = uint_of(value);
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return {};
      return static_cast<std::int64_t>(u);
    }
    case Kind::kFloat: {
      const double d = number_of(value);
      // 2^63 is exactly representable; every double below it in magnitude converts safely.
      if (std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 &&
          d < 9223372036854775808.0) {
        return static_cast<std::int64_t>(d);
      }
      return {};
    }
    default:
      return {};
  }
}

// A required or optional non-negative integer member, checked against [min, max].
template <class V>
std::optional<LineError> read_count(const V& line, std::string_view key, std::uint64_t min,
                                    std::uint64_t max, std::optional<std::uint64_t>& out) {
  const auto found = member(line, key);
  if (!found) return std::nullopt;
  const auto n = as_int64(*found);
  if (!n || *n < 0 || static_cast<std::uint64_t>(*n) < min ||
      static_cast<std::uint64_t>(*n) > max) {
    return bad(quote_text(key) + " must be an integer from " + std::to_string(min) + " to " +
                   std::to_string(max) + ", not " + quote_text(dump(*found), 40),
               pointer_to(key));
  }
  out = static_cast<std::uint64_t>(*n);
  return std::nullopt;
}

// A string member: absent is an error when `required`; present must be a string, and non-empty
// when `non_empty`.
template <class V>
std::optional<LineError> read_string(const V& line, std::string_view key, std::string_view op,
                                     bool required, bool non_empty, std::string& out) {
  const auto found = member(line, key);
  if (!found) {
    if (!required) return std::nullopt;
    return bad(std::string(op) + " needs " + quote_text(key) + " (a string)");
  }
  if (kind_of(*found) != Kind::kString) {
    return bad(quote_text(key) + " must be a string, not " + a_type(*found), pointer_to(key));
  }
  out = text_of(*found);
  if (non_empty && out.empty()) {
    return bad(quote_text(key) + " must not be empty", pointer_to(key));
  }
  return std::nullopt;
}

std::string allowed_keys(const Op* op) {
  std::string keys;
  const auto add = [&](std::string_view key) {
    keys += keys.empty() ? "" : ", ";
    keys += key;
  };
  if (op == nullptr) {
    add("op");
    add("at");
    return keys;
  }
  for (const std::string_view key : kCommonKeys) add(key);
  for (const Argument& a : op->arguments) {
    if (!a.key.empty()) add(a.key);
  }
  if (op->type == CommandType::kCreate) add("definition_version");
  if (op->takes_fields) add("fields");
  return keys;
}

bool is_allowed_key(const Op* op, std::string_view key) {
  if (key == "op" || key == "at") return true;
  if (op == nullptr) return false;  // tick
  for (const std::string_view common : kCommonKeys) {
    if (key == common) return true;
  }
  for (const Argument& a : op->arguments) {
    if (!a.key.empty() && key == a.key) return true;
  }
  return (op->takes_fields && key == "fields") ||
         (op->type == CommandType::kCreate && key == "definition_version");
}

std::string op_names() {
  std::string names;
  for (const Op& op : kOps) names += std::string(op.name) + ", ";
  return names + "tick";
}

LineError invalid_field(std::string_view name, std::string what, std::string pointer) {
  return LineError{ErrorCode::kInvalidField, "field " + quote_text(name) + " " + std::move(what),
                   std::move(pointer), std::string(name), ""};
}

// One field value from JSON, by the field's declared type. null clears the field.
template <class V>
std::variant<FieldValue, LineError> field_value(const Field& field, const V& value,
                                                const std::string& pointer) {
  const Kind kind = kind_of(value);
  if (kind == Kind::kNull) return FieldValue{};
  const auto wrong = [&](std::string_view expected) {
    return invalid_field(field.id, "must be " + std::string(expected) + ", not " + a_type(value),
                         pointer);
  };
  switch (field.type) {
    case FieldType::kString:
    case FieldType::kEnum:
      if (kind != Kind::kString) return wrong("a string");
      return FieldValue{std::string(text_of(value))};
    case FieldType::kNumber:
      if (!is_number(kind)) return wrong("a number");
      return FieldValue{number_of(value)};
    case FieldType::kInteger: {
      if (!is_number(kind)) return wrong("an integer");
      if (const auto n = as_int64(value)) return FieldValue{*n};
      const double d = number_of(value);
      return invalid_field(field.id,
                           std::trunc(d) == d ? "is outside the range of a 64-bit integer"
                                              : "must be a whole number, not " + dump(value),
                           pointer);
    }
    case FieldType::kBoolean:
      if (kind != Kind::kBoolean) return wrong("true or false");
      return FieldValue{bool_of(value)};
    case FieldType::kTimestamp: {
      const auto example = "an ISO-8601 UTC timestamp string such as \"2026-11-27T09:30:00Z\"";
      if (kind != Kind::kString) return wrong(example);
      const std::string_view text = text_of(value);
      if (const auto t = parse_timestamp(text)) return FieldValue{*t};
      return invalid_field(
          field.id, "must be " + std::string(example) + ", not " + quote_text(text), pointer);
    }
    case FieldType::kStringList: {
      if (kind != Kind::kArray) return wrong("a list of strings");
      std::vector<std::string> list;
      list.reserve(array_size(value));
      std::optional<LineError> problem;
      each_item(value, [&](std::size_t i, const auto& item) {
        if (kind_of(item) != Kind::kString) {
          problem = invalid_field(
              field.id,
              "must be a list of strings; item " + std::to_string(i) + " is " + a_type(item),
              internal::child_pointer(pointer, i));
          return false;
        }
        list.emplace_back(text_of(item));
        return true;
      });
      if (problem) return std::move(*problem);
      return FieldValue{std::move(list)};
    }
  }
  return wrong("a value of its type");
}

void append_uint(std::string& out, std::uint64_t n) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
  out.append(buffer, end);
}

void append_int(std::string& out, std::int64_t n) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
  out.append(buffer, end);
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {  // never stored (fields are validated), but JSON has no NaN
    out += "null";
    return;
  }
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;  // shortest round trip
  out.append(buffer, end);
}

// As format_timestamp() writes it ("2026-11-27T09:30:00Z", ".250" before the Z when there are
// milliseconds), without a stream: every event carries a time, and date::format() costs more
// than the rest of an event's encoding.
void append_timestamp(std::string& out, Timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{t - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // outside what four digits show: let the library write it
    append_json_string(out, format_timestamp(t));
    return;
  }
  char buffer[32];
  const auto two = [&](char* at, unsigned n) {
    at[0] = static_cast<char>('0' + n / 10);
    at[1] = static_cast<char>('0' + n % 10);
  };
  buffer[0] = '"';
  two(buffer + 1, static_cast<unsigned>(year) / 100);
  two(buffer + 3, static_cast<unsigned>(year) % 100);
  buffer[5] = '-';
  two(buffer + 6, static_cast<unsigned>(ymd.month()));
  buffer[8] = '-';
  two(buffer + 9, static_cast<unsigned>(ymd.day()));
  buffer[11] = 'T';
  two(buffer + 12, static_cast<unsigned>(time.hours().count()));
  buffer[14] = ':';
  two(buffer + 15, static_cast<unsigned>(time.minutes().count()));
  buffer[17] = ':';
  two(buffer + 18, static_cast<unsigned>(time.seconds().count()));
  std::size_t size = 20;
  if (const auto ms = static_cast<unsigned>(time.subseconds().count()); ms != 0) {
    buffer[size++] = '.';
    buffer[size++] = static_cast<char>('0' + ms / 100);
    two(buffer + size, ms % 100);
    size += 2;
  }
  buffer[size++] = 'Z';
  buffer[size++] = '"';
  out.append(buffer, size);
}

void append_field_value(std::string& out, const FieldValue& value) {
  struct Visitor {
    std::string& out;
    void operator()(std::monostate) const { out += "null"; }
    void operator()(const std::string& s) const { append_json_string(out, s); }
    void operator()(double d) const { append_double(out, d); }
    void operator()(std::int64_t i) const { append_int(out, i); }
    void operator()(bool b) const { out += b ? "true" : "false"; }
    void operator()(Timestamp t) const { append_timestamp(out, t); }
    void operator()(const std::vector<std::string>& list) const {
      out += '[';
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, list[i]);
      }
      out += ']';
    }
  };
  std::visit(Visitor{out}, value);
}

// `,"key":` then the value.
void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;  // keys are our own literals: nothing to escape
  out += "\":";
}

void append_member(std::string& out, std::string_view key, std::string_view text) {
  append_key(out, key);
  append_json_string(out, text);
}

// The decoder proper, over either tree (see Kind).
template <class V>
std::variant<CommandLine, LineError> decode(const V& line) {
  if (kind_of(line) != Kind::kObject) {
    return bad("a command must be a JSON object, not " + a_type(line));
  }

  // The instance first, so that even a malformed line counts against its instance in --summary.
  std::string instance;
  if (const auto found = member(line, "instance"); found && kind_of(*found) == Kind::kString) {
    instance = text_of(*found);
  }
  const auto fail = [&](LineError error) -> std::variant<CommandLine, LineError> {
    error.instance = instance;
    return error;
  };

  const auto op_found = member(line, "op");
  if (!op_found) return fail(bad("the command has no \"op\"; expected one of " + op_names()));
  if (kind_of(*op_found) != Kind::kString) {
    return fail(bad("\"op\" must be a string, not " + a_type(*op_found), "/op"));
  }
  const std::string_view op_name = text_of(*op_found);
  const Op* op = nullptr;
  for (const Op& candidate : kOps) {
    if (candidate.name == op_name) op = &candidate;
  }
  const bool tick = op_name == "tick";
  if (op == nullptr && !tick) {
    return fail(
        bad("unknown op " + quote_text(op_name) + "; expected one of " + op_names(), "/op"));
  }
  // The first unknown key in the order nlohmann/json keeps them (by name), whichever tree.
  std::optional<std::string_view> unknown;
  for_each_member(line, [&](std::string_view key, const auto&) {
    if (!is_allowed_key(op, key) && (!unknown || key < *unknown)) unknown = key;
  });
  if (unknown) {
    return fail(bad("unknown key " + quote_text(*unknown) + ": " + std::string(op_name) +
                        " takes " + allowed_keys(op),
                    pointer_to(*unknown)));
  }

  CommandLine result;
  result.tick = tick;
  std::string at_text;
  if (auto e = read_string(line, "at", op_name, true, false, at_text)) return fail(std::move(*e));
  const auto at = parse_timestamp(at_text);
  if (!at) {
    return fail(bad("\"at\" must be an ISO-8601 UTC time such as \"2026-11-27T09:30:00Z\", not " +
                        quote_text(at_text),
                    "/at"));
  }
  result.at = *at;
  if (tick) return result;

  Command& command = result.command;
  command.type = op->type;
  if (auto e = read_string(line, "instance", op_name, true, true, command.instance)) {
    return fail(std::move(*e));
  }
  if (auto e = read_string(line, "actor", op_name, true, true, command.actor)) {
    return fail(std::move(*e));
  }
  if (auto e = read_count(line, "expected_version", 0, std::numeric_limits<std::int64_t>::max(),
                          command.expected_version)) {
    return fail(std::move(*e));
  }
  if (auto e =
          read_string(line, "idempotency_key", op_name, false, true, command.idempotency_key)) {
    return fail(std::move(*e));
  }
  if (command.idempotency_key.size() > kMaxKeyBytes) {
    return fail(bad("\"idempotency_key\" must be at most " + std::to_string(kMaxKeyBytes) +
                        " bytes long, not " + std::to_string(command.idempotency_key.size()),
                    "/idempotency_key"));
  }
  for (const Argument& a : op->arguments) {
    if (a.key.empty()) continue;
    std::string& slot = a.slot == Slot::kTarget ? command.target
                        : a.slot == Slot::kText ? command.text
                                                : command.definition_id;
    if (auto e = read_string(line, a.key, op_name, a.required, false, slot)) {
      return fail(std::move(*e));
    }
  }
  if (op->type == CommandType::kCreate) {
    std::optional<std::uint64_t> version;
    if (auto e = read_count(line, "definition_version", 1,
                            std::numeric_limits<std::uint32_t>::max(), version)) {
      return fail(std::move(*e));
    }
    if (version) command.definition_version = static_cast<std::uint32_t>(*version);
  }
  if (op->takes_fields) {
    const auto fields = member(line, "fields");
    if (!fields && op->type == CommandType::kSetFields) {
      return fail(bad("set needs \"fields\" (an object of field values)"));
    }
    if (fields) {
      if (kind_of(*fields) != Kind::kObject) {
        return fail(bad("\"fields\" must be an object, not " + a_type(*fields), "/fields"));
      }
      result.fields = V(*fields);
    }
  }
  return result;
}

// convert_fields() over either tree.
template <class V>
std::optional<LineError> convert(const V& object, CommandLine& line,
                                 const ProcessDefinition& definition) {
  // By name, as nlohmann/json keeps an object's members (and as this has always set them).
  // simdjson's elements are handles; a tree of nlohmann's is copied (only lines simdjson cannot
  // read come here with one).
  std::vector<std::pair<std::string_view, V>> members;
  for_each_member(
      object, [&](std::string_view name, const V& value) { members.emplace_back(name, value); });
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto& fields = line.command.fields;
  fields.reserve(members.size());
  for (const auto& [name, value] : members) {
    const auto id = definition.find_field(name);
    if (!id) {
      fields.emplace_back(name, FieldValue{});  // the engine answers "unknown field"
      continue;
    }
    auto converted =
        field_value(definition.field(*id), value, internal::child_pointer("/fields", name));
    if (auto* error = std::get_if<LineError>(&converted)) {
      error->instance = line.command.instance;
      return std::move(*error);
    }
    fields.emplace_back(name, std::move(std::get<FieldValue>(converted)));
  }
  return std::nullopt;
}

}  // namespace

std::variant<CommandLine, LineError> decode_command_line(std::string_view text,
                                                         simdjson::dom::parser& parser) {
  auto parsed = internal::parse_json_any(text, kCommandLimits, parser);
  if (auto* d = std::get_if<Diagnostic>(&parsed)) {
    // The parser counts lines within the document; a command is one line, and "line 1" would
    // read as the stream's first line.
    std::string message = std::move(d->message);
    if (constexpr std::string_view kLine1 = "at line 1, column "; message.find(kLine1) < 40) {
      message.replace(message.find(kLine1), kLine1.size(), "at column ");
    }
    return bad("the line is not a JSON command: " + message, d->pointer);
  }
  if (const auto* root = std::get_if<element>(&parsed)) return decode(*root);
  return decode(std::get<json>(parsed));
}

std::optional<LineError> convert_fields(CommandLine& line, const ProcessDefinition* definition) {
  if (definition == nullptr) return std::nullopt;
  if (const auto* object = std::get_if<element>(&line.fields)) {
    return convert(*object, line, *definition);
  }
  if (const auto* object = std::get_if<json>(&line.fields)) {
    return convert(*object, line, *definition);
  }
  return std::nullopt;
}

void append_event(std::string& out, const Event& e, const ProcessDefinition& def) {
  out += "{\"instance\":";
  append_json_string(out, e.instance);
  append_key(out, "version");
  append_uint(out, e.version);
  append_member(out, "type", to_string(e.type));
  append_key(out, "at");
  append_timestamp(out, e.at);
  append_member(out, "actor", e.actor);
  append_member(out, "definition", e.definition_id);
  append_key(out, "definition_version");
  append_uint(out, e.definition_version);
  const auto stage = [&](std::string_view key, StageId id) {
    append_member(out, key, def.stage(id).id);
  };
  switch (e.type) {
    case EventType::kCreated:
      stage("stage", e.stage);
      break;
    case EventType::kFieldSet:
      append_member(out, "field", def.fields()[e.target].id);
      append_key(out, "value");
      append_field_value(out, e.value);
      break;
    case EventType::kFieldCleared:
      append_member(out, "field", def.fields()[e.target].id);
      break;
    case EventType::kItemChecked:
    case EventType::kItemUnchecked:
      append_member(out, "item", def.checklist_items()[e.target].id);
      break;
    case EventType::kApprovalGiven:
      append_member(out, "approval", def.approvals()[e.target].id);
      break;
    case EventType::kApprovalRejected:
      append_member(out, "approval", def.approvals()[e.target].id);
      append_member(out, "comment", e.text);
      break;
    case EventType::kAssigned:
      append_member(out, "role", def.roles()[e.target].id);
      append_member(out, "person", e.text);
      break;
    case EventType::kStageChanged:
    case EventType::kReopened:
      stage("from", e.from_stage);
      stage("stage", e.stage);
      break;
    case EventType::kPutOnHold:
      append_member(out, "reason", e.text);
      break;
    case EventType::kResumed:
      break;
    case EventType::kTeamRequired: {
      stage("stage", e.stage);
      append_key(out, "roles");
      out += '[';
      bool first = true;
      for (std::size_t r = 0; r < def.roles().size(); ++r) {
        if (!team_roles(e).contains(RoleId(static_cast<std::uint32_t>(r)))) continue;
        if (!first) out += ',';
        first = false;
        append_json_string(out, def.roles()[r].id);
      }
      out += ']';
      break;
    }
    case EventType::kClosedLost:
      stage("from", e.from_stage);
      stage("stage", e.stage);
      append_member(out, "reason", e.text);
      break;
    case EventType::kStandardAtRisk:
    case EventType::kStandardBreached:
    case EventType::kStandardEscalated:
    case EventType::kStandardMet:
    case EventType::kStandardCancelled: {
      const DeliveryStandard& standard = def.delivery_standards()[e.target];
      append_member(out, "standard", standard.id);
      stage("stage", e.stage);
      const auto* number = std::get_if<std::int64_t>(&e.value);
      if (e.type == EventType::kStandardEscalated && number != nullptr) {
        append_key(out, "step");
        append_uint(out, static_cast<std::uint64_t>(*number));
        append_member(out, "role", def.role(standard.escalation[*number].role).id);
      } else if (number != nullptr) {
        // Counted time (working time under the standard's calendar), in milliseconds.
        append_key(out, "elapsed_ms");
        append_uint(out, static_cast<std::uint64_t>(std::max<std::int64_t>(*number, 0)));
      }
      break;
    }
  }
  out += '}';
}

void append_accepted(std::string& out, const CommandResult& result,
                     const ProcessDefinition* definition) {
  out += "{\"ok\":true,\"version\":";
  append_uint(out, result.version);
  out += ",\"events\":[";
  for (std::size_t i = 0; i < result.events.size(); ++i) {
    if (i > 0) out += ',';
    if (definition != nullptr) append_event(out, result.events[i], *definition);
  }
  out += "]}\n";
}

void append_tick(std::string& out) { out += "{\"ok\":true,\"events\":[]}\n"; }

void append_rejection(std::string& out, const Rejection& rejection, std::uint64_t version) {
  out += "{\"ok\":false,\"error\":{\"code\":";
  append_json_string(out, to_string(rejection.code));
  append_member(out, "message", rejection.message);
  if (rejection.code == ErrorCode::kConflict) {
    append_key(out, "version");  // where the instance is: what to reload
    append_uint(out, version);
  }
  if (rejection.code == ErrorCode::kGateBlocked) {
    append_key(out, "unmet");
    out += '[';
    for (std::size_t i = 0; i < rejection.unmet.size(); ++i) {
      const UnmetCriterion& u = rejection.unmet[i];
      out += i > 0 ? ",{\"kind\":" : "{\"kind\":";
      append_json_string(out, to_string(u.kind));
      append_member(out, "id", u.id);
      append_member(out, "detail", u.detail);
      append_key(out, "have");
      append_uint(out, u.have);
      append_key(out, "need");
      append_uint(out, u.need);
      out += '}';
    }
    out += ']';
  }
  out += "}}\n";
}

void append_line_error(std::string& out, const LineError& error) {
  out += "{\"ok\":false,\"error\":{\"code\":";
  append_json_string(out, to_string(error.code));
  append_member(out, "message", error.message);
  if (error.code == ErrorCode::kBadCommand) append_member(out, "pointer", error.pointer);
  if (error.code == ErrorCode::kInvalidField) {
    append_member(out, "field", error.field);
    append_member(out, "pointer", error.pointer);
  }
  out += "}}\n";
}

}  // namespace salesflow::cli
