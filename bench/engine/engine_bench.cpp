// Commands on a random one of 1,000,000 live B2B deals (fleet.hpp), through Engine::execute and
// through decide() + apply() directly, and the memory a live deal costs the engine.
//
// Every measured command is checked to be accepted and to record exactly one event: a benchmark
// that measures a rejection or a no-op stops with an error instead of reporting a figure.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "fleet.hpp"

namespace salesflow::bench {
namespace {

using std::chrono::milliseconds;

// Iterations of each benchmark that consumes a prepared deal: the 1M deals last for 10
// repetitions of the direct one, and for 5 of each of the two advances through the Engine.
constexpr benchmark::IterationCount kConsumingIterations = 100'000;

// Accepted, with `type` first: what the command asked for. Delivery standards may add their own
// events after it (leaving lead incubation meets "lead graded within 3 working days").
bool accepted_one(const CommandResult& result, EventType type) {
  return result.ok() && !result.events.empty() && result.events.front().type == type;
}

// ---------------------------------------------------------------------------------------------
// Memory: reported from the fixture's construction (fleet.cpp).
void BM_Memory_PerLiveDeal(benchmark::State& state) {
  Fleet& f = fleet();
  for (auto _ : state) benchmark::DoNotOptimize(f.engine->instance_count());
  const std::size_t fields = f.definition->fields().size();
  state.counters["deals"] = static_cast<double>(kDeals);
  state.counters["heap_B_per_deal"] = f.created_heap_bytes_per_deal;
  state.counters["rss_B_per_deal"] = f.created_rss_bytes_per_deal;
  // The unset field slots every state carries: InstanceState::fields is sized to the definition.
  state.counters["field_slots_B"] = static_cast<double>(fields * sizeof(FieldValue));
  state.counters["beyond_fields_B_per_deal"] =
      f.created_heap_bytes_per_deal - static_cast<double>(fields * sizeof(FieldValue));
  state.counters["prepared_heap_B_per_deal"] = f.prepared_heap_bytes_per_deal;
  state.counters["sizeof_InstanceState"] = sizeof(InstanceState);
  state.counters["sizeof_FieldValue"] = sizeof(FieldValue);
  state.counters["sizeof_Event"] = sizeof(Event);
  state.counters["create_ns"] = f.create_ns_per_deal;
  state.counters["prepare_cmd_ns"] = f.prepare_ns_per_command;
  state.counters["huge_page_MiB"] = f.huge_page_bytes / (1024.0 * 1024.0);
  state.SetLabel("b2b, 1M deals, no field values, discarding storage");
}
BENCHMARK(BM_Memory_PerLiveDeal)->Iterations(1);

// ---------------------------------------------------------------------------------------------
// Engine::execute on a random one of the 1M deals.

// Sets deal_value (a number) to a new value each time (0, 1, ..., 99, 0, ...), so that every
// command records an event.
class DealValueSets {
 public:
  static Command command() {
    Command c;
    c.type = CommandType::kSetFields;
    c.actor = "maria";
    c.fields = {{"deal_value", FieldValue(0.0)}};
    return c;
  }
  // Makes `c` (from command()) the next set, on `instance`.
  void next(Command& c, const std::string& instance) {
    c.instance = instance;
    c.fields.front().second = value_;
    value_ = value_ < 99 ? value_ + 1 : 0;
  }

 private:
  double value_ = 0;
};

// Engine::execute of the set on the deal `pick()` names, one per iteration.
template <class Pick>
void execute_sets(benchmark::State& state, Pick pick, const char* label) {
  Fleet& f = fleet();
  DealValueSets sets;
  Command set = DealValueSets::command();
  for (auto _ : state) {
    sets.next(set, pick(f));
    const CommandResult result = f.engine->execute(set, f.now += milliseconds(1));
    if (!accepted_one(result, EventType::kFieldSet)) {
      state.SkipWithError("set field was not accepted");
      break;
    }
  }
  state.SetLabel(label);
}

void BM_Engine_SetField(benchmark::State& state) {
  static Cursor cursor;
  execute_sets(
      state, [](const Fleet& f) -> const std::string& { return f.random_ids[cursor.take()]; },
      "deal_value (number), random of 1M");
}
BENCHMARK(BM_Engine_SetField);

// The same command on one deal, again and again: everything in cache. What a command costs the
// CPU once its memory is there (the floor a batch's look-ahead can approach).
void BM_Engine_SetField_Hot(benchmark::State& state) {
  execute_sets(
      state, [](const Fleet& f) -> const std::string& { return f.random_ids.front(); },
      "deal_value (number), one deal in cache");
}
BENCHMARK(BM_Engine_SetField_Hot);

// Checks items none of the deals has checked yet: each (deal, item) pair once, so that every
// command records an event (checking a checked item is an accepted no-op).
void BM_Engine_CheckItem(benchmark::State& state) {
  static constexpr std::array<const char*, 8> kItems = {
      "grade_verified", "org_structure",    "decision_chain",  "hidden_needs",
      "proposal_sent",  "contract_drafted", "esignature_sent", "value_review_done"};
  Fleet& f = fleet();
  static Cursor cursor;
  Command check;
  check.type = CommandType::kCheckItem;
  check.actor = "maria";
  std::size_t pass = cursor.pass;
  if (pass < kItems.size()) check.target = kItems[pass];
  for (auto _ : state) {
    if (cursor.pass != pass) {
      pass = cursor.pass;
      if (pass == kItems.size()) {
        state.SkipWithError("every item of every deal is checked");
        break;
      }
      check.target = kItems[pass];
    }
    check.instance = f.random_ids[cursor.take()];
    const CommandResult result = f.engine->execute(check, f.now += milliseconds(1));
    if (!accepted_one(result, EventType::kItemChecked)) {
      state.SkipWithError("check item was not accepted");
      break;
    }
  }
  state.SetLabel("random of 1M");
}
BENCHMARK(BM_Engine_CheckItem);

// lead_incubation -> needs_diagnosis through the gate (1 field, 1 item, 1 approval), all met.
// Each deal advances once: the benchmark consumes the prepared deals in random order.
void BM_Engine_AdvanceGate3(benchmark::State& state) {
  Fleet& f = fleet();
  static Cursor cursor;
  Command advance;
  advance.type = CommandType::kAdvance;
  advance.instance = "deal";
  advance.actor = "maria";
  advance.target = "needs_diagnosis";
  for (auto _ : state) {
    if (cursor.next >= kDeals / 2) {  // the other half is BM_Engine_AdvanceGate3_Batch's
      state.SkipWithError("half the deals have advanced: fewer repetitions, please");
      break;
    }
    advance.instance = f.random_ids[cursor.take()];
    const CommandResult result = f.engine->execute(advance, f.now += milliseconds(1));
    if (!accepted_one(result, EventType::kStageChanged)) {
      state.SkipWithError("advance was not accepted");
      break;
    }
  }
  state.SetLabel("gate of 3 criteria, random of 1M");
}
BENCHMARK(BM_Engine_AdvanceGate3)->Iterations(kConsumingIterations);

// ---------------------------------------------------------------------------------------------
// The same commands through Engine::execute_batch, kBatch per call: the time of one iteration is
// that of kBatch commands (report.py divides by the `commands` counter). The advance consumes the
// deals from the far end of the random order, so that it and BM_Engine_AdvanceGate3 (from the
// near end) never meet: 5 repetitions of each take 499,840 and 500,000 of the 1M deals.

constexpr std::size_t kBatch = 64;

// Runs `batch` (kBatch commands at the next kBatch milliseconds) and checks every answer.
bool run_batch(Fleet& f, const std::vector<Command>& batch, EventType type,
               std::vector<Timestamp>& times, std::vector<CommandResult>& results) {
  for (Timestamp& t : times) t = f.now += milliseconds(1);
  results.clear();
  f.engine->execute_batch(batch, times, results);
  return results.size() == batch.size() &&
         std::ranges::all_of(results,
                             [&](const CommandResult& r) { return accepted_one(r, type); });
}

void BM_Engine_SetField_Batch(benchmark::State& state) {
  Fleet& f = fleet();
  static Cursor cursor;
  DealValueSets sets;
  std::vector<Command> batch(kBatch, DealValueSets::command());
  std::vector<Timestamp> times(kBatch);
  std::vector<CommandResult> results;
  for (auto _ : state) {
    for (Command& c : batch) sets.next(c, f.random_ids[cursor.take()]);
    if (!run_batch(f, batch, EventType::kFieldSet, times, results)) {
      state.SkipWithError("set field was not accepted");
      break;
    }
  }
  state.counters["commands"] = kBatch;
  state.SetLabel("deal_value (number), random of 1M, 64 per execute_batch");
}
BENCHMARK(BM_Engine_SetField_Batch);

void BM_Engine_AdvanceGate3_Batch(benchmark::State& state) {
  Fleet& f = fleet();
  static std::size_t taken = 0;  // deals advanced, counted from the end of Fleet::random_ids
  std::vector<Command> batch(kBatch);
  for (Command& c : batch) {
    c.type = CommandType::kAdvance;
    c.actor = "maria";
    c.target = "needs_diagnosis";
  }
  std::vector<Timestamp> times(kBatch);
  std::vector<CommandResult> results;
  for (auto _ : state) {
    if (taken + kBatch > kDeals / 2) {
      state.SkipWithError("half the deals have advanced: fewer repetitions, please");
      break;
    }
    for (Command& c : batch) c.instance = f.random_ids[kDeals - 1 - taken++];
    if (!run_batch(f, batch, EventType::kStageChanged, times, results)) {
      state.SkipWithError("advance was not accepted");
      break;
    }
  }
  state.counters["commands"] = kBatch;
  state.SetLabel("gate of 3 criteria, random of 1M, 64 per execute_batch");
}
BENCHMARK(BM_Engine_AdvanceGate3_Batch)->Iterations(kConsumingIterations / kBatch);

// ---------------------------------------------------------------------------------------------
// decide() + apply() directly, on 1M states of our own: what the engine adds is the instance
// lookup, the lock, the Directory, stamping and storing the events, and the outbox.

struct DirectDeal {
  const ProcessDefinition* definition = nullptr;
  RoleSet maria, max;
};

DirectDeal direct_context() {
  const ProcessDefinition& def = *fleet().definition;
  DirectDeal d{&def, {}, {}};
  d.maria.insert(*def.find_role("sales_rep"));
  d.max.insert(*def.find_role("sales_manager"));
  return d;
}

// Decides and applies one command as the engine does, stamping what apply() reads.
bool decide_apply(const ProcessDefinition& def, InstanceState& s, const Command& c,
                  const DecisionContext& context) {
  Decision decision = decide(def, s, c, context);
  if (!decision.ok()) return false;
  for (Event& e : decision.events) {
    e.version = s.version + 1;
    e.actor = c.actor;
    apply(def, s, e);
  }
  return true;
}

std::vector<InstanceState>& direct_states() {
  static std::vector<InstanceState>* const states = [] {
    const DirectDeal d = direct_context();
    const Timestamp now = fleet().now;
    auto* all = new std::vector<InstanceState>(kDeals);  // never destroyed
    Command create, set, check, approve;
    create.type = CommandType::kCreate;
    // decide() works on one state; the id only has to be there.
    create.instance = set.instance = check.instance = approve.instance = "deal";
    create.actor = set.actor = check.actor = "maria";
    set.type = CommandType::kSetFields;
    set.fields = {{"company", FieldValue(std::string("Acme GmbH"))}};
    check.type = CommandType::kCheckItem;
    check.target = "lead_cleaned";
    approve.type = CommandType::kApprove;
    approve.actor = "max";
    approve.target = "lead_accepted";
    for (InstanceState& s : *all) {
      bool ok = decide_apply(*d.definition, s, create, {now, d.maria});
      ok = ok && decide_apply(*d.definition, s, set, {now, d.maria});
      ok = ok && decide_apply(*d.definition, s, check, {now, d.maria});
      ok = ok && decide_apply(*d.definition, s, approve, {now, d.max});
      if (!ok) std::abort();
    }
    return all;
  }();
  return *states;
}

void BM_DecideApply_AdvanceGate3(benchmark::State& state) {
  const DirectDeal d = direct_context();
  std::vector<InstanceState>& states = direct_states();
  const std::vector<std::uint32_t>& order = fleet().random;
  static Cursor cursor;
  Command advance;
  advance.type = CommandType::kAdvance;
  advance.instance = "deal";
  advance.actor = "maria";
  advance.target = "needs_diagnosis";
  Timestamp now = fleet().now;
  for (auto _ : state) {
    if (cursor.pass != 0) {
      state.SkipWithError("every state has advanced: fewer repetitions, please");
      break;
    }
    InstanceState& s = states[order[cursor.take()]];
    if (!decide_apply(*d.definition, s, advance, {now += milliseconds(1), d.maria})) {
      state.SkipWithError("advance was not accepted");
      break;
    }
  }
  state.SetLabel("gate of 3 criteria, random of 1M states");
}
BENCHMARK(BM_DecideApply_AdvanceGate3)->Iterations(kConsumingIterations);

// decide() alone on one state in cache, not applied: the same accepted advance, again and again.
void BM_Decide_AdvanceGate3_Hot(benchmark::State& state) {
  const DirectDeal d = direct_context();
  // The state the direct benchmark's cursor reaches last: still in lead_incubation.
  const InstanceState s = direct_states()[fleet().random.back()];
  Command advance;
  advance.type = CommandType::kAdvance;
  advance.instance = "deal";
  advance.actor = "maria";
  advance.target = "needs_diagnosis";
  const DecisionContext context{fleet().now, d.maria};
  for (auto _ : state) {
    Decision decision = decide(*d.definition, s, advance, context);
    if (!decision.ok()) {
      state.SkipWithError("advance was not accepted");
      break;
    }
    benchmark::DoNotOptimize(decision);
  }
  state.SetLabel("gate of 3 criteria, one state in cache");
}
BENCHMARK(BM_Decide_AdvanceGate3_Hot);

// ---------------------------------------------------------------------------------------------
// The machine's floor for "a random one of 1M": one dependent load from a random cache line of
// 1 GiB (about the fleet's working set). A command on a random deal costs a few of these.
// On whatever pages the heap has: 4 KiB, or 2 MiB under report.py --huge-pages.
void BM_Floor_RandomLoad1GiB(benchmark::State& state) {
  struct alignas(64) Line {
    std::uint32_t next;
  };
  constexpr std::size_t kLines = (std::size_t{1} << 30) / sizeof(Line);
  static const std::vector<Line>* const lines = [] {
    std::vector<std::uint32_t> order(kLines);
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
    auto* all = new std::vector<Line>(kLines);  // one cycle through every line; never destroyed
    for (std::size_t i = 0; i < kLines; ++i) (*all)[order[i]].next = order[(i + 1) % kLines];
    return all;
  }();
  std::uint32_t at = 0;
  for (auto _ : state) {
    at = (*lines)[at].next;
    benchmark::DoNotOptimize(at);
  }
  state.SetLabel("pointer chase, 64-byte lines");
}
BENCHMARK(BM_Floor_RandomLoad1GiB);

}  // namespace
}  // namespace salesflow::bench

BENCHMARK_MAIN();
