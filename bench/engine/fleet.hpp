// The shared fixture of the engine benchmarks: 1,000,000 live B2B deals in one Engine, built once
// through Engine::execute, and the pieces every benchmark needs (storage, directory, ids).
#ifndef SALESFLOW_BENCH_ENGINE_FLEET_HPP_
#define SALESFLOW_BENCH_ENGINE_FLEET_HPP_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "salesflow/engine.hpp"

namespace salesflow::bench {

inline constexpr std::size_t kDeals = 1'000'000;

// A Storage that accepts every append and keeps nothing: the engine's own cost, without the cost
// of a log. (InMemoryStorage keeps every Event in a std::map keyed by instance id; its cost is the
// host's storage, and at 1M deals it would dominate both time and memory.)
class DiscardingStorage final : public Storage {
 public:
  AppendResult append(std::string_view /*instance*/, std::uint64_t /*expected_version*/,
                      std::span<const Event> events) override {
    appended_ += events.size();  // the benchmarks run on one thread
    return AppendResult::kOk;
  }
  std::vector<Event> load(std::string_view /*instance*/) const override { return {}; }
  void scan(const std::function<void(const Event&)>& /*visit*/) const override {}
  std::uint64_t appended() const { return appended_; }

 private:
  std::uint64_t appended_ = 0;
};

// The people of the benchmarks and their directory roles.
void grant_b2b_people(InMemoryDirectory& directory);

// examples/b2b_pipeline.json with one change: the gate of "lead_incubation" has exactly three
// criteria (required field "company", checklist item "lead_cleaned", approval "lead_accepted" by
// one sales_manager) instead of five fields and two items.
std::shared_ptr<const ProcessDefinition> b2b_gate3_definition();

// 12-character ids ("deal-0000042"): they fit std::string's small buffer, as short host keys do.
std::string deal_id(std::size_t index);

// The 1M deals, each created (no field values) and then prepared so that the lead_incubation gate
// is open: set company, check lead_cleaned, approve lead_accepted. Built on first use.
struct Fleet {
  std::shared_ptr<const ProcessDefinition> definition;
  InMemoryDirectory directory;
  DiscardingStorage storage;
  std::unique_ptr<Engine> engine;
  std::vector<std::string> ids;       // by deal index
  std::vector<std::uint32_t> random;  // a fixed random permutation of the deal indexes
  // ids[random[k]] at k: the benchmarks read the ids in order, so that the only random memory
  // accesses they measure are the engine's (a host has the id at hand in its request).
  std::vector<std::string> random_ids;
  Timestamp now{};

  // Measured while building: heap = glibc mallinfo2() uordblks + hblkhd, RSS = /proc/self/statm.
  double created_heap_bytes_per_deal = 0;  // after 1M creates without field values
  double created_rss_bytes_per_deal = 0;
  double prepared_heap_bytes_per_deal = 0;  // after the three preparing commands as well
  double create_ns_per_deal = 0;            // wall time of one create command, mean
  double prepare_ns_per_command = 0;        // wall time of one preparing command, mean
  // The process's anonymous memory on transparent huge pages once built (smaps_rollup): about 0
  // unless the heap asks for them (report.py --huge-pages).
  double huge_page_bytes = 0;
};

Fleet& fleet();

// Walks Fleet::random (and Fleet::random_ids) in order, cycling; `pass` counts the cycles done.
struct Cursor {
  std::size_t take() {
    const std::size_t k = next;
    if (++next == kDeals) {
      next = 0;
      ++pass;
    }
    return k;
  }
  std::size_t next = 0;
  std::size_t pass = 0;
};

}  // namespace salesflow::bench

#endif  // SALESFLOW_BENCH_ENGINE_FLEET_HPP_
