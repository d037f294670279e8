// salesflow rule RULE_JSON [DATA_JSON]
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "definition/json_document.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::cli {
namespace {

struct RuleOptions {
  std::string rule;
  std::string data = "{}";
};

// The text of an argument: inline JSON, or the contents of the file named after '@' (when it holds
// at most `max_bytes`).
bool read_argument(const std::string& argument, std::size_t max_bytes, std::string& text,
                   const char* what) {
  if (argument.empty() || argument[0] != '@') {
    text = argument;
    return true;
  }
  const std::string path = argument.substr(1);
  std::string error;
  if (!read_text_file(path, max_bytes, text, error)) {
    std::cerr << path << ": the " << what << " file: " << error << "\n";
    return false;
  }
  return true;
}

int run_rule(const RuleOptions& options) {
  const RuleLimits limits;
  const RuleDataLimits data_limits;
  std::string rule_text, data_text;
  if (!read_argument(options.rule, limits.max_rule_bytes, rule_text, "rule") ||
      !read_argument(options.data, data_limits.max_document_bytes, data_text, "data")) {
    return kExitInvalid;
  }
  const RuleCompileResult compiled = compile_rule(rule_text, nullptr, limits);
  if (!compiled.ok()) {
    for (const Diagnostic& d : compiled.diagnostics) {
      std::cerr << printable_pointer(d.pointer) << ": " << d.message << "\n";
    }
    return kExitInvalid;
  }
  auto data = JsonRuleData::parse(data_text, data_limits);
  if (const auto* d = std::get_if<Diagnostic>(&data)) {
    std::cerr << "data: " << printable_pointer(d->pointer) << ": " << d->message << "\n";
    return kExitInvalid;
  }
  const auto result = compiled.rule->evaluate(std::get<JsonRuleData>(data));
  if (const auto* error = std::get_if<RuleError>(&result)) {
    std::cerr << printable_pointer(error->pointer) << ": " << error->message << "\n";
    return kExitInvalid;
  }
  std::cout << std::get<RuleValue>(result).to_json() << "\n";
  return kExitOk;
}

}  // namespace

void add_rule_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RuleOptions>();
  CLI::App* command = app.add_subcommand(
      "rule",
      "Evaluate a rule (JsonLogic, see docs/rules.md) against data and print the result as JSON.\n"
      "Each argument is inline JSON or @FILE. Exit 0 with the result on stdout; 1 when the rule\n"
      "does not compile or fails (POINTER: message lines on stderr); 2 on usage errors.");
  command->add_option("rule", options->rule, "The rule: JSON text, or @FILE")->required();
  command->add_option("data", options->data, "The data: JSON text, or @FILE (default: {})");
  command->callback([options, &exit_code] { exit_code = run_rule(*options); });
}

}  // namespace salesflow::cli
