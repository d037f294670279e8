// The data-access interface: a host serves its own storage to rules without building JSON.
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rules/json_data.hpp"
#include "rules_test_support.hpp"

namespace salesflow {
namespace {

using testing::compile_ok;

// Field values as a process engine keeps them: typed values by field id, with string lists.
class FieldData final : public RuleData {
 public:
  using FieldValue =
      std::variant<std::monostate, double, bool, std::string, std::vector<std::string>>;

  void set(std::string id, FieldValue value) { fields_[std::move(id)] = std::move(value); }

  RuleDataValue lookup(std::span<const std::string_view> path) const override {
    lookups_.emplace_back(path.begin(), path.end());
    if (path.empty()) return RuleDataValue::object(this);
    const auto it = fields_.find(std::string(path[0]));
    if (it == fields_.end()) return RuleDataValue::missing();
    return walk(view(it->second), path.subspan(1));
  }
  RuleDataValue member(const void*, std::string_view key) const override {
    const auto it = fields_.find(std::string(key));
    return it == fields_.end() ? RuleDataValue::missing() : view(it->second);
  }
  std::size_t size(const void* array) const override {
    return static_cast<const std::vector<std::string>*>(array)->size();
  }
  RuleDataValue element(const void* array, std::size_t index) const override {
    return RuleDataValue::string((*static_cast<const std::vector<std::string>*>(array))[index]);
  }
  void for_each_member(
      const void*,
      const std::function<void(std::string_view, const RuleDataValue&)>& visit) const override {
    for (const auto& [id, value] : fields_) visit(id, view(value));
  }

  mutable std::vector<std::vector<std::string>> lookups_;  // copies: the rule owns the views

 private:
  static RuleDataValue view(const FieldValue& value) {
    if (const auto* d = std::get_if<double>(&value)) return RuleDataValue::number(*d);
    if (const auto* b = std::get_if<bool>(&value)) return RuleDataValue::boolean(*b);
    if (const auto* s = std::get_if<std::string>(&value)) return RuleDataValue::string(*s);
    if (const auto* l = std::get_if<std::vector<std::string>>(&value)) {
      return RuleDataValue::array(l);
    }
    return RuleDataValue::null();
  }

  std::map<std::string, FieldValue> fields_;
};

FieldData deal() {
  FieldData data;
  data.set("amount", 250000.0);
  data.set("stage", std::string("negotiation"));
  data.set("signed", false);
  data.set("contacts", std::vector<std::string>{"cfo", "legal"});
  data.set("notes", std::monostate{});
  return data;
}

RuleValue value_of(const Rule& rule, const RuleData& data) {
  auto result = rule.evaluate(data);
  if (auto* error = std::get_if<RuleError>(&result)) {
    ADD_FAILURE() << error->pointer << ": " << error->message;
    return RuleValue();
  }
  return std::get<RuleValue>(std::move(result));
}

TEST(RulesData, RulesReadHostFieldsThroughTheInterface) {
  const FieldData data = deal();
  EXPECT_EQ(value_of(compile_ok(R"({">=":[{"var":"amount"}, 100000]})"), data),
            RuleValue::boolean(true));
  EXPECT_EQ(value_of(compile_ok(R"({"in":["legal", {"var":"contacts"}]})"), data),
            RuleValue::boolean(true));
  EXPECT_EQ(value_of(compile_ok(R"({"var":"contacts.1"})"), data), RuleValue::string("legal"));
  EXPECT_EQ(value_of(compile_ok(R"({"missing":["amount", "notes", "owner"]})"), data),
            RuleValue::array({RuleValue::string("notes"), RuleValue::string("owner")}));
  EXPECT_EQ(
      value_of(compile_ok(R"({"map":[{"var":"contacts"}, {"cat":["@", {"var":""}]}]})"), data),
      RuleValue::array({RuleValue::string("@cfo"), RuleValue::string("@legal")}));
}

TEST(RulesData, LookupReceivesTheWholePathSplitAtDots) {
  const FieldData data = deal();
  value_of(compile_ok(R"({"var":"contacts.0"})"), data);
  ASSERT_EQ(data.lookups_.size(), 1u);
  EXPECT_EQ(data.lookups_[0], (std::vector<std::string>{"contacts", "0"}));
}

TEST(RulesData, TheWholeDataIsAnObjectOfItsMembers) {
  FieldData data;
  data.set("a", 1.0);
  data.set("b", std::string("x"));
  EXPECT_EQ(value_of(compile_ok(R"({"var":""})"), data),
            RuleValue::object({{"a", RuleValue::number(1)}, {"b", RuleValue::string("x")}}));
}

TEST(RulesData, ArrayIndicesAreCanonicalDecimals) {
  EXPECT_EQ(rule_array_index("0"), 0u);
  EXPECT_EQ(rule_array_index("17"), 17u);
  EXPECT_EQ(rule_array_index("01"), std::nullopt);
  EXPECT_EQ(rule_array_index("-1"), std::nullopt);
  EXPECT_EQ(rule_array_index("1e2"), std::nullopt);
  EXPECT_EQ(rule_array_index(""), std::nullopt);
}

TEST(RulesData, JsonDataKeepsIdentityAcrossMoves) {
  JsonRuleData first = std::get<JsonRuleData>(JsonRuleData::parse(R"({"a":[1]})"));
  JsonRuleData moved = std::move(first);
  EXPECT_EQ(value_of(compile_ok(R"({"===":[{"var":"a"}, {"var":"a"}]})"), moved),
            RuleValue::boolean(true));
}

TEST(RulesData, JsonDataIsParsedStrictly) {
  const auto duplicate = JsonRuleData::parse(R"({"a":1, "a":2})");
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(duplicate));
  EXPECT_EQ(std::get<Diagnostic>(duplicate).code, DiagnosticCode::kDuplicateKey);
  EXPECT_TRUE(std::holds_alternative<Diagnostic>(JsonRuleData::parse("NaN")));
}

TEST(RulesData, JsonDataFindsEveryMemberOfALargeObject) {
  // Many members (the member table's probing) and keys of every length the lookup compares in a
  // different way (0, 1-3, 4-7, 8-16 and longer bytes).
  std::string text = "{";
  std::vector<std::string> keys{""};
  for (int i = 0; i < 500; ++i)
    keys.push_back(std::string(static_cast<std::size_t>(i % 23), 'k') + std::to_string(i));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    text += (i ? ",\"" : "\"") + keys[i] + "\":" + std::to_string(i);
  }
  text += "}";
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(text));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) continue;  // "" is the whole data in a var path
    const Rule rule = compile_ok(R"({"var":")" + keys[i] + R"("})");
    EXPECT_EQ(value_of(rule, data), RuleValue::number(static_cast<double>(i))) << keys[i];
    // The same key computed at evaluation time, and as an object member below the root.
    const Rule dynamic = compile_ok(R"({"var":{"cat":")" + keys[i] + R"("}})");
    EXPECT_EQ(value_of(dynamic, data), RuleValue::number(static_cast<double>(i))) << keys[i];
  }
  EXPECT_EQ(value_of(compile_ok(R"({"var":"k0x"})"), data), RuleValue::null());
  EXPECT_EQ(value_of(compile_ok(R"({"var":"kkkkkkkkkkkkkkkkkkkkkk22x"})"), data),
            RuleValue::null());
}

TEST(RulesData, JsonDataShowsObjectsAsTheInterfaceDoes) {
  const char* text = R"({"b":{"y":[1,{"z":null}],"x":"s"},"a":true,"c":{}})";
  const nlohmann::json document = nlohmann::json::parse(text);
  const internal::JsonDataView view(document);
  const JsonRuleData data = std::get<JsonRuleData>(JsonRuleData::parse(text));
  for (const char* rule : {R"({"var":""})", R"({"var":"b"})", R"({"var":"b.y.1"})",
                           R"({"var":"c"})", R"({"merge":[{"var":"b.y"},{"var":"b.x.length"}]})"}) {
    EXPECT_EQ(value_of(compile_ok(rule), data), value_of(compile_ok(rule), view)) << rule;
  }
}

TEST(RulesData, FusedFormsGiveWhatTheGeneralFormsGive) {
  // Comparisons of a var with a constant and missing/missing_some with constant keys compile to
  // nodes of their own; {"cat": x} (x itself) hides the constant from the compiler.
  const char* data = R"({"a":1,"s":"x","e":"","n":null,"o":{"p":2},"l":[{"a":1},{"a":"1"},{}]})";
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"({"==":[{"var":"a"},"1"]})", R"({"==":[{"var":"a"},{"cat":"1"}]})"},
      {R"({"===":["x",{"var":"s"}]})", R"({"===":[{"cat":"x"},{"var":"s"}]})"},
      {R"({"<":[{"var":"o.p"},3]})", R"({"<":[{"var":"o.p"},{"+":3}]})"},
      {R"({"!=":[{"var":"n"},null]})", R"({"!=":[{"var":"n"},{"var":"absent"}]})"},
      {R"({"map":[{"var":"l"},{">=":[{"var":"a"},1]}]})",
       R"({"map":[{"var":"l"},{">=":[{"var":"a"},{"+":1}]}]})"},
      {R"({"missing":["a","e","n","o.p","o.q",""]})",
       R"({"missing":[{"cat":"a"},"e","n","o.p","o.q",""]})"},
      {R"({"missing":[["s","absent"]]})", R"({"missing":[["s",{"cat":"absent"}]]})"},
      {R"({"missing_some":[1,["absent","s"]]})", R"({"missing_some":[1,["absent",{"cat":"s"}]]})"},
      {R"({"missing_some":[2,["absent","s"]]})", R"({"missing_some":[2,["absent",{"cat":"s"}]]})"},
      {R"({"map":[{"var":"l"},{"missing":["a"]}]})",
       R"({"map":[{"var":"l"},{"missing":[{"cat":"a"}]}]})"},
  };
  for (const auto& [fused, general] : pairs) {
    EXPECT_EQ(testing::eval(fused, data), testing::eval(general, data)) << fused;
  }
}

TEST(RulesValues, ToJsonEscapesLikeJsonStringify) {
  EXPECT_EQ(RuleValue::string("a\"b\\c\n\x01").to_json(), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(RuleValue::number(-0.0).to_json(), "0");
  EXPECT_EQ(RuleValue::number(std::numeric_limits<double>::infinity()).to_json(), "null");
  EXPECT_EQ(RuleValue::object({{"k", RuleValue::array({})}}).to_json(), R"({"k":[]})");
}

}  // namespace
}  // namespace salesflow
