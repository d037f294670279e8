// JSON -> checked, compiled ProcessDefinition. The sections are read in dependency order (roles,
// modules, fields, then stages, transitions, delivery standards); stage and checklist ids are
// declared in a first sweep so that gates may name items of any stage.
#include <algorithm>
#include <cerrno>
#include <fstream>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "definition/duration.hpp"
#include "definition/graph_checks.hpp"
#include "definition/json_document.hpp"
#include "definition/reader.hpp"
#include "engine/condition_plan.hpp"
#include "rules/program.hpp"
#include "salesflow/definition.hpp"

namespace salesflow {

using internal::child_pointer;
using internal::Diagnostics;
using internal::Element;
using internal::Namespace;
using internal::ObjectReader;
using internal::Presence;
using internal::quote_text;
using simdjson::dom::element_type;

namespace {
constexpr std::int64_t kFormatVersion = 1;
constexpr std::int64_t kMaxCount = 1'000'000;
// Field bounds are stored as double; integer bounds beyond 2^53 would silently lose precision.
constexpr double kMaxExactInteger = 9007199254740992.0;

template <class Id>
Id id_of(std::uint32_t index) {
  return static_cast<Id>(index);
}
}  // namespace

class DefinitionCompiler {
 public:
  DefinitionCompiler(const LoadLimits& limits, const OperatorRegistry* operators, Diagnostics& out)
      : limits_(limits), operators_(operators), out_(out), def_(new ProcessDefinition()) {}

  std::shared_ptr<const ProcessDefinition> compile(Element root) {
    ObjectReader top(root, "", out_, "a process definition",
                     {"$schema", "format", "id", "name", "version", "description", "roles",
                      "modules", "fields", "stages", "start", "transitions", "calendars",
                      "delivery_standards", "lead_scoring", "alerts"});
    if (!top.is_object()) return nullptr;
    if (const auto schema = top.get("$schema", Presence::kOptional);
        schema && schema->type() != element_type::STRING) {
      out_.add(DiagnosticCode::kWrongType, top.pointer("$schema"), "\"$schema\" must be a string");
    }
    if (const auto format = top.integer("format", Presence::kRequired, 1, kMaxCount);
        format && *format != kFormatVersion) {
      out_.add(DiagnosticCode::kInvalidValue, top.pointer("format"),
               "format " + std::to_string(*format) +
                   " is not supported; this version of "
                   "salesflow reads format " +
                   std::to_string(kFormatVersion));
    }
    def_->id_ = top.identifier("id", Presence::kRequired).value_or("");
    def_->name_ = top.text("name", Presence::kRequired).value_or("");
    def_->version_ = static_cast<std::uint32_t>(
        top.integer("version", Presence::kRequired, 1, std::numeric_limits<std::int32_t>::max())
            .value_or(0));
    def_->description_ = top.text("description", Presence::kOptional, SIZE_MAX).value_or("");

    read_roles(top);
    read_modules(top);
    read_fields(top);
    const auto stages = section(top, "stages", Presence::kRequired, limits_.max_stages, stages_);
    if (stages && stages->size() == 0) {
      out_.add(DiagnosticCode::kInvalidValue, top.pointer("stages"),
               "a definition needs at least one stage");
    }
    if (stages) {
      declare_stages(*stages, top.pointer("stages"));
      each(stages, top.pointer("stages"),
           [&](Element stage, const std::string& pointer, std::size_t i) {
             read_stage(stage, pointer, i);
           });
    }
    read_start(top);
    read_transitions(top);
    read_calendars(top);
    read_standards(top);
    read_scoring(top);
    read_alerts(top);

    if (out_.size() > 0) return nullptr;
    build_indexes();
    bind_rule_fields();
    plan_conditions();
    find_scoring_inputs();
    internal::check_graph(*def_, top.pointer("stages"), out_);
    if (out_.size() > 0) return nullptr;
    return std::shared_ptr<const ProcessDefinition>(def_.release());
  }

 private:
  // Calls read(element, pointer, index) for each element of `entries` (an array already checked
  // by ObjectReader::array, or null).
  template <class Read>
  static void each(const std::optional<simdjson::dom::array>& entries, const std::string& base,
                   Read read) {
    if (!entries) return;
    std::size_t i = 0;
    for (const Element entry : *entries) {
      read(entry, child_pointer(base, i), i);
      ++i;
    }
  }

  // A top-level array that declares the ids of `names`. When it is there but cannot be read, or
  // is required and absent, references to its ids cannot be checked: say so to `names`.
  std::optional<simdjson::dom::array> section(const ObjectReader& top, std::string_view key,
                                              Presence presence, std::size_t max_items,
                                              Namespace& names) {
    const auto entries = top.array(key, presence, max_items);
    if (!entries && (presence == Presence::kRequired || top.get(key, Presence::kOptional))) {
      names.mark_unreadable();
    }
    return entries;
  }

  // Reads an optional array section of `parent` element by element.
  template <class Read>
  void for_each_entry(const ObjectReader& parent, std::string_view key, std::size_t max_items,
                      Read read) {
    each(parent.array(key, Presence::kOptional, max_items), parent.pointer(key), read);
  }

  void read_roles(const ObjectReader& top) {
    const auto roles = section(top, "roles", Presence::kRequired, kMaxRoles, roles_);
    if (roles && roles->size() == 0) {
      out_.add(DiagnosticCode::kInvalidValue, top.pointer("roles"),
               "a definition needs at least one role");
    }
    each(roles, top.pointer("roles"),
         [&](Element value, const std::string& pointer, std::size_t i) {
           ObjectReader r(value, pointer, out_, "a role", {"id", "name", "description"});
           Role role;
           role.id = r.identifier("id", Presence::kRequired).value_or("");
           role.name = r.text("name", Presence::kOptional).value_or(role.id);
           role.description = r.text("description", Presence::kOptional, SIZE_MAX).value_or("");
           if (!role.id.empty()) roles_.declare(role.id, index(i), r.pointer("id"), out_);
           def_->roles_.push_back(std::move(role));
         });
  }

  void read_modules(const ObjectReader& top) {
    each(section(top, "modules", Presence::kOptional, limits_.max_list_items, modules_),
         top.pointer("modules"), [&](Element value, const std::string& pointer, std::size_t i) {
           ObjectReader r(value, pointer, out_, "a module", {"id", "name", "description"});
           Module module;
           module.id = r.identifier("id", Presence::kRequired).value_or("");
           module.name = r.text("name", Presence::kOptional).value_or(module.id);
           module.description = r.text("description", Presence::kOptional, SIZE_MAX).value_or("");
           if (!module.id.empty()) {
             modules_.declare(module.id, index(i), r.pointer("id"), out_);
           }
           def_->modules_.push_back(std::move(module));
         });
  }

  void read_fields(const ObjectReader& top) {
    each(section(top, "fields", Presence::kOptional, limits_.max_fields, fields_),
         top.pointer("fields"), [&](Element value, const std::string& pointer, std::size_t i) {
           def_->fields_.push_back(read_field(value, pointer));
           const Field& field = def_->fields_.back();
           if (!field.id.empty()) fields_.declare(field.id, index(i), pointer + "/id", out_);
         });
  }

  Field read_field(Element value, const std::string& pointer) {
    ObjectReader r(
        value, pointer, out_, "a field",
        {"id", "label", "description", "type", "values", "min", "max", "max_length", "max_items"});
    Field field;
    field.id = r.identifier("id", Presence::kRequired).value_or("");
    field.label = r.text("label", Presence::kOptional).value_or(field.id);
    field.description = r.text("description", Presence::kOptional, SIZE_MAX).value_or("");
    const auto type =
        r.choice("type", Presence::kRequired,
                 {"string", "number", "integer", "boolean", "enum", "timestamp", "string_list"});
    if (!type) return field;
    field.type = static_cast<FieldType>(*type);
    const auto only_for = [&](std::string_view key, bool applies, std::string_view types) {
      if (r.get(key, Presence::kOptional) && !applies) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer(key),
                 "\"" + std::string(key) + "\" applies only to " + std::string(types) +
                     " fields, not to a " + std::string(to_string(field.type)) + " field");
        return false;
      }
      return applies;
    };
    const FieldType t = field.type;
    if (only_for("min", t == FieldType::kNumber || t == FieldType::kInteger,
                 "number and integer")) {
      field.min = read_bound(r, "min", t);
    }
    if (only_for("max", t == FieldType::kNumber || t == FieldType::kInteger,
                 "number and integer")) {
      field.max = read_bound(r, "max", t);
    }
    if (field.min && field.max && *field.min > *field.max) {
      out_.add(DiagnosticCode::kOutOfRange, r.pointer("max"),
               "\"max\" must not be less than \"min\"");
    }
    if (only_for("max_length", t == FieldType::kString || t == FieldType::kStringList,
                 "string and string_list")) {
      if (auto n = r.integer("max_length", Presence::kOptional, 1, 1 << 24)) {
        field.max_length = static_cast<std::uint32_t>(*n);
      }
    }
    if (only_for("max_items", t == FieldType::kStringList, "string_list")) {
      if (auto n = r.integer("max_items", Presence::kOptional, 1, kMaxCount)) {
        field.max_items = static_cast<std::uint32_t>(*n);
      }
    }
    if (only_for("values", t == FieldType::kEnum, "enum")) {
      std::unordered_set<std::string> seen;
      for (const auto& v : r.identifiers("values", Presence::kRequired, limits_.max_list_items,
                                         /*allow_single=*/false)) {
        if (!seen.insert(v.id).second) {
          out_.add(DiagnosticCode::kDuplicateId, v.pointer,
                   "the enum value " + quote_text(v.id) + " is listed twice");
        } else {
          field.values.push_back(v.id);
        }
      }
      if (field.values.empty() && r.get("values", Presence::kOptional)) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer("values"),
                 "an enum field needs at least one value");
      }
    }
    return field;
  }

  std::optional<double> read_bound(const ObjectReader& r, std::string_view key, FieldType type) {
    if (type == FieldType::kInteger) {
      const auto limit = static_cast<std::int64_t>(kMaxExactInteger);
      if (auto n = r.integer(key, Presence::kOptional, -limit, limit)) {
        return static_cast<double>(*n);
      }
      return std::nullopt;
    }
    return r.number(key, Presence::kOptional);
  }

  // First sweep over the stages: their ids, and the ids of the checklist items they declare.
  // Malformed entries are skipped here; the second sweep reports them.
  void declare_stages(simdjson::dom::array stages, const std::string& base) {
    const auto identifier_at = [](Element object, std::string_view key) {
      std::string_view id;
      if (object.type() != element_type::OBJECT || object[key].get_string().get(id) ||
          !internal::is_identifier(id)) {
        return std::string_view();
      }
      return id;
    };
    def_->stages_.resize(stages.size());
    std::size_t i = 0;
    for (const Element stage : stages) {
      const std::string pointer = child_pointer(base, i);
      if (const std::string_view id = identifier_at(stage, "id"); !id.empty()) {
        stages_.declare(std::string(id), index(i), pointer + "/id", out_);
      }
      simdjson::dom::array items;
      if (stage.type() == element_type::OBJECT && !stage["checklist"].get_array().get(items) &&
          items.size() <= limits_.max_list_items) {
        std::size_t j = 0;
        for (const Element item : items) {
          const std::string_view id = identifier_at(item, "id");
          const auto item_index = index(def_->items_.size());
          if (!id.empty() &&
              items_.declare(std::string(id), item_index,
                             child_pointer(pointer + "/checklist", j) + "/id", out_)) {
            def_->items_.push_back(
                ChecklistItem{std::string(id), std::string(), id_of<StageId>(index(i))});
          }
          ++j;
        }
      }
      ++i;
    }
    if (def_->items_.size() > limits_.max_list_items) {
      out_.add(DiagnosticCode::kLimit, base,
               "the stages declare " + std::to_string(def_->items_.size()) +
                   " checklist items; at most " + std::to_string(limits_.max_list_items) +
                   " are allowed");
    }
  }

  void read_stage(Element value, const std::string& pointer, std::size_t i) {
    ObjectReader r(value, pointer, out_, "a stage",
                   {"id", "name", "module", "kind", "guidance", "responsibility", "checklist",
                    "gate", "lost_reasons", "team"});
    Stage& stage = def_->stages_[i];
    stage.id = r.identifier("id", Presence::kRequired).value_or("");
    stage.name = r.text("name", Presence::kRequired).value_or(stage.id);
    stage.kind = static_cast<StageKind>(
        r.choice("kind", Presence::kOptional, {"active", "won", "lost"}).value_or(0));
    stage.guidance = r.text("guidance", Presence::kOptional, SIZE_MAX).value_or("");
    const bool active = stage.kind == StageKind::kActive;
    if (auto module = r.identifier("module", active ? Presence::kRequired : Presence::kOptional)) {
      if (auto m = modules_.resolve(*module, r.pointer("module"), out_)) {
        stage.module = id_of<ModuleId>(*m);
      }
    }
    if (const auto responsibility = r.object("responsibility", Presence::kRequired)) {
      stage.responsibility = read_responsibility(*responsibility, r.pointer("responsibility"));
    }
    for_each_entry(
        r, "checklist", limits_.max_list_items,
        [&](Element item_value, const std::string& item_pointer, std::size_t) {
          ObjectReader item(item_value, item_pointer, out_, "a checklist item", {"id", "label"});
          const auto id = item.identifier("id", Presence::kRequired);
          const auto label = item.text("label", Presence::kOptional);
          if (!id) return;
          const auto k = items_.find(*id);
          // Only the declaring stage (not a duplicate) owns the item.
          if (!k || def_->items_[*k].stage != id_of<StageId>(index(i))) return;
          if (std::find(stage.checklist.begin(), stage.checklist.end(),
                        id_of<ChecklistItemId>(*k)) != stage.checklist.end()) {
            return;
          }
          def_->items_[*k].label = label.value_or(*id);
          stage.checklist.push_back(id_of<ChecklistItemId>(*k));
        });
    if (const auto gate = r.object("gate", Presence::kOptional)) {
      if (!active) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer("gate"),
                 "a " + std::string(to_string(stage.kind)) +
                     " stage is never left, so it cannot have a gate");
      } else {
        read_gate(*gate, r.pointer("gate"), i);
      }
    }
    if (const auto team = r.object("team", Presence::kOptional)) {
      if (!active) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer("team"),
                 "a " + std::string(to_string(stage.kind)) +
                     " stage is never worked, so it cannot ask for a team");
      } else {
        stage.team = read_team(*team, r.pointer("team"));
      }
    }
    if (r.get("lost_reasons", Presence::kOptional) && stage.kind != StageKind::kLost) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer("lost_reasons"),
               "only a lost stage can list lost reasons");
    } else {
      for (auto& reason : r.identifiers("lost_reasons", Presence::kOptional, limits_.max_list_items,
                                        /*allow_single=*/false)) {
        stage.lost_reasons.push_back(std::move(reason.id));
      }
    }
  }

  Responsibility read_responsibility(Element value, const std::string& pointer) {
    ObjectReader r(value, pointer, out_, "a responsibility assignment",
                   {"accountable", "responsible", "consulted", "informed"});
    Responsibility result;
    const auto accountable = r.get("accountable", Presence::kOptional);
    const auto accountable_roles =
        r.identifiers("accountable", Presence::kOptional, kMaxRoles, /*allow_single=*/true);
    const std::size_t given = !accountable ? 0
                              : accountable->type() == element_type::ARRAY
                                  ? accountable->get_array().value_unsafe().size()
                                  : 1;
    if (given != 1) {
      out_.add(
          DiagnosticCode::kAccountable, !accountable ? pointer : r.pointer("accountable"),
          "a stage needs exactly one accountable role, but " +
              (given == 0 ? std::string("none is given") : std::to_string(given) + " are given"));
    } else if (accountable_roles.size() == 1) {
      if (auto role = roles_.resolve(accountable_roles[0].id, accountable_roles[0].pointer, out_)) {
        result.accountable = id_of<RoleId>(*role);
      }
    }
    result.responsible = read_role_set(r, "responsible");
    result.consulted = read_role_set(r, "consulted");
    result.informed = read_role_set(r, "informed");
    return result;
  }

  RoleSet read_role_set(const ObjectReader& r, std::string_view key) {
    RoleSet set;
    for (const auto& ref : r.identifiers(key, Presence::kOptional, kMaxRoles, false)) {
      if (auto role = roles_.resolve(ref.id, ref.pointer, out_)) set.insert(id_of<RoleId>(*role));
    }
    return set;
  }

  void read_gate(Element value, const std::string& pointer, std::size_t stage_index) {
    ObjectReader r(value, pointer, out_, "a gate",
                   {"required_fields", "checklist", "approvals", "conditions"});
    Gate& gate = def_->stages_[stage_index].gate;
    resolve_unique(
        r.identifiers("required_fields", Presence::kOptional, limits_.max_list_items, false),
        fields_, gate.required_fields);
    resolve_unique(r.identifiers("checklist", Presence::kOptional, limits_.max_list_items, false),
                   items_, gate.checklist);
    for_each_entry(r, "approvals", limits_.max_list_items,
                   [&](Element item, const std::string& item_pointer, std::size_t) {
                     read_approval(item, item_pointer, stage_index);
                   });
    for_each_entry(r, "conditions", limits_.max_list_items,
                   [&](Element item, const std::string& item_pointer, std::size_t) {
                     if (auto condition = read_condition(item, item_pointer)) {
                       gate.conditions.push_back(std::move(*condition));
                     }
                   });
  }

  std::optional<TeamRequirement> read_team(Element value, const std::string& pointer) {
    ObjectReader r(value, pointer, out_, "a team requirement", {"description", "when", "roles"});
    TeamRequirement team;
    const auto description = r.text("description", Presence::kRequired);
    team.description = description.value_or("");
    if (const auto when = r.get("when", Presence::kOptional)) {
      // The description of the team is what a person reads; the rule needs none of its own.
      team.when = compile_condition(*when, r.pointer("when"), team.description);
    }
    const auto roles = r.identifiers("roles", Presence::kRequired, kMaxRoles, false);
    if (r.get("roles", Presence::kOptional) && roles.empty()) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer("roles"), "a team needs at least one role");
    }
    std::vector<RoleId> ids;
    resolve_unique(roles, roles_, ids);
    for (const RoleId role : ids) team.roles.insert(role);
    if (!description || team.roles.empty()) return std::nullopt;
    return team;
  }

  // Resolves each reference into `ids`, reporting unknown ones and repeats.
  template <class Id>
  void resolve_unique(const std::vector<ObjectReader::Reference>& references,
                      const Namespace& names, std::vector<Id>& ids) {
    std::unordered_set<std::uint32_t> seen;
    for (const auto& ref : references) {
      const auto found = names.resolve(ref.id, ref.pointer, out_);
      if (!found) continue;
      if (!seen.insert(*found).second) {
        out_.add(DiagnosticCode::kDuplicateId, ref.pointer,
                 quote_text(ref.id) + " is listed twice");
        continue;
      }
      ids.push_back(id_of<Id>(*found));
    }
  }

  void read_approval(Element value, const std::string& pointer, std::size_t stage_index) {
    ObjectReader r(value, pointer, out_, "an approval", {"id", "label", "role", "count"});
    Approval approval;
    const auto id = r.identifier("id", Presence::kRequired);
    approval.label = r.text("label", Presence::kOptional).value_or(id.value_or(""));
    if (auto role_id = r.identifier("role", Presence::kRequired)) {
      if (auto role = roles_.resolve(*role_id, r.pointer("role"), out_)) {
        approval.role = id_of<RoleId>(*role);
      }
    }
    approval.count =
        static_cast<std::uint32_t>(r.integer("count", Presence::kOptional, 1, 1000).value_or(1));
    approval.stage = id_of<StageId>(index(stage_index));
    if (!id) return;
    approval.id = *id;
    const auto approval_index = index(def_->approvals_.size());
    if (approvals_.declare(approval.id, approval_index, r.pointer("id"), out_)) {
      def_->approvals_.push_back(std::move(approval));
      def_->stages_[stage_index].gate.approvals.push_back(id_of<ApprovalId>(approval_index));
    }
  }

  std::optional<Condition> read_condition(Element value, const std::string& pointer) {
    ObjectReader r(value, pointer, out_, "a condition", {"description", "rule"});
    const auto description = r.text("description", Presence::kRequired);
    const auto rule = r.get("rule", Presence::kRequired);
    if (!description || !rule) return std::nullopt;
    return compile_condition(*rule, r.pointer("rule"), *description);
  }

  // Compiles the rule at `pointer`; its diagnostics point into the definition.
  std::optional<Condition> compile_condition(Element rule, const std::string& pointer,
                                             std::string description) {
    std::string text = simdjson::minify(rule);
    RuleCompileResult compiled = compile_rule(text, operators_);
    for (Diagnostic& d : compiled.diagnostics) {
      out_.add(d.code, pointer + d.pointer, "rule: " + d.message);
    }
    if (!compiled.ok()) return std::nullopt;
    return Condition{std::move(description), std::move(text), std::move(*compiled.rule), nullptr};
  }

  void read_scoring(const ObjectReader& top) {
    const auto value = top.object("lead_scoring", Presence::kOptional);
    if (!value) return;
    ObjectReader r(*value, top.pointer("lead_scoring"), out_, "a lead scoring",
                   {"description", "score", "score_field", "grade_field", "grades"});
    const auto description = r.text("description", Presence::kRequired);
    const auto rule = r.get("score", Presence::kRequired);
    std::optional<Condition> score;
    if (description && rule) score = compile_condition(*rule, r.pointer("score"), *description);
    // A field of one of `types`, or nothing (reported).
    const auto field = [&](std::string_view key, std::initializer_list<FieldType> types,
                           std::string_view wanted) -> std::optional<FieldId> {
      const auto id = r.identifier(key, Presence::kRequired);
      if (!id) return std::nullopt;
      const auto found = fields_.resolve(*id, r.pointer(key), out_);
      if (!found) return std::nullopt;
      const Field& f = def_->fields_[*found];
      if (std::find(types.begin(), types.end(), f.type) == types.end()) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer(key),
                 "field " + quote_text(*id) + " is of type " + std::string(to_string(f.type)) +
                     "; the " + std::string(key) + " must be " + std::string(wanted));
        return std::nullopt;
      }
      return id_of<FieldId>(*found);
    };
    const auto score_field = field("score_field", {FieldType::kNumber}, "a number field");
    const auto grade_field = field("grade_field", {FieldType::kEnum}, "an enum field");
    std::vector<GradeThreshold> grades;
    const auto entries = r.array("grades", Presence::kRequired, limits_.max_list_items);
    if (entries && entries->size() == 0) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer("grades"), "at least one grade is needed");
    }
    each(entries, r.pointer("grades"), [&](Element entry, const std::string& pointer, std::size_t) {
      ObjectReader g(entry, pointer, out_, "a grade threshold", {"grade", "min"});
      GradeThreshold threshold;
      const auto grade = g.text("grade", Presence::kRequired);
      threshold.min = g.number("min", Presence::kOptional);
      if (!grade) return;
      threshold.grade = *grade;
      if (grade_field) {
        const auto& values = def_->fields_[to_index(*grade_field)].values;
        if (std::find(values.begin(), values.end(), *grade) == values.end()) {
          out_.add(DiagnosticCode::kInvalidValue, g.pointer("grade"),
                   quote_text(*grade) + " is not a value of the grade field " +
                       quote_text(def_->fields_[to_index(*grade_field)].id));
        }
      }
      if (!grades.empty() && !grades.back().min) {
        out_.add(DiagnosticCode::kInvalidValue, pointer,
                 "only the last grade may omit \"min\": the grade before catches every score");
      } else if (!grades.empty() && threshold.min && *threshold.min >= *grades.back().min) {
        out_.add(DiagnosticCode::kOutOfRange, g.pointer("min"),
                 "\"min\" must be lower than the grade before's");
      }
      grades.push_back(std::move(threshold));
    });
    if (score_field && grade_field && score_field == grade_field) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer("grade_field"),
               "the score and the grade need two different fields");
    }
    if (!score || !score_field || !grade_field) return;
    def_->scoring_ =
        LeadScoring{std::move(*score), *score_field, *grade_field,
                    std::move(grades), {},           true};  // inputs: find_scoring_inputs()
  }

  void read_alerts(const ObjectReader& top) {
    Namespace ids("alert");
    for_each_entry(
        top, "alerts", limits_.max_list_items,
        [&](Element value, const std::string& pointer, std::size_t i) {
          ObjectReader r(value, pointer, out_, "an alert threshold", {"id", "description", "rule"});
          const auto id = r.identifier("id", Presence::kRequired);
          const auto description = r.text("description", Presence::kRequired);
          const auto rule = r.get("rule", Presence::kRequired);
          if (!id || !description || !rule) return;
          if (!ids.declare(*id, index(i), r.pointer("id"), out_)) return;
          auto condition = compile_condition(*rule, r.pointer("rule"), *description);
          if (condition) def_->alerts_.push_back({*id, std::move(*condition)});
        });
  }

  void read_start(const ObjectReader& top) {
    if (auto start = top.identifier("start", Presence::kOptional)) {
      if (auto s = stages_.resolve(*start, top.pointer("start"), out_)) {
        def_->start_ = id_of<StageId>(*s);
      }
    }
    if (def_->stages_.empty()) return;
    if (def_->stage(def_->start_).kind != StageKind::kActive) {
      out_.add(DiagnosticCode::kInvalidValue,
               top.get("start", Presence::kOptional) ? top.pointer("start") : "/stages/0",
               "the start stage must be an active stage, not a won or lost one");
    }
  }

  void read_transitions(const ObjectReader& top) {
    transitions_pointer_ = top.pointer("transitions");
    std::vector<std::pair<Transition, std::string>> declared;  // with pointers, for checks
    for_each_entry(top, "transitions", limits_.max_transitions,
                   [&](Element value, const std::string& pointer, std::size_t) {
                     read_transition(value, pointer, declared);
                   });
    if (transitions_over_limit_) return;
    // Group by source stage (stable: declaration order within a stage) for outgoing().
    std::stable_sort(declared.begin(), declared.end(),
                     [](const auto& a, const auto& b) { return a.first.from < b.first.from; });
    def_->outgoing_begin_.assign(def_->stages_.size() + 1, 0);
    // Within a source's group, a target seen before is a duplicate: stamp targets with the source.
    std::vector<std::uint32_t> seen_from(def_->stages_.size(), UINT32_MAX);
    for (std::size_t k = 0; k < declared.size(); ++k) {
      const Transition& t = declared[k].first;
      std::uint32_t& stamp = seen_from[to_index(t.to)];
      if (stamp == static_cast<std::uint32_t>(to_index(t.from))) {
        out_.add(DiagnosticCode::kDuplicateId, declared[k].second,
                 "the transition from " + quote_text(def_->stage(t.from).id) + " to " +
                     quote_text(def_->stage(t.to).id) + " is declared twice");
      }
      stamp = static_cast<std::uint32_t>(to_index(t.from));
      ++def_->outgoing_begin_[to_index(t.from) + 1];
      def_->transitions_.push_back(t);
    }
    for (std::size_t s = 0; s < def_->stages_.size(); ++s) {
      def_->outgoing_begin_[s + 1] += def_->outgoing_begin_[s];
    }
  }

  void read_transition(Element value, const std::string& pointer,
                       std::vector<std::pair<Transition, std::string>>& declared) {
    ObjectReader r(value, pointer, out_, "a transition", {"from", "to", "label", "guard"});
    const auto from = r.identifiers("from", Presence::kRequired, limits_.max_stages, true);
    const auto to_id = r.identifier("to", Presence::kRequired);
    const auto label = r.text("label", Presence::kOptional).value_or("");
    std::shared_ptr<const Condition> guard;
    if (const auto g = r.get("guard", Presence::kOptional)) {
      if (auto condition = read_condition(*g, r.pointer("guard"))) {
        // Made non-const: plan_conditions() sets its plan once the fields are indexed.
        guard = std::make_shared<Condition>(std::move(*condition));
      }
    }
    if (from.empty() && r.get("from", Presence::kOptional) &&
        r.get("from", Presence::kOptional)->type() == element_type::ARRAY) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer("from"),
               "\"from\" must name at least one stage");
    }
    std::optional<std::uint32_t> to;
    if (to_id) to = stages_.resolve(*to_id, r.pointer("to"), out_);
    // Checked before expanding, so that a hostile "from" list cannot make memory explode.
    if (declared.size() + from.size() > limits_.max_transitions) {
      if (!transitions_over_limit_) {
        out_.add(DiagnosticCode::kLimit, transitions_pointer_,
                 "the transitions expand to more than " + std::to_string(limits_.max_transitions) +
                     " moves");
        transitions_over_limit_ = true;
      }
      return;
    }
    for (const auto& ref : from) {
      const auto f = stages_.resolve(ref.id, ref.pointer, out_);
      if (!f || !to) continue;
      const Stage& source = def_->stages_[*f];
      const Stage& target = def_->stages_[*to];
      if (source.kind != StageKind::kActive) {
        out_.add(DiagnosticCode::kInvalidValue, ref.pointer,
                 "the " + std::string(to_string(source.kind)) + " stage " + quote_text(source.id) +
                     " is terminal; it cannot have outgoing transitions (reopening is a command, "
                     "not a transition)");
        continue;
      }
      if (*f == *to) {
        out_.add(DiagnosticCode::kInvalidValue, ref.pointer,
                 "a transition cannot lead from stage " + quote_text(source.id) + " to itself");
        continue;
      }
      Transition t;
      t.from = id_of<StageId>(*f);
      t.to = id_of<StageId>(*to);
      t.forward = target.kind == StageKind::kWon || (target.kind == StageKind::kActive && *to > *f);
      t.label = label;
      t.guard = guard;
      declared.emplace_back(std::move(t), ref.pointer);
    }
  }

  void read_standards(const ObjectReader& top) {
    for_each_entry(top, "delivery_standards",
                   std::min(limits_.max_list_items, kMaxDeliveryStandards),
                   [&](Element value, const std::string& pointer, std::size_t i) {
                     DeliveryStandard standard = read_standard(value, pointer);
                     if (!standard.id.empty()) {
                       standards_.declare(standard.id, index(i), pointer + "/id", out_);
                     }
                     def_->standards_.push_back(std::move(standard));
                   });
  }

  // Calendars: time zone, working hours per weekday ("09:00-17:00"), holidays ("2026-12-25"),
  // working day. Each problem is reported where it is; the zone is checked against the system's
  // tz database.
  void read_calendars(const ObjectReader& top) {
    const auto entries =
        section(top, "calendars", Presence::kOptional, limits_.max_list_items, calendars_);
    each(entries, top.pointer("calendars"),
         [&](Element value, const std::string& pointer, std::size_t i) {
           Calendar calendar = read_calendar(value, pointer);
           if (!calendar.id.empty()) {
             calendars_.declare(calendar.id, index(i), pointer + "/id", out_);
           }
           def_->calendars_.push_back(std::move(calendar));
         });
  }

  Calendar read_calendar(Element value, const std::string& pointer) {
    ObjectReader r(
        value, pointer, out_, "a calendar",
        {"id", "name", "description", "time_zone", "working_hours", "holidays", "working_day"});
    Calendar calendar;
    calendar.id = r.identifier("id", Presence::kRequired).value_or("");
    calendar.name = r.text("name", Presence::kOptional).value_or(calendar.id);
    r.text("description", Presence::kOptional, SIZE_MAX);
    const std::size_t errors_before = out_.size();
    CalendarSpec spec;
    const auto zone = r.text("time_zone", Presence::kRequired);
    bool zone_ok = false;
    if (zone) {
      spec.time_zone = *zone;
      // Probe the zone alone (with a trivial week), to report it at its own pointer.
      CalendarSpec probe;
      probe.time_zone = *zone;
      probe.week[0] = {WorkingInterval{std::chrono::hours{9}, std::chrono::hours{17}}};
      auto made = BusinessCalendar::make(std::move(probe));
      if (auto* error = std::get_if<std::string>(&made)) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer("time_zone"), *error);
      } else {
        zone_ok = true;
      }
    }
    if (const auto hours = r.object("working_hours", Presence::kRequired)) {
      static constexpr std::string_view kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                                   "friday", "saturday", "sunday"};
      ObjectReader week(*hours, r.pointer("working_hours"), out_, "the working hours",
                        {kDays[0], kDays[1], kDays[2], kDays[3], kDays[4], kDays[5], kDays[6]});
      bool any = false;
      for (std::size_t d = 0; d < 7; ++d) {
        std::optional<std::chrono::minutes> previous_end;
        each(week.array(kDays[d], Presence::kOptional, 8), week.pointer(kDays[d]),
             [&](Element interval_value, const std::string& interval_pointer, std::size_t) {
               const auto interval = read_interval(interval_value, interval_pointer);
               if (!interval) return;
               if (previous_end && interval->begin < *previous_end) {
                 out_.add(DiagnosticCode::kInvalidValue, interval_pointer,
                          "working hours of a day must be in order and must not overlap");
               }
               previous_end = interval->end;
               spec.week[d].push_back(*interval);
               any = true;
             });
      }
      if (!any && week.is_object() && out_.size() == errors_before) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer("working_hours"),
                 "a calendar needs working hours on at least one day of the week");
      }
    }
    const auto holidays = r.array("holidays", Presence::kOptional, limits_.max_list_items);
    each(holidays, r.pointer("holidays"),
         [&](Element day, const std::string& day_pointer, std::size_t) {
           if (day.type() != element_type::STRING) {
             out_.add(DiagnosticCode::kWrongType, day_pointer,
                      "a holiday must be a date string such as \"2026-12-25\", not " +
                          std::string(internal::describe_type(day)));
             return;
           }
           const std::string_view text = day.get_string().value_unsafe();
           const auto date = parse_date(text);
           if (!date) {
             out_.add(DiagnosticCode::kInvalidValue, day_pointer,
                      quote_text(text) + " is not a date (expected YYYY-MM-DD, such as " +
                          "\"2026-12-25\")");
             return;
           }
           spec.holidays.push_back(*date);
         });
    if (const auto parts = read_duration_parts(r, "working_day", Presence::kOptional)) {
      const auto day = std::chrono::seconds(parts->days * 86400) + parts->time;
      if (day <= std::chrono::seconds{0} || day > std::chrono::hours{24}) {
        out_.add(DiagnosticCode::kOutOfRange, r.pointer("working_day"),
                 "\"working_day\" must be longer than zero and at most 24 hours");
      } else {
        spec.working_day = day;
      }
    }
    if (zone_ok && out_.size() == errors_before) {
      auto made = BusinessCalendar::make(std::move(spec));
      if (auto* error = std::get_if<std::string>(&made)) {
        out_.add(DiagnosticCode::kInvalidValue, pointer, *error);
      } else {
        calendar.calendar =
            std::make_shared<const BusinessCalendar>(std::get<BusinessCalendar>(std::move(made)));
      }
    }
    return calendar;
  }

  // "HH:MM-HH:MM", 00:00 <= begin < end <= 24:00.
  std::optional<WorkingInterval> read_interval(Element value, const std::string& pointer) {
    if (value.type() != element_type::STRING) {
      out_.add(DiagnosticCode::kWrongType, pointer,
               "working hours must be a string such as \"09:00-17:00\", not " +
                   std::string(internal::describe_type(value)));
      return std::nullopt;
    }
    const std::string_view text = value.get_string().value_unsafe();
    const auto clock = [](std::string_view t) -> std::optional<std::chrono::minutes> {
      if (t.size() != 5 || t[2] != ':') return std::nullopt;
      for (const std::size_t i : {0u, 1u, 3u, 4u}) {
        if (t[i] < '0' || t[i] > '9') return std::nullopt;
      }
      const int h = (t[0] - '0') * 10 + (t[1] - '0');
      const int m = (t[3] - '0') * 10 + (t[4] - '0');
      if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
      return std::chrono::minutes(h * 60 + m);
    };
    const auto dash = text.find('-');
    std::optional<std::chrono::minutes> begin, end;
    if (dash != std::string_view::npos) {
      begin = clock(text.substr(0, dash));
      end = clock(text.substr(dash + 1));
    }
    if (!begin || !end) {
      out_.add(DiagnosticCode::kInvalidValue, pointer,
               quote_text(text) + " is not a span of working hours (expected \"HH:MM-HH:MM\" " +
                   "in 24-hour local time, such as \"09:00-17:00\")");
      return std::nullopt;
    }
    if (*begin >= *end) {
      out_.add(DiagnosticCode::kInvalidValue, pointer,
               quote_text(text) + ": working hours must start before they end, within one day");
      return std::nullopt;
    }
    return WorkingInterval{*begin, *end};
  }

  static std::optional<std::chrono::year_month_day> parse_date(std::string_view t) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    int parts[3] = {0, 0, 0};
    std::size_t part = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (i == 4 || i == 7) {
        ++part;
        continue;
      }
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      parts[part] = parts[part] * 10 + (t[i] - '0');
    }
    const std::chrono::year_month_day date{std::chrono::year(parts[0]),
                                           std::chrono::month(static_cast<unsigned>(parts[1])),
                                           std::chrono::day(static_cast<unsigned>(parts[2]))};
    if (!date.ok()) return std::nullopt;
    return date;
  }

  DeliveryStandard read_standard(Element value, const std::string& pointer) {
    ObjectReader r(
        value, pointer, out_, "a delivery standard",
        {"id", "name", "anchor", "goal", "limit", "at_risk", "escalation", "pausable", "calendar"});
    DeliveryStandard standard;
    standard.id = r.identifier("id", Presence::kRequired).value_or("");
    if (const auto calendar_id = r.identifier("calendar", Presence::kOptional)) {
      if (const auto calendar = calendars_.resolve(*calendar_id, r.pointer("calendar"), out_)) {
        standard.calendar = id_of<CalendarId>(*calendar);
      }
    }
    // Under a calendar a written day is a working day of it.
    std::chrono::seconds day_length{86400};
    if (standard.calendar && def_->calendars_[to_index(*standard.calendar)].calendar) {
      day_length = def_->calendars_[to_index(*standard.calendar)].calendar->working_day();
    }
    const auto read_duration = [&](const ObjectReader& reader, std::string_view key,
                                   Presence presence) -> std::optional<std::chrono::seconds> {
      const auto parts = read_duration_parts(reader, key, presence);
      if (!parts) return std::nullopt;
      return day_length * parts->days + parts->time;
    };
    standard.name = r.text("name", Presence::kOptional).value_or(standard.id);
    if (const auto anchor = r.get("anchor", Presence::kRequired)) {
      standard.anchor = read_trigger(*anchor, r.pointer("anchor"), /*anchor=*/true);
    }
    if (const auto goal = r.get("goal", Presence::kRequired)) {
      standard.goal = read_trigger(*goal, r.pointer("goal"), /*anchor=*/false);
    }
    const auto limit = read_duration(r, "limit", Presence::kRequired);
    if (limit) {
      if (limit->count() == 0) {
        out_.add(DiagnosticCode::kOutOfRange, r.pointer("limit"), "\"limit\" must be positive");
      }
      standard.limit = *limit;
    }
    standard.at_risk = read_duration(r, "at_risk", Presence::kOptional);
    if (limit && standard.at_risk && *standard.at_risk >= *limit) {
      out_.add(DiagnosticCode::kOutOfRange, r.pointer("at_risk"),
               "\"at_risk\" must come before the limit of " + internal::format_duration(*limit));
    }
    standard.pausable = r.boolean("pausable", Presence::kOptional).value_or(true);
    for_each_entry(
        r, "escalation", 16, [&](Element step_value, const std::string& step_pointer, std::size_t) {
          ObjectReader step(step_value, step_pointer, out_, "an escalation step",
                            {"after", "role"});
          Escalation escalation;
          const auto after = read_duration(step, "after", Presence::kRequired);
          const auto role_id = step.identifier("role", Presence::kRequired);
          std::optional<std::uint32_t> role;
          if (role_id) role = roles_.resolve(*role_id, step.pointer("role"), out_);
          if (!after || !role) return;
          if (!standard.escalation.empty() && *after <= standard.escalation.back().after) {
            out_.add(DiagnosticCode::kOutOfRange, step.pointer("after"),
                     "escalation steps must come strictly later one after the other");
          }
          standard.escalation.push_back(Escalation{*after, id_of<RoleId>(*role)});
        });
    return standard;
  }

  Trigger read_trigger(Element value, const std::string& pointer, bool anchor) {
    ObjectReader r(value, pointer, out_, anchor ? "an anchor" : "a goal",
                   {"on", "stage", "item", "field", "approval"});
    Trigger trigger;
    const auto on = anchor
                        ? r.choice("on", Presence::kRequired,
                                   {"instance_created", "stage_entered", "item_checked",
                                    "field_set", "approval_given"})
                        : r.choice("on", Presence::kRequired,
                                   {"stage_left", "item_checked", "field_set", "approval_given"});
    if (!on) return trigger;
    static constexpr TriggerKind kAnchorKinds[] = {
        TriggerKind::kInstanceCreated, TriggerKind::kStageEntered, TriggerKind::kItemChecked,
        TriggerKind::kFieldSet, TriggerKind::kApprovalGiven};
    static constexpr TriggerKind kGoalKinds[] = {TriggerKind::kStageLeft, TriggerKind::kItemChecked,
                                                 TriggerKind::kFieldSet,
                                                 TriggerKind::kApprovalGiven};
    trigger.kind = anchor ? kAnchorKinds[*on] : kGoalKinds[*on];
    // Each kind names exactly one kind of target, under its own key.
    struct Target {
      std::string_view key;
      const Namespace* names;
    };
    std::optional<Target> wanted;
    switch (trigger.kind) {
      case TriggerKind::kInstanceCreated:
        break;
      case TriggerKind::kStageEntered:
      case TriggerKind::kStageLeft:
        wanted = Target{"stage", &stages_};
        break;
      case TriggerKind::kItemChecked:
        wanted = Target{"item", &items_};
        break;
      case TriggerKind::kFieldSet:
        wanted = Target{"field", &fields_};
        break;
      case TriggerKind::kApprovalGiven:
        wanted = Target{"approval", &approvals_};
        break;
    }
    for (const std::string_view key : {"stage", "item", "field", "approval"}) {
      if (r.get(key, Presence::kOptional) && (!wanted || wanted->key != key)) {
        out_.add(DiagnosticCode::kInvalidValue, r.pointer(key),
                 "\"" + std::string(key) + "\" does not apply to \"on\": \"" +
                     std::string(to_string(trigger.kind)) + "\"");
      }
    }
    if (wanted) {
      if (auto id = r.identifier(wanted->key, Presence::kRequired)) {
        if (auto target = wanted->names->resolve(*id, r.pointer(wanted->key), out_)) {
          trigger.target = *target;
        }
      }
    }
    return trigger;
  }

  std::optional<internal::DurationParts> read_duration_parts(const ObjectReader& r,
                                                             std::string_view key,
                                                             Presence presence) {
    const auto value = r.get(key, presence);
    if (!value) return std::nullopt;
    if (value->type() != element_type::STRING) {
      out_.add(DiagnosticCode::kWrongType, r.pointer(key),
               "\"" + std::string(key) +
                   "\" must be an ISO-8601 duration string such as "
                   "\"PT24H\", not " +
                   std::string(internal::describe_type(*value)));
      return std::nullopt;
    }
    const std::string_view text = value->get_string().value_unsafe();
    auto parsed = internal::parse_duration_parts(text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      out_.add(DiagnosticCode::kInvalidValue, r.pointer(key),
               quote_text(text) + " is not a valid duration: " + *error);
      return std::nullopt;
    }
    return std::get<internal::DurationParts>(parsed);
  }

  template <class Table>
  static ProcessDefinition::NameIndex make_index(const Table& table) {
    // Ids are unique within a table (the compiler refused duplicates before).
    std::vector<ProcessDefinition::NameKey> keys;
    keys.reserve(table.size());
    for (std::size_t n = 0; n < table.size(); ++n) {
      keys.push_back({table[n].id, ProcessDefinition::name_hash(table[n].id), index(n)});
    }
    return ProcessDefinition::make_table(keys);
  }

  void build_indexes() {
    def_->role_index_ = make_index(def_->roles_);
    def_->module_index_ = make_index(def_->modules_);
    def_->field_index_ = make_index(def_->fields_);
    def_->stage_index_ = make_index(def_->stages_);
    def_->item_index_ = make_index(def_->items_);
    def_->approval_index_ = make_index(def_->approvals_);
    def_->standard_index_ = make_index(def_->standards_);
    def_->calendar_index_ = make_index(def_->calendars_);
  }

  // ProcessDefinition::rule_fields_: every segment of every rule of the definition that names a
  // field (segments are interned per rule, so the first of each path is among them).
  void bind_rule_fields() {
    std::vector<ProcessDefinition::NameKey> bound;
    const auto bind = [&](const Condition& condition) {
      for (const std::string_view segment :
           internal::RuleAccess::program(condition.rule).segments) {
        if (const auto field = def_->find_field(segment)) {
          bound.push_back({segment, ProcessDefinition::address_hash(segment.data()),
                           static_cast<std::uint32_t>(to_index(*field))});
        }
      }
    };
    for (const Stage& stage : def_->stages_) {
      for (const Condition& c : stage.gate.conditions) bind(c);
      if (stage.team && stage.team->when) bind(*stage.team->when);
    }
    for (const Transition& t : def_->transitions_) {
      if (t.guard) bind(*t.guard);
    }
    if (def_->scoring_) bind(def_->scoring_->score);
    for (const AlertThreshold& alert : def_->alerts_) bind(alert.condition);
    def_->rule_fields_ = ProcessDefinition::make_table(bound);
  }

  // Condition::plan of the conditions condition_holds() evaluates on an instance's fields.
  void plan_conditions() {
    const auto plan = [&](Condition& condition) {
      condition.plan = internal::make_condition_plan(*def_, condition.rule);
    };
    for (Stage& stage : def_->stages_) {
      for (Condition& c : stage.gate.conditions) plan(c);
      if (stage.team && stage.team->when) plan(*stage.team->when);
    }
    for (Transition& t : def_->transitions_) {
      // A guard is shared by the transitions of one declaration; it was made non-const.
      if (t.guard && !t.guard->plan) plan(*std::const_pointer_cast<Condition>(t.guard));
    }
  }

  // LeadScoring::inputs: every segment of the score rule that names a field (a superset of the
  // fields its paths start with), unless a node reads data by a name not known at load time.
  void find_scoring_inputs() {
    if (!def_->scoring_) return;
    LeadScoring& scoring = *def_->scoring_;
    const internal::CompiledRule& program = internal::RuleAccess::program(scoring.score.rule);
    using internal::Op;
    const bool computed_names =
        std::any_of(program.nodes.begin(), program.nodes.end(), [&](const internal::Node& node) {
          return node.op == Op::kVarDynamic || node.op == Op::kMissing ||
                 node.op == Op::kMissingSome || node.op == Op::kHost ||
                 (node.op == Op::kVarPath && program.paths[node.a].whole_data);
        });
    std::vector<FieldId> inputs;
    for (const std::string_view segment : program.segments) {
      if (const auto field = def_->find_field(segment)) inputs.push_back(*field);
    }
    std::sort(inputs.begin(), inputs.end());
    inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
    const auto reads = [&](FieldId f) {
      return std::binary_search(inputs.begin(), inputs.end(), f);
    };
    // A score that reads its own output would change with every evaluation: evaluated always,
    // as before this was known.
    scoring.reads_every_field =
        computed_names || reads(scoring.score_field) || reads(scoring.grade_field);
    scoring.inputs = std::move(inputs);
  }

  static std::uint32_t index(std::size_t i) { return static_cast<std::uint32_t>(i); }

  const LoadLimits& limits_;
  const OperatorRegistry* operators_;
  std::string transitions_pointer_;
  bool transitions_over_limit_ = false;
  Diagnostics& out_;
  std::unique_ptr<ProcessDefinition> def_;
  Namespace roles_{"role"};
  Namespace modules_{"module"};
  Namespace fields_{"field"};
  Namespace stages_{"stage"};
  Namespace items_{"checklist item"};
  Namespace approvals_{"approval"};
  Namespace standards_{"delivery standard"};
  Namespace calendars_{"calendar"};
};

LoadResult load_definition(std::string_view json_text, const LoadLimits& limits,
                           const OperatorRegistry* operators) {
  LoadResult result;
  const internal::JsonLimits json_limits{limits.max_document_bytes, limits.max_depth,
                                         limits.max_string_bytes, limits.max_values};
  simdjson::dom::parser parser;
  auto parsed = internal::parse_json_fast(json_text, json_limits, parser);
  if (auto* failure = std::get_if<Diagnostic>(&parsed)) {
    result.diagnostics.push_back(std::move(*failure));
    return result;
  }
  Diagnostics out;
  DefinitionCompiler compiler(limits, operators, out);
  result.definition = compiler.compile(std::get<Element>(parsed));
  result.diagnostics = out.take();
  return result;
}

LoadResult load_definition_file(const std::filesystem::path& path, const LoadLimits& limits,
                                const OperatorRegistry* operators) {
  std::string text;
  if (auto problem = internal::read_document_file(path, limits.max_document_bytes, text)) {
    LoadResult result;
    result.diagnostics.push_back(std::move(*problem));
    return result;
  }
  return load_definition(text, limits, operators);
}

}  // namespace salesflow
