// Rule evaluation speed: the gate rules of gate_rules.json (also run by jsonlogic_bench.js for the
// comparison with json-logic-js) and the simplest useful rule, a comparison of one field.
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "salesflow/rules.hpp"

namespace {

nlohmann::json load_cases() {
  std::ifstream in(SALESFLOW_RULES_BENCH_CASES);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

salesflow::Rule compile(const nlohmann::json& rule) {
  salesflow::RuleCompileResult compiled = salesflow::compile_rule(rule.dump());
  if (!compiled.ok()) throw std::runtime_error("rule does not compile: " + rule.dump());
  return *compiled.rule;
}

salesflow::JsonRuleData parse_data(const nlohmann::json& data) {
  return std::get<salesflow::JsonRuleData>(salesflow::JsonRuleData::parse(data.dump()));
}

// A host's field storage with one numeric field: what the engine's own RuleData will look like.
class OneField final : public salesflow::RuleData {
 public:
  salesflow::RuleDataValue lookup(std::span<const std::string_view> path) const override {
    if (path.size() == 1 && path[0] == "amount") return salesflow::RuleDataValue::number(amount_);
    return {};
  }

 private:
  double amount_ = 250000;
};

// Mean time per evaluation over all gate rules (items_per_second counts evaluations).
void BM_GateRules(benchmark::State& state) {
  const nlohmann::json cases = load_cases();
  std::vector<salesflow::Rule> rules;
  for (const auto& rule : cases["rules"]) rules.push_back(compile(rule));
  const salesflow::JsonRuleData data = parse_data(cases["data"]);
  for (auto _ : state) {
    for (const salesflow::Rule& rule : rules) {
      auto result = rule.evaluate_condition(data);
      benchmark::DoNotOptimize(result);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rules.size()));
}
BENCHMARK(BM_GateRules);

// Each gate rule alone (the argument is its index in gate_rules.json): where the time goes.
void BM_GateRule(benchmark::State& state) {
  const nlohmann::json cases = load_cases();
  const salesflow::Rule rule = compile(cases["rules"].at(static_cast<std::size_t>(state.range(0))));
  const salesflow::JsonRuleData data = parse_data(cases["data"]);
  for (auto _ : state) {
    auto result = rule.evaluate_condition(data);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GateRule)->DenseRange(0, 11);

void BM_SimpleComparisonJsonData(benchmark::State& state) {
  const nlohmann::json cases = load_cases();
  const salesflow::Rule rule = compile(cases["simple"]);
  const salesflow::JsonRuleData data = parse_data(cases["data"]);
  for (auto _ : state) {
    auto result = rule.evaluate_condition(data);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimpleComparisonJsonData);

void BM_SimpleComparisonHostData(benchmark::State& state) {
  const nlohmann::json cases = load_cases();
  const salesflow::Rule rule = compile(cases["simple"]);
  const OneField data;
  for (auto _ : state) {
    auto result = rule.evaluate_condition(data);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimpleComparisonHostData);

void BM_CompileGateRules(benchmark::State& state) {
  const nlohmann::json cases = load_cases();
  std::vector<std::string> texts;
  for (const auto& rule : cases["rules"]) texts.push_back(rule.dump());
  for (auto _ : state) {
    for (const std::string& text : texts) {
      auto compiled = salesflow::compile_rule(text);
      benchmark::DoNotOptimize(compiled);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
}
BENCHMARK(BM_CompileGateRules);

}  // namespace

BENCHMARK_MAIN();
