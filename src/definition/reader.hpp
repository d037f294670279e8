// Typed, diagnosing access to a parsed JSON document (a simdjson tape): the building blocks of
// every loader that reads JSON from outside. Each accessor checks presence, type and range and,
// when something is wrong, records one Diagnostic with the JSON Pointer of the offending value and
// carries on, so that a loader reports every problem of a document in one pass.
#ifndef SALESFLOW_DEFINITION_READER_HPP_
#define SALESFLOW_DEFINITION_READER_HPP_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "salesflow/definition.hpp"

namespace salesflow::internal {

class Diagnostics {
 public:
  void add(DiagnosticCode code, std::string pointer, std::string message) {
    list_.push_back(Diagnostic{code, std::move(pointer), std::move(message)});
  }
  std::size_t size() const noexcept { return list_.size(); }
  std::vector<Diagnostic> take() { return std::move(list_); }

 private:
  std::vector<Diagnostic> list_;
};

enum class Presence : std::uint8_t { kRequired, kOptional };

// "a string", "an array", ...: how a message names a JSON type.
std::string_view describe_type(simdjson::dom::element value);

using Element = simdjson::dom::element;

// True for the identifiers of the format: a letter, then letters, digits, '_', '.', '-'; at most
// 64 bytes. Identifiers appear in DOT, Mermaid and log lines, so they are kept this plain.
bool is_identifier(std::string_view text) noexcept;
inline constexpr std::size_t kMaxIdentifierBytes = 64;
inline constexpr std::size_t kMaxNameBytes = 200;

// One JSON object at a known pointer, read against a fixed set of keys.
class ObjectReader {
 public:
  // Records kWrongType when `value` is not an object (every accessor then returns nothing) and
  // kUnknownKey for each key outside `known_keys`. Keys beginning with "x-" are extensions and
  // always allowed. `what` names the object in messages ("a stage").
  ObjectReader(Element value, std::string pointer, Diagnostics& out, std::string_view what,
               std::initializer_list<std::string_view> known_keys);

  bool is_object() const noexcept { return is_object_; }
  const std::string& pointer() const noexcept { return pointer_; }
  std::string pointer(std::string_view key) const;
  Diagnostics& diagnostics() const noexcept { return out_; }

  // The raw value under `key`, or nothing. Records kMissingKey for an absent required key.
  std::optional<Element> get(std::string_view key, Presence presence) const;

  // An identifier (see is_identifier()).
  std::optional<std::string> identifier(std::string_view key, Presence presence) const;
  // A non-empty string of at most `max_bytes`.
  std::optional<std::string> text(std::string_view key, Presence presence,
                                  std::size_t max_bytes = kMaxNameBytes) const;
  // One of `choices`; returns its position.
  std::optional<std::size_t> choice(std::string_view key, Presence presence,
                                    std::initializer_list<std::string_view> choices) const;
  std::optional<bool> boolean(std::string_view key, Presence presence) const;
  // A finite number; integral values are accepted whatever their JSON spelling (1 or 1.0).
  std::optional<double> number(std::string_view key, Presence presence) const;
  // An integer within [min, max].
  std::optional<std::int64_t> integer(std::string_view key, Presence presence, std::int64_t min,
                                      std::int64_t max) const;
  // An array of at most `max_items` elements; records kLimit past that.
  std::optional<simdjson::dom::array> array(std::string_view key, Presence presence,
                                            std::size_t max_items) const;
  // An object.
  std::optional<Element> object(std::string_view key, Presence presence) const;

  // A string or an array of strings, each an identifier; the pointers of the identifiers are
  // returned alongside. Used for references such as "from": "a" or "from": ["a", "b"].
  struct Reference {
    std::string id;
    std::string pointer;
  };
  std::vector<Reference> identifiers(std::string_view key, Presence presence, std::size_t max_items,
                                     bool allow_single) const;

 private:
  void wrong_type(std::string_view key, Element value, std::string_view expected) const;

  simdjson::dom::object object_;
  bool is_object_ = false;
  std::string pointer_;
  Diagnostics& out_;
  std::string_view what_;
};

// The ids declared in one namespace of a definition (roles, stages, ...): detects duplicates and
// resolves references, with a diagnostic for each problem.
class Namespace {
 public:
  explicit Namespace(std::string_view what) : what_(what) {}

  // Declares `id` as entry `index`. Records kDuplicateId and returns false when already declared.
  bool declare(const std::string& id, std::uint32_t index, const std::string& pointer,
               Diagnostics& out);
  // Marks the declaring section as unreadable (wrong type, over a limit; already reported).
  // References into the namespace then resolve to nothing without a diagnostic of their own:
  // each would only repeat the one real problem.
  void mark_unreadable() noexcept { unreadable_ = true; }
  // The index of `id`, or nothing with a kUnknownReference diagnostic at `pointer`.
  std::optional<std::uint32_t> resolve(std::string_view id, const std::string& pointer,
                                       Diagnostics& out) const;
  std::optional<std::uint32_t> find(std::string_view id) const;

 private:
  std::string_view what_;
  bool unreadable_ = false;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEFINITION_READER_HPP_
