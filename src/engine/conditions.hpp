// Gate conditions and transition guards: rules evaluated against an instance's fields.
#ifndef SALESFLOW_ENGINE_CONDITIONS_HPP_
#define SALESFLOW_ENGINE_CONDITIONS_HPP_

#include "salesflow/definition.hpp"
#include "salesflow/process.hpp"

namespace salesflow::internal {

// Whether `condition` holds for `state`. A rule that fails to evaluate (a limit, a type error in
// a host operator) does not hold: a gate must not open on an error.
// `pending`: events decided but not applied yet; their field values count over the state's.
// A condition with a plan is judged by it where the plan can tell, by the interpreter elsewhere.
bool condition_holds(const ProcessDefinition& definition, const InstanceState& state,
                     const Condition& condition, std::span<const Event> pending = {});

// condition_holds() by the rule interpreter alone, whatever the condition's plan
// (condition_plan.hpp) would answer: the reference the plans are tested against.
bool condition_holds_by_rule(const ProcessDefinition& definition, const InstanceState& state,
                             const Condition& condition, std::span<const Event> pending = {});

// The value `field` has once `pending` is applied to `state` (unset for a state without fields).
const FieldValue& projected_field(const InstanceState& state, std::span<const Event> pending,
                                  FieldId field);

// The rule's value for `state` when it is a number; nothing when it is not or fails to evaluate.
std::optional<double> rule_number(const ProcessDefinition& definition, const InstanceState& state,
                                  const Rule& rule, std::span<const Event> pending = {});

}  // namespace salesflow::internal

#endif  // SALESFLOW_ENGINE_CONDITIONS_HPP_
