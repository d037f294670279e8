// The official JsonLogic test suite (tests.json of jsonlogic.com): every case must pass.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules/json_data.hpp"
#include "salesflow/rules.hpp"

namespace salesflow {
namespace {

std::filesystem::path suite_path() {
  if (const char* path = std::getenv("SALESFLOW_JSONLOGIC_TESTS"); path != nullptr && *path) {
    return path;
  }
  return SALESFLOW_JSONLOGIC_TESTS_DEFAULT;
}

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

TEST(RulesConformance, PassesEveryCaseOfTheOfficialJsonLogicSuite) {
  const std::filesystem::path path = suite_path();
  std::ifstream in(path);
  if (!in) {
    const std::string message = "the JsonLogic conformance suite is not at " + path.string() +
                                " (set SALESFLOW_JSONLOGIC_TESTS to its tests.json)";
    if (under_ci()) FAIL() << message;
    GTEST_SKIP() << message;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json suite = nlohmann::json::parse(text.str());
  ASSERT_TRUE(suite.is_array());

  std::string section;
  int cases = 0;
  int passed = 0;
  for (const nlohmann::json& entry : suite) {
    if (entry.is_string()) {  // a section heading
      section = entry.get<std::string>();
      continue;
    }
    ASSERT_TRUE(entry.is_array() && entry.size() == 3) << entry.dump();
    ++cases;
    const nlohmann::json& rule_json = entry[0];
    const nlohmann::json& data_json = entry[1];
    const nlohmann::json& expected = entry[2];
    const std::string where = section + ": " + entry.dump();

    const RuleCompileResult compiled = compile_rule(rule_json.dump());
    if (!compiled.ok()) {
      ADD_FAILURE() << where << "\n  does not compile: " << compiled.diagnostics[0].pointer << ": "
                    << compiled.diagnostics[0].message;
      continue;
    }
    // Twice: through the RuleData interface (a view of the JSON, as a host's data is read) and
    // with JsonRuleData, whose tree evaluation reads directly.
    const internal::JsonDataView view(data_json);
    auto tree = JsonRuleData::parse(data_json.dump());
    ASSERT_TRUE(std::holds_alternative<JsonRuleData>(tree)) << where;
    bool both_pass = true;
    for (const RuleData* data : {static_cast<const RuleData*>(&view),
                                 static_cast<const RuleData*>(&std::get<JsonRuleData>(tree))}) {
      const char* how = data == &view ? " (RuleData interface)" : " (JsonRuleData)";
      const auto result = compiled.rule->evaluate(*data);
      if (const auto* error = std::get_if<RuleError>(&result)) {
        ADD_FAILURE() << where << how << "\n  fails: " << error->pointer << ": " << error->message;
        both_pass = false;
        continue;
      }
      const nlohmann::json actual = nlohmann::json::parse(std::get<RuleValue>(result).to_json());
      if (actual != expected) {
        ADD_FAILURE() << where << how << "\n  gives " << actual.dump();
        both_pass = false;
      }
    }
    if (both_pass) ++passed;
  }
  EXPECT_GT(cases, 0);
  EXPECT_EQ(passed, cases);
  std::cout << "JsonLogic conformance: " << passed << " of " << cases << " cases pass\n";
}

}  // namespace
}  // namespace salesflow
