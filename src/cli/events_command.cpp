// salesflow events --store URI [--instance ID]
//
// Prints the stored events as JSON lines (the event objects of docs/command-stream.md) in commit
// order, so each instance's in version order. The store is opened for reading only; stage,
// field and other names come from the definitions the store keeps.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "cli/command_json.hpp"
#include "cli/commands.hpp"
#include "salesflow/engine.hpp"
#include "salesflow/storage.hpp"

namespace salesflow::cli {
namespace {

struct EventsOptions {
  std::string store;
  std::string instance;
  bool has_instance = false;
};

int events(const EventsOptions& options) {
  StoreOptions store_options;
  store_options.read_only = true;
  OpenStoreResult opened = open_store(options.store, store_options);
  if (!opened.store) {
    std::cerr << "salesflow events: " << opened.error << "\n";
    return kExitInvalid;
  }
  EventStore& store = *opened.store;
  std::map<std::pair<std::string, std::uint32_t>, std::shared_ptr<const ProcessDefinition>> defs;
  for (const StoredDefinition& kept : store.definitions()) {
    LoadResult result = load_definition(kept.source);
    if (result.ok()) defs.emplace(std::make_pair(kept.id, kept.version), result.definition);
  }
  std::string out;
  bool ok = true;
  const auto print = [&](const Event& e) {
    if (!ok) return;
    const auto def = defs.find(std::make_pair(e.definition_id, e.definition_version));
    if (def == defs.end() || !event_fits(*def->second, e)) {
      std::cerr << "salesflow events: " << store.uri() << ": event " << e.version << " of "
                << internal::quote_text(e.instance) << " names "
                << (def == defs.end() ? "a definition the store does not keep ("
                                      : "what its definition does not declare (")
                << internal::quote_text(e.definition_id) << " version " << e.definition_version
                << ")\n";
      ok = false;
      return;
    }
    append_event(out, e, *def->second);
    out += '\n';
    if (out.size() >= (1 << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  };
  if (options.has_instance) {
    for (const Event& e : store.load(options.instance)) print(e);
  } else {
    store.scan(print);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) {
    std::cerr << "salesflow events: cannot write the events\n";
    return kExitInvalid;
  }
  if (const std::string error = store.last_error(); !error.empty()) {
    std::cerr << "salesflow events: " << store.uri() << ": " << error << "\n";
    return kExitInvalid;
  }
  return ok ? kExitOk : kExitInvalid;
}

}  // namespace

void add_events_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EventsOptions>();
  CLI::App* command = app.add_subcommand(
      "events",
      "Print the events a store keeps as JSON lines, in commit order (so each instance's in\n"
      "version order; docs/storage.md). Exit 0 when all were printed, 1 when the store cannot be "
      "opened or\n"
      "read (the store is opened for reading only: nothing is changed), 2 on usage errors.");
  command->add_option("--store", options->store, "The store: sqlite:PATH or postgres:CONNINFO")
      ->required();
  command->add_option("--instance", options->instance, "Only this instance's events")
      ->each([options](const std::string&) { options->has_instance = true; });
  command->callback([options, &exit_code] { exit_code = events(*options); });
}

}  // namespace salesflow::cli
