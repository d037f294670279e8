// Pipeline figures: what a process's committed events say about its flow, stage by stage and
// module by module, and the "process optimisation alerts" (AlertThreshold in definition.hpp) that
// these figures raise.
//
// Figures are counted from events, so they can be kept up to date as events are committed (from
// an EventListener, or from a command's answer) and recomputed from the log at any time.
//
// [Thread safety] A PipelineFigures is a plain value: one thread at a time may add() to it;
// const members may run concurrently with each other.
// [Ownership] It shares its ProcessDefinition.
// [Errors] add() ignores events of other definitions (id and version) and returns false for them.
#ifndef SALESFLOW_FIGURES_HPP_
#define SALESFLOW_FIGURES_HPP_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "salesflow/definition.hpp"
#include "salesflow/process.hpp"

namespace salesflow {

// The flow through one stage or module.
struct FlowCount {
  std::uint64_t entered = 0;   // entries (created into it, moved into it, reopened into it)
  std::uint64_t advanced = 0;  // moves out of it by a forward transition
  std::uint64_t lost = 0;      // closed as lost from it

  // advanced / entered; nothing before anything entered.
  std::optional<double> conversion() const noexcept {
    if (entered == 0) return std::nullopt;
    return static_cast<double>(advanced) / static_cast<double>(entered);
  }
  friend bool operator==(const FlowCount&, const FlowCount&) = default;
};

class PipelineFigures {
 public:
  // REQUIRES: definition is not null.
  explicit PipelineFigures(std::shared_ptr<const ProcessDefinition> definition);

  // Counts one committed event. Moves within a module count for its stages, not for the module.
  // Returns false (counting nothing) for an event of another definition.
  bool add(const Event& event);

  const ProcessDefinition& definition() const noexcept { return *definition_; }
  const FlowCount& stage(StageId id) const noexcept { return stages_[to_index(id)]; }
  const FlowCount& module(ModuleId id) const noexcept { return modules_[to_index(id)]; }
  std::uint64_t created() const noexcept { return created_; }
  std::uint64_t won() const noexcept { return won_; }
  std::uint64_t lost() const noexcept { return lost_; }  // closed as lost and not reopened

  // The figures as the JSON document alert rules read:
  //   {"created": n, "won": n, "lost": n, "win_rate": r,
  //    "stages":  {"<stage id>":  {"entered": n, "advanced": n, "lost": n, "conversion": r}},
  //    "modules": {"<module id>": {...the same...}}}
  // A rate with nothing to divide by is null.
  std::string to_json() const;

  // The definition's alerts whose rule holds over to_json(), in declaration order. An alert whose
  // rule fails to evaluate (a limit) is not raised.
  std::vector<const AlertThreshold*> raised_alerts() const;

 private:
  std::shared_ptr<const ProcessDefinition> definition_;
  std::vector<FlowCount> stages_;
  std::vector<FlowCount> modules_;
  std::uint64_t created_ = 0, won_ = 0, lost_ = 0;
};

}  // namespace salesflow

#endif  // SALESFLOW_FIGURES_HPP_
