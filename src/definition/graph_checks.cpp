#include "definition/graph_checks.hpp"

#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/strong_components.hpp>

#include "definition/json_document.hpp"

namespace salesflow::internal {
namespace {

using StageGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = StageGraph::vertex_descriptor;

// The vertices a breadth-first search from `sources` discovers: those left non-white.
template <class Graph>
std::vector<bool> reached_from(const Graph& graph, const std::vector<Vertex>& sources) {
  std::vector<bool> reached(boost::num_vertices(graph), false);
  if (sources.empty()) return reached;
  std::vector<boost::default_color_type> colors(boost::num_vertices(graph), boost::white_color);
  boost::queue<Vertex> queue;
  boost::breadth_first_search(
      graph, sources.begin(), sources.end(), queue, boost::default_bfs_visitor(),
      boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, graph)));
  for (std::size_t v = 0; v < colors.size(); ++v) reached[v] = colors[v] != boost::white_color;
  return reached;
}

std::string stage_list(const ProcessDefinition& definition, const std::vector<Vertex>& stages) {
  std::string text;
  constexpr std::size_t kShown = 8;
  for (std::size_t i = 0; i < stages.size() && i < kShown; ++i) {
    if (i > 0) text += ", ";
    text += quote_text(definition.stages()[stages[i]].id);
  }
  if (stages.size() > kShown) text += " and " + std::to_string(stages.size() - kShown) + " more";
  return text;
}

}  // namespace

void check_graph(const ProcessDefinition& definition, std::string_view stages_pointer,
                 Diagnostics& out) {
  const auto stages = definition.stages();
  StageGraph graph(stages.size());
  for (const Transition& t : definition.transitions()) {
    boost::add_edge(to_index(t.from), to_index(t.to), graph);
  }
  const auto pointer = [&](std::size_t stage) { return child_pointer(stages_pointer, stage); };

  std::vector<Vertex> terminals;
  bool has_won = false;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (stages[s].kind != StageKind::kActive) terminals.push_back(s);
    has_won = has_won || stages[s].kind == StageKind::kWon;
  }
  if (!has_won) {
    out.add(DiagnosticCode::kNoWonStage, std::string(stages_pointer),
            "the definition has no won stage, so no instance can ever succeed");
  }

  const std::vector<bool> reachable = reached_from(graph, {to_index(definition.start())});
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (!reachable[s]) {
      out.add(DiagnosticCode::kUnreachableStage, pointer(s),
              "stage " + quote_text(stages[s].id) + " cannot be reached from the start stage " +
                  quote_text(definition.stage(definition.start()).id));
    }
  }

  // Strongly connected components: a component that no edge leaves, that holds a cycle (more
  // than one stage, as self-transitions are refused earlier) and no terminal, traps instances.
  std::vector<std::size_t> component(stages.size());
  const std::size_t components = boost::strong_components(
      graph,
      boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, graph)));
  std::vector<std::vector<Vertex>> members(components);
  std::vector<bool> has_exit(components, false);
  for (std::size_t s = 0; s < stages.size(); ++s) {
    members[component[s]].push_back(s);
    for (const auto edge : boost::make_iterator_range(boost::out_edges(s, graph))) {
      if (component[boost::target(edge, graph)] != component[s]) has_exit[component[s]] = true;
    }
  }
  std::vector<bool> in_trap(stages.size(), false);
  for (std::size_t c = 0; c < components; ++c) {
    if (has_exit[c] || members[c].size() < 2) continue;
    for (const Vertex s : members[c]) in_trap[s] = true;
    out.add(DiagnosticCode::kTrapCycle, pointer(members[c].front()),
            "stages " + stage_list(definition, members[c]) +
                " form a cycle that no transition leaves, so an instance there can never finish");
  }

  const std::vector<bool> finishes = reached_from(boost::make_reverse_graph(graph), terminals);
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (!finishes[s] && !in_trap[s]) {
      out.add(DiagnosticCode::kNoTerminalReachable, pointer(s),
              "no won or lost stage can be reached from stage " + quote_text(stages[s].id) +
                  (definition.outgoing(StageId(static_cast<std::uint32_t>(s))).empty()
                       ? ": it has no outgoing transition"
                       : ""));
    }
  }
}

}  // namespace salesflow::internal
