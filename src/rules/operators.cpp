// The operators that take all their arguments evaluated: comparisons, arithmetic, strings,
// "in", "merge" and host operators.
#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "rules/evaluator.hpp"
#include "rules/js.hpp"

namespace salesflow::internal {
namespace {

// Substring search that stays linear for long needles (std::string_view::find is not).
bool contains(std::string_view haystack, std::string_view needle) {
  if (needle.size() <= 64) return haystack.find(needle) != std::string_view::npos;
  const std::boyer_moore_searcher searcher(needle.begin(), needle.end());
  return std::search(haystack.begin(), haystack.end(), searcher) != haystack.end();
}

}  // namespace

Value Evaluator::op_comparison(Op op, std::span<const std::uint32_t> args, const Value& scope) {
  const Value a = eval(args[0], scope);
  const Value b = eval(args[1], scope);
  if (args.size() == 3) {
    // The "between" forms of < and <=: a < b < c. All three are evaluated, as in json-logic-js.
    const Value c = eval(args[2], scope);
    return Value::from_bool(holds(op, compare(a, b)) && holds(op, compare(b, c)));
  }
  return Value::from_bool(holds(op, compare(a, b)));
}

Value Evaluator::op_arithmetic(Op op, std::span<const Value> args) {
  // + and * go through parseFloat (so "3 apples" is 3, and true is NaN); -, / and % through
  // ToNumber (so true is 1). A lone argument to * is returned unchanged (Array.reduce without an
  // initial value), while + adds it to 0.
  auto parse_float = [this](const Value& v) {
    if (v.kind == ValueKind::kNumber) return v.number + 0.0;  // String(-0) is "0"
    if (v.kind == ValueKind::kString) charge_bytes(v.size);   // parseFloat scans the string
    return js_parse_float(to_string(v));
  };
  switch (op) {
    case Op::kAdd: {
      double sum = 0;
      for (const Value& v : args) sum = sum + parse_float(v);
      return Value::from_number(sum);
    }
    case Op::kMul: {
      if (args.size() == 1) return args[0];
      double product = parse_float(args[0]);
      for (std::size_t i = 1; i < args.size(); ++i) product = product * parse_float(args[i]);
      return Value::from_number(product);
    }
    case Op::kSub:
      if (args.size() == 1) return Value::from_number(-to_number(args[0]));
      return Value::from_number(to_number(args[0]) - to_number(args[1]));
    case Op::kDiv:
      return Value::from_number(to_number(args[0]) / to_number(args[1]));
    default:
      return Value::from_number(std::fmod(to_number(args[0]), to_number(args[1])));
  }
}

Value Evaluator::op_min_max(std::span<const Value> args, bool is_max) {
  // Math.max / Math.min: every argument goes through ToNumber; any NaN makes NaN; +0 > -0.
  double result =
      is_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  bool nan = false;
  for (const Value& v : args) {
    const double n = to_number(v);
    if (std::isnan(n)) {
      nan = true;
    } else if (is_max ? (n > result || (n == 0 && result == 0 && !std::signbit(n)))
                      : (n < result || (n == 0 && result == 0 && std::signbit(n)))) {
      result = n;
    }
  }
  return Value::from_number(nan ? std::nan("") : result);
}

Value Evaluator::op_cat(std::span<const Value> args) {
  // Array.prototype.join(""): null and undefined are empty.
  std::string out;
  for (const Value& v : args) {
    if (!v.is_nullish()) append_string(out, v);
    if (out.size() > program_.limits.max_memory_bytes) {
      fail(RuleErrorCode::kMemoryLimit, "a string grows beyond the memory limit");
    }
  }
  charge_bytes(out.size());
  return make_string(out);
}

Value Evaluator::op_substr(std::span<const Value> args) {
  const std::string_view source = to_string(args[0]);
  charge_bytes(source.size());
  const double start = args.size() > 1 ? to_number(args[1]) : std::nan("");
  if (args.size() < 3) return make_string(js_substr(source, start, false, 0));
  const Value& end = args[2];
  if (compare(end, Value::from_number(0)) == Order::kLess) {
    // json-logic-js emulates PHP: a negative length drops that many code units from the end,
    // computed as temp.length + end, which concatenates when `end` is not a number.
    const std::string temp = js_substr(source, start, false, 0);
    const double length = static_cast<double>(utf16_length(temp));
    const Value end_primitive = to_primitive(end);
    const double keep =
        end_primitive.kind == ValueKind::kString
            ? js_string_to_number(js_number_to_string(length) + std::string(end_primitive.str()))
            : length + to_number(end_primitive);
    return make_string(js_substr(temp, 0, true, keep));
  }
  return make_string(js_substr(source, start, true, to_number(end)));
}

Value Evaluator::op_in(const Value& needle, const Value& haystack) {
  // json-logic-js: a falsy haystack, or one without indexOf, contains nothing. Strings search
  // for the needle's string; arrays for an element strictly equal to it.
  if (!truthy(haystack)) return Value::from_bool(false);
  if (haystack.kind == ValueKind::kString) {
    const std::string_view text = to_string(needle);
    charge_bytes(haystack.size);
    return Value::from_bool(contains(haystack.str(), text));
  }
  if (haystack.is_array()) {
    const std::size_t n = array_size(haystack);
    for (std::size_t i = 0; i < n; ++i) {
      charge(1);
      if (strict_equal(needle, array_at(haystack, i))) return Value::from_bool(true);
    }
  }
  return Value::from_bool(false);
}

Value Evaluator::op_merge(std::span<const Value> args) {
  // [].concat(a).concat(b)...: arrays are flattened one level, anything else is an element.
  std::size_t total = 0;
  for (const Value& v : args) total += v.is_array() ? array_size(v) : 1;
  charge(total);
  Value* items = arena_.allocate_values(total);
  std::size_t k = 0;
  for (const Value& v : args) {
    if (v.is_array()) {
      const std::size_t n = array_size(v);
      for (std::size_t i = 0; i < n; ++i) items[k++] = array_at(v, i);
    } else {
      items[k++] = v;
    }
  }
  return Value::from_array(items, total);
}

Value Evaluator::op_host(const Node& node, std::span<const Value> args) {
  const OperatorRegistry::Entry& entry = *program_.host_operators[node.a];
  std::vector<RuleValue> converted;
  converted.reserve(args.size());
  for (const Value& v : args) converted.push_back(to_rule_value(v));
  RuleOperatorResult result;
  try {
    result = entry.function(converted, data_);
  } catch (const std::exception& e) {
    fail(RuleErrorCode::kOperator,
         "operator \"" + entry.name + "\" failed with an exception: " + e.what());
  } catch (...) {
    fail(RuleErrorCode::kOperator, "operator \"" + entry.name + "\" failed with an exception");
  }
  if (auto* error = std::get_if<RuleOperatorError>(&result)) {
    fail(RuleErrorCode::kOperator, std::move(error->message));
  }
  return from_rule_value(std::get<RuleValue>(result));
}

}  // namespace salesflow::internal
