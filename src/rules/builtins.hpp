// The built-in operators: names, arities and the node each compiles to.
#ifndef SALESFLOW_RULES_BUILTINS_HPP_
#define SALESFLOW_RULES_BUILTINS_HPP_

#include <cstdint>
#include <string_view>

#include "rules/program.hpp"

namespace salesflow::internal {

struct BuiltinOperator {
  std::string_view name;
  Op op;
  std::uint32_t min_args;
  std::uint32_t max_args;  // kUnboundedArgs-like: UINT32_MAX
};

inline constexpr std::uint32_t kAnyCount = UINT32_MAX;

// The built-in operator called `name`, or nullptr.
const BuiltinOperator* find_builtin(std::string_view name) noexcept;

// True for the json-logic-js operators that only make sense inside JavaScript ("log", "method").
bool is_javascript_only_operator(std::string_view name) noexcept;

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_BUILTINS_HPP_
