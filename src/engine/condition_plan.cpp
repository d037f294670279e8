#include "engine/condition_plan.hpp"

#include <cmath>
#include <optional>
#include <variant>

#include "engine/conditions.hpp"
#include "rules/evaluator.hpp"
#include "rules/json_tree.hpp"
#include "rules/program.hpp"

namespace salesflow::internal {
namespace {

using Constant = ConditionPlan::Constant;
using PlanNode = ConditionPlan::Node;

Verdict verdict(bool b) noexcept { return b ? Verdict::kTrue : Verdict::kFalse; }

bool is_equality(Op op) noexcept {
  return op == Op::kEq || op == Op::kNe || op == Op::kStrictEq || op == Op::kStrictNe;
}
bool is_strict(Op op) noexcept { return op == Op::kStrictEq || op == Op::kStrictNe; }
bool is_negated(Op op) noexcept { return op == Op::kNe || op == Op::kStrictNe; }

// The comparison of a number field's value with a number, in the order the rule wrote them.
bool numbers(const PlanNode& node, double field, double constant) noexcept {
  return node.constant_first ? compare_numbers(node.op, constant, field)
                             : compare_numbers(node.op, field, constant);
}

// The equality `op` of two values known to differ in kind, where JavaScript's answer does not
// depend on coercion: strict equality is false, and loose equality with null or undefined on one
// side only is false. kUnknown for anything that would coerce.
Verdict unequal_kinds(Op op, bool either_is_null) noexcept {
  if (!is_equality(op)) return Verdict::kUnknown;
  if (!is_strict(op) && !either_is_null) return Verdict::kUnknown;
  return verdict(is_negated(op));
}

// A number field's value compared with the constant.
Verdict compare_number(const PlanNode& node, double x, const Constant& k) noexcept {
  switch (k.kind) {
    case Constant::Kind::kNumber:
      return verdict(numbers(node, x, k.number));
    case Constant::Kind::kNull:
      // Relational operators read null as 0.
      return is_equality(node.op) ? verdict(is_negated(node.op)) : verdict(numbers(node, x, 0));
    default:
      return unequal_kinds(node.op, false);
  }
}

Verdict compare_string(const PlanNode& node, std::string_view s, const Constant& k) noexcept {
  switch (k.kind) {
    case Constant::Kind::kString:
      // Relational operators on strings compare UTF-16 code units: left to the interpreter.
      if (!is_equality(node.op)) return Verdict::kUnknown;
      return verdict(same_text(s, k.text) != is_negated(node.op));
    case Constant::Kind::kNull:
      return unequal_kinds(node.op, true);
    default:
      return unequal_kinds(node.op, false);
  }
}

Verdict compare_boolean(const PlanNode& node, bool b, const Constant& k) noexcept {
  switch (k.kind) {
    case Constant::Kind::kBoolean:
      if (!is_equality(node.op)) return Verdict::kUnknown;
      return verdict((b == k.boolean) != is_negated(node.op));
    case Constant::Kind::kNull:
      return unequal_kinds(node.op, true);
    default:
      return unequal_kinds(node.op, false);
  }
}

// An unset field reads as null.
Verdict compare_null(const PlanNode& node, const Constant& k) noexcept {
  switch (k.kind) {
    case Constant::Kind::kNull:
      return is_equality(node.op) ? verdict(!is_negated(node.op)) : verdict(numbers(node, 0, 0));
    case Constant::Kind::kNumber:
      return is_equality(node.op) ? verdict(is_negated(node.op))
                                  : verdict(numbers(node, 0, k.number));
    default:
      return unequal_kinds(node.op, true);
  }
}

class Builder {
 public:
  Builder(const ProcessDefinition& definition, const CompiledRule& program,
          std::vector<ConditionPlan::Node>& nodes, std::vector<std::uint32_t>& children,
          std::vector<Constant>& constants)
      : definition_(definition),
        program_(program),
        nodes_(nodes),
        children_(children),
        constants_(constants) {}

  // The plan node for rule node `index`, or nothing outside the subset.
  std::optional<std::uint32_t> build(std::uint32_t index) {
    using Kind = ConditionPlan::Kind;
    const Node& node = program_.nodes[index];
    const std::span<const std::uint32_t> args = program_.args(node);
    switch (node.op) {
      case Op::kConst: {
        const auto constant = constant_of(index);
        if (!constant) return std::nullopt;
        ConditionPlan::Node out;
        out.kind = Kind::kConstant;
        out.truthy = truthy(*constant);
        return add(out);
      }
      case Op::kVarMember: {
        const auto field = field_of(index);
        if (!field) return std::nullopt;
        ConditionPlan::Node out;
        out.kind = Kind::kTruthy;
        out.field = *field;
        return add(out);
      }
      case Op::kNotNot:
        // In a condition only the truthiness counts: !!x holds when x does.
        return args.size() == 1 ? build(args[0]) : std::nullopt;
      case Op::kNot:
      case Op::kAnd:
      case Op::kOr: {
        if (args.empty() || (node.op == Op::kNot && args.size() != 1)) return std::nullopt;
        std::vector<std::uint32_t> built;
        for (const std::uint32_t arg : args) {
          const auto child = build(arg);
          if (!child) return std::nullopt;
          built.push_back(*child);
        }
        ConditionPlan::Node out;
        out.kind = node.op == Op::kNot ? Kind::kNot : node.op == Op::kAnd ? Kind::kAnd : Kind::kOr;
        out.first = static_cast<std::uint32_t>(children_.size());
        out.count = static_cast<std::uint32_t>(built.size());
        children_.insert(children_.end(), built.begin(), built.end());
        return add(out);
      }
      case Op::kCompareVarConst: {
        // The interpreter's fused comparison (==, !=, ===, !==, <, <=, >, >=) of a "var" and a
        // constant, in either order.
        const bool constant_first = (node.a & kConstFirst) != 0;
        const auto field = field_of(args[constant_first ? 1 : 0]);
        auto constant = constant_of(args[constant_first ? 0 : 1]);
        const auto op = static_cast<Op>(node.a & ~kConstFirst);
        const bool comparison =
            is_equality(op) || op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe;
        if (!comparison || !field || !constant) return std::nullopt;
        ConditionPlan::Node out;
        out.kind = Kind::kCompare;
        out.op = op;
        out.constant_first = constant_first;
        out.field = *field;
        out.first = static_cast<std::uint32_t>(constants_.size());
        out.count = 1;
        constants_.push_back(std::move(*constant));
        return add(out);
      }
      case Op::kIn: {
        if (args.size() != 2) return std::nullopt;
        const auto field = field_of(args[0]);
        const Node& haystack = program_.nodes[args[1]];
        if (!field || haystack.op != Op::kArray) return std::nullopt;
        const std::span<const std::uint32_t> items = program_.args(haystack);
        // The interpreter builds the literal in its arena: kept within the arena's first block,
        // it can never meet the memory limit.
        array_items_ += std::max<std::size_t>(items.size(), 1);
        if (array_items_ > kMaxArrayItems ||
            items.size() > program_.limits.max_memory_bytes / sizeof(Value)) {
          return std::nullopt;
        }
        ConditionPlan::Node out;
        out.kind = Kind::kIn;
        out.field = *field;
        out.first = static_cast<std::uint32_t>(constants_.size());
        out.count = static_cast<std::uint32_t>(items.size());
        for (const std::uint32_t item : items) {
          auto constant = constant_of(item);
          if (!constant) return std::nullopt;
          constants_.push_back(std::move(*constant));
        }
        return add(out);
      }
      default:
        return std::nullopt;
    }
  }

 private:
  // 16 Values of 16 bytes: well within the 512 bytes an Arena holds before it allocates.
  static constexpr std::size_t kMaxArrayItems = 16;

  std::uint32_t add(const ConditionPlan::Node& node) {
    nodes_.push_back(node);
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  // The field a one-segment "var" without a default names; nothing for any other node.
  std::optional<FieldId> field_of(std::uint32_t index) const {
    const Node& node = program_.nodes[index];
    if (node.op != Op::kVarMember) return std::nullopt;
    return definition_.find_field(program_.segments[node.a]);
  }

  std::optional<Constant> constant_of(std::uint32_t index) const {
    const Node& node = program_.nodes[index];
    if (node.op != Op::kConst) return std::nullopt;
    const Value& v = program_.constants[node.a];
    Constant c;
    switch (v.kind) {
      case ValueKind::kNull:
        c.kind = Constant::Kind::kNull;
        break;
      case ValueKind::kBoolean:
        c.kind = Constant::Kind::kBoolean;
        c.boolean = v.boolean;
        break;
      case ValueKind::kNumber:
        c.kind = Constant::Kind::kNumber;
        c.number = v.number;
        break;
      case ValueKind::kString:
        c.kind = Constant::Kind::kString;
        c.text = std::string(v.str());
        break;
      default:
        return std::nullopt;
    }
    return c;
  }

  static bool truthy(const Constant& c) noexcept {
    switch (c.kind) {
      case Constant::Kind::kNull:
        return false;
      case Constant::Kind::kBoolean:
        return c.boolean;
      case Constant::Kind::kNumber:
        return c.number != 0 && !std::isnan(c.number);
      case Constant::Kind::kString:
        return !c.text.empty();
    }
    return false;
  }

  const ProcessDefinition& definition_;
  const CompiledRule& program_;
  std::vector<ConditionPlan::Node>& nodes_;
  std::vector<std::uint32_t>& children_;
  std::vector<Constant>& constants_;
  std::size_t array_items_ = 0;
};

}  // namespace

std::shared_ptr<const ConditionPlan> make_condition_plan(const ProcessDefinition& definition,
                                                         const Rule& rule) {
  const CompiledRule& program = RuleAccess::program(rule);
  // The interpreter charges a step per node and per array item it compares: a plan is made only
  // when the step limit is out of reach.
  if (program.limits.max_steps <= 2 * program.nodes.size() + 2) return nullptr;
  auto plan = std::make_shared<ConditionPlan>();
  Builder builder(definition, program, plan->nodes_, plan->children_, plan->constants_);
  const auto root = builder.build(program.root);
  if (!root) return nullptr;
  plan->root_ = *root;
  return plan;
}

Verdict ConditionPlan::evaluate(const InstanceState& state, std::span<const Event> pending) const {
  return eval(root_, state, pending);
}

Verdict ConditionPlan::eval(std::uint32_t index, const InstanceState& state,
                            std::span<const Event> pending) const {
  const Node& node = nodes_[index];
  switch (node.kind) {
    case Kind::kConstant:
      return verdict(node.truthy);
    case Kind::kAnd:
    case Kind::kOr: {
      // "and" holds when no operand is falsy, "or" when one is truthy; an operand the plan
      // cannot judge leaves the whole to the interpreter.
      const Verdict decides = node.kind == Kind::kAnd ? Verdict::kFalse : Verdict::kTrue;
      for (std::uint32_t i = 0; i < node.count; ++i) {
        const Verdict v = eval(children_[node.first + i], state, pending);
        if (v == decides || v == Verdict::kUnknown) return v;
      }
      return node.kind == Kind::kAnd ? Verdict::kTrue : Verdict::kFalse;
    }
    case Kind::kNot: {
      const Verdict v = eval(children_[node.first], state, pending);
      return v == Verdict::kUnknown ? v : verdict(v == Verdict::kFalse);
    }
    default:
      break;
  }
  const FieldValue& value = projected_field(state, pending, node.field);
  if (node.kind == Kind::kTruthy) {
    struct Truthy {
      bool operator()(std::monostate) const { return false; }
      bool operator()(const std::string& s) const { return !s.empty(); }
      bool operator()(double d) const { return d != 0 && !std::isnan(d); }
      bool operator()(std::int64_t i) const { return i != 0; }
      bool operator()(bool b) const { return b; }
      bool operator()(Timestamp) const { return true; }  // its ISO-8601 text is never empty
      // json-logic-js's truthiness: an empty array is falsy.
      bool operator()(const std::vector<std::string>& list) const { return !list.empty(); }
    };
    return verdict(std::visit(Truthy{}, value));
  }
  const std::span<const Constant> constants{constants_.data() + node.first, node.count};
  if (node.kind == Kind::kCompare) {
    const Constant& k = constants.front();
    if (const auto* d = std::get_if<double>(&value)) return compare_number(node, *d, k);
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
      return compare_number(node, static_cast<double>(*i), k);
    }
    if (const auto* s = std::get_if<std::string>(&value)) return compare_string(node, *s, k);
    if (const auto* b = std::get_if<bool>(&value)) return compare_boolean(node, *b, k);
    if (std::holds_alternative<std::monostate>(value)) return compare_null(node, k);
    return Verdict::kUnknown;  // a timestamp's text or a list: left to the interpreter
  }
  // kIn: an element strictly equal to the value (values of another kind never are).
  const auto any = [&](Constant::Kind kind, auto equal) {
    for (const Constant& k : constants) {
      if (k.kind == kind && equal(k)) return Verdict::kTrue;
    }
    return Verdict::kFalse;
  };
  if (const auto* s = std::get_if<std::string>(&value)) {
    return any(Constant::Kind::kString, [&](const Constant& k) { return same_text(*s, k.text); });
  }
  if (const auto* d = std::get_if<double>(&value)) {
    return any(Constant::Kind::kNumber, [&](const Constant& k) { return *d == k.number; });
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    const auto x = static_cast<double>(*i);
    return any(Constant::Kind::kNumber, [&](const Constant& k) { return x == k.number; });
  }
  if (const auto* b = std::get_if<bool>(&value)) {
    return any(Constant::Kind::kBoolean, [&](const Constant& k) { return *b == k.boolean; });
  }
  if (std::holds_alternative<std::monostate>(value)) {
    return any(Constant::Kind::kNull, [](const Constant&) { return true; });
  }
  // A list is an array: never strictly equal to a constant. A timestamp: left to the interpreter.
  return std::holds_alternative<Timestamp>(value) ? Verdict::kUnknown : Verdict::kFalse;
}

}  // namespace salesflow::internal
