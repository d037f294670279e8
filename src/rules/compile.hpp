// Compiling a rule that is already parsed: the entry point for rules embedded in other JSON
// documents (process definitions), which the definition loader has parsed and bounded.
#ifndef SALESFLOW_RULES_COMPILE_HPP_
#define SALESFLOW_RULES_COMPILE_HPP_

#include <string_view>

#include <nlohmann/json.hpp>

#include "salesflow/rules.hpp"

namespace salesflow::internal {

// Checks and compiles `rule`. Diagnostic pointers are `base_pointer` followed by the path inside
// `rule`, so they point into the enclosing document. `rule` may be arbitrarily deep: compiling
// stops descending at limits.max_depth (counted from `rule` itself) with a kLimit diagnostic, so
// the recursion is bounded. `operators` may be null.
RuleCompileResult compile_rule_json(const nlohmann::json& rule, std::string_view base_pointer,
                                    const OperatorRegistry* operators, const RuleLimits& limits);

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_COMPILE_HPP_
