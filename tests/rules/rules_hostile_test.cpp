// Hostile rules and data: every limit gives an error, never a crash, a stack overflow or a hang.
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules/compile.hpp"
#include "rules_test_support.hpp"

namespace salesflow {
namespace {

using testing::compile_ok;
using testing::eval_error;

// Data that costs no memory however large it looks: "big" is an array of `size` numbers, and
// "deep" is an array whose only element is itself, so it is endlessly nested.
class EndlessData final : public RuleData {
 public:
  explicit EndlessData(std::size_t size) : size_(size) {}

  RuleDataValue lookup(std::span<const std::string_view> path) const override {
    return walk(RuleDataValue::object(this), path);
  }
  RuleDataValue member(const void*, std::string_view key) const override {
    if (key == "big") return RuleDataValue::array(&size_);
    if (key == "deep") return RuleDataValue::array(&deep_);
    return {};
  }
  std::size_t size(const void* array) const override { return array == &size_ ? size_ : 1; }
  RuleDataValue element(const void* array, std::size_t index) const override {
    if (array == &size_) return RuleDataValue::number(static_cast<double>(index));
    return RuleDataValue::array(&deep_);
  }

 private:
  std::size_t size_;
  int deep_ = 0;
};

std::string nested(const std::string& open, const std::string& leaf, const std::string& close,
                   std::size_t depth) {
  std::string text;
  text.reserve(depth * (open.size() + close.size()) + leaf.size());
  for (std::size_t i = 0; i < depth; ++i) text += open;
  text += leaf;
  for (std::size_t i = 0; i < depth; ++i) text += close;
  return text;
}

TEST(RulesHostile, IteratingAHugeArrayStopsAtTheStepLimit) {
  const EndlessData data(std::size_t{1} << 40);
  for (const char* rule : {
           R"({"map":[{"var":"big"}, {"var":""}]})",
           R"({"filter":[{"var":"big"}, true]})",
           R"({"reduce":[{"var":"big"}, {"var":"current"}, 0]})",
           R"({"all":[{"var":"big"}, true]})",
           R"({"some":[{"var":"big"}, false]})",
           R"({"none":[{"var":"big"}, false]})",
           R"({"in":[-1, {"var":"big"}]})",
           R"({"merge":[{"var":"big"}]})",
           R"({"cat":[{"var":"big"}]})",
       }) {
    SCOPED_TRACE(rule);
    EXPECT_EQ(eval_error(compile_ok(rule), data).code, RuleErrorCode::kStepLimit);
  }
}

TEST(RulesHostile, EndlesslyNestedDataStopsAtTheValueDepthLimit) {
  const EndlessData data(0);
  for (const char* rule : {
           R"({"var":"deep"})",                // converting the result
           R"({"cat":[{"var":"deep"}]})",      // ToString
           R"({"==":[{"var":"deep"}, "x"]})",  // ToPrimitive
           R"({"+":[{"var":"deep"}]})",        // parseFloat(ToString)
       }) {
    SCOPED_TRACE(rule);
    EXPECT_EQ(eval_error(compile_ok(rule), data).code, RuleErrorCode::kDepthLimit);
  }
}

TEST(RulesHostile, ValuesThatGrowExponentiallyStopAtALimit) {
  const std::string forty = std::string("[").append(nested("0,", "0", "", 39)).append("]");
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));
  // Arrays that share their halves: 2^40 leaves in little memory; walking them is the cost.
  const Rule doubling_array = compile_ok(
      R"({"reduce":[)" + forty + R"(, [{"var":"accumulator"}, {"var":"accumulator"}], 1]})");
  EXPECT_EQ(eval_error(doubling_array, data).code, RuleErrorCode::kStepLimit);

  // A string that doubles: memory runs out first when steps are plentiful.
  RuleLimits limits;
  limits.max_steps = std::size_t{1} << 40;
  limits.max_memory_bytes = 1 << 20;
  const Rule doubling_string =
      compile_ok(R"({"reduce":[)" + forty +
                     R"(, {"cat":[{"var":"accumulator"}, {"var":"accumulator"}]}, "x"]})",
                 nullptr, limits);
  EXPECT_EQ(eval_error(doubling_string, data).code, RuleErrorCode::kMemoryLimit);
}

TEST(RulesHostile, EveryEvaluatedNodeCountsAsAStep) {
  RuleLimits limits;
  limits.max_steps = 10;
  const Rule rule = compile_ok(R"({"+":[1,2,3,4,5,6,7,8,9,10,11,12]})", nullptr, limits);
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));
  EXPECT_EQ(eval_error(rule, data).code, RuleErrorCode::kStepLimit);
}

TEST(RulesHostile, NodesOfTheirOwnCountTheStepsOfTheNodesTheyStandFor) {
  // A var compared with a constant, and missing/missing_some with constant keys, compile to nodes
  // of their own; they charge what the general nodes would: one per node, one per key visited
  // (twice for missing_some, which copies them), one per path segment.
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(R"({"a":1})"));
  const std::vector<std::pair<std::string, std::size_t>> rules = {
      {R"({"==":[{"var":"a"},1]})", 3},
      {R"({"<":[0,{"var":"a.b"}]})", 3},
      {R"({"missing":["a","b.c"]})", 1 + 2 + 2 + 3},
      {R"({"missing":[["a","b.c"]]})", 1 + 1 + 2 + 2 + 3},
      {R"({"missing_some":[1,["a","b"]]})", 1 + 1 + 1 + 2 + 2 + 2 + 2},
  };
  for (const auto& [text, steps] : rules) {
    RuleLimits limits;
    limits.max_steps = steps;  // a step limit of n allows n - 1 steps
    EXPECT_EQ(eval_error(compile_ok(text, nullptr, limits), data).code, RuleErrorCode::kStepLimit)
        << text;
    limits.max_steps = steps + 1;
    // evaluate_condition: evaluate() charges one more step for converting the result.
    EXPECT_TRUE(
        std::holds_alternative<bool>(compile_ok(text, nullptr, limits).evaluate_condition(data)))
        << text;
  }
  // A limit reached while the keys of the literal array are evaluated is the array's failure.
  RuleLimits limits;
  limits.max_steps = 4;
  EXPECT_EQ(eval_error(compile_ok(R"({"missing":[["a","b.c"]]})", nullptr, limits), data).pointer,
            "/missing/0");
}

TEST(RulesHostile, DeeplyNestedRuleTextIsRejected) {
  for (const std::string& text :
       {nested("[", "1", "]", 100'000), nested(R"({"!":)", "true", "}", 100'000)}) {
    const RuleCompileResult result = compile_rule(text);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.diagnostics[0].code, DiagnosticCode::kLimit);
  }
}

TEST(RulesHostile, DeeplyNestedParsedRuleIsRejectedWithoutDeepRecursion) {
  nlohmann::json rule = true;
  for (int i = 0; i < 100'000; ++i) rule = nlohmann::json{{"!", std::move(rule)}};
  const RuleCompileResult result = internal::compile_rule_json(rule, "", nullptr, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.diagnostics[0].code, DiagnosticCode::kLimit);
}

TEST(RulesHostile, NestingUpToTheDepthLimitEvaluates) {
  RuleLimits limits;
  limits.max_depth = kMaxRuleDepth;
  const Rule rule = compile_ok(nested(R"({"!":)", "true", "}", kMaxRuleDepth), nullptr, limits);
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse("{}"));
  EXPECT_EQ(std::get<RuleValue>(rule.evaluate(data)), RuleValue::boolean(kMaxRuleDepth % 2 == 0));
}

TEST(RulesHostile, DepthLimitsAboveTheHardMaximumAreClamped) {
  RuleLimits limits;
  limits.max_depth = 1'000'000;
  const RuleCompileResult result =
      compile_rule(nested(R"({"!":)", "true", "}", kMaxRuleDepth + 1), nullptr, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.diagnostics[0].code, DiagnosticCode::kLimit);
}

TEST(RulesHostile, EnormousRuleTextIsRejected) {
  const std::string text = "\"" + std::string(10 << 20, 'x') + "\"";
  const RuleCompileResult result = compile_rule(text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.diagnostics[0].code, DiagnosticCode::kLimit);
}

TEST(RulesHostile, EnormousOrDeeplyNestedDataIsRejected) {
  std::string big = "[";
  while (big.size() < (10 << 20)) big += "12345678,";
  big += "0]";
  for (const std::string& text :
       {big, nested("[", "1", "]", 100'000), nested(R"({"a":)", "1", "}", 100'000)}) {
    const auto parsed = JsonRuleData::parse(text);
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(parsed));
    EXPECT_EQ(std::get<Diagnostic>(parsed).code, DiagnosticCode::kLimit);
  }
}

}  // namespace
}  // namespace salesflow
