// The loader: what a valid definition compiles to, and one broken definition per diagnostic kind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/definition.hpp"
#include "salesflow/value.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using json = nlohmann::json;
using namespace std::chrono_literals;

// A valid lead scoring on the minimal definition: score from "amount", grades A/B/C.
void add_scoring(json& d) {
  d["fields"].push_back({{"id", "score"}, {"type", "number"}});
  d["fields"].push_back({{"id", "grade"}, {"type", "enum"}, {"values", {"A", "B", "C"}}});
  d["lead_scoring"] = {
      {"description", "score from the amount"},
      {"score", {{"var", "amount"}}},
      {"score_field", "score"},
      {"grade_field", "grade"},
      {"grades", {{{"grade", "A"}, {"min", 70}}, {{"grade", "B"}, {"min", 40}}, {{"grade", "C"}}}}};
}

TEST(DefinitionLoader, CompilesTheMinimalDefinitionIntoDenseTables) {
  const LoadResult result = load_definition(minimal_definition());
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  EXPECT_THAT(result.diagnostics, IsEmpty());
  const ProcessDefinition& def = *result.definition;
  EXPECT_EQ(def.id(), "minimal");
  EXPECT_EQ(def.version(), 1u);
  ASSERT_THAT(def.stages(), SizeIs(3));
  EXPECT_EQ(def.find_stage("open"), StageId{0});
  EXPECT_EQ(def.find_stage("lost"), StageId{2});
  EXPECT_EQ(def.find_stage("nope"), std::nullopt);
  EXPECT_EQ(def.start(), StageId{0});

  const Stage& open = def.stage(StageId{0});
  EXPECT_EQ(open.kind, StageKind::kActive);
  EXPECT_EQ(open.responsibility.accountable, *def.find_role("manager"));
  EXPECT_TRUE(open.responsibility.responsible.contains(*def.find_role("rep")));
  EXPECT_FALSE(open.responsibility.responsible.contains(*def.find_role("manager")));
  EXPECT_THAT(open.gate.required_fields, ElementsAre(*def.find_field("amount")));
  EXPECT_THAT(open.gate.checklist, ElementsAre(*def.find_item("checked")));
  ASSERT_THAT(open.gate.approvals, ElementsAre(*def.find_approval("ok")));
  EXPECT_EQ(def.approval(open.gate.approvals[0]).role, *def.find_role("manager"));
  EXPECT_EQ(def.approval(open.gate.approvals[0]).count, 1u);
  EXPECT_EQ(def.item(*def.find_item("checked")).stage, StageId{0});
  // Labels default to ids.
  EXPECT_EQ(def.item(*def.find_item("checked")).label, "checked");
  EXPECT_EQ(def.field(*def.find_field("amount")).min, 0.0);
}

TEST(DefinitionLoader, GroupsTransitionsBySourceAndMarksForwardMoves) {
  const LoadResult result = load_mutated([](json& d) {
    d["stages"].insert(d["stages"].begin() + 1,
                       json::parse(R"({"id": "review", "name": "Review", "module": "main",
                                       "responsibility": {"accountable": "manager"}})"));
    d["transitions"] = json::parse(R"([
      {"from": "open", "to": "review"},
      {"from": "review", "to": "open", "label": "rework"},
      {"from": "review", "to": "won"},
      {"from": ["open", "review"], "to": "lost"}])");
  });
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  const ProcessDefinition& def = *result.definition;
  const StageId open = *def.find_stage("open");
  const StageId review = *def.find_stage("review");
  const auto from_open = def.outgoing(open);
  ASSERT_THAT(from_open, SizeIs(2));
  EXPECT_EQ(from_open[0].to, review);
  EXPECT_TRUE(from_open[0].forward);
  EXPECT_EQ(from_open[1].to, *def.find_stage("lost"));
  EXPECT_FALSE(from_open[1].forward) << "moving to a lost stage skips the gate";
  const auto from_review = def.outgoing(review);
  ASSERT_THAT(from_review, SizeIs(3));
  EXPECT_EQ(from_review[0].to, open);
  EXPECT_FALSE(from_review[0].forward) << "moving back skips the gate";
  EXPECT_EQ(from_review[0].label, "rework");
  EXPECT_TRUE(from_review[1].forward) << "moving to a won stage is forward";
  EXPECT_THAT(def.outgoing(*def.find_stage("won")), IsEmpty());
  ASSERT_TRUE(def.find_transition(review, open).has_value());
  EXPECT_EQ(def.transition(*def.find_transition(review, open)).from, review);
  EXPECT_FALSE(def.find_transition(open, *def.find_stage("won")).has_value());
}

TEST(DefinitionLoader, CompilesDeliveryStandardsToSecondsAndTargets) {
  const LoadResult result = load_definition(minimal_definition());
  ASSERT_TRUE(result.ok());
  const ProcessDefinition& def = *result.definition;
  ASSERT_THAT(def.delivery_standards(), SizeIs(1));
  const DeliveryStandard& s = def.delivery_standards()[0];
  EXPECT_EQ(def.find_delivery_standard("quick"), DeliveryStandardId{0});
  EXPECT_EQ(s.anchor.kind, TriggerKind::kInstanceCreated);
  EXPECT_EQ(s.goal.kind, TriggerKind::kStageLeft);
  EXPECT_EQ(s.goal.target, to_index(*def.find_stage("open")));
  EXPECT_EQ(s.limit, 24h);
  EXPECT_EQ(s.at_risk, 18h);
  ASSERT_THAT(s.escalation, SizeIs(1));
  EXPECT_EQ(s.escalation[0].after, 4h);
  EXPECT_EQ(s.escalation[0].role, *def.find_role("manager"));
  EXPECT_TRUE(s.pausable) << "standards pause on hold unless they say otherwise";
}

TEST(DefinitionLoader, CompilesGateConditionsAndGuardsOnce) {
  const LoadResult result = load_mutated([](json& d) {
    d["stages"][0]["gate"]["conditions"] = {
        {{"description", "big enough"}, {"rule", {{">=", {{{"var", "amount"}}, 100}}}}}};
    d["transitions"][0]["guard"] = {{"description", "always"}, {"rule", true}};
  });
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  const Stage& open = result.definition->stage(StageId{0});
  ASSERT_THAT(open.gate.conditions, SizeIs(1));
  EXPECT_EQ(open.gate.conditions[0].description, "big enough");
  EXPECT_EQ(open.gate.conditions[0].rule_json, R"({">=":[{"var":"amount"},100]})");
  const auto big = JsonRuleData::parse(R"({"amount": 150})");
  const auto small = JsonRuleData::parse(R"({"amount": 50})");
  EXPECT_EQ(open.gate.conditions[0].rule.evaluate_condition(std::get<JsonRuleData>(big)),
            (std::variant<bool, RuleError>(true)));
  EXPECT_EQ(open.gate.conditions[0].rule.evaluate_condition(std::get<JsonRuleData>(small)),
            (std::variant<bool, RuleError>(false)));
  ASSERT_NE(result.definition->outgoing(StageId{0})[0].guard, nullptr);
}

TEST(DefinitionLoader, CompilesTeamsScoringAndAlerts) {
  const LoadResult result = load_mutated([](json& d) {
    add_scoring(d);
    d["stages"][0]["team"] = {{"description", "big deals need two people"},
                              {"when", {{">", {{{"var", "amount"}}, 100}}}},
                              {"roles", {"manager", "rep"}}};
    d["alerts"] = {{{"id", "few_wins"},
                    {"description", "few wins"},
                    {"rule", {{"<", {{{"var", "won"}}, 1}}}}}};
  });
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  const ProcessDefinition& def = *result.definition;
  const auto& team = def.stage(*def.find_stage("open")).team;
  ASSERT_TRUE(team.has_value());
  EXPECT_EQ(team->description, "big deals need two people");
  ASSERT_TRUE(team->when.has_value());
  EXPECT_TRUE(team->roles.contains(*def.find_role("manager")));
  EXPECT_TRUE(team->roles.contains(*def.find_role("rep")));
  ASSERT_TRUE(def.lead_scoring().has_value());
  EXPECT_EQ(def.lead_scoring()->score_field, *def.find_field("score"));
  EXPECT_EQ(def.lead_scoring()->grade_field, *def.find_field("grade"));
  ASSERT_EQ(def.lead_scoring()->grades.size(), 3u);
  EXPECT_EQ(def.lead_scoring()->grades[1].grade, "B");
  EXPECT_EQ(def.lead_scoring()->grades[1].min, 40.0);
  EXPECT_FALSE(def.lead_scoring()->grades[2].min.has_value());
  ASSERT_EQ(def.alerts().size(), 1u);
  EXPECT_EQ(def.alerts()[0].id, "few_wins");
}

TEST(FieldValues, IntegerBoundsCompareExactlyBeyondDoublePrecision) {
  const LoadResult result = load_mutated([](json& d) {
    d["fields"].push_back({{"id", "n"}, {"type", "integer"}, {"max", 9007199254740992LL}});
  });
  ASSERT_TRUE(result.ok());
  const Field& n = result.definition->field(*result.definition->find_field("n"));
  EXPECT_FALSE(validate_field_value(n, FieldValue(std::int64_t{9007199254740992})).has_value());
  EXPECT_TRUE(validate_field_value(n, FieldValue(std::int64_t{9007199254740993})).has_value());
}

TEST(DefinitionLoader, AcceptsExtensionKeysAnywhere) {
  const LoadResult result = load_mutated([](json& d) {
    d["x-owner"] = "crm team";
    d["stages"][0]["x-colour"] = {{"any", "thing"}};
  });
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
}

TEST(DefinitionLoader, ReportsEveryProblemAtOnce) {
  const LoadResult result = load_mutated([](json& d) {
    d["name"] = 5;                                // wrong type
    d["stages"][0]["colour"] = "red";             // unknown key
    d["transitions"][0]["to"] = "nowhere";        // unknown stage
    d["delivery_standards"][0]["limit"] = "P1M";  // months are refused
  });
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.definition, nullptr);
  EXPECT_THAT(result.diagnostics, SizeIs(4));
  EXPECT_THAT(result.diagnostics, HasDiagnostic(DiagnosticCode::kWrongType, "/name"));
  EXPECT_THAT(result.diagnostics, HasDiagnostic(DiagnosticCode::kUnknownKey, "/stages/0/colour"));
  EXPECT_THAT(result.diagnostics,
              HasDiagnostic(DiagnosticCode::kUnknownReference, "/transitions/0/to"));
  EXPECT_THAT(result.diagnostics,
              HasDiagnostic(DiagnosticCode::kInvalidValue, "/delivery_standards/0/limit"));
}

TEST(DefinitionLoader, EveryDiagnosticIsOneSentenceNamingTheProblem) {
  const LoadResult result = load_mutated([](json& d) { d["stages"][0]["module"] = "sales"; });
  ASSERT_THAT(result.diagnostics, SizeIs(1));
  EXPECT_THAT(result.diagnostics[0].message, ::testing::HasSubstr("\"sales\""));
  EXPECT_THAT(result.diagnostics[0].message, ::testing::HasSubstr("module"));
}

TEST(DefinitionLoader, CalendarDaysAreWorkingDaysAndHoursAreWorkingHours) {
  const LoadResult result = load_mutated([](json& d) {
    d["calendars"] = json::parse(R"([{"id": "office", "name": "Office",
      "time_zone": "Europe/Berlin",
      "working_hours": {"monday": ["09:00-12:00", "13:00-17:00"], "friday": ["09:00-13:00"]},
      "holidays": ["2026-12-25", "2026-12-25"], "working_day": "PT7H"}])");
    d["delivery_standards"][0]["calendar"] = "office";
    d["delivery_standards"][0]["limit"] = "P2DT3H";
    d["delivery_standards"][0]["at_risk"] = "P1D";
    d["delivery_standards"][0]["escalation"][0]["after"] = "PT24H";
  });
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  const ProcessDefinition& def = *result.definition;
  ASSERT_THAT(def.calendars(), SizeIs(1));
  EXPECT_EQ(def.find_calendar("office"), CalendarId{0});
  EXPECT_EQ(def.calendar(CalendarId{0}).name, "Office");
  const DeliveryStandard& s = def.delivery_standards()[0];
  EXPECT_EQ(s.calendar, CalendarId{0});
  EXPECT_EQ(s.limit, 2 * 7h + 3h) << "two working days of PT7H, and three hours";
  EXPECT_EQ(s.at_risk, 7h);
  EXPECT_EQ(s.escalation[0].after, 24h) << "hours stay hours: 24 working hours";
}

// ---- One broken definition per diagnostic kind -----------------------------------------------

// Adds an office calendar (Berlin, Monday to Friday 09:00-17:00) used by the first standard.
json& with_calendar(json& d) {
  d["calendars"] = json::parse(R"([{"id": "office", "time_zone": "Europe/Berlin",
    "working_hours": {"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"],
                      "wednesday": ["09:00-17:00"], "thursday": ["09:00-17:00"],
                      "friday": ["09:00-17:00"]}}])");
  d["delivery_standards"][0]["calendar"] = "office";
  return d;
}

struct BrokenCase {
  const char* name;
  std::function<void(json&)> mutate;
  DiagnosticCode code;
  const char* pointer;
};

void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.name; }

class BrokenDefinition : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenDefinition, IsRejectedWithTheRightDiagnostic) {
  const BrokenCase& c = GetParam();
  const LoadResult result = load_mutated(c.mutate);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.diagnostics, HasDiagnostic(c.code, c.pointer))
      << ::testing::PrintToString(result.diagnostics);
  for (const Diagnostic& d : result.diagnostics) EXPECT_FALSE(d.message.empty());
}

using C = DiagnosticCode;
const BrokenCase kBrokenCases[] = {
    // Wrong types.
    {"NameNotString", [](json& d) { d["name"] = 5; }, C::kWrongType, "/name"},
    {"RootNotObject", [](json& d) { d = json::array(); }, C::kWrongType, ""},
    {"StagesNotArray", [](json& d) { d["stages"] = "open"; }, C::kWrongType, "/stages"},
    {"StageNotObject", [](json& d) { d["stages"][0] = 1; }, C::kWrongType, "/stages/0"},
    {"PausableNotBoolean", [](json& d) { d["delivery_standards"][0]["pausable"] = "yes"; },
     C::kWrongType, "/delivery_standards/0/pausable"},
    {"LimitNotString", [](json& d) { d["delivery_standards"][0]["limit"] = 24; }, C::kWrongType,
     "/delivery_standards/0/limit"},
    {"RequiredFieldsNotArray", [](json& d) { d["stages"][0]["gate"]["required_fields"] = 1; },
     C::kWrongType, "/stages/0/gate/required_fields"},
    // Unknown and missing keys.
    {"UnknownTopLevelKey", [](json& d) { d["stagez"] = json::array(); }, C::kUnknownKey, "/stagez"},
    {"UnknownGateKey", [](json& d) { d["stages"][0]["gate"]["signatures"] = 1; }, C::kUnknownKey,
     "/stages/0/gate/signatures"},
    {"UnknownKeyIsEscapedInPointer", [](json& d) { d["stages"][0]["a/b~c"] = 1; }, C::kUnknownKey,
     "/stages/0/a~1b~0c"},
    {"MissingId", [](json& d) { d.erase("id"); }, C::kMissingKey, ""},
    {"MissingFormat", [](json& d) { d.erase("format"); }, C::kMissingKey, ""},
    {"MissingStageName", [](json& d) { d["stages"][0].erase("name"); }, C::kMissingKey,
     "/stages/0"},
    {"MissingFieldType", [](json& d) { d["fields"][0].erase("type"); }, C::kMissingKey,
     "/fields/0"},
    {"MissingGoal", [](json& d) { d["delivery_standards"][0].erase("goal"); }, C::kMissingKey,
     "/delivery_standards/0"},
    // Duplicate ids, in every namespace.
    {"DuplicateStage", [](json& d) { d["stages"][2]["id"] = "won"; }, C::kDuplicateId,
     "/stages/2/id"},
    {"DuplicateRole", [](json& d) { d["roles"][1]["id"] = "rep"; }, C::kDuplicateId, "/roles/1/id"},
    {"DuplicateField",
     [](json& d) {
       d["fields"].push_back({{"id", "amount"}, {"type", "string"}});
     },
     C::kDuplicateId, "/fields/1/id"},
    {"DuplicateChecklistItemAcrossStages",
     [](json& d) {
       d["stages"][1]["checklist"] = {{{"id", "checked"}}};
     },
     C::kDuplicateId, "/stages/1/checklist/0/id"},
    {"DuplicateApproval",
     [](json& d) {
       d["stages"][0]["gate"]["approvals"].push_back({{"id", "ok"}, {"role", "rep"}});
     },
     C::kDuplicateId, "/stages/0/gate/approvals/1/id"},
    {"DuplicateTransition",
     [](json& d) {
       d["transitions"].push_back({{"from", "open"}, {"to", "won"}});
     },
     C::kDuplicateId, "/transitions/2/from"},
    {"DuplicateEnumValue",
     [](json& d) {
       d["fields"].push_back({{"id", "g"}, {"type", "enum"}, {"values", {"A", "B", "A"}}});
     },
     C::kDuplicateId, "/fields/1/values/2"},
    {"RequiredFieldListedTwice",
     [](json& d) {
       d["stages"][0]["gate"]["required_fields"] = {"amount", "amount"};
     },
     C::kDuplicateId, "/stages/0/gate/required_fields/1"},
    {"DuplicateStandard",
     [](json& d) { d["delivery_standards"].push_back(d["delivery_standards"][0]); },
     C::kDuplicateId, "/delivery_standards/1/id"},
    // References to unknown things.
    {"UnknownAccountableRole",
     [](json& d) { d["stages"][0]["responsibility"]["accountable"] = "ceo"; }, C::kUnknownReference,
     "/stages/0/responsibility/accountable"},
    {"UnknownInformedRole",
     [](json& d) {
       d["stages"][0]["responsibility"]["informed"] = {"rep", "ceo"};
     },
     C::kUnknownReference, "/stages/0/responsibility/informed/1"},
    {"UnknownModule", [](json& d) { d["stages"][0]["module"] = "other"; }, C::kUnknownReference,
     "/stages/0/module"},
    {"UnknownRequiredField",
     [](json& d) {
       d["stages"][0]["gate"]["required_fields"] = {"amount", "budget"};
     },
     C::kUnknownReference, "/stages/0/gate/required_fields/1"},
    {"UnknownChecklistItem", [](json& d) { d["stages"][0]["gate"]["checklist"] = {"signed"}; },
     C::kUnknownReference, "/stages/0/gate/checklist/0"},
    {"UnknownApprovalRole", [](json& d) { d["stages"][0]["gate"]["approvals"][0]["role"] = "x"; },
     C::kUnknownReference, "/stages/0/gate/approvals/0/role"},
    {"UnknownTransitionSource",
     [](json& d) {
       d["transitions"][0]["from"] = {"open", "gone"};
     },
     C::kUnknownReference, "/transitions/0/from/1"},
    {"UnknownStart", [](json& d) { d["start"] = "begin"; }, C::kUnknownReference, "/start"},
    {"UnknownGoalStage", [](json& d) { d["delivery_standards"][0]["goal"]["stage"] = "x"; },
     C::kUnknownReference, "/delivery_standards/0/goal/stage"},
    {"UnknownAnchorItem",
     [](json& d) {
       d["delivery_standards"][0]["anchor"] = {{"on", "item_checked"}, {"item", "x"}};
     },
     C::kUnknownReference, "/delivery_standards/0/anchor/item"},
    {"UnknownGoalApproval",
     [](json& d) {
       d["delivery_standards"][0]["goal"] = {{"on", "approval_given"}, {"approval", "x"}};
     },
     C::kUnknownReference, "/delivery_standards/0/goal/approval"},
    {"UnknownGoalField",
     [](json& d) {
       d["delivery_standards"][0]["goal"] = {{"on", "field_set"}, {"field", "x"}};
     },
     C::kUnknownReference, "/delivery_standards/0/goal/field"},
    {"UnknownEscalationRole",
     [](json& d) { d["delivery_standards"][0]["escalation"][0]["role"] = "ceo"; },
     C::kUnknownReference, "/delivery_standards/0/escalation/0/role"},
    // Exactly one accountable role.
    {"NoAccountable", [](json& d) { d["stages"][0]["responsibility"].erase("accountable"); },
     C::kAccountable, "/stages/0/responsibility"},
    {"TwoAccountable",
     [](json& d) {
       d["stages"][0]["responsibility"]["accountable"] = {"rep", "manager"};
     },
     C::kAccountable, "/stages/0/responsibility/accountable"},
    {"EmptyAccountable",
     [](json& d) { d["stages"][0]["responsibility"]["accountable"] = json::array(); },
     C::kAccountable, "/stages/0/responsibility/accountable"},
    // Out-of-range numbers.
    {"VersionZero", [](json& d) { d["version"] = 0; }, C::kOutOfRange, "/version"},
    {"VersionHuge", [](json& d) { d["version"] = 1e300; }, C::kOutOfRange, "/version"},
    {"IntegerBoundBeyondExactDoubles",
     [](json& d) {
       d["fields"].push_back({{"id", "n"}, {"type", "integer"}, {"min", 9007199254740993LL}});
     },
     C::kOutOfRange, "/fields/1/min"},
    {"ApprovalCountZero", [](json& d) { d["stages"][0]["gate"]["approvals"][0]["count"] = 0; },
     C::kOutOfRange, "/stages/0/gate/approvals/0/count"},
    {"MinAboveMax", [](json& d) { d["fields"][0]["max"] = -1; }, C::kOutOfRange, "/fields/0/max"},
    {"MaxLengthZero",
     [](json& d) {
       d["fields"].push_back({{"id", "s"}, {"type", "string"}, {"max_length", 0}});
     },
     C::kOutOfRange, "/fields/1/max_length"},
    {"AtRiskAfterLimit", [](json& d) { d["delivery_standards"][0]["at_risk"] = "PT25H"; },
     C::kOutOfRange, "/delivery_standards/0/at_risk"},
    {"ZeroLimit", [](json& d) { d["delivery_standards"][0]["limit"] = "PT0S"; }, C::kOutOfRange,
     "/delivery_standards/0/limit"},
    {"EscalationNotIncreasing",
     [](json& d) {
       d["delivery_standards"][0]["escalation"].push_back({{"after", "PT1H"}, {"role", "rep"}});
     },
     C::kOutOfRange, "/delivery_standards/0/escalation/1/after"},
    // Values of the right type that the format does not allow.
    {"BadIdentifier", [](json& d) { d["stages"][0]["id"] = "open stage"; }, C::kInvalidValue,
     "/stages/0/id"},
    {"IdentifierTooLong", [](json& d) { d["id"] = std::string(65, 'a'); }, C::kInvalidValue, "/id"},
    {"UnsupportedFormat", [](json& d) { d["format"] = 2; }, C::kInvalidValue, "/format"},
    {"FractionalVersion", [](json& d) { d["version"] = 1.5; }, C::kInvalidValue, "/version"},
    {"UnknownStageKind", [](json& d) { d["stages"][0]["kind"] = "paused"; }, C::kInvalidValue,
     "/stages/0/kind"},
    {"UnknownFieldType", [](json& d) { d["fields"][0]["type"] = "money"; }, C::kInvalidValue,
     "/fields/0/type"},
    {"MaxLengthOnNumber", [](json& d) { d["fields"][0]["max_length"] = 3; }, C::kInvalidValue,
     "/fields/0/max_length"},
    {"EnumWithoutValues",
     [](json& d) {
       d["fields"].push_back({{"id", "g"}, {"type", "enum"}, {"values", {}}});
     },
     C::kInvalidValue, "/fields/1/values"},
    {"EmptyName", [](json& d) { d["name"] = ""; }, C::kInvalidValue, "/name"},
    {"DurationInMonths", [](json& d) { d["delivery_standards"][0]["limit"] = "P1M"; },
     C::kInvalidValue, "/delivery_standards/0/limit"},
    {"DurationGarbage", [](json& d) { d["delivery_standards"][0]["limit"] = "24 hours"; },
     C::kInvalidValue, "/delivery_standards/0/limit"},
    {"GoalKindAsAnchor",
     [](json& d) {
       d["delivery_standards"][0]["anchor"] = {{"on", "stage_left"}, {"stage", "open"}};
     },
     C::kInvalidValue, "/delivery_standards/0/anchor/on"},
    {"TargetKeyOfAnotherKind",
     [](json& d) { d["delivery_standards"][0]["goal"]["field"] = "amount"; }, C::kInvalidValue,
     "/delivery_standards/0/goal/field"},
    {"GateOnTerminal",
     [](json& d) {
       d["stages"][1]["gate"] = {{"checklist", json::array()}};
     },
     C::kInvalidValue, "/stages/1/gate"},
    {"LostReasonsOnActive", [](json& d) { d["stages"][0]["lost_reasons"] = {"price"}; },
     C::kInvalidValue, "/stages/0/lost_reasons"},
    {"TransitionFromTerminal",
     [](json& d) {
       d["transitions"].push_back({{"from", "won"}, {"to", "open"}});
     },
     C::kInvalidValue, "/transitions/2/from"},
    {"TransitionToItself",
     [](json& d) {
       d["transitions"].push_back({{"from", "open"}, {"to", "open"}});
     },
     C::kInvalidValue, "/transitions/2/from"},
    {"StartOnTerminal", [](json& d) { d["start"] = "won"; }, C::kInvalidValue, "/start"},
    {"NoStages", [](json& d) { d["stages"] = json::array(); }, C::kInvalidValue, "/stages"},
    {"NoRoles", [](json& d) { d["roles"] = json::array(); }, C::kInvalidValue, "/roles"},
    {"ConditionWithoutRule",
     [](json& d) {
       d["stages"][0]["gate"]["conditions"] = {{{"description", "x"}}};
     },
     C::kMissingKey, "/stages/0/gate/conditions/0"},
    // Rules are compiled at load time; their diagnostics point into the definition.
    {"UnknownRuleOperatorInACondition",
     [](json& d) {
       d["stages"][0]["gate"]["conditions"] = {
           {{"description", "x"}, {"rule", {{"frobnicate", {1}}}}}};
     },
     C::kInvalidValue, "/stages/0/gate/conditions/0/rule/frobnicate"},
    {"JavaScriptOnlyOperatorInAGuard",
     [](json& d) {
       d["transitions"][0]["guard"] = {{"description", "x"},
                                       {"rule", {{"and", {true, {{"log", "hi"}}}}}}};
     },
     C::kInvalidValue, "/transitions/0/guard/rule/and/1/log"},
    // Teams, lead scoring, alerts.
    {"TeamOnLostStage",
     [](json& d) {
       d["stages"][2]["team"] = {{"description", "t"}, {"roles", {"rep"}}};
     },
     C::kInvalidValue, "/stages/2/team"},
    {"TeamWithUnknownRole",
     [](json& d) {
       d["stages"][0]["team"] = {{"description", "t"}, {"roles", {"rep", "ceo"}}};
     },
     C::kUnknownReference, "/stages/0/team/roles/1"},
    {"TeamWithoutRoles",
     [](json& d) {
       d["stages"][0]["team"] = {{"description", "t"}, {"roles", json::array()}};
     },
     C::kInvalidValue, "/stages/0/team/roles"},
    {"TeamRoleTwice",
     [](json& d) {
       d["stages"][0]["team"] = {{"description", "t"}, {"roles", {"rep", "rep"}}};
     },
     C::kDuplicateId, "/stages/0/team/roles/1"},
    {"TeamRuleWithUnknownOperator",
     [](json& d) {
       d["stages"][0]["team"] = {
           {"description", "t"}, {"roles", {"rep"}}, {"when", {{"bogus", {1}}}}};
     },
     C::kInvalidValue, "/stages/0/team/when/bogus"},
    {"ScoreFieldNotANumber",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["score_field"] = "grade";
       d["lead_scoring"]["grade_field"] = "grade2";
       d["fields"].push_back({{"id", "grade2"}, {"type", "enum"}, {"values", {"A", "B"}}});
     },
     C::kInvalidValue, "/lead_scoring/score_field"},
    {"GradeFieldNotAnEnum",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["grade_field"] = "amount";
     },
     C::kInvalidValue, "/lead_scoring/grade_field"},
    {"GradeNotAValueOfTheGradeField",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["grades"][1]["grade"] = "Z";
     },
     C::kInvalidValue, "/lead_scoring/grades/1/grade"},
    {"GradeMinimumsNotDecreasing",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["grades"][1]["min"] = 80;
     },
     C::kOutOfRange, "/lead_scoring/grades/1/min"},
    {"GradeWithoutMinimumBeforeTheLast",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["grades"][0].erase("min");
     },
     C::kInvalidValue, "/lead_scoring/grades/1"},
    {"NoGrades",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["grades"] = json::array();
     },
     C::kInvalidValue, "/lead_scoring/grades"},
    {"ScoreRuleDoesNotCompile",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["score"] = {{"log", {1}}};
     },
     C::kInvalidValue, "/lead_scoring/score/log"},
    {"UnknownScoringKey",
     [](json& d) {
       add_scoring(d);
       d["lead_scoring"]["weights"] = 1;
     },
     C::kUnknownKey, "/lead_scoring/weights"},
    {"AlertIdTwice",
     [](json& d) {
       d["alerts"] = {{{"id", "a"}, {"description", "x"}, {"rule", true}},
                      {{"id", "a"}, {"description", "y"}, {"rule", false}}};
     },
     C::kDuplicateId, "/alerts/1/id"},
    {"AlertWithoutDescription",
     [](json& d) {
       d["alerts"] = {{{"id", "a"}, {"rule", true}}};
     },
     C::kMissingKey, "/alerts/0"},
    // Calendars.
    {"CalendarUnknownTimeZone",
     [](json& d) { with_calendar(d)["calendars"][0]["time_zone"] = "Europe/Atlantis"; },
     C::kInvalidValue, "/calendars/0/time_zone"},
    {"CalendarTimeZoneNotString",
     [](json& d) { with_calendar(d)["calendars"][0]["time_zone"] = 1; }, C::kWrongType,
     "/calendars/0/time_zone"},
    {"CalendarWithoutWorkingHours",
     [](json& d) { with_calendar(d)["calendars"][0].erase("working_hours"); }, C::kMissingKey,
     "/calendars/0"},
    {"CalendarEmptyWeek",
     [](json& d) { with_calendar(d)["calendars"][0]["working_hours"] = json::object(); },
     C::kInvalidValue, "/calendars/0/working_hours"},
    {"CalendarUnknownWeekday",
     [](json& d) { with_calendar(d)["calendars"][0]["working_hours"]["mon"] = json::array(); },
     C::kUnknownKey, "/calendars/0/working_hours/mon"},
    {"CalendarHoursNotHhMm",
     [](json& d) {
       with_calendar(d)["calendars"][0]["working_hours"]["monday"] = json::array({"9-17"});
     },
     C::kInvalidValue, "/calendars/0/working_hours/monday/0"},
    {"CalendarHoursBackwards",
     [](json& d) {
       with_calendar(d)["calendars"][0]["working_hours"]["monday"] = json::array({"17:00-09:00"});
     },
     C::kInvalidValue, "/calendars/0/working_hours/monday/0"},
    {"CalendarHoursPastMidnight",
     [](json& d) {
       with_calendar(d)["calendars"][0]["working_hours"]["monday"] = json::array({"20:00-24:30"});
     },
     C::kInvalidValue, "/calendars/0/working_hours/monday/0"},
    {"CalendarHoursOverlap",
     [](json& d) {
       with_calendar(d)["calendars"][0]["working_hours"]["monday"] =
           json::array({"09:00-13:00", "12:00-17:00"});
     },
     C::kInvalidValue, "/calendars/0/working_hours/monday/1"},
    {"CalendarHoursNotString",
     [](json& d) {
       with_calendar(d)["calendars"][0]["working_hours"]["monday"] = json::array({900});
     },
     C::kWrongType, "/calendars/0/working_hours/monday/0"},
    {"CalendarHolidayNotADate",
     [](json& d) { with_calendar(d)["calendars"][0]["holidays"] = json::array({"2026-02-30"}); },
     C::kInvalidValue, "/calendars/0/holidays/0"},
    {"CalendarHolidayGarbage",
     [](json& d) { with_calendar(d)["calendars"][0]["holidays"] = json::array({"Christmas"}); },
     C::kInvalidValue, "/calendars/0/holidays/0"},
    {"CalendarWorkingDayTooLong",
     [](json& d) { with_calendar(d)["calendars"][0]["working_day"] = "PT25H"; }, C::kOutOfRange,
     "/calendars/0/working_day"},
    {"CalendarDuplicateId",
     [](json& d) {
       with_calendar(d);
       d["calendars"].push_back(d["calendars"][0]);
     },
     C::kDuplicateId, "/calendars/1/id"},
    {"StandardUnknownCalendar",
     [](json& d) {
       with_calendar(d);
       d["delivery_standards"][0]["calendar"] = "home";
     },
     C::kUnknownReference, "/delivery_standards/0/calendar"},
    {"AtRiskAfterLimitInWorkingTime",
     [](json& d) {
       with_calendar(d);
       d["delivery_standards"][0]["limit"] = "P1D";  // 8 working hours
       d["delivery_standards"][0]["at_risk"] = "PT8H";
     },
     C::kOutOfRange, "/delivery_standards/0/at_risk"},
    // Limits.
    {"MoreThan64Roles",
     [](json& d) {
       for (int i = 0; i < 63; ++i)
         d["roles"].push_back({{"id", std::string("r").append(std::to_string(i))}});
     },
     C::kLimit, "/roles"},
    {"TooManyEscalationSteps",
     [](json& d) {
       auto& chain = d["delivery_standards"][0]["escalation"];
       for (int i = 5; i < 25; ++i) {
         chain.push_back({{"after", "PT" + std::to_string(i) + "H"}, {"role", "manager"}});
       }
     },
     C::kLimit, "/delivery_standards/0/escalation"},
};

INSTANTIATE_TEST_SUITE_P(AllKinds, BrokenDefinition, ::testing::ValuesIn(kBrokenCases),
                         [](const ::testing::TestParamInfo<BrokenCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(DefinitionLoader, EnforcesTheConfiguredStageLimit) {
  LoadLimits limits;
  limits.max_stages = 2;
  const LoadResult result = load_definition(minimal_definition(), limits);
  EXPECT_THAT(result.diagnostics, ElementsAre(IsDiagnostic(DiagnosticCode::kLimit, "/stages")));
}

TEST(DefinitionLoader, EnforcesTheConfiguredTransitionLimitAfterExpandingSources) {
  LoadLimits limits;
  limits.max_transitions = 2;
  json doc = minimal_json();
  doc["stages"].insert(doc["stages"].begin() + 1,
                       json::parse(R"({"id": "b", "name": "B", "module": "main",
                                       "responsibility": {"accountable": "manager"}})"));
  // Two entries, three moves.
  doc["transitions"] = json::parse(R"([{"from": "open", "to": "b"},
                                       {"from": ["open", "b"], "to": "won"}])");
  EXPECT_THAT(load_definition(doc.dump(), limits).diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kLimit, "/transitions")));
}

}  // namespace
}  // namespace salesflow::testing
