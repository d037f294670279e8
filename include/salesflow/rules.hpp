// The rule language: JsonLogic (https://jsonlogic.com) with the semantics of json-logic-js 2.0.5,
// compiled once and evaluated many times. docs/rules.md describes the language, the limits and the
// deliberate deviations from json-logic-js.
//
// [Thread safety] A compiled Rule is immutable: any number of threads may evaluate the same Rule
// concurrently, each with its own RuleData. compile_rule() is reentrant. An OperatorRegistry is not
// synchronised: fill it before compiling, then only read it. Host operators are called from the
// evaluating thread and must themselves be safe to call concurrently.
//
// [Ownership] Rule is a cheap, copyable handle to shared immutable state; copies share it. A Rule
// keeps the host operators it uses alive; it does not refer to the registry it was compiled with.
// Evaluation borrows the RuleData (and the strings and values it hands out) for the duration of
// the call only; results (RuleValue, RuleError) own their contents.
//
// [Errors] Nothing here throws for bad input (only std::bad_alloc may escape). A rule that cannot
// be compiled yields Diagnostics, each with a JSON Pointer into the rule. Evaluation failures
// (a limit exceeded, a host operator failing, an operation json-logic-js would throw on) are
// returned as a RuleError value.
#ifndef SALESFLOW_RULES_HPP_
#define SALESFLOW_RULES_HPP_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "salesflow/diagnostic.hpp"

namespace salesflow {

namespace internal {
class CompiledRule;
class JsonTree;
struct RuleAccess;
}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Values.

// A JSON value that a rule returns or a host operator receives. Numbers are doubles, as in
// JavaScript; a non-finite number never appears (JSON has none: they become null, as
// JSON.stringify does). Objects keep their members in order.
class RuleValue {
 public:
  enum class Kind : std::uint8_t { kNull, kBoolean, kNumber, kString, kArray, kObject };
  using Array = std::vector<RuleValue>;
  using Object = std::vector<std::pair<std::string, RuleValue>>;

  RuleValue() noexcept = default;  // null
  static RuleValue null() noexcept { return RuleValue(); }
  static RuleValue boolean(bool value) { return RuleValue(value); }
  static RuleValue number(double value);  // non-finite values give null
  static RuleValue string(std::string value) { return RuleValue(std::move(value)); }
  static RuleValue array(Array items) { return RuleValue(std::move(items)); }
  static RuleValue object(Object members) { return RuleValue(std::move(members)); }

  Kind kind() const noexcept { return static_cast<Kind>(value_.index()); }
  bool is_null() const noexcept { return kind() == Kind::kNull; }
  // Each accessor REQUIRES the matching kind().
  bool as_boolean() const { return std::get<bool>(value_); }
  double as_number() const { return std::get<double>(value_); }
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const Array& as_array() const { return std::get<Array>(value_); }
  const Object& as_object() const { return std::get<Object>(value_); }

  // JsonLogic truthiness: false, null, 0, "" and [] are false; everything else is true.
  bool truthy() const noexcept;

  // Compact JSON text, formatted as JSON.stringify formats it (numbers as JavaScript writes them:
  // 1 not 1.0, 1e+21, 1e-7).
  std::string to_json() const;

  // Structural equality; object members compare in order.
  friend bool operator==(const RuleValue&, const RuleValue&) = default;

 private:
  explicit RuleValue(bool value) : value_(value) {}
  explicit RuleValue(double value) : value_(value) {}
  explicit RuleValue(std::string value) : value_(std::move(value)) {}
  explicit RuleValue(Array value) : value_(std::move(value)) {}
  explicit RuleValue(Object value) : value_(std::move(value)) {}

  std::variant<std::monostate, bool, double, std::string, Array, Object> value_;
};

// ---------------------------------------------------------------------------------------------
// Data access. A rule reads its data ("var", "missing") through this interface, so that a host
// can serve its own storage without building a JSON document.

// A borrowed view of one data value. Strings and handles must stay valid until the evaluation
// that obtained them returns. Arrays and objects are opaque handles the RuleData interprets.
class RuleDataValue {
 public:
  enum class Kind : std::uint8_t { kMissing, kNull, kBoolean, kNumber, kString, kArray, kObject };

  constexpr RuleDataValue() noexcept = default;  // missing
  static constexpr RuleDataValue missing() noexcept { return {}; }
  static constexpr RuleDataValue null() noexcept { return RuleDataValue(Kind::kNull); }
  static constexpr RuleDataValue boolean(bool value) noexcept {
    RuleDataValue v(Kind::kBoolean);
    v.boolean_ = value;
    return v;
  }
  static constexpr RuleDataValue number(double value) noexcept {
    RuleDataValue v(Kind::kNumber);
    v.number_ = value;
    return v;
  }
  static constexpr RuleDataValue string(std::string_view value) noexcept {
    RuleDataValue v(Kind::kString);
    v.string_ = value;
    return v;
  }
  // `handle` identifies the array or object: JavaScript compares arrays and objects by identity,
  // so the same data value must always get the same handle, and different ones different handles.
  static constexpr RuleDataValue array(const void* handle) noexcept {
    RuleDataValue v(Kind::kArray);
    v.handle_ = handle;
    return v;
  }
  static constexpr RuleDataValue object(const void* handle) noexcept {
    RuleDataValue v(Kind::kObject);
    v.handle_ = handle;
    return v;
  }

  constexpr Kind kind() const noexcept { return kind_; }
  constexpr bool as_boolean() const noexcept { return boolean_; }
  constexpr double as_number() const noexcept { return number_; }
  constexpr std::string_view as_string() const noexcept { return string_; }
  constexpr const void* handle() const noexcept { return handle_; }

 private:
  constexpr explicit RuleDataValue(Kind kind) noexcept : kind_(kind) {}

  Kind kind_ = Kind::kMissing;
  bool boolean_ = false;
  double number_ = 0;
  std::string_view string_;
  const void* handle_ = nullptr;
};

// The data a rule is evaluated against. Implementations must be safe to call from the evaluating
// thread; an evaluation only reads.
class RuleData {
 public:
  virtual ~RuleData() = default;

  // The value at `path` (a "var" path split at '.'); the empty path is the whole data. A path
  // segment names an object member; on an array, a canonical decimal index ("0", "17", not "01")
  // names an element and "length" the size; on a string, an index names that UTF-16 code unit
  // and "length" the length. Anything else is missing. walk() implements exactly this from any
  // value, so an implementation may resolve the first segments itself and walk() the rest.
  virtual RuleDataValue lookup(std::span<const std::string_view> path) const = 0;

  // Navigation inside arrays and objects this RuleData returned. The defaults suit data without
  // arrays and objects.
  virtual RuleDataValue member(const void* object, std::string_view key) const;
  virtual std::size_t size(const void* array) const;
  virtual RuleDataValue element(const void* array, std::size_t index) const;
  // Calls `visit` for each member of the object, in the order the result should show them.
  virtual void for_each_member(
      const void* object,
      const std::function<void(std::string_view key, const RuleDataValue& value)>& visit) const;

 protected:
  RuleDataValue walk(RuleDataValue from, std::span<const std::string_view> path) const;

 private:
  friend class JsonRuleData;
  friend struct internal::RuleAccess;
  // Set by JsonRuleData only: evaluation then reads its data tree directly (member hashes of
  // constant paths computed at compile time) instead of calling the functions above.
  const internal::JsonTree* json_tree_ = nullptr;
};

// The array index a path segment names, if it is a canonical decimal index.
std::optional<std::size_t> rule_array_index(std::string_view segment) noexcept;

// Bounds on JSON data read from text (JsonRuleData::parse). Input beyond them gives a kLimit
// diagnostic.
struct RuleDataLimits {
  std::size_t max_document_bytes = 8 << 20;
  std::size_t max_depth = 64;
  std::size_t max_string_bytes = 1 << 20;
  std::size_t max_values = 1'000'000;
};

// RuleData over a JSON document, for tools and tests. Movable; handles stay valid across moves.
// Parsing builds a compact read-only tree of the document, which rules evaluated against this
// data read directly (faster than through the functions below, which read the same tree).
// Object members are shown in the byte order of their keys, not in document order.
class JsonRuleData final : public RuleData {
 public:
  // Parses strictly (no duplicate keys, bounded); failure gives the diagnostic.
  [[nodiscard]] static std::variant<JsonRuleData, Diagnostic> parse(
      std::string_view json_text, const RuleDataLimits& limits = {});

  JsonRuleData(JsonRuleData&&) noexcept;
  JsonRuleData& operator=(JsonRuleData&&) noexcept;
  ~JsonRuleData() override;

  RuleDataValue lookup(std::span<const std::string_view> path) const override;
  RuleDataValue member(const void* object, std::string_view key) const override;
  std::size_t size(const void* array) const override;
  RuleDataValue element(const void* array, std::size_t index) const override;
  void for_each_member(
      const void* object,
      const std::function<void(std::string_view, const RuleDataValue&)>& visit) const override;

 private:
  struct Impl;
  explicit JsonRuleData(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Host operators: the extension point. A host registers operators (e.g. "days_since") in a
// registry and passes it to compile_rule(). A host operator receives its arguments evaluated
// (like every JsonLogic operator except the logical and array ones) and returns a value, or an
// error message that fails the evaluation.

struct RuleOperatorError {
  std::string message;  // one plain sentence
};

using RuleOperatorResult = std::variant<RuleValue, RuleOperatorError>;
// Must be safe to call concurrently. An object in the result, or an exception thrown, fails the
// evaluation with a RuleError.
using RuleOperator =
    std::function<RuleOperatorResult(std::span<const RuleValue> args, const RuleData& data)>;

inline constexpr std::size_t kUnboundedArgs = static_cast<std::size_t>(-1);

class OperatorRegistry {
 public:
  struct Entry {
    std::string name;
    std::size_t min_args = 0;
    std::size_t max_args = kUnboundedArgs;
    RuleOperator function;
  };

  // Registers `name`, taking [min_args, max_args] arguments. Returns false, changing nothing,
  // when the name is empty, a built-in operator, or already registered, or min_args > max_args,
  // or the function is empty.
  bool add(std::string name, std::size_t min_args, std::size_t max_args, RuleOperator function);

  // The operator called `name`, or nullptr.
  std::shared_ptr<const Entry> find(std::string_view name) const;

 private:
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> entries_;
};

// True when `name` is one of the built-in operators.
bool is_builtin_rule_operator(std::string_view name) noexcept;

// ---------------------------------------------------------------------------------------------
// Compiling and evaluating.

// Bounds on a rule and on each of its evaluations; defaults are in docs/rules.md. They bound the
// time, memory and stack a hostile rule or hostile data can cost.
struct RuleLimits {
  // Compile time. max_depth is the nesting of arrays and objects in the rule; evaluation
  // recursion never goes deeper. Values above kMaxRuleDepth are treated as kMaxRuleDepth.
  std::size_t max_rule_bytes = 1 << 20;
  std::size_t max_depth = 64;
  std::size_t max_nodes = 100'000;
  std::size_t max_string_bytes = 64 << 10;
  // Per evaluation. A step is one operator or value evaluated, one array element an operator
  // visits, or 64 bytes of string an operator produces or scans.
  std::size_t max_steps = 1'000'000;
  std::size_t max_memory_bytes = 64 << 20;  // intermediate values
  std::size_t max_value_depth = 128;        // nesting of any value converted or returned
};

inline constexpr std::size_t kMaxRuleDepth = 512;

enum class RuleErrorCode : std::uint8_t {
  kStepLimit,    // RuleLimits::max_steps exceeded
  kMemoryLimit,  // RuleLimits::max_memory_bytes exceeded
  kDepthLimit,   // a value nested deeper than RuleLimits::max_value_depth
  kTypeError,    // an operation json-logic-js throws on (e.g. missing_some of null)
  kOperator,     // a host operator failed or returned an object
};

std::string_view to_string(RuleErrorCode code) noexcept;

struct RuleError {
  RuleErrorCode code = RuleErrorCode::kTypeError;
  std::string pointer;  // JSON Pointer to the operator in the rule that failed
  std::string message;  // one plain sentence

  friend bool operator==(const RuleError&, const RuleError&) = default;
};

class Rule {
 public:
  // The rule's value for `data`.
  [[nodiscard]] std::variant<RuleValue, RuleError> evaluate(const RuleData& data) const;
  // Whether the rule's value is truthy; for gate conditions and guards. Cheaper than evaluate().
  [[nodiscard]] std::variant<bool, RuleError> evaluate_condition(const RuleData& data) const;

  const RuleLimits& limits() const noexcept;
  std::size_t node_count() const noexcept;

 private:
  friend struct internal::RuleAccess;
  explicit Rule(std::shared_ptr<const internal::CompiledRule> program) noexcept;
  std::shared_ptr<const internal::CompiledRule> program_;
};

struct RuleCompileResult {
  std::optional<Rule> rule;             // set exactly when diagnostics is empty
  std::vector<Diagnostic> diagnostics;  // every problem found, in document order

  bool ok() const noexcept { return rule.has_value(); }
};

// Parses (strictly: no duplicate keys, bounded by `limits`), checks and compiles a rule.
// `operators` may be null: then only built-in operators are known.
[[nodiscard]] RuleCompileResult compile_rule(std::string_view json_text,
                                             const OperatorRegistry* operators = nullptr,
                                             const RuleLimits& limits = {});

}  // namespace salesflow

#endif  // SALESFLOW_RULES_HPP_
