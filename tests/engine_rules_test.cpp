// Rules where the product uses them beyond gates and guards: lead scoring (score and grade
// computed from behaviour data), team requirements on stage entry, and alert thresholds over the
// pipeline figures. The B2B example is used whole here, as an integrator writes it.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "salesflow/figures.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

std::shared_ptr<const ProcessDefinition> b2b_full() {
  static const auto def = load_definition_file(std::filesystem::path(SALESFLOW_SOURCE_DIR) /
                                               "examples/b2b_pipeline.json")
                              .definition;
  return def;
}

// The score the example's rule gives, written out independently of the rule engine.
double expected_score(double purchases, double order_value, double web_minutes, double opens,
                      bool urgent) {
  return std::min(
      100.0, purchases * 8 + order_value / 2000 + web_minutes / 3 + opens * 2 + (urgent ? 10 : 0));
}

class Recorder : public EventListener {
 public:
  void on_stage_entered(const StageEntryNotice& notice) override {
    teams.emplace_back(notice.stage->id, notice.team);
  }
  std::vector<std::pair<std::string, RoleSet>> teams;
};

class RulesInTheProduct : public ::testing::Test {
 protected:
  RulesInTheProduct() {
    directory_.grant("maria", "sales_rep");
    directory_.grant("max", "sales_manager");
    directory_.grant("mark", "marketing");
    options_.storage = &storage_;
    options_.directory = &directory_;
    options_.listeners = {&recorder_};
    engine_ = std::make_unique<Engine>(options_);
    EXPECT_TRUE(engine_->register_definition(b2b_full()));
  }

  const ProcessDefinition& def() const { return *b2b_full(); }

  CommandResult run(CommandType type, std::string actor, std::string target = "",
                    std::vector<std::pair<std::string, FieldValue>> fields = {},
                    std::string text = "") {
    Command c;
    c.type = type;
    c.instance = instance_;
    c.actor = std::move(actor);
    c.target = std::move(target);
    c.fields = std::move(fields);
    c.text = std::move(text);
    c.definition_id = "b2b_pipeline";
    return engine_->execute(c, now_ += 1min);
  }

  const FieldValue& field(const std::string& id) {
    state_ = *engine_->instance(instance_);
    return state_.fields()[to_index(*def().find_field(id))];
  }

  // Creates the instance with behaviour data and tags.
  CommandResult create(std::string size, double purchases, double order_value, double web,
                       std::int64_t opens) {
    return run(CommandType::kCreate, "maria", "",
               {{"company", std::string("Acme")},
                {"industry", std::string("retail")},
                {"company_size", std::move(size)},
                {"urgency", std::string("low")},
                {"purchases_last_year", static_cast<std::int64_t>(purchases)},
                {"average_order_value", order_value},
                {"web_visit_minutes", web},
                {"email_opens", opens}});
  }

  // Takes the instance out of lead incubation into needs diagnosis.
  CommandResult qualify() {
    EXPECT_TRUE(run(CommandType::kCheckItem, "maria", "lead_cleaned").ok());
    EXPECT_TRUE(run(CommandType::kCheckItem, "maria", "grade_verified").ok());
    return run(CommandType::kAdvance, "maria", "needs_diagnosis");
  }

  // Fills in what the needs diagnosis gate asks for, besides a team.
  void diagnose() {
    ASSERT_TRUE(run(CommandType::kSetFields, "maria", "",
                    {{"decision_maker", std::string("CFO")},
                     {"needs_summary", std::string("https://wiki/needs")}})
                    .ok());
    for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
      ASSERT_TRUE(run(CommandType::kCheckItem, "maria", item).ok());
    }
  }

  InMemoryStorage storage_;
  InMemoryDirectory directory_;
  Recorder recorder_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
  std::string instance_ = "deal-1";
  Timestamp now_ = *parse_timestamp("2026-11-23T09:00:00Z");
  InstanceState state_;
};

TEST_F(RulesInTheProduct, CreateComputesTheScoreAndGradeInTheSameCommand) {
  const CommandResult r = create("medium", 3, 48000, 36, 4);
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  const double score = expected_score(3, 48000, 36, 4, false);
  ASSERT_EQ(score, 68.0);
  EXPECT_EQ(field("lead_score"), FieldValue(score));
  EXPECT_EQ(field("grade"), FieldValue(std::string("B")));
  // Recorded as events of the command, after the fields given.
  const auto score_event = std::find_if(r.events.begin(), r.events.end(), [&](const Event& e) {
    return e.type == EventType::kFieldSet && e.target == to_index(*def().find_field("lead_score"));
  });
  ASSERT_NE(score_event, r.events.end());
  EXPECT_EQ(score_event->actor, "maria");
  EXPECT_EQ(r.events.back().type, EventType::kFieldSet);
  EXPECT_EQ(r.events.back().target, to_index(*def().find_field("grade")));
}

TEST_F(RulesInTheProduct, TheGradeFollowsTheDataAndOnlyChangesAreRecorded) {
  ASSERT_TRUE(create("medium", 3, 48000, 36, 4).ok());
  // Urgency high adds 10: 78, grade A.
  CommandResult r = run(CommandType::kSetFields, "mark", "", {{"urgency", std::string("high")}});
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.events.size(), 3u);  // urgency, score, grade
  EXPECT_EQ(field("lead_score"), FieldValue(expected_score(3, 48000, 36, 4, true)));
  EXPECT_EQ(field("grade"), FieldValue(std::string("A")));
  // A field the score does not read: no score events.
  r = run(CommandType::kSetFields, "maria", "", {{"existing_customer", true}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.events.size(), 1u);
  // Less web time (bot traffic removed): 70 is still A; one more cut and it is B.
  r = run(CommandType::kSetFields, "maria", "", {{"web_visit_minutes", 12.0}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(expected_score(3, 48000, 12, 4, true), 70.0);
  EXPECT_EQ(field("lead_score"), FieldValue(70.0));
  EXPECT_EQ(field("grade"), FieldValue(std::string("A")));
  EXPECT_EQ(r.events.size(), 2u);  // the field and the score; the grade did not change
  r = run(CommandType::kSetFields, "maria", "", {{"web_visit_minutes", 9.0}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(field("lead_score"), FieldValue(expected_score(3, 48000, 9, 4, true)));
  EXPECT_EQ(field("grade"), FieldValue(std::string("B")));
  // The score is capped at 100 by the rule: A.
  ASSERT_TRUE(
      run(CommandType::kSetFields, "maria", "", {{"purchases_last_year", std::int64_t{40}}}).ok());
  EXPECT_EQ(field("lead_score"), FieldValue(100.0));
}

TEST_F(RulesInTheProduct, ComputedFieldsCannotBeSetByHand) {
  ASSERT_TRUE(create("medium", 1, 0, 0, 0).ok());
  const InstanceState before = *engine_->instance(instance_);
  for (const char* name : {"grade", "lead_score"}) {
    const FieldValue value =
        std::string(name) == "grade" ? FieldValue(std::string("A")) : FieldValue(99.0);
    const CommandResult r = run(CommandType::kSetFields, "maria", "", {{name, value}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.rejection->code, ErrorCode::kInvalidField);
    EXPECT_THAT(r.rejection->message, ::testing::HasSubstr("computed by the lead scoring"));
  }
  EXPECT_EQ(*engine_->instance(instance_), before);
  // Not at creation either.
  instance_ = "deal-2";
  const CommandResult r = run(CommandType::kCreate, "maria", "", {{"grade", std::string("A")}});
  EXPECT_EQ(r.rejection->code, ErrorCode::kInvalidField);
  EXPECT_FALSE(engine_->instance("deal-2").has_value());
}

// An engine with `def` registered, where "ann" is a rep, and a clock for its commands.
struct AnnsEngine {
  explicit AnnsEngine(const std::shared_ptr<const ProcessDefinition>& def)
      : definition_id(def->id()) {
    directory.grant("ann", "rep");
    EXPECT_TRUE(engine.register_definition(def));
  }
  // Creates instance "i" without fields, as ann, and gives the command back for sets to reuse.
  Command create_i() {
    Command c;
    c.type = CommandType::kCreate;
    c.instance = "i";
    c.actor = "ann";
    c.definition_id = definition_id;
    const CommandResult created = engine.execute(c, now);
    EXPECT_TRUE(created.ok()) << created.rejection->message;
    return c;
  }
  static EngineOptions asking(const Directory& directory) {
    EngineOptions options;
    options.directory = &directory;
    return options;
  }
  std::string definition_id;
  InMemoryDirectory directory;
  Engine engine{asking(directory)};
  Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
};

TEST(LeadScoring, AScoreThatIsNotANumberOrOutOfBoundsClearsScoreAndGrade) {
  auto doc = minimal_json();
  doc["fields"].push_back({{"id", "score"}, {"type", "number"}, {"max", 100}});
  doc["fields"].push_back({{"id", "grade"}, {"type", "enum"}, {"values", {"A", "B"}}});
  doc["lead_scoring"] = {
      {"description", "the amount is the score"},
      {"score", {{"var", "amount"}}},
      {"score_field", "score"},
      {"grade_field", "grade"},
      {"grades", {{{"grade", "A"}, {"min", 50}}, {{"grade", "B"}, {"min", 10}}}}};
  const auto def = load_definition(doc.dump()).definition;
  ASSERT_NE(def, nullptr);
  AnnsEngine anns(def);
  Engine& engine = anns.engine;
  Timestamp& now = anns.now;
  const auto set = [&](FieldValue amount, CommandType type = CommandType::kSetFields) {
    Command c;
    c.type = type;
    c.instance = "i";
    c.actor = "ann";
    c.definition_id = def->id();
    c.fields = {{"amount", std::move(amount)}};
    return engine.execute(c, now += 1min);
  };
  const auto score = [&] { return engine.instance("i")->fields()[1]; };
  const auto grade = [&] { return engine.instance("i")->fields()[2]; };
  // Created without an amount: the rule gives null, so there is no score and no grade.
  anns.create_i();
  EXPECT_FALSE(is_set(score()));
  ASSERT_TRUE(set(60.0).ok());
  EXPECT_EQ(score(), FieldValue(60.0));
  EXPECT_EQ(grade(), FieldValue(std::string("A")));
  // Below every minimum: a score but no grade.
  ASSERT_TRUE(set(5.0).ok());
  EXPECT_EQ(score(), FieldValue(5.0));
  EXPECT_FALSE(is_set(grade()));
  // Beyond the score field's bounds: neither.
  ASSERT_TRUE(set(20.0).ok());
  ASSERT_TRUE(is_set(grade()));
  const CommandResult r = set(500.0);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(is_set(score()));
  EXPECT_FALSE(is_set(grade()));
  EXPECT_THAT(r.events, Contains(Field(&Event::type, EventType::kFieldCleared)));
}

// The minimal definition with a note (read by no rule), a score, a grade, and `rule` as the score.
std::shared_ptr<const ProcessDefinition> scored_by(const nlohmann::json& rule) {
  auto doc = minimal_json();
  doc["fields"].push_back({{"id", "note"}, {"type", "string"}});
  doc["fields"].push_back({{"id", "score"}, {"type", "number"}});
  doc["fields"].push_back({{"id", "grade"}, {"type", "enum"}, {"values", {"A", "B"}}});
  doc["lead_scoring"] = {{"description", "a score"},
                         {"score", rule},
                         {"score_field", "score"},
                         {"grade_field", "grade"},
                         {"grades", {{{"grade", "A"}, {"min", 50}}, {{"grade", "B"}}}}};
  LoadResult loaded = load_definition(doc.dump());
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.diagnostics.front().message);
  return loaded.definition;
}

TEST(LeadScoring, TheLoaderFindsTheFieldsTheScoreReads) {
  const auto b2b = b2b_full();
  ASSERT_TRUE(b2b->lead_scoring());
  std::vector<std::string> read;
  for (const FieldId f : b2b->lead_scoring()->inputs) read.push_back(b2b->field(f).id);
  EXPECT_THAT(read, ::testing::UnorderedElementsAre("purchases_last_year", "average_order_value",
                                                    "web_visit_minutes", "email_opens", "urgency"));
  EXPECT_FALSE(b2b->lead_scoring()->reads_every_field);

  const auto reads_all = [](const nlohmann::json& rule) {
    return scored_by(rule)->lead_scoring()->reads_every_field;
  };
  EXPECT_FALSE(reads_all({{"var", "amount"}}));
  EXPECT_FALSE(reads_all({{"if", {{{"missing", {"amount"}}}, 1, 2}}}));
  EXPECT_TRUE(reads_all({{"var", {{"cat", {"am", "ount"}}}}})) << "a computed name";
  EXPECT_TRUE(reads_all({{"var", ""}})) << "the whole data";
  EXPECT_TRUE(reads_all({{"missing", {{"cat", {"am", "ount"}}}}})) << "computed keys";
  EXPECT_TRUE(reads_all({{"+", {{{"var", {"score", 0}}}, 1}}})) << "its own output";
  EXPECT_TRUE(reads_all({{"if", {{{"==", {{{"var", "grade"}}, "A"}}}, 60, 10}}}))
      << "its own grade";
  EXPECT_TRUE(reads_all({{"if", {{{"missing_some", {1, {{"merge", {{"am"}, {"ount"}}}}}}}, 1, 2}}}))
      << "computed keys of missing_some";
}

TEST(LeadScoring, AScoreIsRecomputedWheneverEvaluatingItAgainCouldChangeIt) {
  // Each script sets fields one command at a time; the score after each must be what evaluating
  // the rule on every field change gives.
  struct Case {
    nlohmann::json rule;
    std::vector<std::pair<std::string, FieldValue>> sets;
    std::vector<FieldValue> scores;  // after each set
  };
  const FieldValue unset;
  const std::vector<Case> cases = {
      // Created without fields: the first change scores, even of a field the rule does not read.
      {{{"var", {"amount", 0}}},
       {{"note", std::string("hi")}, {"amount", 7.0}, {"note", std::string("ho")}},
       {0.0, 7.0, 7.0}},
      // A field named by a computed path.
      {{{"var", {{"cat", {"am", "ount"}}}}},
       {{"amount", 60.0}, {"note", std::string("hi")}, {"amount", 20.0}},
       {60.0, 60.0, 20.0}},
      // A field named as a "missing" key.
      {{{"if", {{{"missing", {"amount"}}}, 1, 2}}},
       {{"note", std::string("hi")}, {"amount", 5.0}, {"amount", unset}},
       {1.0, 2.0, 1.0}},
      // A score that reads itself changes with every evaluation.
      {{{"+", {{{"var", {"score", 0}}}, 1}}},
       {{"note", std::string("a")}, {"note", std::string("b")}, {"note", std::string("c")}},
       {1.0, 2.0, 3.0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule.dump());
    const auto def = scored_by(c.rule);
    ASSERT_NE(def, nullptr);
    AnnsEngine anns(def);
    Engine& engine = anns.engine;
    Timestamp& now = anns.now;
    Command command = anns.create_i();
    command.type = CommandType::kSetFields;
    const FieldId score = *def->find_field("score");
    for (std::size_t k = 0; k < c.sets.size(); ++k) {
      command.fields = {c.sets[k]};
      const CommandResult result = engine.execute(command, now += 1min);
      ASSERT_TRUE(result.ok()) << result.rejection->message;
      EXPECT_EQ(engine.instance("i")->fields()[to_index(score)], c.scores[k]) << "after set " << k;
    }
  }
}

TEST(LeadScoring, SkippingGivesTheEventsOfEvaluatingOnEveryChange) {
  // The B2B score, and the same score behind {"if": [{"var": ""}, 0, score]}: the whole data reads
  // as null, so the value is the same, but reading the whole data makes the engine evaluate it on
  // every change. Both run one script of creates, sets and clears, across a recovery from
  // snapshots; every command must give the same events.
  nlohmann::json doc = nlohmann::json::parse(
      std::ifstream(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json"));
  const auto skipping = load_definition(doc.dump()).definition;
  nlohmann::json& score = doc["lead_scoring"]["score"];
  score = {{"if", {{{"var", ""}}, 0, score}}};
  const auto evaluating = load_definition(doc.dump()).definition;
  ASSERT_TRUE(skipping && evaluating);
  ASSERT_FALSE(skipping->lead_scoring()->reads_every_field);
  ASSERT_TRUE(evaluating->lead_scoring()->reads_every_field);

  using Fields = std::vector<std::pair<std::string, FieldValue>>;
  const FieldValue clear;
  const std::vector<std::pair<std::string, Fields>> script = {
      {"a", {}},  // created without fields
      {"b", {{"company", std::string("Beta")}, {"email_opens", std::int64_t{3}}}},
      {"a", {{"company", std::string("Acme")}}},
      {"a", {{"deal_value", 5000.0}}},
      {"a", {{"purchases_last_year", std::int64_t{4}}, {"deal_value", 7000.0}}},
      {"b", {{"industry", std::string("retail")}}},
      {"a", {{"urgency", std::string("high")}}},
      {"a", {{"decision_maker", std::string("CEO")}}},
      {"b", {{"email_opens", clear}}},
      {"b", {{"company", std::string("Beta AG")}}},
      {"a", {{"average_order_value", 900000.0}}},  // beyond the score's bounds: cleared
      {"a", {{"deal_value", 9000.0}}},
      {"a", {{"average_order_value", 2000.0}}},
      {"a", {{"seats", std::int64_t{12}}}},
  };
  struct Run {
    explicit Run(std::shared_ptr<const ProcessDefinition> def) : definition(std::move(def)) {
      directory.grant("maria", "sales_rep");
      start();
    }
    void start() {
      EngineOptions options;
      options.storage = &storage;
      options.directory = &directory;
      engine = std::make_unique<Engine>(options);
      EXPECT_TRUE(engine->register_definition(definition));
    }
    std::vector<std::tuple<EventType, std::uint32_t, FieldValue>> run(const std::string& id,
                                                                      const Fields& fields) {
      Command c;
      c.type = engine->instance(id) ? CommandType::kSetFields : CommandType::kCreate;
      c.instance = id;
      c.actor = "maria";
      c.definition_id = definition->id();
      c.fields = fields;
      const CommandResult result = engine->execute(c, now += 1min);
      EXPECT_TRUE(result.ok()) << result.rejection->message;
      std::vector<std::tuple<EventType, std::uint32_t, FieldValue>> events;
      for (const Event& e : result.events) events.emplace_back(e.type, e.target, e.value);
      return events;
    }
    std::shared_ptr<const ProcessDefinition> definition;
    InMemoryDirectory directory;
    InMemoryStorage storage;
    std::unique_ptr<Engine> engine;
    Timestamp now = *parse_timestamp("2026-11-23T09:00:00Z");
  };
  Run fast(skipping), slow(evaluating);
  std::size_t scored = 0;
  for (std::size_t k = 0; k < script.size(); ++k) {
    if (k == script.size() / 2) {  // restart both from snapshots
      for (Run* r : {&fast, &slow}) {
        r->engine->snapshot_all();
        r->start();
        EXPECT_EQ(r->engine->recover(), 0u);
      }
    }
    const auto events = fast.run(script[k].first, script[k].second);
    EXPECT_EQ(events, slow.run(script[k].first, script[k].second)) << "command " << k;
    const auto score_field =
        static_cast<std::uint32_t>(to_index(skipping->lead_scoring()->score_field));
    scored +=
        static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const auto& e) {
          return std::get<1>(e) == score_field && std::get<0>(e) != EventType::kCreated;
        }));
  }
  EXPECT_GE(scored, 4u) << "the script changes the score several times";
}

TEST_F(RulesInTheProduct, ALargeAccountNeedsItsTriangleTeamBeforeLeavingTheDiagnosis) {
  ASSERT_TRUE(create("large", 1, 10000, 30, 5).ok());
  const CommandResult entered = qualify();
  ASSERT_TRUE(entered.ok()) << entered.rejection->message;
  // Entering records the move, then the team (a delivery standard may record its end too).
  const auto team = std::find_if(entered.events.begin(), entered.events.end(),
                                 [](const Event& e) { return e.type == EventType::kTeamRequired; });
  ASSERT_NE(team, entered.events.end());
  EXPECT_EQ(entered.events.front().type, EventType::kStageChanged);
  RoleSet triangle;
  for (const char* role : {"sales_rep", "presales", "service"}) {
    triangle.insert(*def().find_role(role));
  }
  EXPECT_EQ(team_roles(*team), triangle);
  // The listener's stage-entry notice names the team.
  ASSERT_FALSE(recorder_.teams.empty());
  EXPECT_EQ(recorder_.teams.back(), std::pair(std::string("needs_diagnosis"), triangle));

  diagnose();
  CommandResult r = run(CommandType::kAdvance, "maria", "solution_matching");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->code, ErrorCode::kGateBlocked);
  EXPECT_THAT(r.rejection->unmet, ElementsAre(Field(&UnmetCriterion::id, "sales_rep"),
                                              Field(&UnmetCriterion::id, "presales"),
                                              Field(&UnmetCriterion::id, "service")));
  for (const UnmetCriterion& u : r.rejection->unmet) {
    EXPECT_EQ(u.kind, UnmetCriterion::Kind::kMissingAssignment);
    EXPECT_THAT(u.detail, ::testing::HasSubstr("triangle team"));
  }
  EXPECT_EQ(engine_->missing_to_leave(instance_)->size(), 3u);
  ASSERT_TRUE(run(CommandType::kAssign, "maria", "presales", {}, "olga").ok());
  ASSERT_TRUE(run(CommandType::kAssign, "maria", "service", {}, "sam").ok());
  r = run(CommandType::kAdvance, "maria", "solution_matching");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.rejection->unmet, ElementsAre(Field(&UnmetCriterion::id, "sales_rep")));
  ASSERT_TRUE(run(CommandType::kAssign, "maria", "sales_rep", {}, "maria").ok());
  r = run(CommandType::kAdvance, "maria", "solution_matching");
  EXPECT_TRUE(r.ok()) << r.rejection->message;
  // The log reproduces the requirement.
  const std::vector<Event> log = storage_.load(instance_);
  EXPECT_EQ(replay(def(), log), *engine_->instance(instance_));
}

TEST_F(RulesInTheProduct, ASmallDealNeedsNoTeamAndTheRuleIsJudgedOnEntry) {
  ASSERT_TRUE(create("medium", 1, 10000, 30, 5).ok());
  const CommandResult entered = qualify();
  ASSERT_TRUE(entered.ok());
  EXPECT_THAT(entered.events,
              ::testing::Not(Contains(Field(&Event::type, EventType::kTeamRequired))));
  EXPECT_TRUE(recorder_.teams.back().second.empty());
  diagnose();
  // A deal value over the threshold set after the entry does not ask for the team now...
  ASSERT_TRUE(run(CommandType::kSetFields, "maria", "", {{"deal_value", 250000.0}}).ok());
  EXPECT_TRUE(engine_->missing_to_leave(instance_)->empty());
  ASSERT_TRUE(run(CommandType::kAdvance, "maria", "solution_matching").ok());
  // ...but entering the stage again does: the rule is judged on each entry.
  const CommandResult back = run(CommandType::kAdvance, "maria", "needs_diagnosis");
  ASSERT_TRUE(back.ok()) << back.rejection->message;
  EXPECT_THAT(back.events, Contains(Field(&Event::type, EventType::kTeamRequired)));
  EXPECT_EQ(engine_->missing_to_leave(instance_)->size(), 3u);
}

TEST(PipelineFigures, CountsFlowsPerStageAndModuleAndRaisesAlerts) {
  const auto def = b2b_full();
  PipelineFigures figures(def);
  Event e;
  e.definition_id = def->id();
  e.definition_version = def->version();
  const auto stage = [&](const char* id) { return *def->find_stage(id); };
  const auto add = [&](EventType type, const char* from, const char* to) {
    e.type = type;
    e.from_stage = from ? stage(from) : StageId{};
    e.stage = stage(to);
    EXPECT_TRUE(figures.add(e));
  };
  // Four leads; three move on (one by the fast track), one is lost; in solution matching one is
  // lost, one moves back to the diagnosis (not forward), one moves on to closing.
  for (int i = 0; i < 4; ++i) add(EventType::kCreated, nullptr, "lead_incubation");
  add(EventType::kStageChanged, "lead_incubation", "needs_diagnosis");
  add(EventType::kStageChanged, "lead_incubation", "needs_diagnosis");
  add(EventType::kStageChanged, "lead_incubation", "solution_matching");
  add(EventType::kClosedLost, "lead_incubation", "lost");
  add(EventType::kStageChanged, "needs_diagnosis", "solution_matching");
  add(EventType::kStageChanged, "needs_diagnosis", "solution_matching");
  add(EventType::kStageChanged, "solution_matching", "needs_diagnosis");
  add(EventType::kClosedLost, "solution_matching", "lost");
  add(EventType::kStageChanged, "needs_diagnosis", "solution_matching");
  add(EventType::kStageChanged, "solution_matching", "deal_closing");
  add(EventType::kReopened, "lost", "lead_incubation");

  const auto module = [&](const char* id) { return figures.module(*def->find_module(id)); };
  EXPECT_EQ(figures.created(), 4u);
  EXPECT_EQ(figures.lost(), 1u);  // two closed, one reopened
  EXPECT_EQ(module("lead_incubation"), (FlowCount{5, 3, 1}));
  // The move back from solution matching enters the diagnosis module again.
  EXPECT_EQ(module("needs_diagnosis"), (FlowCount{3, 3, 0}));
  EXPECT_EQ(module("solution_matching"), (FlowCount{4, 1, 1}));
  EXPECT_EQ(figures.stage(stage("needs_diagnosis")), (FlowCount{3, 3, 0}));
  // Moves inside a module count for its stages only: deal closing is one stage, one module.
  EXPECT_EQ(figures.stage(stage("deal_closing")), module("deal_closing"));
  EXPECT_EQ(*module("solution_matching").conversion(), 0.25);
  EXPECT_FALSE(module("value_continuation").conversion().has_value());
  // 4 entered solution matching and 25% moved on: below 60%. Lead incubation: 60%, not below 50%.
  const auto raised = figures.raised_alerts();
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]->id, "low_proposal_acceptance");
  // Events of another definition are not counted.
  e.definition_version = def->version() + 1;
  EXPECT_FALSE(figures.add(e));
  EXPECT_EQ(figures.created(), 4u);
  // The figures document is JSON that names every module.
  const auto parsed = nlohmann::json::parse(figures.to_json());
  EXPECT_EQ(parsed["modules"]["solution_matching"]["entered"], 4);
  EXPECT_TRUE(parsed["modules"]["value_continuation"]["conversion"].is_null());
  EXPECT_EQ(parsed["win_rate"], 0.0);
}

}  // namespace
}  // namespace salesflow::testing
