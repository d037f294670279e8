// Engine::execute_batch: the same answers, log, notifications and states as execute() called on
// each command in turn; its size check; its promise about a command that throws.
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using namespace std::chrono_literals;

const Timestamp kMonday = *parse_timestamp("2026-11-23T09:00:00Z");

// The whole B2B example: lead scoring, team rules and delivery standards run on every command.
std::shared_ptr<const ProcessDefinition> b2b_full() {
  static const auto def = [] {
    std::ifstream in(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json");
    return load_definition(std::string(std::istreambuf_iterator<char>(in), {})).definition;
  }();
  return def;
}

class Recording : public EventListener {
 public:
  void on_event(const Event& event) override { events.push_back(event); }
  std::vector<Event> events;
};

// An engine over the full B2B definition with its own storage, directory and listener.
struct Host {
  Host() {
    for (const auto& [person, role] : {std::pair{"maria", "sales_rep"},
                                       {"max", "sales_manager"},
                                       {"lena", "legal"},
                                       {"pete", "presales"}}) {
      directory.grant(person, role);
    }
    engine = std::make_unique<Engine>(EngineOptions{&storage, &directory, {&listener}});
    EXPECT_TRUE(engine->register_definition(b2b_full()));
  }
  InMemoryStorage storage;
  InMemoryDirectory directory;
  Recording listener;
  std::unique_ptr<Engine> engine;
};

// A random mix over `instances` deals, of commands that pass and commands that are refused for
// every reason decide() knows, and a few times out of range and ids never created. Deals repeat
// within a few commands of each other, so that a batch's look-ahead meets its own instances.
std::vector<Command> random_script(std::size_t count, std::size_t instances, unsigned seed) {
  static const std::vector<std::string> kStages = {"needs_diagnosis",
                                                   "solution_matching",
                                                   "deal_closing",
                                                   "value_continuation",
                                                   "won",
                                                   "lead_incubation",
                                                   "nowhere"};
  static const std::vector<std::string> kItems = {
      "lead_cleaned",  "grade_verified",   "org_structure",   "decision_chain",    "hidden_needs",
      "proposal_sent", "contract_drafted", "esignature_sent", "value_review_done", "no_item"};
  static const std::vector<std::string> kActors = {"maria", "max", "lena", "pete", "stranger"};
  std::mt19937 random(seed);
  const auto pick = [&](const auto& list) { return list[random() % list.size()]; };
  std::vector<Command> script;
  for (std::size_t i = 0; i < count; ++i) {
    Command c;
    c.instance = "deal-" + std::to_string(random() % instances);
    if (random() % 40 == 0) c.instance = "ghost-" + std::to_string(i);
    c.actor = random() % 4 == 0 ? pick(kActors) : "maria";
    switch (random() % 10) {
      case 0:
        c.type = CommandType::kCreate;
        c.definition_id = "b2b_pipeline";
        c.fields = {{"company", std::string("Acme")}, {"urgency", std::string("high")}};
        break;
      case 1:
        c.type = CommandType::kSetFields;
        c.fields = {{"industry", std::string("retail")},
                    {"company_size", std::string("large")},
                    {"grade", std::string("B")},
                    {"decision_maker", std::string("Ms Chen")},
                    {"needs_summary", std::string("faster quotes")}};
        break;
      case 2:
        c.type = CommandType::kSetFields;
        c.fields = {{"email_opens", std::int64_t(random() % 30)},
                    {"deal_value", random() % 5 == 0 ? FieldValue(std::string("a lot"))
                                                     : FieldValue(double(random() % 50000))}};
        break;
      case 3:
      case 4:
        c.type = CommandType::kCheckItem;
        c.target = pick(kItems);
        break;
      case 5:
      case 6:
        c.type = CommandType::kAdvance;
        c.target = pick(kStages);
        break;
      case 7:
        c.type = random() % 2 ? CommandType::kHold : CommandType::kResume;
        break;
      case 8:
        c.type = CommandType::kApprove;
        c.actor = random() % 2 ? "lena" : "maria";
        c.target = "legal_pre_review";
        break;
      default:
        c.type = CommandType::kCloseLost;
        c.text = random() % 3 ? "no_budget" : "bored";
        break;
    }
    script.push_back(std::move(c));
  }
  return script;
}

void expect_same_answer(const CommandResult& batched, const CommandResult& single, std::size_t i) {
  EXPECT_EQ(batched.ok(), single.ok()) << "command " << i;
  EXPECT_EQ(batched.version, single.version) << "command " << i;
  EXPECT_EQ(batched.events, single.events) << "command " << i;
  if (batched.rejection && single.rejection) {
    EXPECT_EQ(batched.rejection->code, single.rejection->code) << "command " << i;
    EXPECT_EQ(batched.rejection->message, single.rejection->message) << "command " << i;
    EXPECT_EQ(batched.rejection->unmet, single.rejection->unmet) << "command " << i;
  }
}

TEST(EngineBatch, AnswersStoresAndTellsExactlyWhatExecuteDoesCommandByCommand) {
  constexpr std::size_t kInstances = 60;
  const std::vector<Command> script = random_script(3000, kInstances, 20261127);
  std::vector<Timestamp> times;
  for (std::size_t i = 0; i < script.size(); ++i) times.push_back(kMonday + i * 7min);
  times[17] = Timestamp::max();  // out of range: a bad_command in both

  Host single, batched;
  std::vector<CommandResult> expected;
  for (std::size_t i = 0; i < script.size(); ++i) {
    expected.push_back(single.engine->execute(script[i], times[i]));
  }
  // Batches of every size from 0 up, the answers appended after what the vector already holds.
  std::vector<CommandResult> got(1);
  got[0].version = 4242;
  std::size_t at = 0;
  for (std::size_t size = 0; at < script.size(); size = (size + 1) % 70) {
    const std::size_t n = std::min(size, script.size() - at);
    batched.engine->execute_batch(std::span(script).subspan(at, n), std::span(times).subspan(at, n),
                                  got);
    at += n;
    ASSERT_EQ(got.size(), at + 1);
  }
  EXPECT_EQ(got[0].version, 4242u) << "what the vector held is kept";
  std::set<ErrorCode> codes;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < script.size(); ++i) {
    expect_same_answer(got[i + 1], expected[i], i);
    if (expected[i].ok()) {
      ++accepted;
    } else {
      codes.insert(expected[i].rejection->code);
    }
  }
  for (std::size_t d = 0; d < kInstances; ++d) {
    const std::string id = "deal-" + std::to_string(d);
    EXPECT_EQ(batched.storage.load(id), single.storage.load(id)) << id;
    EXPECT_EQ(batched.engine->instance(id), single.engine->instance(id)) << id;
  }
  EXPECT_EQ(batched.listener.events, single.listener.events);
  // The script must exercise what it claims to.
  EXPECT_GT(accepted, 300u);
  EXPECT_THAT(codes,
              ::testing::IsSupersetOf({ErrorCode::kGateBlocked, ErrorCode::kForbidden,
                                       ErrorCode::kInvalidTransition, ErrorCode::kInvalidField,
                                       ErrorCode::kUnknownInstance, ErrorCode::kDuplicateInstance,
                                       ErrorCode::kBadCommand}));
}

TEST(EngineBatch, SpansOfDifferentSizesAreRefusedAndRunNothing) {
  Host host;
  std::vector<Command> commands = random_script(3, 1, 1);
  for (Command& c : commands) {
    c.type = CommandType::kCreate;
    c.definition_id = "b2b_pipeline";
  }
  const std::vector<Timestamp> times = {kMonday, kMonday};
  std::vector<CommandResult> results;
  EXPECT_THROW(host.engine->execute_batch(commands, times, results), std::invalid_argument);
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(host.engine->instance_count(), 0u);
  EXPECT_EQ(host.storage.event_count(), 0u);
}

// A Storage whose append throws on the given call (counting from 1): a host's store failing in a
// way it does not report as kUnavailable.
class ThrowingOnAppend final : public Storage {
 public:
  explicit ThrowingOnAppend(int throw_on) : throw_on_(throw_on) {}
  AppendResult append(std::string_view instance, std::uint64_t expected_version,
                      std::span<const Event> events) override {
    if (++calls == throw_on_) throw std::runtime_error("disk on fire");
    return kept_.append(instance, expected_version, events);
  }
  std::vector<Event> load(std::string_view instance) const override { return kept_.load(instance); }
  void scan(const std::function<void(const Event&)>& visit) const override { kept_.scan(visit); }
  int calls = 0;

 private:
  InMemoryStorage kept_;
  int throw_on_;
};

TEST(EngineBatch, ACommandThatThrowsEndsTheBatchWithTheAnswersBeforeIt) {
  ThrowingOnAppend storage(3);
  InMemoryDirectory directory;
  directory.grant("maria", "sales_rep");
  Engine engine(EngineOptions{&storage, &directory, {}});
  ASSERT_TRUE(engine.register_definition(b2b_full()));
  std::vector<Command> commands(6);
  std::vector<Timestamp> times;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    commands[i].type = CommandType::kCreate;
    commands[i].instance = "deal-" + std::to_string(i);
    commands[i].actor = "maria";
    commands[i].definition_id = "b2b_pipeline";
    times.push_back(kMonday + i * 1min);
  }
  std::vector<CommandResult> results;
  EXPECT_THROW(engine.execute_batch(commands, times, results), std::runtime_error);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(storage.calls, 3) << "the commands after the one that threw did not run";
  EXPECT_EQ(engine.instance_count(), 2u);
  EXPECT_FALSE(engine.instance("deal-2").has_value());
  EXPECT_FALSE(engine.instance("deal-3").has_value());
}

}  // namespace
}  // namespace salesflow::testing
