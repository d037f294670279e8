// B2B deals in every kind of state a snapshot has to carry, for the snapshot and recovery tests
// of every store: standards running, at risk, breached, escalated, paused and met; on hold; lost;
// lost and reopened; a team required and assigned; an approval given; fields of every type.
#ifndef SALESFLOW_TESTS_SNAPSHOT_SCENARIO_HPP_
#define SALESFLOW_TESTS_SNAPSHOT_SCENARIO_HPP_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "salesflow/engine.hpp"

namespace salesflow::testing {

inline std::shared_ptr<const ProcessDefinition> b2b_pipeline() {
  static const auto def = load_definition_file(std::filesystem::path(SALESFLOW_SOURCE_DIR) /
                                               "examples/b2b_pipeline.json")
                              .definition;
  return def;
}

inline void grant_b2b_people(InMemoryDirectory& directory) {
  directory.grant("maria", "sales_rep");
  directory.grant("max", "sales_manager");
  directory.grant("lena", "legal");
  directory.grant("pete", "presales");
  directory.grant("sam", "service");
}

class B2bScenario {
 public:
  explicit B2bScenario(Engine& engine) : engine_(engine) {}

  // Runs the scenario; returns the instance ids. `now` moves on.
  std::vector<std::string> run(Timestamp& now) {
    now_ = &now;
    create("lead", "small");
    qualify("team", "large");  // needs_diagnosis asks for a team: presales and service
    assign("team", "presales", "pete");
    assign("team", "service", "sam");
    qualify("hold", "small");
    hold("hold", "waiting for the budget round");
    create("reopened", "medium");
    close_lost("reopened", "no_budget");
    ok(command(CommandType::kReopen, "reopened", "max"));
    create("lost", "small");
    close_lost("lost", "competitor");
    qualify("closing", "small");
    set("closing", {{"decision_maker", std::string("CFO")},
                    {"needs_summary", std::string("https://wiki/acme")}});
    for (const char* item : {"org_structure", "decision_chain", "hidden_needs"}) {
      check("closing", item);
    }
    advance("closing", "solution_matching");
    set("closing", {{"solution_type", std::string("standard")},
                    {"solution_modules", std::vector<std::string>{"crm", "billing"}},
                    {"deal_value", 20000.5},
                    {"existing_customer", true}});
    check("closing", "proposal_sent");
    advance("closing", "deal_closing");
    set("closing", {{"contract_signed_at", *parse_timestamp("2026-11-24T10:00:00.250Z")},
                    {"seats", std::int64_t{40}}});
    check("closing", "contract_drafted");
    Command approve = command(CommandType::kApprove, "closing", "lena");
    approve.target = "legal_pre_review";
    ok(approve);
    create("late", "enterprise");
    // Days pass: milestones fall due (at risk, breached, escalated) on the deals still counting.
    *now_ += std::chrono::hours(30);
    fired_ = engine_.advance_to(*now_);
    set("team", {{"needs_summary", std::string("late, but here")}});
    *now_ += std::chrono::hours(24 * 5);
    const auto more = engine_.advance_to(*now_);
    fired_.insert(fired_.end(), more.begin(), more.end());
    set("late", {{"web_visit_minutes", 42.25}, {"email_opens", std::int64_t{3}}});
    ok(command(CommandType::kUncheckItem, "closing", "maria", "contract_drafted"));
    // Deadlines still to come at the end: a needs summary due, and a lead to grade.
    qualify("fresh", "small");
    create("newest", "large");
    return {"lead", "team", "hold", "reopened", "lost", "closing", "late", "fresh", "newest"};
  }

  const std::vector<Event>& fired() const { return fired_; }

 private:
  Command command(CommandType type, const std::string& id, std::string actor = "maria",
                  std::string target = "") {
    Command c;
    c.type = type;
    c.instance = id;
    c.actor = std::move(actor);
    c.target = std::move(target);
    return c;
  }
  void ok(const Command& c) {
    const CommandResult r = engine_.execute(c, *now_ += std::chrono::minutes(7));
    EXPECT_TRUE(r.ok()) << c.instance << " " << to_string(c.type) << ": "
                        << (r.rejection ? r.rejection->message : "");
  }
  void create(const std::string& id, const std::string& size) {
    Command c = command(CommandType::kCreate, id);
    c.definition_id = "b2b_pipeline";
    c.fields = {{"company", std::string("Acme ümlaut \"quoted\"")},
                {"industry", std::string("retail")},
                {"company_size", size},
                {"urgency", std::string("high")},
                {"purchases_last_year", std::int64_t{2}},
                {"average_order_value", 1250.75}};
    ok(c);
  }
  void qualify(const std::string& id, const std::string& size) {
    create(id, size);
    check(id, "lead_cleaned");
    check(id, "grade_verified");
    advance(id, "needs_diagnosis");
  }
  void check(const std::string& id, const std::string& item) {
    ok(command(CommandType::kCheckItem, id, "maria", item));
  }
  void advance(const std::string& id, const std::string& stage) {
    ok(command(CommandType::kAdvance, id, "maria", stage));
  }
  void assign(const std::string& id, const std::string& role, const std::string& person) {
    Command c = command(CommandType::kAssign, id, "maria", role);
    c.text = person;
    ok(c);
  }
  void hold(const std::string& id, const std::string& why) {
    Command c = command(CommandType::kHold, id);
    c.text = why;
    ok(c);
  }
  void close_lost(const std::string& id, const std::string& reason) {
    Command c = command(CommandType::kCloseLost, id);
    c.text = reason;
    ok(c);
  }
  void set(const std::string& id, std::vector<std::pair<std::string, FieldValue>> fields) {
    Command c = command(CommandType::kSetFields, id);
    c.fields = std::move(fields);
    ok(c);
  }

  Engine& engine_;
  Timestamp* now_ = nullptr;
  std::vector<Event> fired_;
};

}  // namespace salesflow::testing

#endif  // SALESFLOW_TESTS_SNAPSHOT_SCENARIO_HPP_
