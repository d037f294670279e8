// Rule-language regressions found in review, kept as specifications.
#include <gtest/gtest.h>

#include "salesflow/rules.hpp"

namespace salesflow {
namespace {

std::string evaluate(std::string_view rule, std::string_view data) {
  const RuleCompileResult compiled = compile_rule(rule);
  EXPECT_TRUE(compiled.ok());
  if (!compiled.ok()) return "(no rule)";
  auto parsed = JsonRuleData::parse(data);
  EXPECT_TRUE(std::holds_alternative<JsonRuleData>(parsed));
  const auto result = compiled.rule->evaluate(std::get<JsonRuleData>(parsed));
  return std::holds_alternative<RuleValue>(result) ? std::get<RuleValue>(result).to_json()
                                                   : "(error)";
}

TEST(RulesRegression, APathSpelledLikeAnInternalKeyIsNotTheWholeData) {
  EXPECT_EQ(evaluate(R"([{"var": "\u0000whole"}, {"var": ""}])", R"({"a": 1})"),
            R"([null,{"a":1}])");
  EXPECT_EQ(evaluate(R"([{"var": ""}, {"var": "\u0000whole"}])", R"({"a": 1})"),
            R"([{"a":1},null])");
}

}  // namespace
}  // namespace salesflow
