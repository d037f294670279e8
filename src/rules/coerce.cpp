// JavaScript's coercions and comparisons, as json-logic-js inherits them, over Values.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "rules/evaluator.hpp"
#include "rules/js.hpp"

namespace salesflow::internal {
namespace {

constexpr std::string_view kObjectString = "[object Object]";

// JavaScript's typeof, with arrays and objects as one "object" type.
enum class JsType : std::uint8_t { kUndefined, kNull, kBoolean, kNumber, kString, kObject };

JsType js_type(const Value& v) {
  switch (v.kind) {
    case ValueKind::kUndefined:
      return JsType::kUndefined;
    case ValueKind::kNull:
      return JsType::kNull;
    case ValueKind::kBoolean:
      return JsType::kBoolean;
    case ValueKind::kNumber:
      return JsType::kNumber;
    case ValueKind::kString:
      return JsType::kString;
    default:
      return JsType::kObject;
  }
}

}  // namespace

void Evaluator::step_limit() const {
  fail(RuleErrorCode::kStepLimit, "the evaluation takes more than the limit of " +
                                      std::to_string(program_.limits.max_steps) + " steps");
}

void Evaluator::check_depth(std::size_t depth) const {
  if (depth > program_.limits.max_value_depth) {
    fail(RuleErrorCode::kDepthLimit, "a value is nested deeper than the limit of " +
                                         std::to_string(program_.limits.max_value_depth) +
                                         " levels");
  }
}

Value Evaluator::from_data(const RuleDataValue& d) {
  switch (d.kind()) {
    case RuleDataValue::Kind::kMissing:
      return Value::undefined();
    case RuleDataValue::Kind::kNull:
      return Value::null();
    case RuleDataValue::Kind::kBoolean:
      return Value::from_bool(d.as_boolean());
    case RuleDataValue::Kind::kNumber:
      return Value::from_number(d.as_number());
    case RuleDataValue::Kind::kString:
      if (d.as_string().size() > UINT32_MAX) {
        fail(RuleErrorCode::kMemoryLimit, "a data string is longer than 4 GiB");
      }
      return Value::from_string(d.as_string());
    case RuleDataValue::Kind::kArray:
      return Value::from_handle(ValueKind::kDataArray, d.handle());
    case RuleDataValue::Kind::kObject:
      return Value::from_handle(ValueKind::kDataObject, d.handle());
  }
  return Value::undefined();
}

bool Evaluator::truthy_slow(const Value& v) {
  switch (v.kind) {
    case ValueKind::kBoolean:
      return v.boolean;
    case ValueKind::kNumber:
      return v.number != 0 && !std::isnan(v.number);
    case ValueKind::kString:
    case ValueKind::kArray:
      return v.size != 0;
    case ValueKind::kDataArray:
      return array_size(v) != 0;
    case ValueKind::kDataObject:
    case ValueKind::kFrame:
      return true;
    default:
      return false;
  }
}

double Evaluator::to_number(const Value& v) {
  switch (v.kind) {
    case ValueKind::kNull:
      return 0;
    case ValueKind::kBoolean:
      return v.boolean ? 1 : 0;
    case ValueKind::kNumber:
      return v.number;
    case ValueKind::kString:
      charge_bytes(v.size);  // the conversion scans the whole string
      return js_string_to_number(v.str());
    case ValueKind::kArray:
    case ValueKind::kDataArray:
      return js_string_to_number(to_string(v));
    default:
      return std::nan("");
  }
}

void Evaluator::append_string(std::string& out, const Value& v, std::size_t depth) {
  switch (v.kind) {
    case ValueKind::kUndefined:
      out += "undefined";
      return;
    case ValueKind::kNull:
      out += "null";
      return;
    case ValueKind::kBoolean:
      out += v.boolean ? "true" : "false";
      return;
    case ValueKind::kNumber:
      append_js_number(out, v.number);
      return;
    case ValueKind::kString:
      out += v.str();
      return;
    case ValueKind::kArray:
    case ValueKind::kDataArray: {
      // Array.prototype.join(","): null and undefined elements are empty.
      check_depth(depth + 1);
      const std::size_t n = array_size(v);
      charge(n);
      for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += ',';
        const Value item = array_at(v, i);
        if (!item.is_nullish()) append_string(out, item, depth + 1);
        if (out.size() > program_.limits.max_memory_bytes) {
          fail(RuleErrorCode::kMemoryLimit, "a string grows beyond the memory limit");
        }
      }
      return;
    }
    default:
      out += kObjectString;
      return;
  }
}

std::string_view Evaluator::to_string(const Value& v) {
  if (v.kind == ValueKind::kString) return v.str();
  if (v.kind == ValueKind::kDataObject || v.kind == ValueKind::kFrame) return kObjectString;
  std::string out;
  append_string(out, v);
  charge_bytes(out.size());
  return arena_.copy_string(out);
}

Value Evaluator::to_primitive(const Value& v) {
  return v.is_object() ? Value::from_string(to_string(v)) : v;
}

bool Evaluator::strict_equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ValueKind::kUndefined:
    case ValueKind::kNull:
      return true;
    case ValueKind::kBoolean:
      return a.boolean == b.boolean;
    case ValueKind::kNumber:
      return a.number == b.number;
    case ValueKind::kString:
      return same_text(a.str(), b.str());
    case ValueKind::kArray:
      return a.items == b.items;
    case ValueKind::kDataArray:
    case ValueKind::kDataObject:
      return a.handle == b.handle;
    case ValueKind::kFrame:
      return a.frame == b.frame;
    case ValueKind::kRoot:
      return true;
  }
  return false;
}

bool Evaluator::loose_equal(const Value& a, const Value& b) {
  // IsLooselyEqual (ECMA-262 7.2.14), without BigInt and Symbol.
  if (a.kind == b.kind) return strict_equal(a, b);
  const JsType ta = js_type(a), tb = js_type(b);
  if (ta == tb) return strict_equal(a, b);
  const bool a_nullish = ta == JsType::kUndefined || ta == JsType::kNull;
  const bool b_nullish = tb == JsType::kUndefined || tb == JsType::kNull;
  if (a_nullish || b_nullish) return a_nullish && b_nullish;
  if (ta == JsType::kNumber && tb == JsType::kString) return a.number == to_number(b);
  if (ta == JsType::kString && tb == JsType::kNumber) return to_number(a) == b.number;
  if (ta == JsType::kBoolean) return loose_equal(Value::from_number(to_number(a)), b);
  if (tb == JsType::kBoolean) return loose_equal(a, Value::from_number(to_number(b)));
  if (tb == JsType::kObject) return loose_equal(a, to_primitive(b));
  if (ta == JsType::kObject) return loose_equal(to_primitive(a), b);
  return false;
}

Order Evaluator::compare_slow(const Value& a, const Value& b) {
  // IsLessThan (ECMA-262 7.2.13): strings compare by code units, everything else as numbers.
  const Value pa = to_primitive(a), pb = to_primitive(b);
  if (pa.kind == ValueKind::kString && pb.kind == ValueKind::kString) {
    charge_bytes(std::min(pa.size, pb.size));
    const int c = utf16_compare(pa.str(), pb.str());
    return c < 0 ? Order::kLess : (c > 0 ? Order::kGreater : Order::kEqual);
  }
  return order_of(to_number(pa), to_number(pb));
}

Value Evaluator::get_property(const Value& v, std::string_view key, const std::uint64_t* hash) {
  switch (v.kind) {
    case ValueKind::kDataObject: {
      if (tree_ == nullptr) return from_data(data_.member(v.handle, key));
      const JsonTree::Node* found =
          JsonTree::find(JsonTree::node_of(v.handle), key, hash ? *hash : key_hash(key));
      return found == nullptr ? Value::undefined() : JsonTree::to_value(*found);
    }
    case ValueKind::kArray:
    case ValueKind::kDataArray: {
      const std::size_t n = array_size(v);
      if (key == "length") return Value::from_number(static_cast<double>(n));
      const std::optional<std::size_t> index = rule_array_index(key);
      return index && *index < n ? array_at(v, *index) : Value::undefined();
    }
    case ValueKind::kString: {
      charge_bytes(v.size);
      const std::size_t n = utf16_length(v.str());
      if (key == "length") return Value::from_number(static_cast<double>(n));
      const std::optional<std::size_t> index = rule_array_index(key);
      if (!index || *index >= n) return Value::undefined();
      return Value::from_string(utf16_unit_at(v.str(), *index));
    }
    case ValueKind::kFrame:
      if (same_text(key, "current")) return v.frame->current;
      if (same_text(key, "accumulator")) return v.frame->accumulator;
      return Value::undefined();
    default:
      return Value::undefined();
  }
}

Value Evaluator::walk(const Value& scope, std::span<const std::string_view> path,
                      const std::uint64_t* hashes, const Value& not_found) {
  Value current = scope;
  if (scope.kind == ValueKind::kRoot) {
    if (tree_ != nullptr) {
      current = JsonTree::to_value(tree_->root());  // then as from any other value
    } else if (path.empty()) {
      const Value whole = from_data(data_.lookup(path));
      return whole.kind == ValueKind::kUndefined ? Value::null() : whole;
    } else {
      const Value found = from_data(data_.lookup(path));
      return found.kind == ValueKind::kUndefined ? not_found : found;
    }
  }
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (current.kind == ValueKind::kDataObject && tree_ != nullptr) {
      // The usual steps inline: a member of a data object, a member of a reduce frame.
      const JsonTree::Node* found =
          JsonTree::find(JsonTree::node_of(current.handle), path[i],
                         hashes != nullptr ? hashes[i] : key_hash(path[i]));
      if (found == nullptr) return not_found;
      current = JsonTree::to_value(*found);
      continue;
    }
    if (current.kind == ValueKind::kFrame) {
      if (same_text(path[i], "current")) {
        current = current.frame->current;
      } else if (same_text(path[i], "accumulator")) {
        current = current.frame->accumulator;
      } else {
        return not_found;
      }
    } else {
      if (current.is_nullish()) return not_found;
      current = get_property(current, path[i], hashes != nullptr ? hashes + i : nullptr);
    }
    if (current.kind == ValueKind::kUndefined) return not_found;
  }
  return current;
}

Value Evaluator::var_dynamic(const Value& scope, const Value& path, const Value& not_found) {
  if (path.is_nullish() || (path.kind == ValueKind::kString && path.size == 0)) {
    return walk(scope, {}, nullptr, not_found);
  }
  const std::string_view text = to_string(path);
  const std::size_t count = 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '.'));
  charge(count);
  // The segments, on the stack for the usual few.
  std::array<std::string_view, 8> inline_segments;
  std::vector<std::string_view> more;
  std::string_view* segments = inline_segments.data();
  if (count > inline_segments.size()) {
    more.resize(count);
    segments = more.data();
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t dot = i + 1 < count ? text.find('.', start) : text.size();
    segments[i] = text.substr(start, dot - start);
    start = dot + 1;
  }
  return walk(scope, {segments, count}, nullptr, not_found);
}

RuleValue Evaluator::to_rule_value(const Value& v, std::size_t depth) {
  check_depth(depth);
  charge(1);
  switch (v.kind) {
    case ValueKind::kBoolean:
      return RuleValue::boolean(v.boolean);
    case ValueKind::kNumber:
      return RuleValue::number(v.number);
    case ValueKind::kString:
      charge_bytes(v.size);
      return RuleValue::string(std::string(v.str()));
    case ValueKind::kArray:
    case ValueKind::kDataArray: {
      const std::size_t n = array_size(v);
      charge(n);
      RuleValue::Array items;
      items.reserve(n);
      for (std::size_t i = 0; i < n; ++i) items.push_back(to_rule_value(array_at(v, i), depth + 1));
      return RuleValue::array(std::move(items));
    }
    case ValueKind::kDataObject: {
      // Collect first: the RuleData's loop must not be unwound by a failure of ours.
      std::vector<std::pair<std::string_view, RuleDataValue>> members;
      data_.for_each_member(v.handle, [&](std::string_view key, const RuleDataValue& value) {
        members.emplace_back(key, value);
      });
      charge(members.size());
      RuleValue::Object object;
      object.reserve(members.size());
      for (const auto& [key, value] : members) {
        object.emplace_back(std::string(key), to_rule_value(from_data(value), depth + 1));
      }
      return RuleValue::object(std::move(object));
    }
    case ValueKind::kFrame: {
      RuleValue::Object object;
      object.emplace_back("current", to_rule_value(v.frame->current, depth + 1));
      object.emplace_back("accumulator", to_rule_value(v.frame->accumulator, depth + 1));
      return RuleValue::object(std::move(object));
    }
    default:
      return RuleValue::null();  // undefined becomes null, as in JSON.stringify
  }
}

Value Evaluator::from_rule_value(const RuleValue& v, std::size_t depth) {
  check_depth(depth);
  charge(1);
  switch (v.kind()) {
    case RuleValue::Kind::kNull:
      return Value::null();
    case RuleValue::Kind::kBoolean:
      return Value::from_bool(v.as_boolean());
    case RuleValue::Kind::kNumber:
      return Value::from_number(v.as_number());
    case RuleValue::Kind::kString:
      charge_bytes(v.as_string().size());
      return make_string(v.as_string());
    case RuleValue::Kind::kArray: {
      const RuleValue::Array& source = v.as_array();
      charge(source.size());
      Value* items = arena_.allocate_values(source.size());
      for (std::size_t i = 0; i < source.size(); ++i) {
        items[i] = from_rule_value(source[i], depth + 1);
      }
      return Value::from_array(items, source.size());
    }
    case RuleValue::Kind::kObject:
      break;
  }
  fail(RuleErrorCode::kOperator,
       "a host operator returned an object; rules work with null, "
       "booleans, numbers, strings and arrays only");
}

}  // namespace salesflow::internal
