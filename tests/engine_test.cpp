// The engine as a host uses it: commands in, events or structured rejections out.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <locale>
#include <map>
#include <stdexcept>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <date/date.h>

#include "salesflow/engine.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using namespace std::chrono_literals;

const Timestamp kMonday = *parse_timestamp("2026-11-23T09:00:00Z");

nlohmann::json b2b_example() {
  return nlohmann::json::parse(
      std::ifstream(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json"));
}

// The B2B example without its lead scoring, alerts and team requirements: grades are set by
// hand, and no team holds up a gate, so that each test below exercises one thing. The scoring
// and the teams have their own tests (B2bScoringAndTeams).
nlohmann::json b2b_core_json() {
  nlohmann::json doc = b2b_example();
  doc.erase("lead_scoring");
  doc.erase("alerts");
  for (auto& stage : doc["stages"]) stage.erase("team");
  return doc;
}

std::shared_ptr<const ProcessDefinition> b2b() {
  static const auto def = load_definition(b2b_core_json().dump()).definition;
  return def;
}

// Records what listeners are told.
class RecordingListener : public EventListener {
 public:
  void on_event(const Event& event) override { events.push_back(event); }
  void on_stage_entered(const StageEntryNotice& notice) override {
    entries.push_back(
        {notice.stage->id, notice.consulted, notice.informed, std::string(notice.guidance)});
  }
  struct Entry {
    std::string stage;
    RoleSet consulted, informed;
    std::string guidance;
  };
  std::vector<Event> events;
  std::vector<Entry> entries;
};

class B2bEngine : public ::testing::Test {
 protected:
  B2bEngine() {
    for (const auto& [person, role] :
         std::vector<std::pair<std::string, std::string>>{{"maria", "sales_rep"},
                                                          {"max", "sales_manager"},
                                                          {"lena", "legal"},
                                                          {"pete", "presales"},
                                                          {"sam", "service"},
                                                          {"mark", "marketing"}}) {
      directory_.grant(person, role);
    }
    options_.storage = &storage_;
    options_.directory = &directory_;
    options_.listeners = {&listener_};
    engine_ = std::make_unique<Engine>(options_);
    EXPECT_TRUE(engine_->register_definition(b2b()));
  }

  Command command(CommandType type, std::string actor, std::string target = "") {
    Command c;
    c.type = type;
    c.instance = "deal-1";
    c.actor = std::move(actor);
    c.target = std::move(target);
    return c;
  }

  CommandResult run(const Command& c) { return engine_->execute(c, now_ += 1min); }

  CommandResult create(std::vector<std::pair<std::string, FieldValue>> fields = {}) {
    Command c = command(CommandType::kCreate, "maria");
    c.definition_id = "b2b_pipeline";
    c.fields = std::move(fields);
    return run(c);
  }

  CommandResult set(std::vector<std::pair<std::string, FieldValue>> fields,
                    std::string actor = "maria") {
    Command c = command(CommandType::kSetFields, std::move(actor));
    c.fields = std::move(fields);
    return run(c);
  }

  CommandResult check(const std::string& item, std::string actor = "maria") {
    return run(command(CommandType::kCheckItem, std::move(actor), item));
  }

  CommandResult advance(const std::string& stage, std::string actor = "maria") {
    return run(command(CommandType::kAdvance, std::move(actor), stage));
  }

  // Creates deal-1 with every field lead incubation's gate asks for, and checks its items.
  void ready_to_qualify() {
    ASSERT_TRUE(create({{"company", std::string("Acme")},
                        {"industry", std::string("retail")},
                        {"company_size", std::string("large")},
                        {"urgency", std::string("high")},
                        {"grade", std::string("B")}})
                    .ok());
    ASSERT_TRUE(check("lead_cleaned").ok());
    ASSERT_TRUE(check("grade_verified").ok());
  }

  // Takes deal-1 through lead incubation into needs diagnosis.
  void qualify() {
    ASSERT_NO_FATAL_FAILURE(ready_to_qualify());
    ASSERT_TRUE(advance("needs_diagnosis").ok());
  }

  std::string stage_of(const std::string& id = "deal-1") {
    const auto state = engine_->instance(id);
    return state ? b2b()->stage(state->stage).id : "(none)";
  }

  InMemoryStorage storage_;
  InMemoryDirectory directory_;
  RecordingListener listener_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
  Timestamp now_ = kMonday;
};

TEST_F(B2bEngine, CreateStartsAtTheStartStageWithInitialFields) {
  const CommandResult r = create({{"company", std::string("Acme")}, {"lead_score", 72.5}});
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  ASSERT_THAT(r.events, SizeIs(3));
  EXPECT_EQ(r.events[0].type, EventType::kCreated);
  EXPECT_EQ(r.events[1].type, EventType::kFieldSet);
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    EXPECT_EQ(r.events[i].version, i + 1);
    EXPECT_EQ(r.events[i].actor, "maria");
    EXPECT_EQ(r.events[i].definition_id, "b2b_pipeline");
    EXPECT_EQ(r.events[i].definition_version, 1u);
    EXPECT_EQ(r.events[i].at, kMonday + 1min);
  }
  EXPECT_EQ(r.version, 3u);
  EXPECT_EQ(stage_of(), "lead_incubation");
  const auto state = engine_->instance("deal-1");
  EXPECT_EQ(state->fields()[to_index(*b2b()->find_field("lead_score"))], FieldValue(72.5));
  EXPECT_EQ(state->status, InstanceStatus::kOpen);
}

TEST_F(B2bEngine, CreatingTwiceIsADuplicate) {
  ASSERT_TRUE(create().ok());
  EXPECT_EQ(create().rejection->code, ErrorCode::kDuplicateInstance);
}

// A command's time is what standards count from and calendars walk: outside the years 0000 to
// 9999 it is a bad_command that changes nothing; at the edges it is accepted.
TEST_F(B2bEngine, ACommandTimeOutsideTheYears0000To9999IsABadCommand) {
  Command c = command(CommandType::kCreate, "maria");
  c.definition_id = "b2b_pipeline";
  const std::chrono::milliseconds one(1);
  for (const Timestamp outside :
       {Timestamp::min(), kEarliestTimestamp - one, kLatestTimestamp + one, Timestamp::max()}) {
    const CommandResult result = engine_->execute(c, outside);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.rejection->code, ErrorCode::kBadCommand);
    EXPECT_THAT(result.rejection->message, ::testing::HasSubstr("outside the years 0000 to 9999"));
  }
  EXPECT_EQ(storage_.event_count(), 0u);
  EXPECT_FALSE(engine_->instance("deal-1").has_value());
  EXPECT_TRUE(engine_->execute(c, kEarliestTimestamp).ok());
  c.instance = "deal-2";
  EXPECT_TRUE(engine_->execute(c, kLatestTimestamp).ok());
}

TEST_F(B2bEngine, CommandsOnAMissingInstanceAreUnknown) {
  EXPECT_EQ(advance("needs_diagnosis").rejection->code, ErrorCode::kUnknownInstance);
}

TEST_F(B2bEngine, CreateNeedsARegisteredDefinition) {
  Command c = command(CommandType::kCreate, "maria");
  c.definition_id = "nope";
  EXPECT_EQ(run(c).rejection->code, ErrorCode::kBadCommand);
}

TEST_F(B2bEngine, AGateBlocksAndListsEveryUnmetCriterion) {
  ASSERT_TRUE(create({{"company", std::string("Acme")}, {"grade", std::string("B")}}).ok());
  ASSERT_TRUE(check("lead_cleaned").ok());
  const CommandResult r = advance("needs_diagnosis");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->code, ErrorCode::kGateBlocked);
  using K = UnmetCriterion::Kind;
  EXPECT_THAT(r.rejection->unmet,
              UnorderedElementsAre(AllOf(Field(&UnmetCriterion::kind, K::kMissingField),
                                         Field(&UnmetCriterion::id, "industry")),
                                   AllOf(Field(&UnmetCriterion::kind, K::kMissingField),
                                         Field(&UnmetCriterion::id, "company_size")),
                                   AllOf(Field(&UnmetCriterion::kind, K::kMissingField),
                                         Field(&UnmetCriterion::id, "urgency")),
                                   AllOf(Field(&UnmetCriterion::kind, K::kOpenItem),
                                         Field(&UnmetCriterion::id, "grade_verified"))));
  EXPECT_EQ(engine_->missing_to_leave("deal-1")->size(), 4u) << "the query gives the same list";
  EXPECT_EQ(stage_of(), "lead_incubation");
}

TEST_F(B2bEngine, AnOpenGateLetsTheDealMoveOn) {
  qualify();
  EXPECT_EQ(stage_of(), "needs_diagnosis");
  EXPECT_THAT(*engine_->missing_to_leave("deal-1"), SizeIs(5)) << "2 fields and 3 items";
}

TEST_F(B2bEngine, ARepCannotSignBeforeLegalsPreReviewAndCannotGiveItHimself) {
  qualify();
  ASSERT_TRUE(set({{"decision_maker", std::string("CFO")},
                   {"needs_summary", std::string("https://wiki/acme")}})
                  .ok());
  for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
    ASSERT_TRUE(check(item).ok());
  }
  ASSERT_TRUE(advance("solution_matching").ok());
  ASSERT_TRUE(set({{"solution_type", std::string("standard")},
                   {"solution_modules", std::vector<std::string>{"crm", "billing"}},
                   {"deal_value", 120000.0}})
                  .ok());
  ASSERT_TRUE(check("proposal_sent").ok());
  ASSERT_TRUE(advance("deal_closing").ok());
  ASSERT_TRUE(set({{"contract_signed_at", *parse_timestamp("2026-11-24T10:00:00Z")},
                   {"seats", std::int64_t{40}}})
                  .ok());
  ASSERT_TRUE(check("contract_drafted").ok());
  ASSERT_TRUE(check("esignature_sent").ok());

  const CommandResult early = advance("value_continuation");
  EXPECT_EQ(early.rejection->code, ErrorCode::kGateBlocked);
  EXPECT_THAT(early.rejection->message, ::testing::StartsWith("1 criterion keeps"));
  ASSERT_THAT(early.rejection->unmet, SizeIs(1));
  EXPECT_EQ(early.rejection->unmet[0].kind, UnmetCriterion::Kind::kMissingApproval);
  EXPECT_EQ(early.rejection->unmet[0].id, "legal_pre_review");
  EXPECT_EQ(early.rejection->unmet[0].have, 0u);
  EXPECT_EQ(early.rejection->unmet[0].need, 1u);

  const CommandResult self = run(command(CommandType::kApprove, "maria", "legal_pre_review"));
  EXPECT_EQ(self.rejection->code, ErrorCode::kForbidden);

  ASSERT_TRUE(run(command(CommandType::kApprove, "lena", "legal_pre_review")).ok());
  ASSERT_TRUE(advance("value_continuation").ok());
  EXPECT_EQ(stage_of(), "value_continuation");
}

TEST_F(B2bEngine, TheFastTrackGuardLetsOnlyGradeALeadsOfExistingCustomersSkipDiagnosis) {
  ASSERT_TRUE(create({{"company", std::string("Acme")},
                      {"industry", std::string("retail")},
                      {"company_size", std::string("large")},
                      {"urgency", std::string("high")},
                      {"grade", std::string("A")},
                      {"existing_customer", false}})
                  .ok());
  ASSERT_TRUE(check("lead_cleaned").ok());
  ASSERT_TRUE(check("grade_verified").ok());
  const CommandResult blocked = advance("solution_matching");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.rejection->code, ErrorCode::kGateBlocked);
  ASSERT_THAT(blocked.rejection->unmet, SizeIs(1)) << "the gate itself is open";
  EXPECT_EQ(blocked.rejection->unmet[0].kind, UnmetCriterion::Kind::kFailedCondition);
  EXPECT_THAT(blocked.rejection->unmet[0].detail, ::testing::HasSubstr("grade A"));
  ASSERT_TRUE(set({{"existing_customer", true}}).ok());
  EXPECT_TRUE(advance("solution_matching").ok());
  EXPECT_EQ(stage_of(), "solution_matching");
}

TEST_F(B2bEngine, AGuardOnAMoveToALostStageIsEnforcedToo) {
  auto doc = b2b_core_json();
  doc["version"] = 3;
  doc["transitions"].back()["guard"] = {{"description", "only ungraded leads are closed"},
                                        {"rule", {{"missing", {"grade"}}}}};
  ASSERT_TRUE(engine_->register_definition(load_definition(doc.dump()).definition));
  Command c = command(CommandType::kCreate, "maria");
  c.definition_id = "b2b_pipeline";
  c.fields = {{"grade", std::string("A")}};
  ASSERT_TRUE(run(c).ok());
  Command close = command(CommandType::kCloseLost, "maria");
  close.text = "no_budget";
  const CommandResult r = run(close);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->code, ErrorCode::kGateBlocked);
  EXPECT_EQ(r.rejection->unmet.at(0).detail, "only ungraded leads are closed");
  ASSERT_TRUE(set({{"grade", FieldValue{}}}).ok());
  EXPECT_TRUE(run(close).ok());
}

TEST_F(B2bEngine, OnlyResponsibleOrAccountableRolesMayMoveADeal) {
  qualify();
  const CommandResult r = advance("solution_matching", "mark");
  EXPECT_EQ(r.rejection->code, ErrorCode::kForbidden);
  EXPECT_THAT(r.rejection->message, ::testing::HasSubstr("sales_rep"));
}

TEST_F(B2bEngine, UndeclaredMovesAreInvalidTransitions) {
  qualify();
  EXPECT_EQ(advance("deal_closing").rejection->code, ErrorCode::kInvalidTransition);
  EXPECT_EQ(advance("no_such_stage").rejection->code, ErrorCode::kBadCommand);
}

TEST_F(B2bEngine, NothingMovesWhileOnHoldUntilResumed) {
  qualify();
  ASSERT_TRUE(run(command(CommandType::kHold, "maria")).ok());
  EXPECT_EQ(engine_->instance("deal-1")->status, InstanceStatus::kOnHold);
  EXPECT_EQ(advance("solution_matching").rejection->code, ErrorCode::kInvalidTransition);
  EXPECT_EQ(run(command(CommandType::kHold, "maria")).rejection->code,
            ErrorCode::kInvalidTransition);
  ASSERT_TRUE(run(command(CommandType::kResume, "maria")).ok());
  EXPECT_EQ(engine_->instance("deal-1")->status, InstanceStatus::kOpen);
}

TEST_F(B2bEngine, InvalidFieldValuesAreRejected) {
  ASSERT_TRUE(create().ok());
  EXPECT_EQ(set({{"budget", 5.0}}).rejection->code, ErrorCode::kInvalidField);
  EXPECT_EQ(set({{"lead_score", std::string("high")}}).rejection->code, ErrorCode::kInvalidField);
  EXPECT_EQ(set({{"lead_score", 101.0}}).rejection->code, ErrorCode::kInvalidField);
  EXPECT_EQ(set({{"grade", std::string("D")}}).rejection->code, ErrorCode::kInvalidField);
  EXPECT_EQ(set({{"seats", std::int64_t{0}}}).rejection->code, ErrorCode::kInvalidField);
  // One bad field rejects the whole command: the good one is not set either.
  EXPECT_EQ(set({{"grade", std::string("A")}, {"urgency", std::string("now")}}).rejection->code,
            ErrorCode::kInvalidField);
  EXPECT_FALSE(
      is_set(engine_->instance("deal-1")->fields()[to_index(*b2b()->find_field("grade"))]));
}

TEST_F(B2bEngine, AStaleExpectedVersionIsAConflict) {
  ASSERT_TRUE(create().ok());
  Command c = command(CommandType::kCheckItem, "maria", "lead_cleaned");
  c.expected_version = 7;
  EXPECT_EQ(run(c).rejection->code, ErrorCode::kConflict);
  c.expected_version = 1;
  EXPECT_TRUE(run(c).ok());
}

TEST_F(B2bEngine, ARejectedCommandChangesNothing) {
  qualify();
  const InstanceState before = *engine_->instance("deal-1");
  const std::size_t stored = storage_.event_count();
  const std::size_t told = listener_.events.size();
  for (const CommandResult& r :
       {advance("solution_matching"), advance("solution_matching", "mark"),
        set({{"grade", std::string("Z")}}), run(command(CommandType::kReopen, "max"))}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.version, before.version);
  }
  EXPECT_EQ(*engine_->instance("deal-1"), before);
  EXPECT_EQ(storage_.event_count(), stored);
  EXPECT_EQ(listener_.events.size(), told);
}

TEST_F(B2bEngine, ClosingAsLostNeedsADeclaredReasonAndOnlyTheAccountableRoleReopens) {
  ASSERT_TRUE(create().ok());
  Command close = command(CommandType::kCloseLost, "maria");
  close.text = "bored";
  EXPECT_EQ(run(close).rejection->code, ErrorCode::kBadCommand);
  close.text = "invalid_lead";
  ASSERT_TRUE(run(close).ok());
  const auto state = engine_->instance("deal-1");
  EXPECT_EQ(state->status, InstanceStatus::kLost);
  EXPECT_EQ(state->lost_reason(), "invalid_lead");
  EXPECT_EQ(stage_of(), "lost");
  EXPECT_EQ(check("lead_cleaned").rejection->code, ErrorCode::kInvalidTransition);
  // lead_incubation's accountable role is sales_manager.
  EXPECT_EQ(run(command(CommandType::kReopen, "maria")).rejection->code, ErrorCode::kForbidden);
  ASSERT_TRUE(run(command(CommandType::kReopen, "max")).ok());
  EXPECT_EQ(stage_of(), "lead_incubation");
  EXPECT_EQ(engine_->instance("deal-1")->status, InstanceStatus::kOpen);
}

TEST_F(B2bEngine, AssignmentsGiveRolesOnOneInstanceOnly) {
  qualify();
  // needs_diagnosis: accountable sales_rep. Maria makes Mark a responsible presales on deal-1.
  Command assign = command(CommandType::kAssign, "mark", "sales_rep");
  assign.text = "mark";
  EXPECT_EQ(run(assign).rejection->code, ErrorCode::kForbidden) << "only the accountable role";
  assign.actor = "maria";
  ASSERT_TRUE(run(assign).ok());
  EXPECT_TRUE(set({{"decision_maker", std::string("CEO")}}, "mark").ok());
}

TEST_F(B2bEngine, ApprovalsAreGivenOnlyInTheStageWhoseGateAsksForThem) {
  qualify();
  const CommandResult early = run(command(CommandType::kApprove, "lena", "legal_pre_review"));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.rejection->code, ErrorCode::kInvalidTransition);
  EXPECT_THAT(early.rejection->message, ::testing::HasSubstr("deal_closing"));
}

TEST_F(B2bEngine, EmptyInstanceOrActorIdsAreBadCommands) {
  Command c = command(CommandType::kCreate, "");
  c.definition_id = "b2b_pipeline";
  EXPECT_EQ(run(c).rejection->code, ErrorCode::kBadCommand);
  c.actor = "maria";
  c.instance = "";
  EXPECT_EQ(run(c).rejection->code, ErrorCode::kBadCommand);
}

TEST_F(B2bEngine, ApprovalsCountDistinctPeopleAndCanBeWithdrawn) {
  qualify();
  // Move on to deal closing, whose gate asks for legal's pre-review.
  ASSERT_TRUE(
      set({{"decision_maker", std::string("CFO")}, {"needs_summary", std::string("x")}}).ok());
  for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
    ASSERT_TRUE(check(item).ok());
  }
  ASSERT_TRUE(advance("solution_matching").ok());
  ASSERT_TRUE(set({{"solution_type", std::string("standard")},
                   {"solution_modules", std::vector<std::string>{"crm"}},
                   {"deal_value", 20000.0}})
                  .ok());
  ASSERT_TRUE(check("proposal_sent").ok());
  ASSERT_TRUE(advance("deal_closing").ok());
  ASSERT_TRUE(run(command(CommandType::kApprove, "lena", "legal_pre_review")).ok());
  const ApprovalId legal = *b2b()->find_approval("legal_pre_review");
  EXPECT_EQ(engine_->instance("deal-1")->approval_count(legal), 1u);
  // Approving twice counts once.
  EXPECT_TRUE(run(command(CommandType::kApprove, "lena", "legal_pre_review")).events.empty());
  EXPECT_EQ(engine_->instance("deal-1")->approval_count(legal), 1u);
  ASSERT_TRUE(run(command(CommandType::kReject, "lena", "legal_pre_review")).ok());
  EXPECT_EQ(engine_->instance("deal-1")->approval_count(legal), 0u);
  // Re-entering the stage starts its approvals afresh: the contract may have changed.
  ASSERT_TRUE(run(command(CommandType::kApprove, "lena", "legal_pre_review")).ok());
  ASSERT_TRUE(advance("solution_matching").ok());
  ASSERT_TRUE(advance("deal_closing").ok());
  EXPECT_EQ(engine_->instance("deal-1")->approval_count(legal), 0u);
}

TEST_F(B2bEngine, ListenersHearEveryEventAndStageEntriesWithGuidance) {
  qualify();
  EXPECT_EQ(listener_.events.size(), storage_.event_count());
  for (std::size_t i = 0; i < listener_.events.size(); ++i) {
    EXPECT_EQ(listener_.events[i].version, i + 1);
  }
  ASSERT_THAT(listener_.entries, SizeIs(2));
  EXPECT_EQ(listener_.entries[0].stage, "lead_incubation");
  const auto& needs = listener_.entries[1];
  EXPECT_EQ(needs.stage, "needs_diagnosis");
  EXPECT_TRUE(needs.consulted.contains(*b2b()->find_role("presales")));
  EXPECT_TRUE(needs.informed.contains(*b2b()->find_role("service")));
  EXPECT_THAT(needs.guidance, ::testing::HasSubstr("needs survey"));
}

class ThrowingListener : public EventListener {
 public:
  void on_event(const Event&) override { throw std::runtime_error("listener bug"); }
  void on_stage_entered(const StageEntryNotice&) override { throw 42; }
};

TEST_F(B2bEngine, AThrowingListenerCannotCorruptTheEngine) {
  ThrowingListener thrower;
  options_.listeners = {&thrower, &listener_};
  engine_ = std::make_unique<Engine>(options_);
  engine_->register_definition(b2b());
  qualify();
  EXPECT_EQ(stage_of(), "needs_diagnosis");
  EXPECT_EQ(listener_.events.size(), storage_.event_count()) << "later listeners still hear";
}

TEST_F(B2bEngine, ReplayingTheStoredEventsReproducesTheState) {
  qualify();
  Command assign = command(CommandType::kAssign, "maria", "presales");
  assign.text = "pete";
  ASSERT_TRUE(run(assign).ok());
  ASSERT_TRUE(run(command(CommandType::kHold, "maria")).ok());
  const auto events = storage_.load("deal-1");
  EXPECT_EQ(replay(*b2b(), events), *engine_->instance("deal-1"));
}

TEST_F(B2bEngine, RecoveringFromStorageRebuildsEveryInstance) {
  qualify();
  Command other = command(CommandType::kCreate, "maria");
  other.instance = "deal-2";
  other.definition_id = "b2b_pipeline";
  ASSERT_TRUE(run(other).ok());
  Engine restarted(options_);
  restarted.register_definition(b2b());
  EXPECT_EQ(restarted.recover(), 0u);
  EXPECT_EQ(restarted.instance_count(), 2u);
  EXPECT_EQ(*restarted.instance("deal-1"), *engine_->instance("deal-1"));
  EXPECT_EQ(*restarted.instance("deal-2"), *engine_->instance("deal-2"));
}

TEST_F(B2bEngine, AGoalMetInWorkingTimeRecoversExactlyFromEventsOrFromASnapshot) {
  // "Lead graded within 3 working days" counts Berlin office hours: Friday 15:00-17:00 and
  // Monday 09:00-11:00. apply() keeps the figure the met event records; recovery, from the
  // events alone or from a snapshot taken before the goal, must give the live state exactly.
  now_ = *parse_timestamp("2026-11-27T13:59:00Z");  // Friday; create runs at 14:00Z (15:00)
  ASSERT_NO_FATAL_FAILURE(ready_to_qualify());
  ASSERT_EQ(engine_->snapshot_all(), 1u);  // before the goal: recovery applies the met event
  now_ = *parse_timestamp("2026-11-30T09:59:00Z");  // Monday; the advance runs at 11:00 local
  const CommandResult moved = advance("needs_diagnosis");
  ASSERT_TRUE(moved.ok()) << moved.rejection->message;
  const auto met = std::find_if(moved.events.begin(), moved.events.end(),
                                [](const Event& e) { return e.type == EventType::kStandardMet; });
  ASSERT_NE(met, moved.events.end());
  EXPECT_EQ(std::get<std::int64_t>(met->value), std::chrono::milliseconds(4h).count());
  const InstanceState live = *engine_->instance("deal-1");

  Engine from_snapshot(options_);
  from_snapshot.register_definition(b2b());
  EXPECT_EQ(from_snapshot.recover(), 0u);
  EXPECT_EQ(*from_snapshot.instance("deal-1"), live);

  InMemoryStorage events_only;
  ASSERT_EQ(events_only.append("deal-1", 0, storage_.load("deal-1")), Storage::AppendResult::kOk);
  EngineOptions options;
  options.storage = &events_only;
  Engine from_events(options);
  from_events.register_definition(b2b());
  EXPECT_EQ(from_events.recover(), 0u);
  EXPECT_EQ(*from_events.instance("deal-1"), live);
  const auto standards = from_events.standards("deal-1", now_ + 100h);
  ASSERT_TRUE(standards);
  EXPECT_EQ((*standards)[0].phase, StandardPhase::kMet);
  EXPECT_EQ((*standards)[0].elapsed, 4h);
}

TEST_F(B2bEngine, RecoverySkipsALogThatDoesNotFitItsDefinition) {
  ASSERT_TRUE(create().ok());
  // A log edited behind the engine's back: a field index beyond the definition's table.
  Event forged = storage_.load("deal-1").front();
  forged.instance = "forged";
  Event bad = forged;
  bad.version = 2;
  bad.type = EventType::kFieldSet;
  bad.target = 999;
  bad.value = 1.0;
  ASSERT_EQ(storage_.append("forged", 0, std::vector<Event>{forged, bad}),
            Storage::AppendResult::kOk);
  Engine restarted(options_);
  restarted.register_definition(b2b());
  EXPECT_EQ(restarted.recover(), 2u) << "both events of the forged log are skipped";
  EXPECT_FALSE(restarted.instance("forged").has_value());
  EXPECT_TRUE(restarted.instance("deal-1").has_value());
}

TEST_F(B2bEngine, NumberFieldsHoldDoublesEvenWhenGivenIntegers) {
  ASSERT_TRUE(create({{"deal_value", std::int64_t{120000}}}).ok());
  const InstanceState state = *engine_->instance("deal-1");
  const FieldValue& value = state.fields()[to_index(*b2b()->find_field("deal_value"))];
  ASSERT_TRUE(std::holds_alternative<double>(value));
  EXPECT_EQ(std::get<double>(value), 120000.0);
}

TEST_F(B2bEngine, InstancesStayOnTheDefinitionVersionTheyWereCreatedWith) {
  ASSERT_TRUE(create().ok());
  auto doc = b2b_core_json();
  doc["version"] = 2;
  doc["stages"][0]["gate"]["required_fields"] = {"company"};
  const auto v2 = load_definition(doc.dump()).definition;
  ASSERT_NE(v2, nullptr);
  ASSERT_TRUE(engine_->register_definition(v2));
  EXPECT_FALSE(engine_->register_definition(v2)) << "one id and version registers once";
  Command c = command(CommandType::kCreate, "maria");
  c.instance = "deal-2";
  c.definition_id = "b2b_pipeline";
  c.fields = {{"company", std::string("Beta")}};
  const CommandResult created = run(c);
  EXPECT_EQ(created.events[0].definition_version, 2u) << "new instances take the newest version";
  EXPECT_EQ(engine_->instance("deal-1")->definition->version(), 1u);
  EXPECT_EQ(engine_->missing_to_leave("deal-2")->size(), 2u) << "two checklist items";
  EXPECT_EQ(engine_->missing_to_leave("deal-1")->size(), 7u) << "five fields, two items";
}

TEST_F(B2bEngine, AKeptDirectoryAnswerStillAddsTheInstancesAssignments) {
  qualify();
  Command assign = command(CommandType::kAssign, "maria", "sales_rep");
  assign.text = "mark";
  ASSERT_TRUE(run(assign).ok());
  // Mark's directory answer (marketing) is kept from his first command on; his assignment on
  // deal-1 comes on top of it every time, and only on deal-1.
  EXPECT_TRUE(set({{"decision_maker", std::string("CEO")}}, "mark").ok());
  EXPECT_TRUE(set({{"decision_maker", std::string("CFO")}}, "mark").ok());
  const auto targets = [&](const std::string& actor) {
    const auto transitions = engine_->open_transitions("deal-1", actor);
    std::vector<TransitionId> open;
    for (const OpenTransition& t : transitions.value()) open.push_back(t.transition);
    return open;
  };
  EXPECT_EQ(targets("mark"), targets("maria"));
  EXPECT_EQ(targets("mark"), targets("mark"));
  Command other = command(CommandType::kCreate, "mark");
  other.instance = "deal-2";
  other.definition_id = "b2b_pipeline";
  const CommandResult refused = run(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.rejection->code, ErrorCode::kForbidden);
}

TEST_F(B2bEngine, OpenTransitionsAnswerWhatAnActorMayDoNow) {
  qualify();
  const auto open = engine_->open_transitions("deal-1", "maria");
  ASSERT_TRUE(open.has_value());
  std::vector<std::string> targets;
  for (const OpenTransition& t : *open) {
    targets.push_back(b2b()->stage(t.to).id + (t.gate_open ? "" : " (gate closed)"));
  }
  EXPECT_THAT(targets, UnorderedElementsAre("solution_matching (gate closed)", "lost"));
  EXPECT_THAT(*engine_->open_transitions("deal-1", "mark"), IsEmpty());
}

}  // namespace
}  // namespace salesflow::testing

namespace salesflow::testing {
namespace {

// A host's Directory that only answers roles_of(): the engine asks visit_roles(), whose default
// must give the same roles. Six roles, more than the engine keeps without allocating.
class VectorOnlyDirectory final : public Directory {
 public:
  std::vector<std::string> roles_of(std::string_view person) const override {
    if (person != "olga") return {};
    return {"marketing", "presales", "service", "legal", "no_such_role", "sales_rep"};
  }
};

TEST(EngineDirectory, TheDefaultVisitGivesTheRolesOfRolesOf) {
  VectorOnlyDirectory directory;
  EngineOptions options;
  options.directory = &directory;
  Engine engine(options);
  ASSERT_TRUE(engine.register_definition(b2b()));
  Command create;
  create.type = CommandType::kCreate;
  create.instance = "deal-1";
  create.actor = "olga";  // sales_rep (the sixth role) may create
  create.definition_id = "b2b_pipeline";
  EXPECT_TRUE(engine.execute(create, kMonday).ok());
  create.instance = "deal-2";
  create.actor = "otto";  // no roles
  const CommandResult refused = engine.execute(create, kMonday);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.rejection->code, ErrorCode::kForbidden);
}

TEST(EngineDirectory, InMemoryVisitMatchesRolesOf) {
  InMemoryDirectory directory;
  for (const char* role : {"a", "b", "c", "d", "e", "a_role_id_longer_than_fifteen_characters"})
    directory.grant("olga", role);
  std::vector<std::string> visited;
  directory.visit_roles("olga", [&](std::string_view role) { visited.emplace_back(role); });
  EXPECT_EQ(visited, directory.roles_of("olga"));
  visited.clear();
  directory.visit_roles("nobody", [&](std::string_view role) { visited.emplace_back(role); });
  EXPECT_THAT(visited, IsEmpty());
}

// A host's Directory that counts how often the engine asks it, with a revision() of the test's
// choosing (0: none).
class CountingDirectory final : public Directory {
 public:
  std::vector<std::string> roles_of(std::string_view person) const override {
    ++asked;
    const auto it = roles.find(std::string(person));
    return it == roles.end() ? std::vector<std::string>{} : it->second;
  }
  std::uint64_t revision() const noexcept override { return number; }
  void visit_roles(std::string_view person,
                   const std::function<void(std::string_view role)>& visit) const override {
    if (fail_next) {
      fail_next = false;
      visit("sales_rep");  // part of an answer, then the directory fails
      throw std::runtime_error("directory unreachable");
    }
    Directory::visit_roles(person, visit);
  }

  std::map<std::string, std::vector<std::string>> roles;
  std::uint64_t number = 0;
  mutable int asked = 0;
  mutable bool fail_next = false;
};

// Whether `actor` may create `instance` of `definition`: only sales_rep may (the start stage's
// responsible role); anyone else is forbidden.
bool may_create(Engine& engine, const std::string& instance, const std::string& actor,
                const std::string& definition = "b2b_pipeline") {
  Command create;
  create.type = CommandType::kCreate;
  create.instance = instance;
  create.actor = actor;
  create.definition_id = definition;
  const CommandResult result = engine.execute(create, kMonday);
  EXPECT_TRUE(result.ok() || result.rejection->code == ErrorCode::kForbidden)
      << result.rejection->message;
  return result.ok();
}

std::unique_ptr<Engine> engine_asking(Directory& directory) {
  EngineOptions options;
  options.directory = &directory;
  auto engine = std::make_unique<Engine>(options);
  EXPECT_TRUE(engine->register_definition(b2b()));
  return engine;
}

TEST(EngineDirectory, ADirectoryWithoutARevisionIsAskedForEveryCommand) {
  CountingDirectory directory;
  directory.roles["olga"] = {"sales_rep"};
  const auto engine = engine_asking(directory);
  EXPECT_TRUE(may_create(*engine, "deal-1", "olga"));
  EXPECT_TRUE(may_create(*engine, "deal-2", "olga"));
  EXPECT_TRUE(may_create(*engine, "deal-3", "olga"));
  EXPECT_EQ(directory.asked, 3);
}

TEST(EngineDirectory, ARevisionSparesAskingAgainUntilItOrTheActorChanges) {
  CountingDirectory directory;
  directory.roles["olga"] = {"sales_rep"};
  directory.number = 7;
  const auto engine = engine_asking(directory);
  EXPECT_TRUE(may_create(*engine, "deal-1", "olga"));
  EXPECT_TRUE(may_create(*engine, "deal-2", "olga"));
  EXPECT_EQ(directory.asked, 1);
  directory.roles["olga"].clear();  // taken away, and the directory says so
  directory.number = 8;
  EXPECT_FALSE(may_create(*engine, "deal-3", "olga"));
  EXPECT_EQ(directory.asked, 2);
  directory.roles["otto"] = {"sales_rep"};
  EXPECT_TRUE(may_create(*engine, "deal-4", "otto"));
  EXPECT_FALSE(may_create(*engine, "deal-5", "olga")) << "otto's answer is not olga's";
  EXPECT_EQ(directory.asked, 4);
}

TEST(EngineDirectory, AFailedQuestionKeepsNothing) {
  CountingDirectory directory;
  directory.number = 7;
  const auto engine = engine_asking(directory);
  directory.fail_next = true;
  EXPECT_THROW(may_create(*engine, "deal-1", "otto"), std::runtime_error);
  EXPECT_FALSE(may_create(*engine, "deal-1", "otto")) << "not the half answer of the failure";
  EXPECT_FALSE(engine->instance("deal-1").has_value());
}

TEST(EngineDirectory, AnInMemoryGrantCountsFromTheNextCommand) {
  InMemoryDirectory directory;
  directory.grant("max", "sales_manager");
  const auto engine = engine_asking(directory);
  EXPECT_FALSE(may_create(*engine, "deal-1", "zoe"));
  std::thread([&] { directory.grant("zoe", "sales_rep"); }).join();  // TSan: the number's order
  EXPECT_TRUE(may_create(*engine, "deal-2", "zoe"));
  const std::uint64_t granted = directory.revision();
  EXPECT_GT(granted, 0u);
  directory.grant("zoe", "sales_rep");
  EXPECT_EQ(directory.revision(), granted) << "granting a role held changes nothing";
  InMemoryDirectory other;
  EXPECT_NE(other.revision(), directory.revision()) << "never the same in two directories";
}

TEST(EngineDirectory, AnswersAreNotSharedBetweenEngines) {
  CountingDirectory grants, refuses;
  grants.roles["olga"] = {"sales_rep"};
  grants.number = refuses.number = 7;  // the same revision: only the engine tells them apart
  const auto first = engine_asking(grants);
  const auto second = engine_asking(refuses);
  EXPECT_TRUE(may_create(*first, "deal-1", "olga"));
  EXPECT_FALSE(may_create(*second, "deal-1", "olga"));
  EXPECT_TRUE(may_create(*first, "deal-2", "olga"));
}

TEST(EngineDirectory, AKeptAnswerIsMappedInEachDefinitionItMeets) {
  // The same roles in the opposite order: sales_rep is role 1 of one and role 6 of the other.
  nlohmann::json reversed = b2b_core_json();
  reversed["id"] = "b2b_reversed";
  std::reverse(reversed["roles"].begin(), reversed["roles"].end());
  const auto other = load_definition(reversed.dump()).definition;
  ASSERT_TRUE(other);
  CountingDirectory directory;
  directory.roles["olga"] = {"sales_rep"};
  directory.roles["sven"] = {"service"};  // role 1 of the reversed definition
  directory.number = 7;
  const auto engine = engine_asking(directory);
  ASSERT_TRUE(engine->register_definition(other));
  EXPECT_TRUE(may_create(*engine, "deal-1", "olga"));
  EXPECT_TRUE(may_create(*engine, "deal-2", "olga", "b2b_reversed"));
  EXPECT_TRUE(may_create(*engine, "deal-3", "olga"));
  EXPECT_FALSE(may_create(*engine, "deal-4", "sven", "b2b_reversed"));
  EXPECT_EQ(directory.asked, 2);
}

// Enough instances to grow every stripe's index several times: each keeps its own state.
TEST(EngineInstances, ManyInstancesKeepTheirOwnState) {
  InMemoryDirectory directory;
  directory.grant("maria", "sales_rep");
  EngineOptions options;
  options.directory = &directory;
  Engine engine(options);
  ASSERT_TRUE(engine.register_definition(b2b()));
  constexpr std::size_t kCount = 20000;
  Command create;
  create.type = CommandType::kCreate;
  create.actor = "maria";
  create.definition_id = "b2b_pipeline";
  Command check = create;
  check.type = CommandType::kCheckItem;
  check.target = "lead_cleaned";
  for (std::size_t i = 0; i < kCount; ++i) {
    create.instance = "deal-" + std::to_string(i);
    ASSERT_TRUE(engine.execute(create, kMonday).ok());
    if (i % 3 == 0) {
      check.instance = create.instance;
      ASSERT_TRUE(engine.execute(check, kMonday).ok());
    }
  }
  EXPECT_EQ(engine.instance_count(), kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    const auto state = engine.instance("deal-" + std::to_string(i));
    ASSERT_TRUE(state.has_value()) << i;
    EXPECT_EQ(state->version, i % 3 == 0 ? 2u : 1u) << i;
  }
  EXPECT_FALSE(engine.instance("deal-" + std::to_string(kCount)).has_value());
  EXPECT_FALSE(engine.instance("").has_value());
}

TEST(Timestamp, ParsesIsoUtcAndOffsetsAndRefusesEverythingElse) {
  using namespace std::chrono;
  const Timestamp base = Timestamp(date::sys_days(date::year(2026) / 11 / 27)) + 9h + 30min;
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00Z"), base);
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00.250Z"), base + 250ms);
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00.1Z"), base + 100ms);
  EXPECT_EQ(parse_timestamp("2026-11-27T10:30:00+01:00"), base);
  EXPECT_EQ(parse_timestamp("2026-11-27T04:00:00-05:30"), base);
  EXPECT_EQ(parse_timestamp("2024-02-29T00:00:00Z"),
            Timestamp(date::sys_days(date::year(2024) / 2 / 29)));
  for (const char* bad :
       {"", "2026-11-27", "2026-11-27T09:30:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-27T24:00:00Z", "2026-11-27T09:60:00Z", "2026-11-27 09:30:00Z",
        "2026-11-27T09:30:00.Z", "2026-11-27T09:30:00ZZ", "2026-11-27T09:30:00+1:00",
        "+2026-11-27T09:30:00Z", "yesterday", "2026-11-27T09:30:00.1234567890Z"}) {
    EXPECT_EQ(parse_timestamp(bad), std::nullopt) << bad;
  }
}

TEST(Timestamp, FormatsRoundTrip) {
  for (const char* text : {"2026-11-27T09:30:00Z", "1999-12-31T23:59:59.999Z"}) {
    EXPECT_EQ(format_timestamp(*parse_timestamp(text)), text);
  }
}

// A locale whose decimal point is a comma, as a host may make global.
struct DecimalComma : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
};

TEST(Timestamp, TheTextDoesNotFollowTheHostsLocale) {
  // Rules read timestamps as this text: it must not change with the process's locale.
  const std::locale before =
      std::locale::global(std::locale(std::locale::classic(), new DecimalComma));
  const std::string text = format_timestamp(*parse_timestamp("2026-11-23T09:00:00.250Z"));
  std::locale::global(before);
  EXPECT_EQ(text, "2026-11-23T09:00:00.250Z");
}

}  // namespace
}  // namespace salesflow::testing
