// Helpers for the rule tests: compile and evaluate JSON text in one call.
#ifndef SALESFLOW_TESTS_RULES_RULES_TEST_SUPPORT_HPP_
#define SALESFLOW_TESTS_RULES_RULES_TEST_SUPPORT_HPP_

#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include "salesflow/rules.hpp"

namespace salesflow::testing {

// The rule's result as compact JSON, or "compile error: ..." / "error: ..." so that a failing
// expectation shows what went wrong.
inline std::string eval(std::string_view rule, std::string_view data = "{}",
                        const RuleLimits& limits = {}) {
  const RuleCompileResult compiled = compile_rule(rule, nullptr, limits);
  if (!compiled.ok()) {
    return "compile error: " + compiled.diagnostics[0].pointer + ": " +
           compiled.diagnostics[0].message;
  }
  auto parsed = JsonRuleData::parse(data);
  if (const auto* d = std::get_if<Diagnostic>(&parsed)) return "data error: " + d->message;
  const auto result = compiled.rule->evaluate(std::get<JsonRuleData>(parsed));
  if (const auto* e = std::get_if<RuleError>(&result)) return "error: " + e->message;
  return std::get<RuleValue>(result).to_json();
}

// The evaluation error of a rule that compiles, or a RuleError with an empty message if it did
// not fail.
inline RuleError eval_error(const Rule& rule, const RuleData& data) {
  const auto result = rule.evaluate(data);
  if (const auto* e = std::get_if<RuleError>(&result)) return *e;
  ADD_FAILURE() << "expected an evaluation error, got " << std::get<RuleValue>(result).to_json();
  return {};
}

inline Rule compile_ok(std::string_view rule, const OperatorRegistry* operators = nullptr,
                       const RuleLimits& limits = {}) {
  RuleCompileResult compiled = compile_rule(rule, operators, limits);
  if (!compiled.ok()) {
    ADD_FAILURE() << "does not compile: " << compiled.diagnostics[0].pointer << ": "
                  << compiled.diagnostics[0].message;
    compiled = compile_rule("null");
  }
  return *compiled.rule;
}

}  // namespace salesflow::testing

#endif  // SALESFLOW_TESTS_RULES_RULES_TEST_SUPPORT_HPP_
