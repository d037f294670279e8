#include <string>
#include <string_view>
#include <vector>

#include "salesflow/diagram.hpp"

namespace salesflow {
namespace {

// The lines of a stage's label: name, accountable role, gate summary.
std::vector<std::string> stage_label_lines(const ProcessDefinition& def, const Stage& stage) {
  std::vector<std::string> lines{stage.name};
  if (stage.kind != StageKind::kActive) {
    lines.push_back(stage.kind == StageKind::kWon ? "(won)" : "(lost)");
    return lines;
  }
  lines.push_back("accountable: " + def.role(stage.responsibility.accountable).name);
  const Gate& gate = stage.gate;
  if (gate.empty()) return lines;
  std::string summary = "gate:";
  const auto add = [&](std::string part) {
    summary += summary.size() > 5 ? "; " : " ";
    summary += part;
  };
  if (!gate.required_fields.empty()) {
    std::string part = "fields ";
    for (std::size_t i = 0; i < gate.required_fields.size(); ++i) {
      part += (i > 0 ? ", " : "") + def.field(gate.required_fields[i]).id;
    }
    add(part);
  }
  if (!gate.checklist.empty()) add(std::to_string(gate.checklist.size()) + " checklist item(s)");
  for (const ApprovalId id : gate.approvals) {
    const Approval& approval = def.approval(id);
    add(def.role(approval.role).name + " approval" +
        (approval.count > 1 ? " x" + std::to_string(approval.count) : ""));
  }
  if (!gate.conditions.empty()) add(std::to_string(gate.conditions.size()) + " condition(s)");
  lines.push_back(summary);
  return lines;
}

std::string edge_label(const Transition& t) {
  std::string label = t.label;
  if (t.guard) label.append(label.empty() ? "[" : " [").append(t.guard->description).append("]");
  return label;
}

// Forward moves are the main flow; backward moves and moves to lost stages are drawn dashed.
bool drawn_dashed(const Transition& t) { return !t.forward; }

// ---- Graphviz DOT ---------------------------------------------------------------------------

std::string dot_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string dot_label(const std::vector<std::string>& lines) {
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) joined += (i > 0 ? "\n" : "") + lines[i];
  return dot_string(joined);
}

void dot_node(std::string& out, const ProcessDefinition& def, std::size_t s, const char* indent) {
  const Stage& stage = def.stages()[s];
  out += indent + dot_string(stage.id) + " [label=" + dot_label(stage_label_lines(def, stage));
  if (stage.kind == StageKind::kWon) {
    out += ", shape=doubleoctagon, fillcolor=\"#c8e6c9\"";
  } else if (stage.kind == StageKind::kLost) {
    out += ", shape=doubleoctagon, fillcolor=\"#ffcdd2\"";
  } else if (!stage.gate.empty()) {
    out += ", penwidth=2";
  }
  out += "];\n";
}

std::string render_dot(const ProcessDefinition& def) {
  std::string out = "digraph " + dot_string(def.id()) + " {\n";
  out += "  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label=" +
         dot_string(def.name() + " (v" + std::to_string(def.version()) + ")") + "];\n";
  out +=
      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
      "fontname=\"Helvetica\"];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  out += "  \"__start\" [shape=point, label=\"\"];\n";
  const auto stages = def.stages();
  for (std::size_t m = 0; m < def.modules().size(); ++m) {
    const Module& module = def.modules()[m];
    out += "  subgraph " + dot_string("cluster_" + module.id) + " {\n";
    out += "    label=" + dot_string(module.name) + "; style=\"rounded,dashed\";\n";
    for (std::size_t s = 0; s < stages.size(); ++s) {
      if (stages[s].module && to_index(*stages[s].module) == m) dot_node(out, def, s, "    ");
    }
    out += "  }\n";
  }
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (!stages[s].module) dot_node(out, def, s, "  ");
  }
  out += "  \"__start\" -> " + dot_string(def.stage(def.start()).id) + ";\n";
  for (const Transition& t : def.transitions()) {
    out += "  " + dot_string(def.stage(t.from).id) + " -> " + dot_string(def.stage(t.to).id);
    std::vector<std::string> attributes;
    if (const std::string label = edge_label(t); !label.empty()) {
      attributes.push_back("label=" + dot_string(label));
    }
    if (drawn_dashed(t)) attributes.push_back("style=dashed");
    if (def.stage(t.to).kind == StageKind::kLost) attributes.push_back("color=\"#9e9e9e\"");
    if (!attributes.empty()) {
      out += " [";
      for (std::size_t i = 0; i < attributes.size(); ++i)
        out += (i > 0 ? ", " : "") + attributes[i];
      out += "]";
    }
    out += ";\n";
  }
  return out + "}\n";
}

// ---- Mermaid --------------------------------------------------------------------------------

// Mermaid labels are HTML inside double quotes: entity-escape what would end or break them.
std::string mermaid_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '#':
        out += "#35;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '|':
        out += "#124;";
        break;
      case '\n':
        out += "<br/>";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

std::string mermaid_label(const std::vector<std::string>& lines) {
  std::string joined;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    joined += (i > 0 ? "<br/>" : "") + mermaid_text(lines[i]);
  }
  return "\"" + joined + "\"";
}

// Mermaid node ids must be plain words; stage ids may hold '.' and '-', so number them.
// (Appended, not `"s" + ...`: GCC 12 warns falsely about prepending to a temporary, -Wrestrict.)
std::string mermaid_id(std::size_t stage) {
  std::string id = "s";
  id += std::to_string(stage);
  return id;
}

void mermaid_node(std::string& out, const ProcessDefinition& def, std::size_t s,
                  const char* indent) {
  const Stage& stage = def.stages()[s];
  const std::string label = mermaid_label(stage_label_lines(def, stage));
  out += indent + mermaid_id(s);
  out += stage.kind == StageKind::kActive ? "[" + label + "]" : "([" + label + "])";
  if (stage.kind != StageKind::kActive) out += ":::" + std::string(to_string(stage.kind));
  out += "\n";
}

std::string render_mermaid(const ProcessDefinition& def) {
  std::string out = "---\ntitle: " + mermaid_text(def.name()) + " (v" +
                    std::to_string(def.version()) + ")\n---\nflowchart LR\n";
  out += "  classDef won fill:#c8e6c9,stroke:#2e7d32\n";
  out += "  classDef lost fill:#ffcdd2,stroke:#c62828\n";
  out += "  start((start))\n";
  const auto stages = def.stages();
  for (std::size_t m = 0; m < def.modules().size(); ++m) {
    const Module& module = def.modules()[m];
    out += "  subgraph m" + std::to_string(m) + "[\"" + mermaid_text(module.name) + "\"]\n";
    for (std::size_t s = 0; s < stages.size(); ++s) {
      if (stages[s].module && to_index(*stages[s].module) == m) mermaid_node(out, def, s, "    ");
    }
    out += "  end\n";
  }
  for (std::size_t s = 0; s < stages.size(); ++s) {
    if (!stages[s].module) mermaid_node(out, def, s, "  ");
  }
  out += "  start --> " + mermaid_id(to_index(def.start())) + "\n";
  for (const Transition& t : def.transitions()) {
    const std::string label = edge_label(t);
    out += "  " + mermaid_id(to_index(t.from)) + (drawn_dashed(t) ? " -.->" : " -->");
    if (!label.empty()) out.append("|\"").append(mermaid_text(label)).append("\"|");
    out.append(" ").append(mermaid_id(to_index(t.to))).append("\n");
  }
  return out;
}

}  // namespace

std::string render_diagram(const ProcessDefinition& definition, DiagramFormat format) {
  return format == DiagramFormat::kDot ? render_dot(definition) : render_mermaid(definition);
}

}  // namespace salesflow
