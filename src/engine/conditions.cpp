#include "engine/conditions.hpp"

#include <deque>
#include <optional>

#include "engine/condition_plan.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::internal {
namespace {

// An instance's fields as rule data, without copying them into a JSON document: {"var": "grade"}
// reads the field "grade". Unset fields are missing (so `var` defaults and `missing` apply).
class InstanceRuleData final : public RuleData {
 public:
  InstanceRuleData(const ProcessDefinition& definition, const InstanceState& state,
                   std::span<const Event> pending)
      : definition_(definition), state_(state), pending_(pending) {}

  RuleDataValue lookup(std::span<const std::string_view> path) const override {
    if (path.empty()) return RuleDataValue::missing();
    const auto field = definition_.find_rule_field(path.front());
    if (!field) return RuleDataValue::missing();
    const RuleDataValue value = value_of(projected_field(state_, pending_, *field));
    return path.size() == 1 ? value : walk(value, path.subspan(1));
  }

  std::size_t size(const void* array) const override {
    return static_cast<const std::vector<std::string>*>(array)->size();
  }

  RuleDataValue element(const void* array, std::size_t index) const override {
    const auto& list = *static_cast<const std::vector<std::string>*>(array);
    return index < list.size() ? RuleDataValue::string(list[index]) : RuleDataValue::missing();
  }

 private:
  RuleDataValue value_of(const FieldValue& value) const {
    struct Visitor {
      const InstanceRuleData& self;
      RuleDataValue operator()(std::monostate) const { return RuleDataValue::missing(); }
      RuleDataValue operator()(const std::string& s) const { return RuleDataValue::string(s); }
      RuleDataValue operator()(double d) const { return RuleDataValue::number(d); }
      RuleDataValue operator()(std::int64_t i) const {
        return RuleDataValue::number(static_cast<double>(i));
      }
      RuleDataValue operator()(bool b) const { return RuleDataValue::boolean(b); }
      RuleDataValue operator()(Timestamp t) const {
        // Timestamps read as their ISO-8601 text ("...:00Z", or "...:00.250Z" with
        // milliseconds). Texts of the same form compare in time order; a rule comparing with a
        // literal should write it in the form the values have (docs/definition-format.md).
        if (!self.texts_) self.texts_.emplace();
        return RuleDataValue::string(self.texts_->emplace_back(format_timestamp(t)));
      }
      RuleDataValue operator()(const std::vector<std::string>& list) const {
        return RuleDataValue::array(&list);
      }
    };
    return std::visit(Visitor{*this}, value);
  }

  const ProcessDefinition& definition_;
  const InstanceState& state_;
  std::span<const Event> pending_;
  // Strings made for this evaluation (stable addresses); made on first use: a std::deque
  // allocates when it is constructed, and most evaluations read no timestamp.
  mutable std::optional<std::deque<std::string>> texts_;
};

}  // namespace

const FieldValue& projected_field(const InstanceState& state, std::span<const Event> pending,
                                  FieldId field) {
  static const FieldValue kUnset;
  for (auto e = pending.rbegin(); e != pending.rend(); ++e) {
    if ((e->type == EventType::kFieldSet || e->type == EventType::kFieldCleared) &&
        e->target == to_index(field)) {
      return e->type == EventType::kFieldSet ? e->value : kUnset;
    }
  }
  return to_index(field) < state.fields().size() ? state.fields()[to_index(field)] : kUnset;
}

bool condition_holds(const ProcessDefinition& definition, const InstanceState& state,
                     const Condition& condition, std::span<const Event> pending) {
  if (condition.plan) {
    const Verdict verdict = condition.plan->evaluate(state, pending);
    if (verdict != Verdict::kUnknown) return verdict == Verdict::kTrue;
  }
  return condition_holds_by_rule(definition, state, condition, pending);
}

bool condition_holds_by_rule(const ProcessDefinition& definition, const InstanceState& state,
                             const Condition& condition, std::span<const Event> pending) {
  const InstanceRuleData data(definition, state, pending);
  const auto result = condition.rule.evaluate_condition(data);
  return std::holds_alternative<bool>(result) && std::get<bool>(result);
}

std::optional<double> rule_number(const ProcessDefinition& definition, const InstanceState& state,
                                  const Rule& rule, std::span<const Event> pending) {
  const InstanceRuleData data(definition, state, pending);
  const auto result = rule.evaluate(data);
  const auto* value = std::get_if<RuleValue>(&result);
  if (value == nullptr || value->kind() != RuleValue::Kind::kNumber) return std::nullopt;
  return value->as_number();
}

}  // namespace salesflow::internal
