// Diagrams: structure a reader relies on, and escaping of hostile names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/diagram.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

std::shared_ptr<const ProcessDefinition> minimal_with(const std::function<void(json&)>& mutate) {
  LoadResult result = load_mutated(mutate);
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  return result.definition;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Diagram, DotClustersStagesByModuleAndShowsGateAndAccountableRole) {
  const auto def = minimal_with([](json& d) {
    d["modules"].push_back({{"id", "second"}, {"name", "Second module"}});
    d["roles"][1]["name"] = "Sales manager";
  });
  const std::string dot = render_diagram(*def, DiagramFormat::kDot);
  EXPECT_TRUE(dot.starts_with("digraph \"minimal\" {"));
  EXPECT_EQ(count(dot, "subgraph \"cluster_"), 2u);
  EXPECT_THAT(dot, HasSubstr("accountable: Sales manager"));
  EXPECT_THAT(dot, HasSubstr("gate: fields amount; 1 checklist item(s); Sales manager approval"));
  // Terminals are drawn apart from active stages, won and lost in their own colours.
  EXPECT_EQ(count(dot, "doubleoctagon"), 2u);
  EXPECT_THAT(dot, HasSubstr("\"open\" -> \"won\";"));
  EXPECT_THAT(dot, HasSubstr("\"open\" -> \"lost\" [style=dashed"));
  EXPECT_TRUE(dot.ends_with("}\n"));
}

TEST(Diagram, DotEscapesQuotesBackslashesAndNewlinesInNames) {
  const auto def = minimal_with([](json& d) {
    d["stages"][0]["name"] = "Say \"hi\" \\ then\nleave";
    d["transitions"][0]["label"] = "a \"label\"";
  });
  const std::string dot = render_diagram(*def, DiagramFormat::kDot);
  EXPECT_THAT(dot, HasSubstr("Say \\\"hi\\\" \\\\ then\\nleave"));
  EXPECT_THAT(dot, HasSubstr("label=\"a \\\"label\\\"\""));
  EXPECT_THAT(dot, Not(HasSubstr("\nleave")));
}

TEST(Diagram, MermaidNumbersNodesAndEscapesLabels) {
  const auto def = minimal_with([](json& d) {
    d["stages"][0]["name"] = "<b>\"Open\" | #1 & more</b>";
    d["transitions"][0]["guard"] = {{"description", "amount > 5"}, {"rule", true}};
  });
  const std::string mermaid = render_diagram(*def, DiagramFormat::kMermaid);
  EXPECT_THAT(mermaid, HasSubstr("flowchart LR"));
  EXPECT_THAT(mermaid,
              HasSubstr("s0[\"#lt;b#gt;#quot;Open#quot; #124; #35;1 #amp; more#lt;/b#gt;"));
  EXPECT_THAT(mermaid, HasSubstr("s0 -->|\"[amount #gt; 5]\"| s1"));
  EXPECT_THAT(mermaid, HasSubstr("s2([\"Lost<br/>(lost)\"]):::lost"));
  EXPECT_THAT(mermaid, HasSubstr("start --> s0"));
  EXPECT_EQ(count(mermaid, "subgraph "), 1u);
}

}  // namespace
}  // namespace salesflow::testing
