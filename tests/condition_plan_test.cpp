// ConditionPlan (src/engine/condition_plan.hpp): the loader's fast form of simple conditions must
// answer exactly what the rule interpreter answers, or not answer at all. Random rules over fields
// of every type, on random field values (set on the state or pending in a decision), are judged
// both ways.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/condition_plan.hpp"
#include "engine/conditions.hpp"
#include "salesflow/definition.hpp"
#include "salesflow/process.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using internal::ConditionPlan;
using internal::Verdict;
using json = nlohmann::json;

const std::vector<std::string> kFields = {"s", "n", "i", "b", "e", "t", "l"};

// The minimal definition with a field of every type and `rules` as the open stage's conditions.
LoadResult load_with(const std::vector<json>& rules) {
  return load_mutated([&](json& def) {
    json& fields = def["fields"];
    fields.push_back({{"id", "s"}, {"type", "string"}});
    fields.push_back({{"id", "n"}, {"type", "number"}});
    fields.push_back({{"id", "i"}, {"type", "integer"}});
    fields.push_back({{"id", "b"}, {"type", "boolean"}});
    fields.push_back({{"id", "e"}, {"type", "enum"}, {"values", {"a", "b", "abc", "x1"}}});
    fields.push_back({{"id", "t"}, {"type", "timestamp"}});
    fields.push_back({{"id", "l"}, {"type", "string_list"}});
    json& conditions = def["stages"][0]["gate"]["conditions"];
    conditions = json::array();
    for (const json& rule : rules) conditions.push_back({{"description", "c"}, {"rule", rule}});
  });
}

class RandomRules {
 public:
  explicit RandomRules(std::uint32_t seed) : rng_(seed) {}

  json constant() {
    static const std::vector<json> pool = {nullptr,
                                           true,
                                           false,
                                           0,
                                           1,
                                           -1,
                                           2.5,
                                           100,
                                           1e300,
                                           "",
                                           "a",
                                           "b",
                                           "abc",
                                           "0",
                                           "1",
                                           "100",
                                           "2026-03-01T09:00:00Z"};
    return pool[pick(pool.size())];
  }
  json var() {
    // Mostly fields; sometimes a name that is no field, a path, or a default (all outside the
    // plan's subset).
    switch (pick(20)) {
      case 0:
        return {{"var", "nofield"}};
      case 1:
        return {{"var", "s.length"}};
      case 2:
        return {{"var", json::array({kFields[pick(kFields.size())], constant()})}};
      default:
        return {{"var", kFields[pick(kFields.size())]}};
    }
  }
  json rule(int depth) {
    static const std::vector<std::string> comparisons = {
        "==", "!=", "===", "!==", "<", "<=", ">", ">="};
    const std::size_t choice = pick(depth > 0 ? 9 : 5);
    switch (choice) {
      case 0:
        return var();
      case 1:
        return constant();
      case 2:
      case 3: {
        const std::string& op = comparisons[pick(comparisons.size())];
        return pick(4) == 0 ? json{{op, {constant(), var()}}} : json{{op, {var(), constant()}}};
      }
      case 4: {
        json items = json::array();
        for (std::size_t n = pick(4); n > 0; --n) items.push_back(constant());
        return {{"in", {var(), items}}};
      }
      case 5:
      case 6: {
        json args = json::array();
        for (std::size_t n = 1 + pick(3); n > 0; --n) args.push_back(rule(depth - 1));
        return {{pick(2) == 0 ? "and" : "or", args}};
      }
      case 7:
        return {{pick(2) == 0 ? "!" : "!!", {rule(depth - 1)}}};
      default:
        // Outside the subset: the interpreter alone.
        return {{"if", {rule(depth - 1), rule(depth - 1), rule(depth - 1)}}};
    }
  }

  // A value for field `name`, or nothing (unset).
  std::optional<FieldValue> value(const std::string& name) {
    if (pick(5) == 0) return std::nullopt;
    if (name == "s") {
      static const std::vector<std::string> v = {"",  "a", "b",   "abc",
                                                 "0", "1", "100", "2026-03-01T09:00:00Z"};
      return FieldValue(v[pick(v.size())]);
    }
    if (name == "n") {
      static const std::vector<double> v = {0, 1, -1, 2.5, 100, 1e300, -0.0};
      return FieldValue(v[pick(v.size())]);
    }
    if (name == "i") {
      static const std::vector<std::int64_t> v = {0, 1, -1, 100, 9007199254740993};
      return FieldValue(v[pick(v.size())]);
    }
    if (name == "b") return FieldValue(pick(2) == 0);
    if (name == "e") {
      static const std::vector<std::string> v = {"a", "b", "abc", "x1"};
      return FieldValue(v[pick(v.size())]);
    }
    if (name == "t") {
      return FieldValue(
          *parse_timestamp(pick(2) == 0 ? "2026-03-01T09:00:00Z" : "2026-03-01T09:00:00.250Z"));
    }
    static const std::vector<std::vector<std::string>> v = {{}, {"a"}, {"a", "b"}, {""}};
    return FieldValue(v[pick(v.size())]);
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

 private:
  std::mt19937 rng_;
};

// An instance of `def` created with `fields`.
InstanceState created(const ProcessDefinition& def,
                      std::vector<std::pair<std::string, FieldValue>> fields) {
  Command create;
  create.instance = "deal";
  create.actor = "rep";
  create.definition_id = def.id();
  create.fields = std::move(fields);
  RoleSet rep;
  rep.insert(*def.find_role("rep"));
  const Decision decision = decide(def, InstanceState{}, create,
                                   DecisionContext{*parse_timestamp("2026-03-01T08:00:00Z"), rep});
  EXPECT_TRUE(decision.ok());
  InstanceState state;
  std::uint64_t version = 0;
  for (Event e : decision.events) {
    e.version = ++version;
    apply(def, state, e);
  }
  return state;
}

TEST(ConditionPlan, AnswersAsTheInterpreterOnRandomRulesAndValues) {
  RandomRules random(20261128);
  std::size_t planned = 0, rules = 0, judged = 0, answered = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<json> written;
    for (int k = 0; k < 50; ++k) written.push_back(random.rule(3));
    const LoadResult loaded = load_with(written);
    ASSERT_TRUE(loaded.ok()) << loaded.diagnostics.front().message;
    const ProcessDefinition& def = *loaded.definition;
    const auto& conditions = def.stage(*def.find_stage("open")).gate.conditions;
    ASSERT_EQ(conditions.size(), written.size());
    for (const Condition& c : conditions) planned += c.plan != nullptr;
    rules += conditions.size();

    for (int s = 0; s < 30; ++s) {
      std::vector<std::pair<std::string, FieldValue>> fields;
      for (const std::string& name : kFields) {
        if (auto v = random.value(name)) fields.emplace_back(name, std::move(*v));
      }
      const InstanceState state = created(def, fields);
      // Half the time, a pending change of one field (set or cleared) counts over the state.
      std::vector<Event> pending;
      if (random.pick(2) == 0) {
        const std::string& name = kFields[random.pick(kFields.size())];
        Event e;
        e.target = static_cast<std::uint32_t>(to_index(*def.find_field(name)));
        if (auto v = random.value(name)) {
          e.type = EventType::kFieldSet;
          e.value = std::move(*v);
        } else {
          e.type = EventType::kFieldCleared;
        }
        pending.push_back(std::move(e));
      }
      for (std::size_t k = 0; k < conditions.size(); ++k) {
        const Condition& c = conditions[k];
        const bool by_rule = internal::condition_holds_by_rule(def, state, c, pending);
        EXPECT_EQ(internal::condition_holds(def, state, c, pending), by_rule) << c.rule_json;
        if (!c.plan) continue;
        ++judged;
        const Verdict v = c.plan->evaluate(state, pending);
        if (v == Verdict::kUnknown) continue;
        ++answered;
        EXPECT_EQ(v == Verdict::kTrue, by_rule)
            << c.rule_json << " with s=" << (fields.empty() ? "" : fields.front().first)
            << ", pending " << pending.size();
      }
    }
  }
  // The generator makes mostly rules of the subset, and the plans answer most values: a plan that
  // was never made or never answered would pass the comparison above without testing anything.
  EXPECT_GT(planned * 2, rules) << planned << " of " << rules;
  EXPECT_GT(answered * 2, judged) << answered << " of " << judged;
}

TEST(ConditionPlan, IsMadeForTheSubsetOnly) {
  const std::vector<json> in_subset = {
      json::parse(R"({"or": [{"in": [{"var": "e"}, ["a", "b"]]}, {">=": [{"var": "n"}, 100]}]})"),
      json::parse(R"({"and": [{"!": [{"var": "s"}]}, {"!!": [{"var": "l"}]}, true]})"),
      json::parse(R"({"<": [3, {"var": "i"}]})"),
  };
  const std::vector<json> outside = {
      json::parse(R"({"+": [{"var": "n"}, 1]})"),                // not a condition operator
      json::parse(R"({"==": [{"var": "s.length"}, 1]})"),        // a path of two segments
      json::parse(R"({"==": [{"var": ["n", 5]}, 5]})"),          // a default
      json::parse(R"({"==": [{"var": "nofield"}, null]})"),      // no such field
      json::parse(R"({"==": [{"var": "n"}, {"var": "i"}]})"),    // two fields
      json::parse(R"({"in": [{"var": "s"}, "abc"]})"),           // a string haystack
      json::parse(R"({"in": [{"var": "s"}, [{"var": "e"}]]})"),  // an array of non-constants
      json::parse(R"({"<": [1, {"var": "n"}, 5]})"),             // "between"
      json::parse(R"({"in": [{"var": "s"}, [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]]})"),
  };
  std::vector<json> all = in_subset;
  all.insert(all.end(), outside.begin(), outside.end());
  const LoadResult loaded = load_with(all);
  ASSERT_TRUE(loaded.ok());
  const ProcessDefinition& def = *loaded.definition;
  const auto& conditions = def.stage(*def.find_stage("open")).gate.conditions;
  for (std::size_t k = 0; k < conditions.size(); ++k) {
    EXPECT_EQ(conditions[k].plan != nullptr, k < in_subset.size()) << conditions[k].rule_json;
  }

  // A rule whose step limit a plan could not respect gets none.
  const auto rule = [](const RuleLimits& limits) {
    return *compile_rule(R"({"or": [{"==": [{"var": "s"}, "a"]}, {"==": [{"var": "s"}, "b"]}]})",
                         nullptr, limits)
                .rule;
  };
  RuleLimits few_steps;
  few_steps.max_steps = 4;
  EXPECT_EQ(internal::make_condition_plan(def, rule(few_steps)), nullptr);
  EXPECT_NE(internal::make_condition_plan(def, rule(RuleLimits{})), nullptr);
  // Nor one whose array literal the memory limit refuses.
  const auto in_list = [](const RuleLimits& limits) {
    return *compile_rule(R"({"in": [{"var": "s"}, ["a", "b", "c"]]})", nullptr, limits).rule;
  };
  RuleLimits little_memory;
  little_memory.max_memory_bytes = 32;  // two values
  const Rule refused = in_list(little_memory);
  const InstanceState state = created(def, {{"s", FieldValue(std::string("a"))}});
  const Condition condition{"c", "", refused, nullptr};
  EXPECT_FALSE(internal::condition_holds_by_rule(def, state, condition));  // memory_limit
  EXPECT_EQ(internal::make_condition_plan(def, refused), nullptr);
  EXPECT_NE(internal::make_condition_plan(def, in_list(RuleLimits{})), nullptr);
}

TEST(ConditionPlan, JudgesTheExampleTeamRuleOnPendingValues) {
  const LoadResult loaded = load_with({json::parse(
      R"({"or": [{"in": [{"var": "e"}, ["a", "b"]]}, {">=": [{"var": "n"}, 100]}]})")});
  ASSERT_TRUE(loaded.ok());
  const ProcessDefinition& def = *loaded.definition;
  const Condition& c = def.stage(*def.find_stage("open")).gate.conditions.front();
  ASSERT_NE(c.plan, nullptr);
  const InstanceState state = created(def, {{"e", FieldValue(std::string("abc"))}});
  EXPECT_EQ(c.plan->evaluate(state, {}), Verdict::kFalse);  // "abc" is no member; n unset: 0

  Event set_n;
  set_n.type = EventType::kFieldSet;
  set_n.target = static_cast<std::uint32_t>(to_index(*def.find_field("n")));
  set_n.value = 100.0;
  EXPECT_EQ(c.plan->evaluate(state, {&set_n, 1}), Verdict::kTrue);
  set_n.value = 99.5;
  EXPECT_EQ(c.plan->evaluate(state, {&set_n, 1}), Verdict::kFalse);

  Event set_e;
  set_e.type = EventType::kFieldSet;
  set_e.target = static_cast<std::uint32_t>(to_index(*def.find_field("e")));
  set_e.value = std::string("b");
  EXPECT_EQ(c.plan->evaluate(state, {&set_e, 1}), Verdict::kTrue);
}

}  // namespace
}  // namespace salesflow::testing
