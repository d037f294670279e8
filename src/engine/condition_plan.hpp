// ConditionPlan: a gate condition, team rule or guard in a form read straight off an instance's
// fields, for the rules that are simple enough.
//
// Most conditions a definition writes are a few comparisons of a field with a constant, joined by
// "and" and "or": {"or": [{"in": [{"var": "company_size"}, ["large", "enterprise"]]},
// {">=": [{"var": "deal_value"}, 100000]}]}. The rule interpreter evaluates those through its
// general machinery (a RuleData lookup by name, coercions, an arena for the array literal); a plan
// binds each "var" to its FieldId when the definition is loaded and compares the field's value
// with the constant directly.
//
// A plan is an accelerator, never a second semantics. It answers only where the answer is plainly
// JavaScript's (json-logic-js's) for the kinds at hand, e.g. a number field against a number, a
// string against a string with == or ===, an unset field (null) against a number; for anything
// else it answers kUnknown and the caller evaluates the rule itself. A test compares the two on
// random rules and values (tests/condition_plan_test.cpp).
//
// The subset: "and", "or", "!", "!!", a bare {"var": field}, a constant, a comparison (==, !=,
// ===, !==, <, <=, >, >=) of {"var": field} and a constant in either order, and "in" of
// {"var": field} in an array literal of constants, where every "var" is one segment that names a
// field of the definition and has no default. A plan is made only when the rule's limits cannot
// stop it (steps and memory for the array literals), so a plan's answer is never one the
// interpreter would have replaced with an error.
//
// [Thread safety] Immutable once made; any number of threads may evaluate one at once.
#ifndef SALESFLOW_ENGINE_CONDITION_PLAN_HPP_
#define SALESFLOW_ENGINE_CONDITION_PLAN_HPP_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rules/program.hpp"
#include "salesflow/definition.hpp"
#include "salesflow/process.hpp"

namespace salesflow::internal {

enum class Verdict : std::uint8_t { kFalse, kTrue, kUnknown };

class ConditionPlan {
 public:
  // A constant of the rule: null, a boolean, a number or a string.
  struct Constant {
    enum class Kind : std::uint8_t { kNull, kBoolean, kNumber, kString } kind = Kind::kNull;
    bool boolean = false;
    double number = 0;
    std::string text;
  };

  enum class Kind : std::uint8_t { kAnd, kOr, kNot, kTruthy, kConstant, kCompare, kIn };

  struct Node {
    Kind kind = Kind::kConstant;
    // kCompare: the rule's comparison (Op::kEq ... Op::kLe) of the field's value and the constant,
    // the constant first when `constant_first`.
    Op op = Op::kEq;
    bool constant_first = false;
    bool truthy = false;      // kConstant: the constant's truthiness
    FieldId field{};          // kTruthy, kCompare, kIn
    std::uint32_t first = 0;  // kAnd, kOr, kNot: into children; kCompare, kIn: constants
    std::uint32_t count = 0;
  };

  // Whether the rule holds for the fields `state` has once `pending` is applied; kUnknown when
  // the plan cannot tell for these values (the caller then evaluates the rule).
  Verdict evaluate(const InstanceState& state, std::span<const Event> pending) const;

 private:
  friend std::shared_ptr<const ConditionPlan> make_condition_plan(const ProcessDefinition&,
                                                                  const Rule&);
  Verdict eval(std::uint32_t node, const InstanceState& state,
               std::span<const Event> pending) const;

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> children_;
  std::vector<Constant> constants_;
  std::uint32_t root_ = 0;
};

// The plan of `rule`, one of `definition`'s conditions, or nullptr when the rule is outside the
// subset above. REQUIRES: the definition's fields are declared.
std::shared_ptr<const ConditionPlan> make_condition_plan(const ProcessDefinition& definition,
                                                         const Rule& rule);

}  // namespace salesflow::internal

#endif  // SALESFLOW_ENGINE_CONDITION_PLAN_HPP_
