// salesflow dot FILE [--format dot|mermaid]
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.hpp"
#include "salesflow/definition.hpp"
#include "salesflow/diagram.hpp"

namespace salesflow::cli {
namespace {

struct DotOptions {
  std::string file;
  DiagramFormat format = DiagramFormat::kDot;
};

int run_dot(const DotOptions& options) {
  const LoadResult result = load_definition_file(options.file);
  if (!result.ok()) {
    for (const Diagnostic& d : result.diagnostics) {
      std::cerr << options.file << ": " << (d.pointer.empty() ? "(document)" : d.pointer) << ": "
                << d.message << "\n";
    }
    return kExitInvalid;
  }
  std::cout << render_diagram(*result.definition, options.format);
  return kExitOk;
}

}  // namespace

void add_dot_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DotOptions>();
  CLI::App* command = app.add_subcommand(
      "dot", "Draw a definition's stage graph: Graphviz DOT (default) or Mermaid on stdout.");
  command->add_option("file", options->file, "Definition file (JSON)")->required();
  const std::map<std::string, DiagramFormat> formats{{"dot", DiagramFormat::kDot},
                                                     {"mermaid", DiagramFormat::kMermaid}};
  command->add_option("--format", options->format, "dot or mermaid")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
  command->callback([options, &exit_code] { exit_code = run_dot(*options); });
}

}  // namespace salesflow::cli
