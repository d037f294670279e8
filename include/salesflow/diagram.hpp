// Drawings of a process definition's stage graph, for people: Graphviz DOT and Mermaid.
//
// Stages are clustered by lifecycle module; won and lost stages are drawn distinctly; each active
// stage shows its accountable role and a summary of its gate; transitions show their label and
// guard, and backward moves and moves to lost stages are drawn dashed.
//
// [Thread safety] Pure functions of an immutable definition; call from any thread.
#ifndef SALESFLOW_DIAGRAM_HPP_
#define SALESFLOW_DIAGRAM_HPP_

#include <cstdint>
#include <string>

#include "salesflow/definition.hpp"

namespace salesflow {

enum class DiagramFormat : std::uint8_t {
  kDot,      // Graphviz: `dot -Tsvg`
  kMermaid,  // Mermaid flowchart, as rendered by GitHub in Markdown
};

// The whole drawing as text, ending with a newline. Every string taken from the definition is
// escaped for the target format.
std::string render_diagram(const ProcessDefinition& definition, DiagramFormat format);

}  // namespace salesflow

#endif  // SALESFLOW_DIAGRAM_HPP_
