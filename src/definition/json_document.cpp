#include "definition/json_document.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

namespace salesflow::internal {
namespace {

using nlohmann::json;

// A SAX consumer that builds the DOM like nlohmann's own json_sax_dom_parser, and on top of it
// enforces the limits and rejects duplicate keys. Returning false from any callback stops the
// parser at once; the first failure is kept in failure_.
class BoundedDomBuilder {
 public:
  explicit BoundedDomBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() { return add_value(json(nullptr)); }
  bool boolean(bool value) { return add_value(json(value)); }
  bool number_integer(json::number_integer_t value) { return add_value(json(value)); }
  bool number_unsigned(json::number_unsigned_t value) { return add_value(json(value)); }
  bool number_float(json::number_float_t value, const std::string& /*text*/) {
    return add_value(json(value));
  }
  bool binary(json::binary_t& /*value*/) { return fail(DiagnosticCode::kSyntax, "binary value"); }
  bool string(json::string_t& value) {
    if (value.size() > limits_.max_string_bytes) return string_too_long(value.size());
    return add_value(json(std::move(value)));
  }

  bool start_object(std::size_t /*size*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& key) {
    Frame& frame = stack_.back();
    if (key.size() > limits_.max_string_bytes) return string_too_long(key.size());
    frame.key = key;
    if (frame.value->contains(key)) {
      return fail(DiagnosticCode::kDuplicateKey,
                  "duplicate object key " + quote_text(key) + "; each key may appear only once");
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    std::string message = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to a user.
    if (const auto bracket = message.find("] ");
        message.starts_with("[json.") && bracket != std::string::npos) {
      message.erase(0, bracket + 2);
    }
    // The message quotes the bytes last read, which may be invalid UTF-8: re-encode it safely.
    const std::string safe = quote_text(message, 400);
    return fail(DiagnosticCode::kSyntax, safe.substr(1, safe.size() - 2));
  }

  bool failed() const { return failure_.has_value(); }
  const Diagnostic& failure() const { return *failure_; }
  json take_root() { return std::move(root_); }

 private:
  struct Frame {
    json* value;      // the open array or object
    std::string key;  // objects: the key whose value is being parsed
  };

  bool count_value() {
    if (++values_ > limits_.max_values) {
      return fail(DiagnosticCode::kLimit,
                  "the document has more than " + std::to_string(limits_.max_values) + " values");
    }
    return true;
  }

  // Places `value` where the parser is: the root, the next array element or the current key.
  json* place(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& frame = stack_.back();
    if (frame.value->is_array()) {
      frame.value->push_back(std::move(value));
      return &frame.value->back();
    }
    json& slot = (*frame.value)[frame.key];
    slot = std::move(value);
    return &slot;
  }

  bool add_value(json&& value) {
    if (!count_value()) return false;
    place(std::move(value));
    return true;
  }

  bool open(json::value_t type) {
    if (!count_value()) return false;
    if (stack_.size() >= limits_.max_depth) {
      return fail(
          DiagnosticCode::kLimit,
          "nesting deeper than " + std::to_string(limits_.max_depth) + " arrays and objects");
    }
    json* value = place(json(type));
    stack_.push_back(Frame{value, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  bool string_too_long(std::size_t size) {
    return fail(DiagnosticCode::kLimit, "a string of " + std::to_string(size) +
                                            " bytes is longer than the limit of " +
                                            std::to_string(limits_.max_string_bytes));
  }

  // The pointer to where the parser is now: each open container plus the slot being filled.
  std::string current_pointer() const {
    std::string pointer;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      const Frame& frame = stack_[i];
      if (frame.value->is_object()) {
        append_pointer_token(pointer, frame.key);
      } else {
        // An inner frame's child is the array's last element; at the innermost frame the parser
        // is at the element after the last one.
        const std::size_t size = frame.value->size();
        const bool innermost = i + 1 == stack_.size();
        append_pointer_token(pointer, std::to_string(innermost ? size : size - 1));
      }
    }
    return pointer;
  }

  bool fail(DiagnosticCode code, std::string message) {
    if (!failure_) failure_ = Diagnostic{code, current_pointer(), std::move(message)};
    return false;
  }

  const JsonLimits& limits_;
  json root_;
  std::vector<Frame> stack_;
  std::size_t values_ = 0;
  std::optional<Diagnostic> failure_;
};

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Checks common to both parsers, before either runs.
std::optional<Diagnostic> check_text(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_document_bytes) {
    return Diagnostic{DiagnosticCode::kLimit, "",
                      "the document is " + std::to_string(text.size()) +
                          " bytes, more than the limit of " +
                          std::to_string(limits.max_document_bytes)};
  }
  if (is_blank(text)) {
    return Diagnostic{DiagnosticCode::kSyntax, "", "the document is empty"};
  }
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore whatever follows.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return Diagnostic{DiagnosticCode::kSyntax, "",
                      "the document contains a NUL byte at offset " + std::to_string(nul) +
                          "; JSON text cannot contain one"};
  }
  return std::nullopt;
}

// The limits and duplicate keys, checked over a simdjson tape without recursion. Returns the
// first problem in document order. Pointers are only built for a problem: each visited container
// records its parent and its place there, and the pointer is assembled from that trail.
std::optional<Diagnostic> check_tape(simdjson::dom::element root, const JsonLimits& limits) {
  using simdjson::dom::element_type;
  constexpr std::size_t kNone = SIZE_MAX;
  struct Place {
    std::size_t parent = kNone;  // index into `containers`, kNone for the root
    bool in_object = false;
    std::string_view key;   // in an object
    std::size_t index = 0;  // in an array
  };
  struct Pending {
    simdjson::dom::element value;
    Place place;
  };
  // Inline room for what a command line or a small document needs: no allocation for them.
  boost::container::small_vector<Place, 16> containers;
  boost::container::small_vector<std::size_t, 16> depths;  // of each container: the root's is 1
  // Registers the container at `place`; false when it is nested deeper than the limit (simdjson
  // does not count an empty array or object towards its own depth limit).
  const auto enter = [&](const Place& place, std::size_t& self) {
    self = containers.size();
    const std::size_t depth = place.parent == kNone ? 1 : depths[place.parent] + 1;
    containers.push_back(place);
    depths.push_back(depth);
    return depth <= limits.max_depth;
  };
  const auto pointer_of = [&](Place place) {
    std::vector<Place> chain;
    for (; place.parent != kNone; place = containers[place.parent]) chain.push_back(place);
    std::string pointer;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      append_pointer_token(pointer, it->in_object ? it->key : std::to_string(it->index));
    }
    return pointer;
  };
  const auto too_long = [&](std::size_t size, Place place) {
    return Diagnostic{DiagnosticCode::kLimit, pointer_of(place),
                      "a string of " + std::to_string(size) +
                          " bytes is longer than the limit of " +
                          std::to_string(limits.max_string_bytes)};
  };
  const auto too_deep = [&](Place place) {
    return Diagnostic{
        DiagnosticCode::kLimit, pointer_of(place),
        "nesting deeper than " + std::to_string(limits.max_depth) + " arrays and objects"};
  };
  boost::container::small_vector<Pending, 32> stack{{root, Place{}}};
  boost::container::small_vector<std::string_view, 32> keys;
  std::size_t values = 0;
  while (!stack.empty()) {
    const Pending current = stack.back();
    stack.pop_back();
    if (++values > limits.max_values) {
      return Diagnostic{
          DiagnosticCode::kLimit, pointer_of(current.place),
          "the document has more than " + std::to_string(limits.max_values) + " values"};
    }
    switch (current.value.type()) {
      case element_type::STRING:
        if (const std::string_view s = current.value.get_string().value_unsafe();
            s.size() > limits.max_string_bytes) {
          return too_long(s.size(), current.place);
        }
        break;
      case element_type::ARRAY: {
        std::size_t self = 0;
        if (!enter(current.place, self)) return too_deep(current.place);
        // Pushed in reverse, so that elements are visited in document order.
        const std::size_t first = stack.size();
        std::size_t index = 0;
        const simdjson::dom::array array = current.value.get_array().value_unsafe();
        for (const simdjson::dom::element child : array) {
          stack.push_back({child, Place{self, false, {}, index++}});
        }
        std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
        break;
      }
      case element_type::OBJECT: {
        std::size_t self = 0;
        if (!enter(current.place, self)) return too_deep(current.place);
        const std::size_t first = stack.size();
        const auto object = current.value.get_object().value_unsafe();
        // Small objects (nearly all) compare keys pairwise; a large one gets a hash set of its
        // own, sized to it, so that every object costs time linear in its own size.
        const bool large = object.size() > 16;
        std::unordered_set<std::string_view> seen;
        if (large) seen.reserve(object.size());
        keys.clear();
        for (const auto field : object) {
          const Place place{self, true, field.key, 0};
          if (field.key.size() > limits.max_string_bytes) return too_long(field.key.size(), place);
          const bool duplicate = large
                                     ? !seen.insert(field.key).second
                                     : std::find(keys.begin(), keys.end(), field.key) != keys.end();
          if (duplicate) {
            return Diagnostic{DiagnosticCode::kDuplicateKey, pointer_of(place),
                              "duplicate object key " + quote_text(field.key) +
                                  "; each key may appear only once"};
          }
          if (!large) keys.push_back(field.key);
          stack.push_back({field.value, place});
        }
        std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
        break;
      }
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<json, Diagnostic> parse_json(std::string_view text, const JsonLimits& limits) {
  if (auto problem = check_text(text, limits)) return std::move(*problem);
  BoundedDomBuilder builder(limits);
  // strict: nothing but whitespace may follow the value; comments are not JSON.
  json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                  /*strict=*/true, /*ignore_comments=*/false);
  if (builder.failed()) return builder.failure();
  return builder.take_root();
}

namespace {

// simdjson's parse of `text` with its tape checked. Where simdjson or the check refuses the text,
// parse_json()'s answer instead: its diagnostic (located, and the same as parse_json() gives, in
// the same order of problems), or its tree where it reads what simdjson cannot. `refused` is
// simdjson's own error then (SUCCESS when only the check refused).
std::variant<simdjson::dom::element, json, Diagnostic> parse_checked(
    std::string_view text, const JsonLimits& limits, simdjson::dom::parser& parser,
    simdjson::error_code& refused) {
  refused = simdjson::SUCCESS;
  if (auto problem = check_text(text, limits)) return std::move(*problem);
  // simdjson counts the root as one level, nlohmann does not: allow one more. A parser that is
  // reused (one per stream of command lines) grows by doubling, not to each longer line.
  if (parser.capacity() < text.size() || parser.max_depth() != limits.max_depth + 1) {
    const std::size_t capacity =
        std::max(text.size(), std::min(2 * parser.capacity(), limits.max_document_bytes));
    if (const auto error = parser.allocate(capacity, limits.max_depth + 1); error) {
      return Diagnostic{
          DiagnosticCode::kLimit, "",
          std::string("cannot allocate the parser: ") + simdjson::error_message(error)};
    }
  }
  simdjson::dom::element root;
  refused = parser.parse(text.data(), text.size()).get(root);
  if (refused == simdjson::SUCCESS && !check_tape(root, limits)) return root;
  // Rare (every such text but an integer beyond 64 bits is refused): nlohmann says where.
  auto slow = parse_json(text, limits);
  if (auto* diagnostic = std::get_if<Diagnostic>(&slow)) return std::move(*diagnostic);
  return std::move(std::get<json>(slow));
}

}  // namespace

std::variant<simdjson::dom::element, json, Diagnostic> parse_json_any(
    std::string_view text, const JsonLimits& limits, simdjson::dom::parser& parser) {
  simdjson::error_code refused;
  return parse_checked(text, limits, parser, refused);
}

std::variant<simdjson::dom::element, Diagnostic> parse_json_fast(std::string_view text,
                                                                 const JsonLimits& limits,
                                                                 simdjson::dom::parser& parser) {
  simdjson::error_code refused;
  auto parsed = parse_checked(text, limits, parser, refused);
  if (auto* root = std::get_if<simdjson::dom::element>(&parsed)) return *root;
  if (auto* diagnostic = std::get_if<Diagnostic>(&parsed)) return std::move(*diagnostic);
  // nlohmann read what simdjson did not.
  if (refused == simdjson::NUMBER_ERROR) {
    return Diagnostic{DiagnosticCode::kSyntax, "",
                      "the document holds an integer beyond 64 bits, which this reader cannot "
                      "take exactly; write such a number with an exponent, such as 1e20"};
  }
  return Diagnostic{
      DiagnosticCode::kSyntax, "",
      std::string("the document is not valid JSON: ") + simdjson::error_message(refused)};
}

void append_pointer_token(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (const char c : token) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

std::string child_pointer(std::string_view pointer, std::string_view token) {
  std::string result(pointer);
  append_pointer_token(result, token);
  return result;
}

std::string child_pointer(std::string_view pointer, std::size_t index) {
  std::string result(pointer);
  result += '/';
  result += std::to_string(index);
  return result;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied: they need no escaping
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Keep a whole, well-formed sequence in the run; replace anything else.
      const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      bool valid = length != 0 && i + length <= text.size();
      for (std::size_t k = 1; valid && k < length; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      if (valid) {
        i += length;
        continue;
      }
      out.append(text.data() + run, i - run);
      out += "\xEF\xBF\xBD";
      run = ++i;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(text.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

std::string quote_text(std::string_view text, std::size_t max_bytes) {
  std::string_view shown = text;
  bool shortened = false;
  if (shown.size() > max_bytes) {
    shown = shown.substr(0, max_bytes);
    // Do not cut inside a UTF-8 sequence: drop trailing continuation bytes and their lead byte.
    while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80) {
      shown.remove_suffix(1);
    }
    if (!shown.empty() && static_cast<unsigned char>(shown.back()) >= 0xC0) shown.remove_suffix(1);
    shortened = true;
  }
  std::string result = json(std::string(shown))
                           .dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  if (shortened) result.insert(result.size() - 1, "...");
  return result;
}

bool read_bounded(std::istream& in, std::size_t max_bytes, std::string& text) {
  text.clear();
  char chunk[64 * 1024];
  while (in && text.size() <= max_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  return !in.bad();
}

std::optional<Diagnostic> read_document_file(const std::filesystem::path& path,
                                             std::size_t max_bytes, std::string& text) {
  text.clear();
  const auto io_error = [](std::string what) {
    return Diagnostic{DiagnosticCode::kIo, "", std::move(what)};
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return io_error("is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open the file: " + std::generic_category().message(errno));
  if (!read_bounded(in, max_bytes, text)) return io_error("cannot read the file");
  if (text.size() > max_bytes) {
    return Diagnostic{
        DiagnosticCode::kLimit, "",
        "the file is larger than the limit of " + std::to_string(max_bytes) + " bytes"};
  }
  return std::nullopt;
}

}  // namespace salesflow::internal
