// The bare stage change: one instance of a 5-stage cycle s1 -> s2 -> ... -> s5 -> s1, moved on
// stage by stage, with no gate, guard, field or listener. The same machine four ways:
//
//   BM_Stage_Table          a hand-written table: allowed[from][to], then store `to` (the floor)
//   BM_Stage_HandWritten    the same work as salesflow's, written by hand for this machine: the
//                           target stage looked up by name, the transition checked, the actor's
//                           role checked as a bit test, an event {type, from, to, at, version}
//                           built and applied (the honest floor for what salesflow does)
//   BM_Stage_Statechart     Boost.Statechart: process_event(Next) on a 5-state state_machine
//   BM_Stage_DecideApply    salesflow decide() + apply() on one InstanceState
//   BM_Stage_Engine         salesflow Engine::execute(kAdvance) on one live instance
//
// The salesflow command names the target stage as a string (as a host's command does), so both
// salesflow rows include the stage lookup by name, the transition lookup, the role check and
// building the event; the Engine row adds the instance lookup, the stripe lock, the Directory
// lookup of the actor's roles, stamping, the Storage call (discarding) and the listener outbox.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <boost/statechart/event.hpp>
#include <boost/statechart/simple_state.hpp>
#include <boost/statechart/state_machine.hpp>
#include <boost/statechart/transition.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fleet.hpp"

namespace salesflow::bench {
namespace {

constexpr std::size_t kStages = 5;

// ---------------------------------------------------------------------------------------------
// The floor.

struct Table {
  std::array<std::array<bool, kStages>, kStages> allowed{};
};

void BM_Stage_Table(benchmark::State& state) {
  Table table;
  for (std::size_t s = 0; s < kStages; ++s) table.allowed[s][(s + 1) % kStages] = true;
  benchmark::DoNotOptimize(table);  // the compiler must read the table, not fold it
  std::uint8_t stage = 0;
  std::uint8_t target = 1;
  for (auto _ : state) {
    if (!table.allowed[stage][target]) {
      state.SkipWithError("no such transition");
      break;
    }
    stage = target;
    target = target + 1 == kStages ? 0 : target + 1;
    benchmark::DoNotOptimize(stage);
  }
  state.SetLabel("bool[5][5] + store");
}
BENCHMARK(BM_Stage_Table);

// ---------------------------------------------------------------------------------------------
// The same work as salesflow's decide() + apply(), written by hand for this one machine.

namespace hand {
struct Machine {
  std::vector<std::pair<std::string_view, std::uint8_t>> by_name;  // sorted, as salesflow's
  std::array<std::array<bool, kStages>, kStages> allowed{};
  std::array<std::uint64_t, kStages> working_roles{};  // role bits that may move a stage on
};
struct Event {
  std::uint8_t type;
  std::uint8_t from, to;
  Timestamp at;
  std::uint64_t version;
};
struct Deal {
  std::uint8_t stage = 0;
  std::uint64_t version = 1;
  Timestamp stage_entered_at{};
};
constexpr std::uint8_t kStageChanged = 8;

// false: rejected (unknown stage, no such transition, role missing).
bool advance(const Machine& m, Deal& deal, std::string_view target, std::uint64_t actor_roles,
             Timestamp now) {
  const auto it =
      std::lower_bound(m.by_name.begin(), m.by_name.end(), target,
                       [](const auto& entry, std::string_view name) { return entry.first < name; });
  if (it == m.by_name.end() || it->first != target) return false;
  const std::uint8_t to = it->second;
  if (!m.allowed[deal.stage][to]) return false;
  if ((m.working_roles[deal.stage] & actor_roles) == 0) return false;
  const Event e{kStageChanged, deal.stage, to, now, deal.version + 1};
  benchmark::DoNotOptimize(e);
  deal.stage = e.to;
  deal.version = e.version;
  deal.stage_entered_at = e.at;
  return true;
}
}  // namespace hand

constexpr std::array<const char*, kStages> kNames = {"s1", "s2", "s3", "s4", "s5"};

void BM_Stage_HandWritten(benchmark::State& state) {
  hand::Machine m;
  for (std::size_t s = 0; s < kStages; ++s) {
    m.by_name.emplace_back(kNames[s], static_cast<std::uint8_t>(s));
    m.allowed[s][(s + 1) % kStages] = true;
    m.working_roles[s] = 1;  // the one role, "rep"
  }
  std::sort(m.by_name.begin(), m.by_name.end());
  benchmark::DoNotOptimize(m);
  hand::Deal deal;
  std::array<std::string, kStages> targets;
  for (std::size_t i = 0; i < kStages; ++i) targets[i] = kNames[(i + 1) % kStages];
  std::uint64_t actor_roles = 1;
  benchmark::DoNotOptimize(actor_roles);
  Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
  std::size_t next = 0;
  for (auto _ : state) {
    const std::string& target = targets[next];
    next = next + 1 == kStages ? 0 : next + 1;
    if (!hand::advance(m, deal, target, actor_roles, now += std::chrono::milliseconds(1))) {
      state.SkipWithError("advance was not accepted");
      break;
    }
    benchmark::DoNotOptimize(deal);
  }
  state.SetLabel("name lookup, table, role bit, event record");
}
BENCHMARK(BM_Stage_HandWritten);

// ---------------------------------------------------------------------------------------------
// Boost.Statechart.

namespace chart {
namespace sc = boost::statechart;
struct Next : sc::event<Next> {};
struct S1;
struct S2;
struct S3;
struct S4;
struct S5;
struct Machine : sc::state_machine<Machine, S1> {};
struct S1 : sc::simple_state<S1, Machine> {
  using reactions = sc::transition<Next, S2>;
};
struct S2 : sc::simple_state<S2, Machine> {
  using reactions = sc::transition<Next, S3>;
};
struct S3 : sc::simple_state<S3, Machine> {
  using reactions = sc::transition<Next, S4>;
};
struct S4 : sc::simple_state<S4, Machine> {
  using reactions = sc::transition<Next, S5>;
};
struct S5 : sc::simple_state<S5, Machine> {
  using reactions = sc::transition<Next, S1>;
};
}  // namespace chart

void BM_Stage_Statechart(benchmark::State& state) {
  chart::Machine machine;
  machine.initiate();
  const chart::Next next;
  for (auto _ : state) {
    machine.process_event(next);
    benchmark::ClobberMemory();
  }
  if (machine.state_cast<const chart::S1*>() == nullptr &&
      machine.state_cast<const chart::S2*>() == nullptr &&
      machine.state_cast<const chart::S3*>() == nullptr &&
      machine.state_cast<const chart::S4*>() == nullptr &&
      machine.state_cast<const chart::S5*>() == nullptr) {
    state.SkipWithError("the machine is in no state");
  }
  state.SetLabel("state_machine, 5 simple_states");
}
BENCHMARK(BM_Stage_Statechart);

// ---------------------------------------------------------------------------------------------
// salesflow.

std::shared_ptr<const ProcessDefinition> five_stages() {
  static const std::shared_ptr<const ProcessDefinition> definition = [] {
    LoadResult loaded = load_definition(R"({
      "format": 1, "id": "five_stages", "name": "Five stages", "version": 1,
      "roles": [{"id": "rep"}],
      "modules": [{"id": "main"}],
      "stages": [
        {"id": "s1", "name": "S1", "module": "main", "responsibility": {"accountable": "rep"}},
        {"id": "s2", "name": "S2", "module": "main", "responsibility": {"accountable": "rep"}},
        {"id": "s3", "name": "S3", "module": "main", "responsibility": {"accountable": "rep"}},
        {"id": "s4", "name": "S4", "module": "main", "responsibility": {"accountable": "rep"}},
        {"id": "s5", "name": "S5", "module": "main", "responsibility": {"accountable": "rep"}},
        {"id": "won", "name": "Won", "kind": "won", "responsibility": {"accountable": "rep"}},
        {"id": "lost", "name": "Lost", "kind": "lost", "responsibility": {"accountable": "rep"}}
      ],
      "transitions": [
        {"from": "s1", "to": "s2"}, {"from": "s2", "to": "s3"}, {"from": "s3", "to": "s4"},
        {"from": "s4", "to": "s5"}, {"from": "s5", "to": "s1"}, {"from": "s5", "to": "won"},
        {"from": ["s1", "s2", "s3", "s4", "s5"], "to": "lost"}
      ]
    })");
    if (!loaded.ok()) std::abort();
    return loaded.definition;
  }();
  return definition;
}

constexpr std::array<const char*, kStages> kTargets = {"s2", "s3", "s4", "s5", "s1"};

void BM_Stage_DecideApply(benchmark::State& state) {
  const ProcessDefinition& def = *five_stages();
  RoleSet rep;
  rep.insert(*def.find_role("rep"));
  const Timestamp start = *parse_timestamp("2026-11-23T09:00:00Z");
  InstanceState s;
  Command c;
  c.type = CommandType::kCreate;
  c.instance = "deal-1";
  c.actor = "rep";
  Decision created = decide(def, s, c, {start, rep});
  if (!created.ok()) std::abort();
  created.events.front().version = 1;
  apply(def, s, created.events.front());
  c.type = CommandType::kAdvance;
  std::array<std::string, kStages> targets;
  for (std::size_t i = 0; i < kStages; ++i) targets[i] = kTargets[i];
  std::size_t next = 0;
  DecisionContext context{start, rep};
  for (auto _ : state) {
    c.target = targets[next];
    next = next + 1 == kStages ? 0 : next + 1;
    context.now += std::chrono::milliseconds(1);
    Decision decision = decide(def, s, c, context);
    if (!decision.ok()) {
      state.SkipWithError("advance was not accepted");
      break;
    }
    for (Event& e : decision.events) {
      e.version = s.version + 1;
      e.actor = c.actor;
      apply(def, s, e);
    }
  }
  state.SetLabel("one InstanceState in cache");
}
BENCHMARK(BM_Stage_DecideApply);

void BM_Stage_Engine(benchmark::State& state) {
  InMemoryDirectory directory;
  directory.grant("rep", "rep");
  DiscardingStorage storage;
  EngineOptions options;
  options.storage = &storage;
  options.directory = &directory;
  Engine engine(options);
  engine.register_definition(five_stages());
  Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
  Command c;
  c.type = CommandType::kCreate;
  c.instance = "deal-1";
  c.actor = "rep";
  c.definition_id = "five_stages";
  if (!engine.execute(c, now).ok()) std::abort();
  c.type = CommandType::kAdvance;
  std::array<std::string, kStages> targets;
  for (std::size_t i = 0; i < kStages; ++i) targets[i] = kTargets[i];
  std::size_t next = 0;
  for (auto _ : state) {
    c.target = targets[next];
    next = next + 1 == kStages ? 0 : next + 1;
    const CommandResult result = engine.execute(c, now += std::chrono::milliseconds(1));
    if (!result.ok()) {
      state.SkipWithError("advance was not accepted");
      break;
    }
  }
  state.SetLabel("one live instance, discarding storage");
}
BENCHMARK(BM_Stage_Engine);

}  // namespace
}  // namespace salesflow::bench
