// Loads a definition through the installed headers and library; exit 0 when it behaves.
#include <iostream>

#include <salesflow/definition.hpp>
#include <salesflow/diagram.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const salesflow::LoadResult good = salesflow::load_definition_file(argv[1]);
  if (!good.ok()) {
    for (const auto& d : good.diagnostics) std::cerr << d.pointer << ": " << d.message << "\n";
    return 1;
  }
  const salesflow::LoadResult bad = salesflow::load_definition("{\"format\": 1}");
  if (bad.ok() || bad.diagnostics.empty()) return 1;
  const std::string dot = salesflow::render_diagram(*good.definition, salesflow::DiagramFormat::kDot);
  std::cout << "consumer: " << good.definition->id() << " has " << good.definition->stages().size()
            << " stages; " << dot.size() << " bytes of DOT\n";
  return 0;
}
