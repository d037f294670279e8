// Evaluates many rules for the differential test: reads lines of JSON [rule, data] from the file
// named by argv[1] and writes one line per case: {"result": VALUE} or {"error": "..."}.
#include <fstream>
#include <iostream>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "salesflow/rules.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: salesflow_rules_batch CASES.jsonl\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 2;
  }
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    const salesflow::RuleCompileResult compiled = salesflow::compile_rule(entry.at(0).dump());
    if (!compiled.ok()) {
      const auto& d = compiled.diagnostics.front();
      std::cout << nlohmann::json{{"error", "compile: " + d.pointer + ": " + d.message}}.dump()
                << "\n";
      continue;
    }
    auto data = salesflow::JsonRuleData::parse(entry.at(1).dump());
    if (const auto* d = std::get_if<salesflow::Diagnostic>(&data)) {
      std::cout << nlohmann::json{{"error", "data: " + d->message}}.dump() << "\n";
      continue;
    }
    const auto result = compiled.rule->evaluate(std::get<salesflow::JsonRuleData>(data));
    if (const auto* e = std::get_if<salesflow::RuleError>(&result)) {
      std::cout << nlohmann::json{{"error", e->pointer + ": " + e->message}}.dump() << "\n";
    } else {
      std::cout << "{\"result\":" << std::get<salesflow::RuleValue>(result).to_json() << "}\n";
    }
  }
  return 0;
}
