// The values a rule computes with while it evaluates, and the per-evaluation memory they live in.
//
// A Value is 16 trivially copyable bytes. Strings and arrays it refers to live in the compiled
// rule (constants), in the RuleData (borrowed for the evaluation) or in the evaluation's Arena, so
// evaluating never owns or frees anything per value. Arrays and objects have identity, as in
// JavaScript: two arrays are the same array only if they are one allocation (or one data handle).
#ifndef SALESFLOW_RULES_VALUE_HPP_
#define SALESFLOW_RULES_VALUE_HPP_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "salesflow/rules.hpp"

namespace salesflow::internal {

enum class ValueKind : std::uint8_t {
  kUndefined,  // JavaScript's undefined: only an absent argument
  kNull,
  kBoolean,
  kNumber,
  kString,
  kArray,       // computed by the rule: items in the arena
  kDataArray,   // borrowed from the RuleData: a handle
  kDataObject,  // borrowed from the RuleData: a handle
  kFrame,       // the {current, accumulator} object "reduce" evaluates its body against
  kRoot,        // the root of the RuleData; only ever a scope, never an operand
};

struct Value;

struct ReduceFrame;

struct Value {
  ValueKind kind = ValueKind::kUndefined;
  bool boolean = false;
  std::uint32_t size = 0;  // string bytes or array items
  union {
    double number = 0;
    const char* chars;
    const Value* items;
    const void* handle;
    const ReduceFrame* frame;
  };

  static Value undefined() noexcept { return Value{}; }
  static Value null() noexcept { return with_kind(ValueKind::kNull); }
  static Value root() noexcept { return with_kind(ValueKind::kRoot); }
  static Value from_bool(bool b) noexcept { return with_kind(ValueKind::kBoolean, b); }
  static Value from_number(double n) noexcept {
    Value v = with_kind(ValueKind::kNumber);
    v.number = n;
    return v;
  }
  // REQUIRES: s.size() fits in 32 bits (callers check through Arena or limits).
  static Value from_string(std::string_view s) noexcept {
    Value v = with_kind(ValueKind::kString, false, static_cast<std::uint32_t>(s.size()));
    v.chars = s.data();
    return v;
  }
  static Value from_array(const Value* items, std::size_t n) noexcept {
    Value v = with_kind(ValueKind::kArray, false, static_cast<std::uint32_t>(n));
    v.items = items;
    return v;
  }
  static Value from_handle(ValueKind kind, const void* h) noexcept {
    Value v = with_kind(kind);
    v.handle = h;
    return v;
  }
  static Value from_frame(const ReduceFrame* f) noexcept {
    Value v = with_kind(ValueKind::kFrame);
    v.frame = f;
    return v;
  }

  std::string_view str() const noexcept { return {chars, size}; }
  bool is_nullish() const noexcept {
    return kind == ValueKind::kUndefined || kind == ValueKind::kNull;
  }
  bool is_array() const noexcept {
    return kind == ValueKind::kArray || kind == ValueKind::kDataArray;
  }
  // Arrays, data objects and frames: JavaScript objects, compared by identity.
  bool is_object() const noexcept {
    return kind == ValueKind::kArray || kind == ValueKind::kDataArray ||
           kind == ValueKind::kDataObject || kind == ValueKind::kFrame;
  }

 private:
  // Writes kind, boolean and size as one 8-byte word: a Value built field by field makes the
  // processor stall when the whole Value is read back right after.
  static Value with_kind(ValueKind k, bool b = false, std::uint32_t n = 0) noexcept {
    Value v;
    if constexpr (std::endian::native == std::endian::little) {
      const std::uint64_t head = static_cast<std::uint64_t>(k) |
                                 static_cast<std::uint64_t>(b) << 8 |
                                 static_cast<std::uint64_t>(n) << 32;
      std::memcpy(static_cast<void*>(&v), &head, sizeof head);
    } else {
      v.kind = k;
      v.boolean = b;
      v.size = n;
    }
    return v;
  }
};

static_assert(offsetof(Value, kind) == 0 && offsetof(Value, boolean) == 1 &&
              offsetof(Value, size) == 4 && offsetof(Value, number) == 8 && sizeof(Value) == 16);

struct ReduceFrame {
  Value current;
  Value accumulator;
};

// Thrown inside evaluation only; evaluate() turns it into a RuleError. `node` is filled in by the
// innermost operator that sees it go by.
struct EvalFailure {
  static constexpr std::uint32_t kNoNode = UINT32_MAX;
  RuleErrorCode code;
  std::string message;
  std::uint32_t node = kNoNode;
};

[[noreturn]] void fail(RuleErrorCode code, std::string message);

// Bump allocation for one evaluation, bounded by RuleLimits::max_memory_bytes. Nothing is freed
// before the evaluation ends; Values are trivially destructible, so nothing needs destroying.
class Arena {
 public:
  explicit Arena(std::size_t limit) noexcept : limit_(limit) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  // Never null, even for 0 items, and never the same twice: an array's address is its identity.
  Value* allocate_values(std::size_t n);
  ReduceFrame* allocate_frame();
  std::string_view copy_string(std::string_view s);
  char* allocate_chars(std::size_t n);

 private:
  void* allocate(std::size_t bytes);
  void* allocate_slow(std::size_t bytes);

  struct Block;
  static constexpr std::size_t kInlineBytes = 512;
  alignas(16) std::byte inline_[kInlineBytes];
  std::byte* cursor_ = inline_;
  std::size_t remaining_ = kInlineBytes;
  Block* blocks_ = nullptr;
  std::size_t used_ = 0;
  std::size_t limit_;
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_VALUE_HPP_
