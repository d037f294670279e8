// Compiling: diagnostics for bad rules, the host-operator extension point, and the compiled
// rule as an immutable, shareable value.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules/compile.hpp"
#include "rules_test_support.hpp"

namespace salesflow {
namespace {

using testing::compile_ok;
using testing::eval;
using testing::eval_error;
using ::testing::HasSubstr;

std::vector<Diagnostic> diagnostics_of(std::string_view rule,
                                       const OperatorRegistry* operators = nullptr) {
  RuleCompileResult result = compile_rule(rule, operators);
  EXPECT_FALSE(result.ok()) << rule;
  return result.diagnostics;
}

TEST(RulesCompile, UnknownOperatorIsReportedAtItsPointer) {
  const auto diagnostics = diagnostics_of(R"({"and":[true, {"frobnicate":[1]}]})");
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].pointer, "/and/1/frobnicate");
  EXPECT_THAT(diagnostics[0].message, HasSubstr("unknown operator \"frobnicate\""));
}

TEST(RulesCompile, JavaScriptOnlyOperatorsAreNotSupported) {
  for (const char* rule : {R"({"log":"x"})", R"({"method":["abc", "toUpperCase"]})"}) {
    const auto diagnostics = diagnostics_of(rule);
    ASSERT_EQ(diagnostics.size(), 1u);
    EXPECT_THAT(diagnostics[0].message, HasSubstr("exists only in JavaScript"));
  }
}

TEST(RulesCompile, WrongArityNamesTheExpectedCount) {
  auto first = [](const char* rule) { return diagnostics_of(rule).at(0); };
  EXPECT_EQ(first(R"({"==":[1]})").pointer, "/==");
  EXPECT_THAT(first(R"({"==":[1]})").message, HasSubstr("takes 2 arguments, not 1"));
  EXPECT_THAT(first(R"({"<":[1,2,3,4]})").message, HasSubstr("takes 2 or 3 arguments, not 4"));
  EXPECT_THAT(first(R"({"and":[]})").message, HasSubstr("takes at least 1 argument, not 0"));
  EXPECT_THAT(first(R"({"!":[]})").message, HasSubstr("takes 1 argument, not 0"));
  EXPECT_THAT(first(R"({"var":["a", 1, 2]})").message, HasSubstr("takes 0 to 2 arguments"));
}

TEST(RulesCompile, EveryProblemIsReportedAtOnceInDocumentOrder) {
  const auto diagnostics = diagnostics_of(R"({"if":[{"nope":1}, {"==":[1]}, {"log":2}]})");
  ASSERT_EQ(diagnostics.size(), 3u);
  EXPECT_EQ(diagnostics[0].pointer, "/if/0/nope");
  EXPECT_EQ(diagnostics[1].pointer, "/if/1/==");
  EXPECT_EQ(diagnostics[2].pointer, "/if/2/log");
}

TEST(RulesCompile, ObjectsMustHaveExactlyOneKey) {
  EXPECT_THAT(diagnostics_of(R"({"a":1, "b":2})").at(0).message, HasSubstr("exactly one key"));
  EXPECT_EQ(diagnostics_of(R"([1, {}])").at(0).pointer, "/1");
}

TEST(RulesCompile, PointerTokensAreEscaped) {
  EXPECT_EQ(diagnostics_of(R"({"+":[{"a/b~c":1}]})").at(0).pointer, "/+/0/a~1b~0c");
}

TEST(RulesCompile, TextThatIsNotStrictJsonIsRejected) {
  EXPECT_EQ(diagnostics_of("{\"==\":[1,").at(0).code, DiagnosticCode::kSyntax);
  EXPECT_EQ(diagnostics_of("").at(0).code, DiagnosticCode::kSyntax);
  EXPECT_EQ(diagnostics_of(R"({"==":[1,1], "==":[1,2]})").at(0).code,
            DiagnosticCode::kDuplicateKey);
}

TEST(RulesCompile, EmbeddedRulesReportPointersIntoTheEnclosingDocument) {
  const nlohmann::json rule = nlohmann::json::parse(R"({"and":[{"bogus":1}]})");
  const RuleCompileResult result =
      internal::compile_rule_json(rule, "/stages/2/gate/conditions/0/rule", nullptr, {});
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].pointer, "/stages/2/gate/conditions/0/rule/and/0/bogus");
}

TEST(RulesCompile, OperandsThatFailToCompileAreNotInspectedForFusedNodes) {
  // Comparisons and missing/missing_some look at their compiled operands to choose a node of their
  // own; operands that failed (here: strings over the limit, which add no node) must not be read.
  RuleLimits limits;
  limits.max_string_bytes = 2;
  for (const char* text : {R"({"==":["abc","abc"]})", R"({"missing":["abc"]})",
                           R"({"missing":[["abc"]]})", R"({"missing_some":["abc","abc"]})"}) {
    const RuleCompileResult result =
        internal::compile_rule_json(nlohmann::json::parse(text), "", nullptr, limits);
    EXPECT_FALSE(result.ok()) << text;
    ASSERT_FALSE(result.diagnostics.empty()) << text;
    EXPECT_EQ(result.diagnostics[0].code, DiagnosticCode::kLimit) << text;
  }
}

TEST(RulesCompile, LiteralsArePassedThrough) {
  EXPECT_EQ(eval("17"), "17");
  EXPECT_EQ(eval(R"("apple")"), R"("apple")");
  EXPECT_EQ(eval(R"([1, {"var":"a"}])", R"({"a":2})"), "[1,2]");
}

TEST(RulesEvaluate, ErrorsPointAtTheFailingOperator) {
  const Rule rule = compile_ok(R"({"if":[true, {"missing_some":[1, null]}]})");
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));
  const RuleError error = eval_error(rule, data);
  EXPECT_EQ(error.code, RuleErrorCode::kTypeError);
  EXPECT_EQ(error.pointer, "/if/1");
}

TEST(RulesEvaluate, ConditionIsTheTruthinessOfTheValue) {
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(R"({"tags":[]})"));
  EXPECT_EQ(std::get<bool>(compile_ok(R"({"var":"tags"})").evaluate_condition(data)), false);
  EXPECT_EQ(std::get<bool>(compile_ok(R"({"cat":["0"]})").evaluate_condition(data)), true);
}

TEST(RulesEvaluate, ACompiledRuleIsSharedByCopiesAndThreads) {
  const Rule rule = compile_ok(R"({"reduce":[{"var":"xs"}, {"+":[{"var":"current"},
                                 {"var":"accumulator"}]}, 0]})");
  const Rule copy = rule;  // NOLINT: the copy is the point
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(R"({"xs":[1,2,3]})"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const auto result = (t % 2 ? rule : copy).evaluate(data);
        if (std::get<RuleValue>(result) != RuleValue::number(6)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// --- Host operators ------------------------------------------------------------------------------

OperatorRegistry registry_with_days_since() {
  OperatorRegistry registry;
  // days_since(days) with a fixed "today" of day 100, so the test is deterministic.
  const bool added =
      registry.add("days_since", 1, 1,
                   [](std::span<const RuleValue> args, const RuleData&) -> RuleOperatorResult {
                     if (args[0].kind() != RuleValue::Kind::kNumber) {
                       return RuleOperatorError{"days_since needs a day number"};
                     }
                     return RuleValue::number(100 - args[0].as_number());
                   });
  EXPECT_TRUE(added);
  return registry;
}

TEST(RulesHostOperators, AreCalledWithEvaluatedArguments) {
  const OperatorRegistry registry = registry_with_days_since();
  const Rule rule = compile_ok(R"({">":[{"days_since":{"var":"opened"}}, 30]})", &registry);
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(R"({"opened":60})"));
  EXPECT_EQ(std::get<RuleValue>(rule.evaluate(data)), RuleValue::boolean(true));
}

TEST(RulesHostOperators, AreUnknownWithoutTheRegistryAndCheckedForArity) {
  const OperatorRegistry registry = registry_with_days_since();
  EXPECT_THAT(diagnostics_of(R"({"days_since":1})").at(0).message, HasSubstr("unknown operator"));
  EXPECT_THAT(diagnostics_of(R"({"days_since":[1,2]})", &registry).at(0).message,
              HasSubstr("takes 1 argument, not 2"));
}

TEST(RulesHostOperators, CannotReplaceBuiltinsOrBeRegisteredTwice) {
  OperatorRegistry registry = registry_with_days_since();
  auto noop = [](std::span<const RuleValue>, const RuleData&) -> RuleOperatorResult {
    return RuleValue::boolean(true);
  };
  EXPECT_FALSE(registry.add("==", 2, 2, noop));
  EXPECT_FALSE(registry.add("days_since", 1, 1, noop));
  EXPECT_FALSE(registry.add("", 0, 0, noop));
  EXPECT_FALSE(registry.add("backwards", 2, 1, noop));
  EXPECT_TRUE(registry.add("log", 1, 1, noop));  // a host may give "log" a meaning
}

TEST(RulesHostOperators, OutliveTheRegistryInTheRulesThatUseThem) {
  std::optional<Rule> rule;
  {
    const OperatorRegistry registry = registry_with_days_since();
    rule = compile_ok(R"({"days_since":40})", &registry);
  }
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));
  EXPECT_EQ(std::get<RuleValue>(rule->evaluate(data)), RuleValue::number(60));
}

TEST(RulesHostOperators, FailuresBecomeEvaluationErrors) {
  OperatorRegistry registry = registry_with_days_since();
  registry.add("throws", 0, 0,
               [](std::span<const RuleValue>, const RuleData&) -> RuleOperatorResult {
                 throw std::runtime_error("boom");
               });
  registry.add("object", 0, 0,
               [](std::span<const RuleValue>, const RuleData&) -> RuleOperatorResult {
                 return RuleValue::object({{"a", RuleValue::number(1)}});
               });
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));

  const RuleError refused = eval_error(compile_ok(R"({"days_since":"x"})", &registry), data);
  EXPECT_EQ(refused.code, RuleErrorCode::kOperator);
  EXPECT_EQ(refused.message, "days_since needs a day number");

  const RuleError thrown = eval_error(compile_ok(R"({"!":{"throws":[]}})", &registry), data);
  EXPECT_EQ(thrown.code, RuleErrorCode::kOperator);
  EXPECT_EQ(thrown.pointer, "/!");
  EXPECT_THAT(thrown.message, HasSubstr("boom"));

  EXPECT_EQ(eval_error(compile_ok(R"({"object":[]})", &registry), data).code,
            RuleErrorCode::kOperator);
}

}  // namespace
}  // namespace salesflow
