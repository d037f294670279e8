#include "rules/builtins.hpp"

#include <array>

namespace salesflow::internal {
namespace {

// Arities are those json-logic-js gives a meaning to: where it would silently ignore extra
// arguments or substitute undefined for absent ones, the rule is rejected instead (see
// docs/rules.md, deliberate deviations).
constexpr std::array kBuiltins = {
    BuiltinOperator{"var", Op::kVarPath, 0, 2},
    BuiltinOperator{"missing", Op::kMissing, 0, kAnyCount},
    BuiltinOperator{"missing_some", Op::kMissingSome, 2, 2},
    BuiltinOperator{"if", Op::kIf, 0, kAnyCount},
    BuiltinOperator{"?:", Op::kIf, 0, kAnyCount},
    BuiltinOperator{"==", Op::kEq, 2, 2},
    BuiltinOperator{"===", Op::kStrictEq, 2, 2},
    BuiltinOperator{"!=", Op::kNe, 2, 2},
    BuiltinOperator{"!==", Op::kStrictNe, 2, 2},
    BuiltinOperator{"!", Op::kNot, 1, 1},
    BuiltinOperator{"!!", Op::kNotNot, 1, 1},
    BuiltinOperator{"or", Op::kOr, 1, kAnyCount},
    BuiltinOperator{"and", Op::kAnd, 1, kAnyCount},
    BuiltinOperator{">", Op::kGt, 2, 2},
    BuiltinOperator{">=", Op::kGe, 2, 2},
    BuiltinOperator{"<", Op::kLt, 2, 3},
    BuiltinOperator{"<=", Op::kLe, 2, 3},
    BuiltinOperator{"max", Op::kMax, 1, kAnyCount},
    BuiltinOperator{"min", Op::kMin, 1, kAnyCount},
    BuiltinOperator{"+", Op::kAdd, 0, kAnyCount},
    BuiltinOperator{"-", Op::kSub, 1, 2},
    BuiltinOperator{"*", Op::kMul, 1, kAnyCount},
    BuiltinOperator{"/", Op::kDiv, 2, 2},
    BuiltinOperator{"%", Op::kMod, 2, 2},
    BuiltinOperator{"cat", Op::kCat, 0, kAnyCount},
    BuiltinOperator{"substr", Op::kSubstr, 1, 3},
    BuiltinOperator{"in", Op::kIn, 2, 2},
    BuiltinOperator{"merge", Op::kMerge, 0, kAnyCount},
    BuiltinOperator{"map", Op::kMap, 2, 2},
    BuiltinOperator{"filter", Op::kFilter, 2, 2},
    BuiltinOperator{"reduce", Op::kReduce, 2, 3},
    BuiltinOperator{"all", Op::kAll, 2, 2},
    BuiltinOperator{"some", Op::kSome, 2, 2},
    BuiltinOperator{"none", Op::kNone, 2, 2},
};

}  // namespace

const BuiltinOperator* find_builtin(std::string_view name) noexcept {
  for (const BuiltinOperator& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

bool is_javascript_only_operator(std::string_view name) noexcept {
  return name == "log" || name == "method";
}

}  // namespace salesflow::internal
