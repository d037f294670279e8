// Checks of the stage graph as a whole, with Boost.Graph: every stage reachable from the start,
// a won or lost stage reachable from every stage, a won stage present, no cycle without a way out.
#ifndef SALESFLOW_DEFINITION_GRAPH_CHECKS_HPP_
#define SALESFLOW_DEFINITION_GRAPH_CHECKS_HPP_

#include <string_view>

#include "definition/reader.hpp"
#include "salesflow/definition.hpp"

namespace salesflow::internal {

// REQUIRES: `definition` has resolved all its references (stages, transitions, start).
// `stages_pointer` is the JSON Pointer of the "stages" array, for the diagnostics' pointers.
void check_graph(const ProcessDefinition& definition, std::string_view stages_pointer,
                 Diagnostics& out);

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEFINITION_GRAPH_CHECKS_HPP_
