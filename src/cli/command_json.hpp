// The JSON codec of `salesflow run` (docs/command-stream.md): one command line in, one answer line
// out. Decoding is strict (unknown keys, wrong types and missing keys are errors that name the
// key) and bounded (kCommandLimits); encoding writes one line of compact JSON with members in a
// fixed, documented order.
//
// [Errors] Nothing here throws for bad input; a bad line becomes a LineError. Only std::bad_alloc
// may escape.
#ifndef SALESFLOW_CLI_COMMAND_JSON_HPP_
#define SALESFLOW_CLI_COMMAND_JSON_HPP_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "definition/json_document.hpp"
#include "salesflow/definition.hpp"
#include "salesflow/engine.hpp"
#include "salesflow/process.hpp"
#include "salesflow/value.hpp"

namespace salesflow::cli {

// A command line longer than this is answered bad_command without being kept in memory.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

// Bounds for parsing one line: a command nests at most 3 levels (line, fields, a string list);
// 16 leaves room and still stops a hostile "[[[[..." at once.
inline constexpr internal::JsonLimits kCommandLimits{
    .max_document_bytes = kMaxLineBytes,
    .max_depth = 16,
    .max_string_bytes = kMaxLineBytes,
    .max_values = 100'000,
};

// A line's answer that the CLI gives itself, before or instead of asking the engine.
struct LineError {
  ErrorCode code = ErrorCode::kBadCommand;
  std::string message;
  std::string pointer;   // bad_command: the JSON Pointer of the offending value ("" = the line)
  std::string field;     // invalid_field: the field whose value has the wrong JSON type
  std::string instance;  // the line's instance when it could be read ("" otherwise), for --summary
};

// A decoded command line.
struct CommandLine {
  bool tick = false;  // tick: only `at` is meaningful
  Timestamp at{};
  Command command;  // `fields` is still empty: see convert_fields()
  // The line's "fields" object (std::monostate when absent). Field values are typed by the
  // definition, which is known only once the line is decoded, so they are converted in a second
  // step. Most lines are read by simdjson: their object lives in the parser given to
  // decode_command_line() and is valid until that parser parses again. A line simdjson cannot
  // read (an integer beyond 64 bits) is read by nlohmann/json and holds its own tree.
  std::variant<std::monostate, simdjson::dom::element, nlohmann::json> fields;
};

// Decodes one line (without its '\n'), parsing it with `parser` (reused from line to line, so
// that parsing allocates nothing). Checks the shape only: whether the instance exists, the actor
// may act, or the time goes backwards is for the caller and the engine.
std::variant<CommandLine, LineError> decode_command_line(std::string_view line,
                                                         simdjson::dom::parser& parser);

// Converts `line.fields` into `line.command.fields` by the types `definition` declares, in the
// order of the field names (bytewise). REQUIRES: the parser that decoded `line` has not parsed
// since.
// Names `definition` does not declare are passed on as unset values, for the engine to reject as
// unknown fields. With no definition (unknown instance or definition) nothing is converted: the
// engine rejects the command before it looks at fields. Returns an invalid_field error for a
// JSON value of the wrong type.
std::optional<LineError> convert_fields(CommandLine& line, const ProcessDefinition* definition);

// Answer lines, each ending with '\n', appended to `out`.
// REQUIRES: `definition` is the one the events were decided for.
void append_accepted(std::string& out, const CommandResult& result,
                     const ProcessDefinition* definition);
void append_tick(std::string& out);
void append_rejection(std::string& out, const Rejection& rejection, std::uint64_t version);
void append_line_error(std::string& out, const LineError& error);

// One event as a JSON object, with stage, field, item, approval and role names instead of
// indices. Exposed for tests and other tools.
void append_event(std::string& out, const Event& event, const ProcessDefinition& definition);

}  // namespace salesflow::cli

#endif  // SALESFLOW_CLI_COMMAND_JSON_HPP_
