// The salesflow command-line tool. See `salesflow --help` and docs/cli.md.
#include <csignal>
#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // A closed stdout (salesflow run ... | head -1) must end in a write error the tool reports and
  // exits 1 for, not in a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"salesflow: process definitions and pipelines for the sales lifecycle"};
  app.require_subcommand(1);
  int exit_code = salesflow::cli::kExitOk;
  salesflow::cli::add_validate_command(app, exit_code);
  salesflow::cli::add_dot_command(app, exit_code);
  salesflow::cli::add_rule_command(app, exit_code);
  salesflow::cli::add_run_command(app, exit_code);
  salesflow::cli::add_events_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; everything else is a usage error.
    const int printed = app.exit(e);
    return printed == 0 ? salesflow::cli::kExitOk : salesflow::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "salesflow: internal error: " << e.what() << "\n";
    return 3;
  }
  return exit_code;
}
