// Pipeline figures counted from events, and the alerts they raise.
#include "salesflow/figures.hpp"

#include <charconv>

#include "definition/json_document.hpp"

namespace salesflow {

namespace {

void append_count(std::string& out, std::string_view key, std::uint64_t n) {
  out += '"';
  out += key;
  out += "\":";
  out += std::to_string(n);
}

void append_rate(std::string& out, std::string_view key, std::optional<double> rate) {
  out += '"';
  out += key;
  out += "\":";
  if (!rate) {
    out += "null";
    return;
  }
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, *rate);
  out.append(buffer, written.ptr);
}

void append_flow(std::string& out, const FlowCount& flow) {
  out += '{';
  append_count(out, "entered", flow.entered);
  out += ',';
  append_count(out, "advanced", flow.advanced);
  out += ',';
  append_count(out, "lost", flow.lost);
  out += ',';
  append_rate(out, "conversion", flow.conversion());
  out += '}';
}

// {"<id>": {...}, ...} over a table of the definition.
template <class Table>
void append_flows(std::string& out, const Table& table, const std::vector<FlowCount>& flows) {
  out += '{';
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (i > 0) out += ',';
    internal::append_json_string(out, table[i].id);
    out += ':';
    append_flow(out, flows[i]);
  }
  out += '}';
}

}  // namespace

PipelineFigures::PipelineFigures(std::shared_ptr<const ProcessDefinition> definition)
    : definition_(std::move(definition)),
      stages_(definition_->stages().size()),
      modules_(definition_->modules().size()) {}

bool PipelineFigures::add(const Event& e) {
  const ProcessDefinition& def = *definition_;
  if (e.definition_id != def.id() || e.definition_version != def.version()) return false;
  const auto module_of = [&](StageId s) { return def.stage(s).module; };
  // An entry into `to`, coming from `from` (none: created).
  const auto enter = [&](std::optional<StageId> from, StageId to) {
    ++stages_[to_index(to)].entered;
    const auto module = module_of(to);
    if (module && (!from || module_of(*from) != module)) ++modules_[to_index(*module)].entered;
  };
  switch (e.type) {
    case EventType::kCreated:
      ++created_;
      enter(std::nullopt, e.stage);
      break;
    case EventType::kStageChanged: {
      const auto transition = def.find_transition(e.from_stage, e.stage);
      if (transition && def.transition(*transition).forward) {
        ++stages_[to_index(e.from_stage)].advanced;
        const auto module = module_of(e.from_stage);
        if (module && module_of(e.stage) != module) ++modules_[to_index(*module)].advanced;
      }
      enter(e.from_stage, e.stage);
      if (def.stage(e.stage).kind == StageKind::kWon) ++won_;
      break;
    }
    case EventType::kClosedLost: {
      ++lost_;
      ++stages_[to_index(e.from_stage)].lost;
      if (const auto module = module_of(e.from_stage)) ++modules_[to_index(*module)].lost;
      ++stages_[to_index(e.stage)].entered;
      break;
    }
    case EventType::kReopened:
      --lost_;
      enter(e.from_stage, e.stage);
      break;
    default:
      break;
  }
  return true;
}

std::string PipelineFigures::to_json() const {
  std::string out = "{";
  append_count(out, "created", created_);
  out += ',';
  append_count(out, "won", won_);
  out += ',';
  append_count(out, "lost", lost_);
  out += ',';
  append_rate(out, "win_rate",
              won_ + lost_ == 0 ? std::nullopt
                                : std::optional<double>(static_cast<double>(won_) /
                                                        static_cast<double>(won_ + lost_)));
  out += ",\"stages\":";
  append_flows(out, definition_->stages(), stages_);
  out += ",\"modules\":";
  append_flows(out, definition_->modules(), modules_);
  out += '}';
  return out;
}

std::vector<const AlertThreshold*> PipelineFigures::raised_alerts() const {
  std::vector<const AlertThreshold*> raised;
  if (definition_->alerts().empty()) return raised;
  // Ids are identifiers and counts are bounded, so the document is always within the limits.
  auto data = JsonRuleData::parse(to_json(), {SIZE_MAX, 64, SIZE_MAX, SIZE_MAX});
  const auto* figures = std::get_if<JsonRuleData>(&data);
  if (figures == nullptr) return raised;
  for (const AlertThreshold& alert : definition_->alerts()) {
    const auto holds = alert.condition.rule.evaluate_condition(*figures);
    if (std::holds_alternative<bool>(holds) && std::get<bool>(holds)) raised.push_back(&alert);
  }
  return raised;
}

}  // namespace salesflow
