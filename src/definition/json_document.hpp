// Strict, bounded JSON parsing for every JSON input salesflow reads from outside.
//
// Two parsers, one contract. parse_json() builds an nlohmann::json DOM, for small inputs that code
// manipulates as JSON. parse_json_fast() parses with simdjson into a read-only tape, about 50x
// faster than nlohmann's DOM, for process definitions, whose load time is a product figure
// (docs/PERFORMANCE.md); on failure it re-reads the text with the nlohmann parser, which knows
// where the problem is, so both report the same located diagnostics.
//
// nlohmann/json and simdjson parse; this adds what hostile input needs: duplicate object keys are
// an error (nlohmann would keep one silently), nesting depth, string length, value count and
// document size are bounded, and every failure names the JSON Pointer where it happened. Parsing
// never recurses on the input's nesting, so depth cannot overflow the stack.
#ifndef SALESFLOW_DEFINITION_JSON_DOCUMENT_HPP_
#define SALESFLOW_DEFINITION_JSON_DOCUMENT_HPP_

#include <cstddef>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <simdjson.h>
// simdjson's parser has another layout without SIMDJSON_THREADS_ENABLED, which simdjson's CMake
// package defines for whatever links simdjson::simdjson: a target that includes this header
// without linking it would disagree with the library on dom::parser and crash.
#ifndef SIMDJSON_THREADS_ENABLED
#error "link simdjson::simdjson (for SIMDJSON_THREADS_ENABLED), as the salesflow library does"
#endif
#include <nlohmann/json.hpp>

#include "salesflow/definition.hpp"

namespace salesflow::internal {

struct JsonLimits {
  std::size_t max_document_bytes = 8 << 20;
  std::size_t max_depth = 64;
  std::size_t max_string_bytes = 64 << 10;
  std::size_t max_values = 1'000'000;
};

// Parses `text` as one JSON document. On failure returns a Diagnostic with code kSyntax (not
// JSON, including invalid UTF-8, NaN/Infinity, truncation and empty input), kDuplicateKey or
// kLimit.
std::variant<nlohmann::json, Diagnostic> parse_json(std::string_view text,
                                                    const JsonLimits& limits);

// As parse_json(), into a simdjson tape owned by `parser`: the element is valid until the parser
// parses again or is destroyed. simdjson (3.0) reads no integer beyond 64 bits, such as
// 100000000000000000000, which parse_json() reads as a double: such a document is refused
// (kSyntax) here.
std::variant<simdjson::dom::element, Diagnostic> parse_json_fast(std::string_view text,
                                                                 const JsonLimits& limits,
                                                                 simdjson::dom::parser& parser);

// As parse_json_fast(), for readers that can take either tree: a document that simdjson refuses
// and parse_json() accepts (an integer beyond 64 bits) comes back as parse_json()'s tree, so that
// every document parse_json() accepts is read, and read the same.
std::variant<simdjson::dom::element, nlohmann::json, Diagnostic> parse_json_any(
    std::string_view text, const JsonLimits& limits, simdjson::dom::parser& parser);

// Reads `in` to its end into `text` (replacing what it held), in chunks, and stops once `text`
// holds more than `max_bytes`: a caller tells a document over its limit by text.size() >
// max_bytes, without reading a huge or endless input (/dev/zero) whole and without setting aside
// the limit's worth of memory up front. Returns false when reading failed (the stream went bad).
bool read_bounded(std::istream& in, std::size_t max_bytes, std::string& text);

// Reads the file at `path` whole into `text`, once (a pipe too), when it holds at most
// `max_bytes`. Otherwise returns why: kIo "is a directory, not a file", "cannot open the file:
// REASON" or "cannot read the file"; kLimit "the file is larger than the limit of N bytes"
// (`text` then holds what was read).
std::optional<Diagnostic> read_document_file(const std::filesystem::path& path,
                                             std::size_t max_bytes, std::string& text);

// Appends one reference token to a JSON Pointer, escaping '~' and '/' as RFC 6901 requires.
void append_pointer_token(std::string& pointer, std::string_view token);
std::string child_pointer(std::string_view pointer, std::string_view token);
std::string child_pointer(std::string_view pointer, std::size_t index);

// Appends `text` as a JSON string literal, as JSON.stringify writes it: `"` `\` and control
// characters escaped (\b \f \n \r \t, else \u00XX), other text as UTF-8; invalid UTF-8 (possible
// only from a host's strings) becomes U+FFFD. For writers that produce JSON by hand for speed.
void append_json_string(std::string& out, std::string_view text);

// `text` as a double-quoted JSON string, safe to embed in a message: escapes control characters,
// replaces invalid UTF-8 with U+FFFD, and shortens text longer than `max_bytes` with "...".
std::string quote_text(std::string_view text, std::size_t max_bytes = 80);

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEFINITION_JSON_DOCUMENT_HPP_
