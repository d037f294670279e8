#include "support/generate.hpp"

#include <nlohmann/json.hpp>

namespace salesflow::testing {

using nlohmann::json;

namespace {
constexpr std::size_t kFields = 100;  // gates reuse them: real processes have far fewer fields
}  // namespace

std::string generate_definition(std::size_t stage_count) {
  if (stage_count == 0) stage_count = 1;
  json def = {{"format", 1},
              {"id", "generated"},
              {"name", "Generated pipeline"},
              {"version", 1},
              {"roles", json::array()},
              {"modules", json::array()},
              {"fields", json::array()},
              {"stages", json::array()},
              {"transitions", json::array()},
              {"delivery_standards", json::array()}};
  for (const char* role : {"marketing", "sales_rep", "sales_manager", "presales", "legal",
                           "service", "customer_care"}) {
    def["roles"].push_back({{"id", role}, {"name", role}});
  }
  const std::size_t modules = (stage_count + 9) / 10;
  for (std::size_t m = 0; m < modules; ++m) {
    def["modules"].push_back(
        {{"id", "module_" + std::to_string(m)}, {"name", "Module " + std::to_string(m)}});
  }
  json lost_from = json::array();
  for (std::size_t s = 0; s < stage_count; ++s) {
    const std::string n = std::to_string(s);
    const std::string id = "stage_" + n;
    const std::string field = "field_" + std::to_string(s % kFields);
    if (s < kFields) {
      def["fields"].push_back(
          {{"id", field}, {"type", s % 2 == 0 ? "string" : "number"}, {"label", "Field " + n}});
    }
    json stage = {{"id", id},
                  {"name", "Stage " + n},
                  {"module", "module_" + std::to_string(s / 10)},
                  {"guidance", "Do the work of stage " + n + " and record the result."},
                  {"responsibility",
                   {{"accountable", "sales_manager"},
                    {"responsible", {"sales_rep"}},
                    {"consulted", {"presales"}},
                    {"informed", {"service"}}}},
                  {"checklist", {{{"id", "item_" + n}, {"label", "Item " + n}}}},
                  {"gate", {{"required_fields", {field}}, {"checklist", {"item_" + n}}}}};
    if (s % 3 == 0) {
      stage["gate"]["approvals"] = {{{"id", "approval_" + n}, {"role", "legal"}}};
    }
    def["stages"].push_back(std::move(stage));
    const std::string next = s + 1 < stage_count ? "stage_" + std::to_string(s + 1) : "won";
    def["transitions"].push_back({{"from", id}, {"to", next}});
    if (s > 0) {
      def["transitions"].push_back(
          {{"from", id}, {"to", "stage_" + std::to_string(s - 1)}, {"label", "back"}});
    }
    lost_from.push_back(id);
  }
  def["stages"].push_back({{"id", "won"},
                           {"name", "Won"},
                           {"kind", "won"},
                           {"responsibility", {{"accountable", "sales_manager"}}}});
  def["stages"].push_back({{"id", "lost"},
                           {"name", "Lost"},
                           {"kind", "lost"},
                           {"responsibility", {{"accountable", "sales_manager"}}}});
  def["transitions"].push_back({{"from", lost_from}, {"to", "lost"}});
  for (std::size_t m = 0; m < modules; ++m) {
    const std::string first = "stage_" + std::to_string(m * 10);
    def["delivery_standards"].push_back(
        {{"id", "standard_" + std::to_string(m)},
         {"anchor", {{"on", "stage_entered"}, {"stage", first}}},
         {"goal", {{"on", "stage_left"}, {"stage", first}}},
         {"limit", "P2D"},
         {"at_risk", "P1D"},
         {"escalation", {{{"after", "PT4H"}, {"role", "sales_manager"}}}}});
  }
  return def.dump();
}

std::string minimal_definition() {
  return R"({
  "format": 1,
  "id": "minimal",
  "name": "Minimal",
  "version": 1,
  "roles": [{"id": "rep"}, {"id": "manager"}],
  "modules": [{"id": "main"}],
  "fields": [{"id": "amount", "type": "number", "min": 0}],
  "stages": [
    {"id": "open", "name": "Open", "module": "main",
     "responsibility": {"accountable": "manager", "responsible": ["rep"]},
     "checklist": [{"id": "checked"}],
     "gate": {"required_fields": ["amount"], "checklist": ["checked"],
              "approvals": [{"id": "ok", "role": "manager"}]}},
    {"id": "won", "name": "Won", "kind": "won", "responsibility": {"accountable": "manager"}},
    {"id": "lost", "name": "Lost", "kind": "lost", "responsibility": {"accountable": "manager"}}
  ],
  "transitions": [{"from": "open", "to": "won"}, {"from": "open", "to": "lost"}],
  "delivery_standards": [
    {"id": "quick", "anchor": {"on": "instance_created"}, "goal": {"on": "stage_left", "stage": "open"},
     "limit": "PT24H", "at_risk": "PT18H", "escalation": [{"after": "PT4H", "role": "manager"}]}
  ]
})";
}

}  // namespace salesflow::testing
