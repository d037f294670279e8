// The shipped examples: valid, and modelling what MISSION.md describes.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/program.hpp"
#include "salesflow/diagram.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace std::chrono_literals;

const std::filesystem::path kSource(SALESFLOW_SOURCE_DIR);

std::shared_ptr<const ProcessDefinition> load_example(const std::string& name) {
  LoadResult result = load_definition_file(kSource / "examples" / name);
  EXPECT_TRUE(result.ok()) << name << ": " << ::testing::PrintToString(result.diagnostics);
  return result.definition;
}

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "examples")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Examples, AllThreeProcessesAreShippedAndValid) {
  const auto files = example_files();
  EXPECT_THAT(files, SizeIs(::testing::Ge(3u)));
  for (const auto& file : files) {
    const LoadResult result = load_definition_file(file);
    EXPECT_TRUE(result.ok()) << file << ": " << ::testing::PrintToString(result.diagnostics);
  }
}

TEST(Examples, B2bPipelineHasTheFiveModulesInLifecycleOrder) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  std::vector<std::string> modules;
  for (const Stage& stage : def->stages()) {
    if (stage.module && (modules.empty() || modules.back() != def->module(*stage.module).id)) {
      modules.push_back(def->module(*stage.module).id);
    }
  }
  EXPECT_EQ(modules,
            (std::vector<std::string>{"lead_incubation", "needs_diagnosis", "solution_matching",
                                      "deal_closing", "value_continuation"}));
  std::size_t won = 0, lost = 0;
  for (const Stage& stage : def->stages()) {
    won += stage.kind == StageKind::kWon;
    lost += stage.kind == StageKind::kLost;
  }
  EXPECT_GE(won, 1u);
  EXPECT_GE(lost, 1u);
}

TEST(Examples, B2bLeadIncubationGradesTagsAndClosesInvalidLeadsWithAReason) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  const Stage& lead = def->stage(*def->find_stage("lead_incubation"));
  for (const char* field : {"industry", "company_size", "urgency", "grade"}) {
    EXPECT_THAT(lead.gate.required_fields, Contains(*def->find_field(field))) << field;
  }
  EXPECT_EQ(def->field(*def->find_field("grade")).values,
            (std::vector<std::string>{"A", "B", "C"}));
  const Stage& lost = def->stage(*def->find_stage("lost"));
  EXPECT_THAT(lost.lost_reasons, Contains("invalid_lead"));
  EXPECT_TRUE(def->find_transition(def->start(), *def->find_stage("lost")).has_value());
}

TEST(Examples, B2bNeedsDiagnosisInvolvesTheTriangleTeamAndHasA24HourStandard) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  const Stage& needs = def->stage(*def->find_stage("needs_diagnosis"));
  for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
    EXPECT_THAT(needs.gate.checklist, Contains(*def->find_item(item))) << item;
  }
  const RoleSet told = needs.responsibility.consulted | needs.responsibility.informed;
  EXPECT_TRUE(told.contains(*def->find_role("presales")));
  EXPECT_TRUE(told.contains(*def->find_role("service")));
  const auto& standard =
      def->delivery_standards()[to_index(*def->find_delivery_standard("needs_summary_24h"))];
  EXPECT_EQ(standard.anchor.kind, TriggerKind::kStageEntered);
  EXPECT_EQ(standard.anchor.target, to_index(*def->find_stage("needs_diagnosis")));
  EXPECT_EQ(standard.limit, 24h);
  EXPECT_THAT(standard.escalation, SizeIs(2));
}

TEST(Examples, B2bLeadFollowUpCountsWorkingDaysOfTheSalesOffice) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  const auto& standard =
      def->delivery_standards()[to_index(*def->find_delivery_standard("lead_follow_up"))];
  ASSERT_TRUE(standard.calendar.has_value());
  const Calendar& calendar = def->calendar(*standard.calendar);
  EXPECT_EQ(calendar.id, "sales_office");
  EXPECT_EQ(calendar.calendar->time_zone(), "Europe/Berlin");
  // "P3D" under a calendar of 8-hour days: three working days, 24 working hours.
  EXPECT_EQ(standard.limit, 24h);
  EXPECT_EQ(standard.at_risk, 16h);
  EXPECT_EQ(standard.escalation.at(0).after, 8h);
}

TEST(Examples, B2bDealClosingNeedsLegalPreReviewAndSignsWithinTwoDays) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  const Stage& closing = def->stage(*def->find_stage("deal_closing"));
  ASSERT_THAT(closing.gate.approvals, SizeIs(1));
  EXPECT_EQ(def->approval(closing.gate.approvals[0]).role, *def->find_role("legal"));
  const auto& standard =
      def->delivery_standards()[to_index(*def->find_delivery_standard("contract_2d"))];
  EXPECT_EQ(standard.limit, 48h);
  EXPECT_EQ(standard.goal.kind, TriggerKind::kStageLeft);
  EXPECT_EQ(standard.goal.target, to_index(*def->find_stage("deal_closing")));
}

TEST(Examples, B2bSkipsDiagnosisOnlyThroughAGuard) {
  const auto def = load_example("b2b_pipeline.json");
  ASSERT_NE(def, nullptr);
  const auto skip = def->find_transition(*def->find_stage("lead_incubation"),
                                         *def->find_stage("solution_matching"));
  ASSERT_TRUE(skip.has_value());
  EXPECT_NE(def->transition(*skip).guard, nullptr);
  EXPECT_TRUE(def->transition(*skip).forward);
}

TEST(Examples, VoiceOfCustomerDemandsAResponsePlanWithin24Hours) {
  const auto def = load_example("voice_of_customer.json");
  ASSERT_NE(def, nullptr);
  const auto& standard =
      def->delivery_standards()[to_index(*def->find_delivery_standard("response_plan_24h"))];
  EXPECT_EQ(standard.limit, 24h);
  EXPECT_EQ(standard.goal.kind, TriggerKind::kFieldSet);
  EXPECT_EQ(standard.goal.target, to_index(*def->find_field("response_plan")));
  EXPECT_FALSE(standard.pausable);
  // The customer verifies, and can send the ticket back to improvement.
  EXPECT_TRUE(def->find_transition(*def->find_stage("verifying"), *def->find_stage("improving")));
}

TEST(Examples, B2cFunnelRunsFromTrafficToReferral) {
  const auto def = load_example("b2c_funnel.json");
  ASSERT_NE(def, nullptr);
  std::vector<std::string> modules;
  for (const Module& m : def->modules()) modules.push_back(m.id);
  EXPECT_EQ(modules,
            (std::vector<std::string>{"traffic", "trial", "purchase", "repurchase", "referral"}));
}

// docs/examples.md shows each example's diagram; it must show the current one.
TEST(Examples, AreDrawnInTheDocsAsTheyAreNow) {
  std::ifstream in(kSource / "docs" / "examples.md");
  const std::string docs(std::istreambuf_iterator<char>(in), {});
  ASSERT_FALSE(docs.empty()) << "docs/examples.md is missing";
  for (const auto& file : example_files()) {
    const LoadResult result = load_definition_file(file);
    ASSERT_TRUE(result.ok());
    const std::string diagram = render_diagram(*result.definition, DiagramFormat::kMermaid);
    EXPECT_NE(docs.find("```mermaid\n" + diagram + "```"), std::string::npos)
        << file.filename() << " is not drawn in docs/examples.md as it is now; regenerate with "
        << "scripts/update-docs";
  }
}

// find_rule_field() answers as find_field() does: for the segments of the definitions' own rules
// (found by address), for copies of them and of every field id (found by name), for anything else.
TEST(Examples, RuleSegmentsFindTheFieldsTheirNamesFind) {
  for (const auto& file : example_files()) {
    const auto def = load_example(file.filename().string());
    ASSERT_TRUE(def);
    std::vector<const Condition*> rules;
    for (const Stage& stage : def->stages()) {
      for (const Condition& c : stage.gate.conditions) rules.push_back(&c);
      if (stage.team && stage.team->when) rules.push_back(&*stage.team->when);
    }
    for (const Transition& t : def->transitions()) {
      if (t.guard) rules.push_back(t.guard.get());
    }
    if (def->lead_scoring()) rules.push_back(&def->lead_scoring()->score);
    for (const AlertThreshold& a : def->alerts()) rules.push_back(&a.condition);
    std::size_t naming_fields = 0;
    for (const Condition* c : rules) {
      for (const std::string_view segment : internal::RuleAccess::program(c->rule).segments) {
        EXPECT_EQ(def->find_rule_field(segment), def->find_field(segment)) << segment;
        const std::string copy(segment.begin(), segment.end());
        EXPECT_EQ(def->find_rule_field(copy), def->find_field(copy)) << copy;
        // The segment's address with another length is another text.
        if (!segment.empty()) {
          const std::string_view shorter = segment.substr(0, segment.size() - 1);
          EXPECT_EQ(def->find_rule_field(shorter), def->find_field(shorter)) << shorter;
        }
        naming_fields += def->find_field(segment).has_value();
      }
    }
    for (const Field& f : def->fields()) {
      EXPECT_EQ(def->find_rule_field(f.id), def->find_field(f.id)) << f.id;
    }
    EXPECT_EQ(def->find_rule_field("no such field"), std::nullopt);
    if (file.filename() == "b2b_pipeline.json") {
      EXPECT_GT(naming_fields, 5u);
    }
  }
}

}  // namespace
}  // namespace salesflow::testing
