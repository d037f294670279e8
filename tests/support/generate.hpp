// Synthetic process definitions for tests and benchmarks.
#ifndef SALESFLOW_TESTS_SUPPORT_GENERATE_HPP_
#define SALESFLOW_TESTS_SUPPORT_GENERATE_HPP_

#include <cstddef>
#include <string>

namespace salesflow::testing {

// A valid definition with `stages` active stages (at least 1) in modules of ten, each with a
// checklist item, a gate over a field, the item and (every third stage) an approval; forward,
// backward and lost transitions; a won and a lost terminal; and one delivery standard per module.
std::string generate_definition(std::size_t stages);

// The smallest valid definition: two roles, one module, stages "open" -> "won" / "lost".
// Tests mutate it (as JSON) to build one broken definition per diagnostic.
std::string minimal_definition();

}  // namespace salesflow::testing

#endif  // SALESFLOW_TESTS_SUPPORT_GENERATE_HPP_
