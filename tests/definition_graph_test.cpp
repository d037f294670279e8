// Whole-graph checks: reachability, termination, a won stage, and cycles without a way out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using json = nlohmann::json;

json active_stage(const std::string& id) {
  return {{"id", id},
          {"name", id},
          {"module", "main"},
          {"responsibility", {{"accountable", "manager"}}}};
}

// The minimal definition with stages a, b, c inserted before the terminals and the transitions
// replaced by `transitions`.
LoadResult load_graph(const json& transitions) {
  return load_mutated([&](json& d) {
    for (const char* id : {"c", "b", "a"})
      d["stages"].insert(d["stages"].begin() + 1, active_stage(id));
    d["transitions"] = transitions;
  });
}

TEST(DefinitionGraph, AcceptsBackwardMovesThatCanStillFinish) {
  const LoadResult result = load_graph(json::parse(R"([
    {"from": "open", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"},
    {"from": "b", "to": "c"}, {"from": "c", "to": "open"}, {"from": "c", "to": "won"},
    {"from": ["open", "a", "b", "c"], "to": "lost"}])"));
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
}

TEST(DefinitionGraph, ReportsStagesUnreachableFromTheStart) {
  const LoadResult result = load_graph(json::parse(R"([
    {"from": "open", "to": "won"}, {"from": "a", "to": "b"}, {"from": "b", "to": "won"},
    {"from": "c", "to": "lost"}])"));
  EXPECT_THAT(result.diagnostics,
              UnorderedElementsAre(IsDiagnostic(DiagnosticCode::kUnreachableStage, "/stages/1"),
                                   IsDiagnostic(DiagnosticCode::kUnreachableStage, "/stages/2"),
                                   IsDiagnostic(DiagnosticCode::kUnreachableStage, "/stages/3"),
                                   IsDiagnostic(DiagnosticCode::kUnreachableStage, "/stages/5")))
      << "a, b, c and the lost stage cannot be reached from 'open'";
}

TEST(DefinitionGraph, ReportsADeadEndStage) {
  const LoadResult result = load_graph(json::parse(R"([
    {"from": "open", "to": "a"}, {"from": "open", "to": "b"}, {"from": "b", "to": "c"},
    {"from": "c", "to": "won"}, {"from": "c", "to": "lost"}])"));
  EXPECT_THAT(result.diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kNoTerminalReachable, "/stages/1")));
  EXPECT_THAT(result.diagnostics[0].message, ::testing::HasSubstr("no outgoing transition"));
}

TEST(DefinitionGraph, ReportsACycleWithNoWayOutOnceAndStagesLeadingOnlyIntoIt) {
  const LoadResult result = load_graph(json::parse(R"([
    {"from": "open", "to": "a"}, {"from": "open", "to": "won"}, {"from": "open", "to": "lost"},
    {"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "b"}])"));
  EXPECT_THAT(result.diagnostics,
              UnorderedElementsAre(IsDiagnostic(DiagnosticCode::kTrapCycle, "/stages/2"),
                                   IsDiagnostic(DiagnosticCode::kNoTerminalReachable, "/stages/1")))
      << "b <-> c is the trap; a only leads into it";
  for (const Diagnostic& d : result.diagnostics) {
    if (d.code == DiagnosticCode::kTrapCycle) {
      EXPECT_THAT(d.message, ::testing::HasSubstr("\"b\""));
      EXPECT_THAT(d.message, ::testing::HasSubstr("\"c\""));
    }
  }
}

TEST(DefinitionGraph, ReportsADefinitionWithoutAWonStage) {
  const LoadResult result = load_mutated([](json& d) {
    d["stages"].erase(1);  // "won"
    d["transitions"] = json::parse(R"([{"from": "open", "to": "lost"}])");
  });
  EXPECT_THAT(result.diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kNoWonStage, "/stages")));
}

TEST(DefinitionGraph, IsSkippedWhileReferencesAreBroken) {
  // An unknown target drops the edge; reporting "unreachable" on top would only add noise.
  const LoadResult result = load_graph(json::parse(R"([
    {"from": "open", "to": "a"}, {"from": "a", "to": "bb"}, {"from": "b", "to": "c"},
    {"from": "c", "to": "won"}, {"from": "open", "to": "lost"}])"));
  EXPECT_THAT(result.diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kUnknownReference, "/transitions/1/to")));
}

TEST(DefinitionGraph, HandlesALongChainWithoutRecursion) {
  // 10,000 stages (the default limit) in a line: reachability must not recurse per stage.
  const LoadResult result = load_definition(generate_definition(9'998));
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
}

}  // namespace
}  // namespace salesflow::testing
