// Helpers for definition tests: build a broken definition by mutating the minimal valid one, and
// match diagnostics by code and pointer (not by wording, which may improve).
#ifndef SALESFLOW_TESTS_SUPPORT_DEFINITION_TEST_UTIL_HPP_
#define SALESFLOW_TESTS_SUPPORT_DEFINITION_TEST_UTIL_HPP_

#include <functional>
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "salesflow/definition.hpp"
#include "support/generate.hpp"

namespace salesflow {

inline void PrintTo(const Diagnostic& d, std::ostream* os) {
  *os << to_string(d.code) << " at \"" << d.pointer << "\": " << d.message;
}

namespace testing {

inline nlohmann::json minimal_json() { return nlohmann::json::parse(minimal_definition()); }

// Loads the minimal definition after `mutate` has changed it.
inline LoadResult load_mutated(const std::function<void(nlohmann::json&)>& mutate) {
  nlohmann::json doc = minimal_json();
  mutate(doc);
  return load_definition(doc.dump());
}

MATCHER_P2(IsDiagnostic, code, pointer,
           std::string("is a ") + std::string(to_string(code)) + " diagnostic at " + pointer) {
  return arg.code == code && arg.pointer == pointer;
}

// The diagnostics contain one with this code at this pointer.
inline auto HasDiagnostic(DiagnosticCode code, const std::string& pointer) {
  return ::testing::Contains(IsDiagnostic(code, pointer));
}

}  // namespace testing
}  // namespace salesflow

#endif  // SALESFLOW_TESTS_SUPPORT_DEFINITION_TEST_UTIL_HPP_
