// The public API of include/salesflow/rules.hpp that is not compiling or JSON data.
#include <cmath>
#include <string>
#include <utility>

#include "definition/json_document.hpp"
#include "rules/builtins.hpp"
#include "rules/evaluator.hpp"
#include "rules/js.hpp"
#include "rules/program.hpp"
#include "salesflow/rules.hpp"

namespace salesflow {
namespace {

using internal::append_json_string;

void append_json(std::string& out, const RuleValue& v) {
  switch (v.kind()) {
    case RuleValue::Kind::kNull:
      out += "null";
      return;
    case RuleValue::Kind::kBoolean:
      out += v.as_boolean() ? "true" : "false";
      return;
    case RuleValue::Kind::kNumber:
      internal::append_js_number(out, v.as_number());
      return;
    case RuleValue::Kind::kString:
      append_json_string(out, v.as_string());
      return;
    case RuleValue::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const RuleValue& item : v.as_array()) {
        if (!first) out += ',';
        first = false;
        append_json(out, item);
      }
      out += ']';
      return;
    }
    case RuleValue::Kind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.as_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        append_json(out, value);
      }
      out += '}';
      return;
    }
  }
}

RuleError to_error(const internal::CompiledRule& program, internal::EvalFailure&& failure) {
  const std::uint32_t node = failure.node == internal::kNoNode ? program.root : failure.node;
  return RuleError{failure.code, program.node_pointers[node], std::move(failure.message)};
}

}  // namespace

// --- RuleValue --------------------------------------------------------------------------------

RuleValue RuleValue::number(double value) {
  if (!std::isfinite(value)) return RuleValue();
  return RuleValue(value);
}

bool RuleValue::truthy() const noexcept {
  switch (kind()) {
    case Kind::kNull:
      return false;
    case Kind::kBoolean:
      return as_boolean();
    case Kind::kNumber:
      return as_number() != 0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kArray:
      return !as_array().empty();
    case Kind::kObject:
      return true;
  }
  return false;
}

std::string RuleValue::to_json() const {
  std::string out;
  append_json(out, *this);
  return out;
}

// --- RuleData ---------------------------------------------------------------------------------

RuleDataValue RuleData::member(const void*, std::string_view) const { return {}; }
std::size_t RuleData::size(const void*) const { return 0; }
RuleDataValue RuleData::element(const void*, std::size_t) const { return {}; }
void RuleData::for_each_member(
    const void*, const std::function<void(std::string_view, const RuleDataValue&)>&) const {}

RuleDataValue RuleData::walk(RuleDataValue from, std::span<const std::string_view> path) const {
  using Kind = RuleDataValue::Kind;
  for (const std::string_view segment : path) {
    switch (from.kind()) {
      case Kind::kObject:
        from = member(from.handle(), segment);
        break;
      case Kind::kArray: {
        const std::size_t n = size(from.handle());
        if (segment == "length") {
          from = RuleDataValue::number(static_cast<double>(n));
        } else {
          const std::optional<std::size_t> index = rule_array_index(segment);
          from = index && *index < n ? element(from.handle(), *index) : RuleDataValue::missing();
        }
        break;
      }
      case Kind::kString: {
        const std::string_view s = from.as_string();
        const std::size_t n = internal::utf16_length(s);
        if (segment == "length") {
          from = RuleDataValue::number(static_cast<double>(n));
        } else {
          const std::optional<std::size_t> index = rule_array_index(segment);
          from = index && *index < n ? RuleDataValue::string(internal::utf16_unit_at(s, *index))
                                     : RuleDataValue::missing();
        }
        break;
      }
      default:
        return RuleDataValue::missing();  // null, missing, numbers and booleans
    }
    if (from.kind() == Kind::kMissing) return from;
  }
  return from;
}

std::optional<std::size_t> rule_array_index(std::string_view segment) noexcept {
  // JavaScript's canonical numeric strings for array indices: no sign, no leading zero.
  if (segment.empty() || segment.size() > 15) return std::nullopt;
  if (segment.size() > 1 && segment[0] == '0') return std::nullopt;
  std::size_t value = 0;
  for (const char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

// --- Operators --------------------------------------------------------------------------------

bool OperatorRegistry::add(std::string name, std::size_t min_args, std::size_t max_args,
                           RuleOperator function) {
  if (name.empty() || is_builtin_rule_operator(name) || entries_.count(name) != 0 ||
      min_args > max_args || !function) {
    return false;
  }
  auto entry = std::make_shared<Entry>(Entry{name, min_args, max_args, std::move(function)});
  entries_.emplace(std::move(name), std::move(entry));
  return true;
}

std::shared_ptr<const OperatorRegistry::Entry> OperatorRegistry::find(std::string_view name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

bool is_builtin_rule_operator(std::string_view name) noexcept {
  return internal::find_builtin(name) != nullptr;
}

std::string_view to_string(RuleErrorCode code) noexcept {
  switch (code) {
    case RuleErrorCode::kStepLimit:
      return "step_limit";
    case RuleErrorCode::kMemoryLimit:
      return "memory_limit";
    case RuleErrorCode::kDepthLimit:
      return "depth_limit";
    case RuleErrorCode::kTypeError:
      return "type_error";
    case RuleErrorCode::kOperator:
      return "operator";
  }
  return "unknown";
}

// --- Rule -------------------------------------------------------------------------------------

Rule::Rule(std::shared_ptr<const internal::CompiledRule> program) noexcept
    : program_(std::move(program)) {}

std::variant<RuleValue, RuleError> Rule::evaluate(const RuleData& data) const {
  internal::Evaluator evaluator(*program_, data);
  try {
    const internal::Value value = evaluator.eval(program_->root, internal::Value::root());
    return evaluator.to_rule_value(value);
  } catch (internal::EvalFailure& failure) {
    return to_error(*program_, std::move(failure));
  }
}

std::variant<bool, RuleError> Rule::evaluate_condition(const RuleData& data) const {
  internal::Evaluator evaluator(*program_, data);
  try {
    return evaluator.truthy(evaluator.eval(program_->root, internal::Value::root()));
  } catch (internal::EvalFailure& failure) {
    return to_error(*program_, std::move(failure));
  }
}

const RuleLimits& Rule::limits() const noexcept { return program_->limits; }

std::size_t Rule::node_count() const noexcept { return program_->nodes.size(); }

}  // namespace salesflow
