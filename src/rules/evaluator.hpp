// One evaluation of a compiled rule: the node interpreter and JavaScript's coercions over Values.
//
// Failures (limits, type errors) throw EvalFailure, which never leaves Rule::evaluate. Recursion
// is bounded: eval() recurses once per rule node (the rule's depth is bounded at compile time),
// and every conversion that walks a value's nesting counts its depth against max_value_depth.
#ifndef SALESFLOW_RULES_EVALUATOR_HPP_
#define SALESFLOW_RULES_EVALUATOR_HPP_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "rules/json_tree.hpp"
#include "rules/program.hpp"
#include "rules/value.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::internal {

enum class Order : std::uint8_t { kLess, kEqual, kGreater, kUnordered };

// Whether `order` satisfies the comparison operator `op` (kGt, kGe, kLt or kLe).
inline bool holds(Op op, Order order) noexcept {
  switch (op) {
    case Op::kGt:
      return order == Order::kGreater;
    case Op::kGe:
      return order == Order::kGreater || order == Order::kEqual;
    case Op::kLt:
      return order == Order::kLess;
    default:
      return order == Order::kLess || order == Order::kEqual;  // kLe
  }
}

// The comparison `op` (kEq ... kLe) of two numbers, as JavaScript makes it (NaN is unordered and
// unequal). Loose and strict equality agree on numbers.
inline bool compare_numbers(Op op, double a, double b) noexcept {
  switch (op) {
    case Op::kEq:
    case Op::kStrictEq:
      return a == b;
    case Op::kNe:
    case Op::kStrictNe:
      return a != b;
    case Op::kGt:
      return a > b;
    case Op::kGe:
      return a >= b;
    case Op::kLt:
      return a < b;
    default:
      return a <= b;  // kLe
  }
}

class Evaluator {
 public:
  Evaluator(const CompiledRule& program, const RuleData& data)
      : program_(program),
        data_(data),
        tree_(RuleAccess::json_tree(data)),
        arena_(program.limits.max_memory_bytes),
        steps_left_(program.limits.max_steps) {}

  // The value of node `index` with `scope` as the data "var" reads (Value::root() at the top).
  Value eval(std::uint32_t index, const Value& scope) {
    charge(1);
    const Node& node = program_.nodes[index];
    switch (node.op) {
      case Op::kConst:
        return program_.constants[node.a];
      // The most frequent operators, in small functions of their own (eval_operator, which has
      // every operator inlined, costs more to enter).
      case Op::kVarMember:
      case Op::kVarSimple:
        return eval_var(node, index, scope);
      case Op::kCompareVarConst:
        return eval_compare_var_const(node, index, scope);
      default:
        return eval_operator(node, index, scope);
    }
  }

  // Deep copies between Values and RuleValues, bounded by max_value_depth and max_steps.
  RuleValue to_rule_value(const Value& v, std::size_t depth = 0);
  Value from_rule_value(const RuleValue& v, std::size_t depth = 0);

  // --- JavaScript semantics (coerce.cpp) ---
  bool truthy(const Value& v) {
    if (v.kind == ValueKind::kBoolean) return v.boolean;
    return truthy_slow(v);
  }
  double to_number(const Value& v);
  // ToString; a string Value is returned as is, anything else is built in the arena.
  std::string_view to_string(const Value& v);
  void append_string(std::string& out, const Value& v, std::size_t depth = 0);
  // ToPrimitive: arrays and objects become their string, everything else stays.
  Value to_primitive(const Value& v);
  bool loose_equal(const Value& a, const Value& b);
  static bool strict_equal(const Value& a, const Value& b);
  // The abstract relational comparison.
  Order compare(const Value& a, const Value& b) {
    if (a.kind == ValueKind::kNumber && b.kind == ValueKind::kNumber) {
      return order_of(a.number, b.number);
    }
    return compare_slow(a, b);
  }
  static Order order_of(double a, double b) noexcept {
    if (a < b) return Order::kLess;
    if (a > b) return Order::kGreater;
    if (a == b) return Order::kEqual;
    return Order::kUnordered;  // NaN
  }

  // REQUIRES: array.is_array(); for array_at, i < array_size(array).
  std::size_t array_size(const Value& array) {
    if (array.kind == ValueKind::kArray) return array.size;
    if (tree_ != nullptr) return JsonTree::node_of(array.handle).size;
    return data_.size(array.handle);
  }
  Value array_at(const Value& array, std::size_t i) {
    if (array.kind == ValueKind::kArray) return array.items[i];
    if (tree_ != nullptr) return JsonTree::to_value(JsonTree::node_of(array.handle).items[i]);
    return from_data(data_.element(array.handle, i));
  }
  // v[key] in JavaScript, limited to own data: object members, array elements and length,
  // string code units and length, the frame's current and accumulator. Undefined otherwise.
  // `hash`, if given, is key_hash(key).
  Value get_property(const Value& v, std::string_view key, const std::uint64_t* hash = nullptr);
  // json-logic-js "var": walks `path` from `scope`; `not_found` when a step is missing. `hashes`,
  // if given, are the key_hash of each segment.
  Value walk(const Value& scope, std::span<const std::string_view> path,
             const std::uint64_t* hashes, const Value& not_found);
  // "var" with a computed path value.
  Value var_dynamic(const Value& scope, const Value& path, const Value& not_found);
  Value from_data(const RuleDataValue& d);

  void charge(std::size_t steps) {
    if (steps >= steps_left_) step_limit();
    steps_left_ -= steps;
  }
  void charge_bytes(std::size_t bytes) { charge(1 + bytes / 64); }
  Value make_string(std::string_view s) { return Value::from_string(arena_.copy_string(s)); }
  Arena& arena() noexcept { return arena_; }
  const RuleData& data() const noexcept { return data_; }
  const CompiledRule& program() const noexcept { return program_; }

 private:
  [[noreturn]] void step_limit() const;
  void check_depth(std::size_t depth) const;
  Value eval_operator(const Node& node, std::uint32_t index, const Value& scope);
  [[gnu::always_inline]] inline Value eval_node(const Node& node, const Value& scope);
  // The value of a kVarSimple or kVarMember node.
  Value var_value(const Node& node, const Value& scope) {
    if (node.op == Op::kVarMember) return var_member(node.a, scope);
    const VarPath& path = program_.paths[node.a];
    return walk(scope, program_.path_segments(path), program_.path_hashes(path), Value::null());
  }
  // {"var": segment} for a path of one segment (index into program_.segments).
  Value var_member(std::uint32_t segment, const Value& scope) {
    if (tree_ != nullptr) {
      // A member of a data object: the usual case, without the general walk.
      const JsonTree::Node* object = scope.kind == ValueKind::kRoot ? &tree_->root()
                                     : scope.kind == ValueKind::kDataObject
                                         ? &JsonTree::node_of(scope.handle)
                                         : nullptr;
      if (object != nullptr && object->kind == ValueKind::kDataObject) {
        const JsonTree::Node* found =
            JsonTree::find(*object, program_.segments[segment], program_.segment_hashes[segment]);
        return found == nullptr ? Value::null() : JsonTree::to_value(*found);
      }
    }
    return walk(scope, {program_.segments.data() + segment, 1},
                program_.segment_hashes.data() + segment, Value::null());
  }
  Value eval_var(const Node& node, std::uint32_t index, const Value& scope);
  Value eval_compare_var_const(const Node& node, std::uint32_t index, const Value& scope);
  // eval() of a child that is a kVarSimple, kVarMember or kConst node, without dispatching on it.
  Value eval_var_or_const(std::uint32_t index, const Value& scope) {
    charge(1);
    const Node& node = program_.nodes[index];
    if (node.op == Op::kConst) return program_.constants[node.a];
    return eval_var(node, index, scope);
  }
  // The comparison `op` (kEq ... kLe) of two values.
  bool compare_values(Op op, const Value& a, const Value& b) {
    if (a.kind == ValueKind::kNumber && b.kind == ValueKind::kNumber) {
      return compare_numbers(op, a.number, b.number);
    }
    if (a.kind == ValueKind::kString && b.kind == ValueKind::kString) {
      switch (op) {
        case Op::kEq:
        case Op::kStrictEq:
          return same_text(a.str(), b.str());
        case Op::kNe:
        case Op::kStrictNe:
          return !same_text(a.str(), b.str());
        default:
          break;
      }
    }
    return compare_values_slow(op, a, b);
  }
  bool compare_values_slow(Op op, const Value& a, const Value& b);
  bool truthy_slow(const Value& v);
  Order compare_slow(const Value& a, const Value& b);

  // Operators (evaluate.cpp, operators.cpp).
  Value op_if(std::span<const std::uint32_t> args, const Value& scope);
  Value op_and_or(std::span<const std::uint32_t> args, const Value& scope, bool is_and);
  Value op_array_literal(std::span<const std::uint32_t> args, const Value& scope);
  Value op_missing(std::span<const Value> args, const Value& scope);
  Value op_missing_keys(const Node& node, std::span<const std::uint32_t> keys, const Value& scope,
                        std::size_t steps_per_key);
  Value op_missing_some(const Value& need, const Value& options, const Value& scope);
  Value op_iterate(Op op, std::span<const std::uint32_t> args, const Value& scope);
  Value op_reduce(std::span<const std::uint32_t> args, const Value& scope);
  Value op_comparison(Op op, std::span<const std::uint32_t> args, const Value& scope);
  Value op_arithmetic(Op op, std::span<const Value> args);
  Value op_min_max(std::span<const Value> args, bool is_max);
  Value op_cat(std::span<const Value> args);
  Value op_substr(std::span<const Value> args);
  Value op_in(const Value& needle, const Value& haystack);
  Value op_merge(std::span<const Value> args);
  Value op_host(const Node& node, std::span<const Value> args);

  const CompiledRule& program_;
  const RuleData& data_;
  const JsonTree* tree_;  // data_'s tree when it is a JsonRuleData: read directly
  Arena arena_;
  std::size_t steps_left_;
};

// The node index for evaluation errors that happen outside any node.
inline constexpr std::uint32_t kNoNode = EvalFailure::kNoNode;

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_EVALUATOR_HPP_
