// Load + validate + compile of definitions, next to nlohmann's bare DOM parse of the same text
// (the peer the figures are stated against), and to the two bounded parsers of salesflow alone:
// BM_BoundedParse (nlohmann SAX, used for small inputs and to locate errors) and BM_FastParse
// (simdjson plus the limit and duplicate-key checks, the first step of BM_LoadDefinition).
#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "definition/json_document.hpp"
#include "salesflow/definition.hpp"
#include "support/generate.hpp"

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string& b2b() {
  static const std::string text =
      read_file(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json");
  return text;
}

const std::string& generated_1000() {
  static const std::string text = salesflow::testing::generate_definition(1000);
  return text;
}

const std::string& input(int which) { return which == 0 ? b2b() : generated_1000(); }
const char* name(int which) { return which == 0 ? "b2b" : "1000_stages"; }

void BM_NlohmannParse(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::parse(text));
  state.SetLabel(name(static_cast<int>(state.range(0))));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_BoundedParse(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(salesflow::internal::parse_json(text, {}));
  }
  state.SetLabel(name(static_cast<int>(state.range(0))));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_FastParse(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  simdjson::dom::parser parser;
  for (auto _ : state) {
    benchmark::DoNotOptimize(salesflow::internal::parse_json_fast(text, {}, parser));
  }
  state.SetLabel(name(static_cast<int>(state.range(0))));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_LoadDefinition(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    salesflow::LoadResult result = salesflow::load_definition(text);
    if (!result.ok()) state.SkipWithError("the definition does not load");
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(name(static_cast<int>(state.range(0))));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

BENCHMARK(BM_NlohmannParse)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BoundedParse)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FastParse)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LoadDefinition)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
