// salesflow validate FILE... [--json]
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "definition/json_document.hpp"
#include "salesflow/definition.hpp"

namespace salesflow::cli {
namespace {

struct ValidateOptions {
  std::vector<std::string> files;
  bool json = false;
};

int run_validate(const ValidateOptions& options) {
  nlohmann::json report = nlohmann::json::array();
  bool all_valid = true;
  for (const std::string& file : options.files) {
    const LoadResult result = load_definition_file(file);
    all_valid = all_valid && result.ok();
    for (const Diagnostic& d : result.diagnostics) {
      if (options.json) {
        report.push_back({{"file", file},
                          {"pointer", d.pointer},
                          {"code", to_string(d.code)},
                          {"message", d.message}});
      } else {
        std::cout << file << ": " << printable_pointer(d.pointer) << ": " << d.message << "\n";
      }
    }
    if (result.ok() && !options.json) {
      const ProcessDefinition& def = *result.definition;
      std::cout << file << ": valid: " << def.id() << " v" << def.version() << ", "
                << def.stages().size() << " stages, " << def.transitions().size()
                << " transitions\n";
    }
  }
  if (options.json) {
    std::cout << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return all_valid ? kExitOk : kExitInvalid;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* command = app.add_subcommand(
      "validate",
      "Check process definitions; print every problem as FILE: POINTER: message.\n"
      "Exit 0 when all are valid, 1 when any is not, 2 on usage errors.");
  command->add_option("files", options->files, "Definition files (JSON)")->required();
  command->add_flag("--json", options->json,
                    "Print the diagnostics as one JSON array of {file, pointer, code, message}");
  command->callback([options, &exit_code] { exit_code = run_validate(*options); });
}

}  // namespace salesflow::cli
