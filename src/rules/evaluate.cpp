// The node interpreter, and the operators that decide themselves which arguments to evaluate
// (if, and, or, the array operators) or that read the data (var, missing, missing_some).
#include <array>
#include <string>

#include "rules/evaluator.hpp"

namespace salesflow::internal {
namespace {

// Evaluated arguments: on the stack for the usual few, in the arena beyond.
class EvaluatedArgs {
 public:
  EvaluatedArgs(Evaluator& ev, std::span<const std::uint32_t> args, const Value& scope) {
    Value* out =
        args.size() <= inline_.size() ? inline_.data() : ev.arena().allocate_values(args.size());
    for (std::size_t i = 0; i < args.size(); ++i) out[i] = ev.eval(args[i], scope);
    values_ = {out, args.size()};
  }
  std::span<const Value> values() const noexcept { return values_; }

 private:
  std::array<Value, 4> inline_;
  std::span<const Value> values_;
};

}  // namespace

inline Value Evaluator::eval_node(const Node& node, const Value& scope) {
  const std::span<const std::uint32_t> args = program_.args(node);
  switch (node.op) {
    case Op::kConst:
      return program_.constants[node.a];
    case Op::kArray:
      return op_array_literal(args, scope);
    case Op::kVarPath: {
      // json-logic-js evaluates the default even when the path is found.
      Value not_found = args.empty() ? Value::null() : eval(args[0], scope);
      if (not_found.kind == ValueKind::kUndefined) not_found = Value::null();
      const VarPath& path = program_.paths[node.a];
      if (path.whole_data)
        return scope.kind == ValueKind::kRoot ? walk(scope, {}, nullptr, not_found) : scope;
      return walk(scope, program_.path_segments(path), program_.path_hashes(path), not_found);
    }
    case Op::kVarDynamic: {
      const Value path = eval(args[0], scope);
      Value not_found = args.size() > 1 ? eval(args[1], scope) : Value::null();
      if (not_found.kind == ValueKind::kUndefined) not_found = Value::null();
      return var_dynamic(scope, path, not_found);
    }
    case Op::kMissing: {
      const EvaluatedArgs values(*this, args, scope);
      return op_missing(values.values(), scope);
    }
    case Op::kMissingSome: {
      const Value need = eval(args[0], scope);
      const Value options = eval(args[1], scope);
      return op_missing_some(need, options, scope);
    }
    case Op::kMissingKeys:
      return op_missing_keys(node, args, scope, 1);
    case Op::kMissingSomeKeys: {
      const Value need = eval(args[0], scope);
      const std::span<const std::uint32_t> keys = args.subspan(1);
      // op_missing_some charges one step per key for copying them, then op_missing one.
      const Value missing = op_missing_keys(node, keys, scope, 2);
      // As op_missing_some: options.length - missing.length >= need.
      const double present = static_cast<double>(keys.size() - missing.size);
      const Order order = compare(Value::from_number(present), need);
      if (order == Order::kGreater || order == Order::kEqual) {
        return Value::from_array(arena_.allocate_values(0), 0);
      }
      return missing;
    }
    case Op::kIf:
      return op_if(args, scope);
    case Op::kAnd:
      return op_and_or(args, scope, true);
    case Op::kOr:
      return op_and_or(args, scope, false);
    case Op::kEq:
    case Op::kNe:
    case Op::kStrictEq:
    case Op::kStrictNe: {
      const Value a = eval(args[0], scope);
      return Value::from_bool(compare_values(node.op, a, eval(args[1], scope)));
    }
    case Op::kNot:
      return Value::from_bool(!truthy(eval(args[0], scope)));
    case Op::kNotNot:
      return Value::from_bool(truthy(eval(args[0], scope)));
    case Op::kGt:
    case Op::kGe:
    case Op::kLt:
    case Op::kLe:
      if (args.size() == 2) {
        const Value a = eval(args[0], scope);
        return Value::from_bool(compare_values(node.op, a, eval(args[1], scope)));
      }
      return op_comparison(node.op, args, scope);
    case Op::kMap:
    case Op::kFilter:
    case Op::kAll:
    case Op::kSome:
    case Op::kNone:
      return op_iterate(node.op, args, scope);
    case Op::kReduce:
      return op_reduce(args, scope);
    case Op::kAdd:
    case Op::kMul:
      if (args.size() == 2) {
        // Two numbers, the usual case, without the general argument list. As op_arithmetic:
        // parseFloat(String(x)) of a number is x with -0 as +0, and + starts from 0.
        const Value a = eval(args[0], scope);
        const Value b = eval(args[1], scope);
        if (a.kind == ValueKind::kNumber && b.kind == ValueKind::kNumber) {
          const double x = a.number + 0.0, y = b.number + 0.0;
          return Value::from_number(node.op == Op::kAdd ? (0.0 + x) + y : x * y);
        }
        const std::array<Value, 2> values{a, b};
        return op_arithmetic(node.op, values);
      }
      break;
    default:
      break;
  }
  // Everything else evaluates all its arguments first.
  const EvaluatedArgs values(*this, args, scope);
  switch (node.op) {
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
      return op_arithmetic(node.op, values.values());
    case Op::kMax:
      return op_min_max(values.values(), true);
    case Op::kMin:
      return op_min_max(values.values(), false);
    case Op::kCat:
      return op_cat(values.values());
    case Op::kSubstr:
      return op_substr(values.values());
    case Op::kIn:
      return op_in(values.values()[0], values.values()[1]);
    case Op::kMerge:
      return op_merge(values.values());
    case Op::kHost:
      return op_host(node, values.values());
    default:
      break;
  }
  fail(RuleErrorCode::kTypeError, "internal error: an operator without an implementation");
}

Value Evaluator::eval_operator(const Node& node, std::uint32_t index, const Value& scope) {
  try {
    return eval_node(node, scope);
  } catch (EvalFailure& failure) {
    if (failure.node == kNoNode) failure.node = index;  // the innermost operator it passes
    throw;
  }
}

// eval() evaluates kConst, kVarMember, kVarSimple and kCompareVarConst nodes itself.
Value Evaluator::eval_var(const Node& node, std::uint32_t index, const Value& scope) {
  try {
    return var_value(node, scope);
  } catch (EvalFailure& failure) {
    if (failure.node == kNoNode) failure.node = index;  // as eval_operator
    throw;
  }
}

Value Evaluator::eval_compare_var_const(const Node& node, std::uint32_t index, const Value& scope) {
  try {
    const auto op = static_cast<Op>(node.a & ~kConstFirst);
    const std::span<const std::uint32_t> args = program_.args(node);
    const Value a = eval_var_or_const(args[0], scope);
    return Value::from_bool(compare_values(op, a, eval_var_or_const(args[1], scope)));
  } catch (EvalFailure& failure) {
    if (failure.node == kNoNode) failure.node = index;  // as eval_operator
    throw;
  }
}

bool Evaluator::compare_values_slow(Op op, const Value& a, const Value& b) {
  switch (op) {
    case Op::kEq:
      return loose_equal(a, b);
    case Op::kNe:
      return !loose_equal(a, b);
    case Op::kStrictEq:
      return strict_equal(a, b);
    case Op::kStrictNe:
      return !strict_equal(a, b);
    default:
      return holds(op, compare(a, b));  // kGt, kGe, kLt, kLe
  }
}

Value Evaluator::op_array_literal(std::span<const std::uint32_t> args, const Value& scope) {
  // A new array on every evaluation, as in JavaScript: arrays compare by identity.
  Value* items = arena_.allocate_values(args.size());
  for (std::size_t i = 0; i < args.size(); ++i) items[i] = eval(args[i], scope);
  return Value::from_array(items, args.size());
}

Value Evaluator::op_if(std::span<const std::uint32_t> args, const Value& scope) {
  // Pairs of condition and consequent, then an optional else; null when nothing applies.
  std::size_t i = 0;
  for (; i + 1 < args.size(); i += 2) {
    if (truthy(eval(args[i], scope))) return eval(args[i + 1], scope);
  }
  if (i + 1 == args.size()) return eval(args[i], scope);
  return Value::null();
}

Value Evaluator::op_and_or(std::span<const std::uint32_t> args, const Value& scope, bool is_and) {
  // The first operand that decides (falsy for and, truthy for or), else the last.
  Value current;
  for (const std::uint32_t arg : args) {
    current = eval(arg, scope);
    if (truthy(current) != is_and) return current;
  }
  return current;
}

Value Evaluator::op_iterate(Op op, std::span<const std::uint32_t> args, const Value& scope) {
  const Value array = eval(args[0], scope);
  const std::uint32_t body = args[1];
  if (!array.is_array()) {
    if (op == Op::kMap || op == Op::kFilter) return Value::from_array(arena_.allocate_values(0), 0);
    return Value::from_bool(op == Op::kNone);
  }
  const std::size_t n = array_size(array);
  switch (op) {
    case Op::kMap: {
      charge(n);
      Value* items = arena_.allocate_values(n);
      for (std::size_t i = 0; i < n; ++i) items[i] = eval(body, array_at(array, i));
      return Value::from_array(items, n);
    }
    case Op::kFilter: {
      charge(n);
      Value* items = arena_.allocate_values(n);
      std::size_t kept = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const Value item = array_at(array, i);
        if (truthy(eval(body, item))) items[kept++] = item;
      }
      return Value::from_array(items, kept);
    }
    case Op::kAll:
      if (n == 0) return Value::from_bool(false);  // all of nothing is false in JsonLogic
      for (std::size_t i = 0; i < n; ++i) {
        charge(1);
        if (!truthy(eval(body, array_at(array, i)))) return Value::from_bool(false);
      }
      return Value::from_bool(true);
    default: {  // some, none
      const bool found_result = op == Op::kSome;
      for (std::size_t i = 0; i < n; ++i) {
        charge(1);
        if (truthy(eval(body, array_at(array, i)))) return Value::from_bool(found_result);
      }
      return Value::from_bool(!found_result);
    }
  }
}

Value Evaluator::op_reduce(std::span<const std::uint32_t> args, const Value& scope) {
  const Value array = eval(args[0], scope);
  Value accumulator = args.size() > 2 ? eval(args[2], scope) : Value::null();
  if (!array.is_array()) return accumulator;
  const std::size_t n = array_size(array);
  for (std::size_t i = 0; i < n; ++i) {
    charge(1);
    // A new {current, accumulator} object per step: the body may return it.
    ReduceFrame* frame = arena_.allocate_frame();
    frame->current = array_at(array, i);
    frame->accumulator = accumulator;
    accumulator = eval(args[1], Value::from_frame(frame));
  }
  return accumulator;
}

Value Evaluator::op_missing(std::span<const Value> args, const Value& scope) {
  // The keys are the first argument if it is an array, else all arguments. Each key is looked up
  // as {"var": key} would be: an array key is [path, default].
  Value keys_array;
  std::size_t count = args.size();
  const bool from_array = !args.empty() && args[0].is_array();
  if (from_array) {
    keys_array = args[0];
    count = array_size(keys_array);
  }
  charge(count);
  Value* missing = arena_.allocate_values(count);
  std::size_t n_missing = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Value key = from_array ? array_at(keys_array, i) : args[i];
    Value value;
    if (key.is_array()) {
      const std::size_t n = array_size(key);
      const Value path = n > 0 ? array_at(key, 0) : Value::undefined();
      Value not_found = n > 1 ? array_at(key, 1) : Value::null();
      if (not_found.kind == ValueKind::kUndefined) not_found = Value::null();
      value = var_dynamic(scope, path, not_found);
    } else {
      value = var_dynamic(scope, key, Value::null());
    }
    if (value.kind == ValueKind::kNull || (value.kind == ValueKind::kString && value.size == 0)) {
      missing[n_missing++] = key;
    }
  }
  return Value::from_array(missing, n_missing);
}

Value Evaluator::op_missing_keys(const Node& node, std::span<const std::uint32_t> keys,
                                 const Value& scope, std::size_t steps_per_key) {
  // As op_missing over the evaluated keys, with the same steps charged to the same nodes: the
  // array literal (if any) and its keys, then `steps_per_key`, then one per path segment.
  const std::uint32_t* info = program_.key_paths.data() + node.a;
  if (const std::uint32_t literal = info[0]; literal != 0) {
    charge(1);
    try {
      charge(keys.size());
    } catch (EvalFailure& failure) {
      if (failure.node == kNoNode) failure.node = literal - 1;  // the literal's operands
      throw;
    }
  } else {
    charge(keys.size());
  }
  charge(steps_per_key * keys.size());
  Value* missing = arena_.allocate_values(keys.size());
  std::size_t n_missing = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const VarPath& path = program_.paths[info[1 + i]];
    Value value;
    if (path.whole_data) {
      value = walk(scope, {}, nullptr, Value::null());
    } else {
      charge(path.segment_count);
      value = walk(scope, program_.path_segments(path), program_.path_hashes(path), Value::null());
    }
    if (value.kind == ValueKind::kNull || (value.kind == ValueKind::kString && value.size == 0)) {
      missing[n_missing++] = program_.constants[program_.nodes[keys[i]].a];
    }
  }
  return Value::from_array(missing, n_missing);
}

Value Evaluator::op_missing_some(const Value& need, const Value& options, const Value& scope) {
  if (options.is_nullish()) {
    fail(RuleErrorCode::kTypeError,
         "\"missing_some\" needs a list of keys as its second argument, not null");
  }
  // json-logic-js runs {"missing": options}: an array gives the arguments, anything else is one.
  Value missing;
  if (options.is_array()) {
    const std::size_t n = array_size(options);
    charge(n);
    Value* keys = arena_.allocate_values(n);
    for (std::size_t i = 0; i < n; ++i) keys[i] = array_at(options, i);
    missing = op_missing({keys, n}, scope);
  } else {
    missing = op_missing({&options, 1}, scope);
  }
  // options.length - missing.length >= need, with JavaScript's coercions.
  const double present =
      to_number(get_property(options, "length")) - static_cast<double>(missing.size);
  const Order order = compare(Value::from_number(present), need);
  if (order == Order::kGreater || order == Order::kEqual) {
    return Value::from_array(arena_.allocate_values(0), 0);
  }
  return missing;
}

}  // namespace salesflow::internal
