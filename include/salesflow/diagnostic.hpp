// Diagnostics: what is wrong with an input, and where. Shared by every loader of outside input
// (process definitions, rules).
#ifndef SALESFLOW_DIAGNOSTIC_HPP_
#define SALESFLOW_DIAGNOSTIC_HPP_

#include <cstdint>
#include <string>
#include <string_view>

namespace salesflow {

// What kind of problem a diagnostic reports; stable, for programs that react to diagnostics.
enum class DiagnosticCode : std::uint8_t {
  kSyntax,               // not JSON: syntax error, invalid UTF-8, NaN/Infinity, truncated, empty
  kLimit,                // an input limit of LoadLimits was exceeded
  kDuplicateKey,         // an object has the same key twice
  kUnknownKey,           // a key the format does not define
  kMissingKey,           // a required key is absent
  kWrongType,            // a value of the wrong JSON type
  kInvalidValue,         // a value of the right type that the format does not allow
  kOutOfRange,           // a number outside its allowed range
  kDuplicateId,          // two declarations with the same id
  kUnknownReference,     // a reference to an undeclared role, field, stage, item, ...
  kAccountable,          // a stage without exactly one accountable role
  kUnreachableStage,     // a stage that cannot be reached from the start
  kNoTerminalReachable,  // a stage from which no won or lost stage can be reached
  kNoWonStage,           // the definition has no won stage
  kTrapCycle,            // stages forming a cycle that no transition leaves
  kIo,                   // the file cannot be read
};

std::string_view to_string(DiagnosticCode code) noexcept;

struct Diagnostic {
  DiagnosticCode code = DiagnosticCode::kSyntax;
  std::string pointer;  // RFC 6901 JSON Pointer to the offending value; "" is the whole document
  std::string message;  // one plain sentence, valid UTF-8

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

}  // namespace salesflow

#endif  // SALESFLOW_DIAGNOSTIC_HPP_
