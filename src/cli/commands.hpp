// The subcommands of the salesflow tool. Each add_* function registers one subcommand on `app`;
// when that subcommand runs, it writes its exit status to `exit_code`:
// 0 success, 1 the input was processed and found bad, 2 usage error.
#ifndef SALESFLOW_CLI_COMMANDS_HPP_
#define SALESFLOW_CLI_COMMANDS_HPP_

#include <CLI/CLI.hpp>

namespace salesflow::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;

void add_validate_command(CLI::App& app, int& exit_code);
void add_dot_command(CLI::App& app, int& exit_code);
void add_rule_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_events_command(CLI::App& app, int& exit_code);

}  // namespace salesflow::cli

#endif  // SALESFLOW_CLI_COMMANDS_HPP_
