#include "definition/json_document.hpp"

#include <optional>
#include <string>
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
      return fail(DiagnosticCode::kDuplicateKey, "duplicate object key " + quote_text(key) +
                                                     "; each key may appear only once");
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    std::string message = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to a user.
    if (const auto bracket = message.find("] "); message.starts_with("[json.") &&
                                                 bracket != std::string::npos) {
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
      return fail(DiagnosticCode::kLimit, "the document has more than " +
                                              std::to_string(limits_.max_values) + " values");
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
      return fail(DiagnosticCode::kLimit, "nesting deeper than " +
                                              std::to_string(limits_.max_depth) +
                                              " arrays and objects");
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

}  // namespace

std::variant<json, Diagnostic> parse_json(std::string_view text, const JsonLimits& limits) {
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
  BoundedDomBuilder builder(limits);
  // strict: nothing but whitespace may follow the value; comments are not JSON.
  json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                  /*strict=*/true, /*ignore_comments=*/false);
  if (builder.failed()) return builder.failure();
  return builder.take_root();
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
  std::string result = json(std::string(shown)).dump(-1, ' ', /*ensure_ascii=*/false,
                                                     json::error_handler_t::replace);
  if (shortened) result.insert(result.size() - 1, "...");
  return result;
}

}  // namespace salesflow::internal
