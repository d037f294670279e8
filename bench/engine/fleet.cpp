#include "fleet.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string_view>

#include <nlohmann/json.hpp>

namespace salesflow::bench {
namespace {

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Anonymous memory backed by transparent huge pages, in bytes (0 where the kernel does not say).
std::size_t huge_page_bytes() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  constexpr std::string_view kKey = "AnonHugePages:";
  for (std::string line; std::getline(rollup, line);) {
    if (line.starts_with(kKey))
      return std::strtoull(line.c_str() + kKey.size(), nullptr, 10) * 1024;
  }
  return 0;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "engine bench fixture: %s\n", what.c_str());
  std::abort();
}

void expect_ok(const CommandResult& result, const char* what) {
  if (!result.ok()) fail(std::string(what) + ": " + result.rejection->message);
}

}  // namespace

void grant_b2b_people(InMemoryDirectory& directory) {
  directory.grant("maria", "sales_rep");
  directory.grant("max", "sales_manager");
  directory.grant("lena", "legal");
  directory.grant("pete", "presales");
  directory.grant("sam", "service");
  directory.grant("mark", "marketing");
}

std::shared_ptr<const ProcessDefinition> b2b_gate3_definition() {
  static const std::shared_ptr<const ProcessDefinition> definition = [] {
    std::ifstream in(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json");
    nlohmann::json doc = nlohmann::json::parse(in);
    bool changed = false;
    for (nlohmann::json& stage : doc["stages"]) {
      if (stage["id"] != "lead_incubation") continue;
      stage["gate"] = {{"required_fields", {"company"}},
                       {"checklist", {"lead_cleaned"}},
                       {"approvals",
                        {{{"id", "lead_accepted"},
                          {"label", "Lead accepted by the manager"},
                          {"role", "sales_manager"},
                          {"count", 1}}}}};
      changed = true;
    }
    if (!changed) fail("examples/b2b_pipeline.json has no stage lead_incubation");
    LoadResult loaded = load_definition(doc.dump());
    if (!loaded.ok())
      fail("the adapted B2B definition does not load: " + loaded.diagnostics.front().pointer + " " +
           loaded.diagnostics.front().message);
    return loaded.definition;
  }();
  return definition;
}

std::string deal_id(std::size_t index) {
  char id[16];
  std::snprintf(id, sizeof id, "deal-%07zu", index);
  return id;
}

Fleet& fleet() {
  static Fleet* const built = [] {
    using Clock = std::chrono::steady_clock;
    auto* f = new Fleet;  // never destroyed: tearing down 1M deals at exit only costs time
    f->definition = b2b_gate3_definition();
    grant_b2b_people(f->directory);
    EngineOptions options;
    options.storage = &f->storage;
    options.directory = &f->directory;
    f->engine = std::make_unique<Engine>(options);
    if (!f->engine->register_definition(f->definition)) fail("register_definition");
    f->ids.reserve(kDeals);
    for (std::size_t i = 0; i < kDeals; ++i) f->ids.push_back(deal_id(i));
    f->random.resize(kDeals);
    std::iota(f->random.begin(), f->random.end(), 0u);
    std::shuffle(f->random.begin(), f->random.end(), std::mt19937_64(20261123));
    f->random_ids.reserve(kDeals);
    for (const std::uint32_t deal : f->random) f->random_ids.push_back(f->ids[deal]);
    f->now = *parse_timestamp("2026-11-23T09:00:00Z");

    Command create;
    create.type = CommandType::kCreate;
    create.actor = "maria";
    create.definition_id = f->definition->id();
    malloc_trim(0);
    const std::size_t heap0 = heap_in_use();
    const std::size_t rss0 = resident_bytes();
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < kDeals; ++i) {
      create.instance = f->ids[i];
      // The result (its events) is released before the next command, as a host would.
      expect_ok(f->engine->execute(create, f->now += std::chrono::milliseconds(1)), "create");
    }
    const auto t1 = Clock::now();
    const std::size_t heap1 = heap_in_use();
    const std::size_t rss1 = resident_bytes();
    f->create_ns_per_deal = std::chrono::duration<double, std::nano>(t1 - t0).count() / kDeals;
    f->created_heap_bytes_per_deal = static_cast<double>(heap1 - heap0) / kDeals;
    f->created_rss_bytes_per_deal = static_cast<double>(rss1 - rss0) / kDeals;

    Command set;
    set.type = CommandType::kSetFields;
    set.actor = "maria";
    set.fields = {{"company", FieldValue(std::string("Acme GmbH"))}};
    Command check;
    check.type = CommandType::kCheckItem;
    check.actor = "maria";
    check.target = "lead_cleaned";
    Command approve;
    approve.type = CommandType::kApprove;
    approve.actor = "max";
    approve.target = "lead_accepted";
    const auto t2 = Clock::now();
    for (std::size_t i = 0; i < kDeals; ++i) {
      for (Command* c : {&set, &check, &approve}) {
        c->instance = f->ids[i];
        expect_ok(f->engine->execute(*c, f->now += std::chrono::milliseconds(1)), "prepare");
      }
    }
    const auto t3 = Clock::now();
    f->prepare_ns_per_command =
        std::chrono::duration<double, std::nano>(t3 - t2).count() / (3.0 * kDeals);
    f->prepared_heap_bytes_per_deal = static_cast<double>(heap_in_use() - heap0) / kDeals;
    f->huge_page_bytes = static_cast<double>(huge_page_bytes());
    if (f->engine->instance_count() != kDeals) fail("instance_count");
    const auto missing = f->engine->missing_to_leave(f->ids[kDeals - 1]);
    if (!missing || !missing->empty()) fail("the lead_incubation gate is not open");
    return f;
  }();
  return *built;
}

}  // namespace salesflow::bench
