// A host program built against an installed salesflow: loads a definition, runs one command.
// Exit 0 when both behave; the README's "Using the library" shows the same code.
#include <iostream>

#include <salesflow/definition.hpp>
#include <salesflow/diagram.hpp>
#include <salesflow/engine.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const salesflow::LoadResult result = salesflow::load_definition_file(argv[1]);
  if (!result.ok()) {
    for (const auto& d : result.diagnostics) std::cerr << d.pointer << ": " << d.message << "\n";
    return 1;
  }
  const salesflow::LoadResult bad = salesflow::load_definition("{\"format\": 1}");
  if (bad.ok() || bad.diagnostics.empty()) return 1;

  salesflow::InMemoryDirectory people;
  people.grant("maria", "sales_rep");
  salesflow::Engine engine({.directory = &people});
  engine.register_definition(result.definition);
  salesflow::Command create{.type = salesflow::CommandType::kCreate,
                            .instance = "deal-1",
                            .actor = "maria",
                            .definition_id = "b2b_pipeline"};
  const salesflow::CommandResult answer =
      engine.execute(create, *salesflow::parse_timestamp("2026-11-27T09:00:00Z"));
  if (!answer.ok()) {
    std::cerr << answer.rejection->message << "\n";
    return 1;
  }
  const std::string dot =
      salesflow::render_diagram(*result.definition, salesflow::DiagramFormat::kDot);
  std::cout << "consumer: " << result.definition->id() << " has "
            << result.definition->stages().size() << " stages; " << dot.size()
            << " bytes of DOT; deal-1 is at version " << answer.version << "\n";
  return 0;
}
