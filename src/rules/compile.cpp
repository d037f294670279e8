#include "rules/compile.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "definition/json_document.hpp"
#include "rules/builtins.hpp"
#include "rules/js.hpp"
#include "rules/json_tree.hpp"
#include "rules/program.hpp"

namespace salesflow::internal {
namespace {

using nlohmann::json;

std::string arity_text(std::uint32_t min_args, std::uint32_t max_args) {
  auto plural = [](std::uint32_t n) { return n == 1 ? " argument" : " arguments"; };
  if (min_args == max_args) return std::to_string(min_args) + plural(min_args);
  if (max_args == kAnyCount) return "at least " + std::to_string(min_args) + plural(min_args);
  if (max_args == min_args + 1) {
    return std::to_string(min_args) + " or " + std::to_string(max_args) + " arguments";
  }
  return std::to_string(min_args) + " to " + std::to_string(max_args) + " arguments";
}

std::uint32_t clamp_count(std::size_t n) {
  return n >= kAnyCount ? kAnyCount : static_cast<std::uint32_t>(n);
}

class Compiler {
 public:
  Compiler(const OperatorRegistry* operators, const RuleLimits& limits)
      : operators_(operators), program_(std::make_shared<CompiledRule>()) {
    program_->limits = limits;
    program_->limits.max_depth = std::min(limits.max_depth, kMaxRuleDepth);
  }

  RuleCompileResult run(const json& rule, std::string_view base_pointer) {
    std::string pointer(base_pointer);
    const std::uint32_t root = compile(rule, pointer, 0);
    RuleCompileResult result;
    if (!diagnostics_.empty()) {
      result.diagnostics = std::move(diagnostics_);
      return result;
    }
    program_->root = root;
    result.rule = RuleAccess::make(std::move(program_));
    return result;
  }

 private:
  void report(DiagnosticCode code, const std::string& pointer, std::string message) {
    diagnostics_.push_back(Diagnostic{code, pointer, std::move(message)});
  }

  std::uint32_t add_node(Op op, std::uint32_t a, const std::vector<std::uint32_t>& children,
                         const std::string& pointer) {
    CompiledRule& p = *program_;
    Node node;
    node.op = op;
    node.a = a;
    node.first_child = static_cast<std::uint32_t>(p.children.size());
    node.child_count = static_cast<std::uint32_t>(children.size());
    p.children.insert(p.children.end(), children.begin(), children.end());
    p.nodes.push_back(node);
    p.node_pointers.push_back(pointer);
    return static_cast<std::uint32_t>(p.nodes.size() - 1);
  }

  std::string_view intern(std::string_view s) {
    program_->strings.emplace_back(s);
    return program_->strings.back();
  }

  std::uint32_t add_constant(Value v, const std::string& pointer) {
    program_->constants.push_back(v);
    return add_node(Op::kConst, static_cast<std::uint32_t>(program_->constants.size() - 1), {},
                    pointer);
  }

  // Returns the node for `j`, or 0 after reporting a diagnostic (the result is then discarded).
  std::uint32_t compile(const json& j, std::string& pointer, std::size_t depth) {
    if (program_->nodes.size() >= program_->limits.max_nodes) {
      if (!node_limit_reported_) {
        report(DiagnosticCode::kLimit, pointer,
               "the rule has more than the limit of " + std::to_string(program_->limits.max_nodes) +
                   " operators and values");
        node_limit_reported_ = true;
      }
      return 0;
    }
    switch (j.type()) {
      case json::value_t::null:
        return add_constant(Value::null(), pointer);
      case json::value_t::boolean:
        return add_constant(Value::from_bool(j.get<bool>()), pointer);
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        return add_constant(Value::from_number(j.get<double>()), pointer);
      case json::value_t::string: {
        const auto& s = j.get_ref<const std::string&>();
        if (s.size() > program_->limits.max_string_bytes) {
          report(DiagnosticCode::kLimit, pointer,
                 "a string of " + std::to_string(s.size()) + " bytes is longer than the limit of " +
                     std::to_string(program_->limits.max_string_bytes));
          return 0;
        }
        return add_constant(Value::from_string(intern(s)), pointer);
      }
      case json::value_t::array: {
        if (!enter(pointer, depth)) return 0;
        std::vector<std::uint32_t> items;
        items.reserve(j.size());
        for (std::size_t i = 0; i < j.size(); ++i) {
          const std::size_t length = pointer.size();
          append_pointer_token(pointer, std::to_string(i));
          items.push_back(compile(j[i], pointer, depth + 1));
          pointer.resize(length);
        }
        return add_node(Op::kArray, 0, items, pointer);
      }
      case json::value_t::object:
        if (!enter(pointer, depth)) return 0;
        return compile_operator(j, pointer, depth + 1);
      default:
        report(DiagnosticCode::kWrongType, pointer, "a rule is made of JSON values only");
        return 0;
    }
  }

  // Whether a container at `depth` (0 for the rule itself) is within the depth limit.
  bool enter(const std::string& pointer, std::size_t depth) {
    if (depth < program_->limits.max_depth) return true;
    report(DiagnosticCode::kLimit, pointer,
           "the rule is nested deeper than the limit of " +
               std::to_string(program_->limits.max_depth) + " arrays and objects");
    return false;
  }

  // `depth` counts the object itself.
  std::uint32_t compile_operator(const json& j, std::string& pointer, std::size_t depth) {
    if (j.size() != 1) {
      report(DiagnosticCode::kInvalidValue, pointer,
             j.empty() ? "an empty object is not a rule; an operation is an object with one key, "
                         "the operator"
                       : "an operation is an object with exactly one key, the operator, but this "
                         "one has " +
                             std::to_string(j.size()));
      return 0;
    }
    const auto member = j.begin();
    const std::string& name = member.key();
    const json& value = member.value();
    const std::size_t op_pointer_length = pointer.size();
    append_pointer_token(pointer, name);

    // {"op": x} is shorthand for {"op": [x]}.
    std::vector<const json*> args;
    const bool listed = value.is_array();
    if (listed) {
      if (!enter(pointer, depth)) {
        pointer.resize(op_pointer_length);
        return 0;
      }
      for (const json& arg : value) args.push_back(&arg);
    } else {
      args.push_back(&value);
    }
    const std::size_t arg_depth = listed ? depth + 1 : depth;

    const BuiltinOperator* builtin = find_builtin(name);
    std::shared_ptr<const OperatorRegistry::Entry> host;
    bool known = builtin != nullptr;
    if (!known && operators_ != nullptr) {
      host = operators_->find(name);
      known = host != nullptr;
    }
    bool ok = true;
    if (!known) {
      ok = false;
      report(DiagnosticCode::kInvalidValue, pointer,
             is_javascript_only_operator(name)
                 ? "operator " + quote_text(name) +
                       " exists only in JavaScript (json-logic-js) and is not supported"
                 : "unknown operator " + quote_text(name));
    } else {
      const std::uint32_t min_args = builtin ? builtin->min_args : clamp_count(host->min_args);
      const std::uint32_t max_args = builtin ? builtin->max_args : clamp_count(host->max_args);
      if (args.size() < min_args || args.size() > max_args) {
        ok = false;
        report(DiagnosticCode::kInvalidValue, pointer,
               "operator " + quote_text(name) + " takes " + arity_text(min_args, max_args) +
                   ", not " + std::to_string(args.size()));
      }
    }

    // Compile the arguments even after an error, to report every problem at once.
    auto compile_arg = [&](std::size_t i) {
      const std::size_t length = pointer.size();
      if (listed) append_pointer_token(pointer, std::to_string(i));
      const std::uint32_t node = compile(*args[i], pointer, arg_depth);
      pointer.resize(length);
      return node;
    };
    std::vector<std::uint32_t> children;
    std::uint32_t a = 0;
    Op op = builtin ? builtin->op : Op::kHost;
    std::size_t first_compiled = 0;
    if (ok && op == Op::kVarPath && !args.empty() && !args[0]->is_structured()) {
      a = intern_path(*args[0]);
      first_compiled = 1;
    } else if (op == Op::kVarPath) {
      if (args.empty()) {
        a = intern_path(json());
      } else {
        op = Op::kVarDynamic;
      }
    }
    for (std::size_t i = first_compiled; i < args.size(); ++i) children.push_back(compile_arg(i));
    pointer.resize(op_pointer_length);
    if (!ok) return 0;
    if (op == Op::kHost) a = host_index(host);
    if (op == Op::kVarPath && children.empty() && !program_->paths[a].whole_data) {
      op = Op::kVarSimple;  // the common case, without a default to evaluate
      if (program_->paths[a].segment_count == 1) {
        op = Op::kVarMember;
        a = program_->paths[a].first_segment;
      }
    }
    fuse_comparison(op, a, children);
    fuse_constant_keys(op, a, children);
    return add_node(op, a, children, pointer);
  }

  // "missing" and "missing_some" with constant string keys (their usual form) get the keys'
  // paths interned, split and hashed, now.
  void fuse_constant_keys(Op& op, std::uint32_t& a, std::vector<std::uint32_t>& children) {
    if (!diagnostics_.empty()) return;  // as in fuse_comparison
    if (op != Op::kMissing && op != Op::kMissingSome) return;
    const CompiledRule& p = *program_;
    // The keys: missing_some's second argument, or missing's arguments, or the one array literal
    // that is missing's only argument.
    const bool some = op == Op::kMissingSome;
    const std::uint32_t list = some ? children[1] : children.empty() ? 0 : children[0];
    const bool literal = (some || children.size() == 1) && p.nodes[list].op == Op::kArray;
    if (some && !literal) return;
    const std::vector<std::uint32_t> keys =
        literal
            ? std::vector<std::uint32_t>(p.args(p.nodes[list]).begin(), p.args(p.nodes[list]).end())
            : children;
    for (const std::uint32_t key : keys) {
      if (p.nodes[key].op != Op::kConst || p.constants[p.nodes[key].a].kind != ValueKind::kString) {
        return;
      }
    }
    const auto offset = static_cast<std::uint32_t>(p.key_paths.size());
    program_->key_paths.push_back(literal ? list + 1 : 0);
    for (const std::uint32_t key : keys) {
      const std::uint32_t path = intern_path(json(std::string(p.constants[p.nodes[key].a].str())));
      program_->key_paths.push_back(path);
    }
    std::vector<std::uint32_t> fused;
    if (some) fused.push_back(children[0]);
    fused.insert(fused.end(), keys.begin(), keys.end());
    children = std::move(fused);
    op = some ? Op::kMissingSomeKeys : Op::kMissingKeys;
    a = offset;
  }

  // A comparison of a constant "var" path with a constant becomes one node.
  void fuse_comparison(Op& op, std::uint32_t& a, const std::vector<std::uint32_t>& children) const {
    if (!diagnostics_.empty()) return;  // children may be 0, not a node: the rule is discarded
    switch (op) {
      case Op::kEq:
      case Op::kNe:
      case Op::kStrictEq:
      case Op::kStrictNe:
      case Op::kGt:
      case Op::kGe:
      case Op::kLt:
      case Op::kLe:
        break;
      default:
        return;
    }
    if (children.size() != 2) return;
    const Op first = program_->nodes[children[0]].op;
    const Op second = program_->nodes[children[1]].op;
    const auto is_var = [](Op o) { return o == Op::kVarSimple || o == Op::kVarMember; };
    if (is_var(first) && second == Op::kConst) {
      a = static_cast<std::uint32_t>(op);
    } else if (first == Op::kConst && is_var(second)) {
      a = static_cast<std::uint32_t>(op) | kConstFirst;
    } else {
      return;
    }
    op = Op::kCompareVarConst;
  }

  // Interns the constant "var" path `j` (null, a string, a number or a boolean), split at '.'.
  std::uint32_t intern_path(const json& j) {
    std::string text;
    bool whole_data = false;
    if (j.is_null())
      whole_data = true;
    else if (j.is_string())
      text = j.get<std::string>(), whole_data = text.empty();
    else if (j.is_boolean())
      text = j.get<bool>() ? "true" : "false";
    else
      text = js_number_to_string(j.get<double>());
    // Tagged so that no path text can collide with "the whole data".
    const std::string key = whole_data ? std::string("w") : "t" + text;
    if (const auto it = path_index_.find(key); it != path_index_.end()) return it->second;

    VarPath path;
    path.whole_data = whole_data;
    path.first_segment = static_cast<std::uint32_t>(program_->segments.size());
    if (!whole_data) {
      const std::string_view stored = intern(text);
      std::size_t start = 0;
      for (;;) {
        const std::size_t dot = stored.find('.', start);
        const std::string_view segment =
            stored.substr(start, dot == std::string_view::npos ? dot : dot - start);
        program_->segments.push_back(segment);
        program_->segment_hashes.push_back(key_hash(segment));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
    }
    path.segment_count = static_cast<std::uint32_t>(program_->segments.size()) - path.first_segment;
    program_->paths.push_back(path);
    const auto index = static_cast<std::uint32_t>(program_->paths.size() - 1);
    path_index_.emplace(key, index);
    return index;
  }

  std::uint32_t host_index(const std::shared_ptr<const OperatorRegistry::Entry>& entry) {
    auto& hosts = program_->host_operators;
    const auto it = std::find(hosts.begin(), hosts.end(), entry);
    if (it != hosts.end()) return static_cast<std::uint32_t>(it - hosts.begin());
    hosts.push_back(entry);
    return static_cast<std::uint32_t>(hosts.size() - 1);
  }

  const OperatorRegistry* operators_;
  std::shared_ptr<CompiledRule> program_;
  std::vector<Diagnostic> diagnostics_;
  std::map<std::string, std::uint32_t> path_index_;
  bool node_limit_reported_ = false;
};

}  // namespace

RuleCompileResult compile_rule_json(const nlohmann::json& rule, std::string_view base_pointer,
                                    const OperatorRegistry* operators, const RuleLimits& limits) {
  return Compiler(operators, limits).run(rule, base_pointer);
}

}  // namespace salesflow::internal

namespace salesflow {

RuleCompileResult compile_rule(std::string_view json_text, const OperatorRegistry* operators,
                               const RuleLimits& limits) {
  RuleCompileResult result;
  if (json_text.size() > limits.max_rule_bytes) {
    result.diagnostics.push_back(Diagnostic{DiagnosticCode::kLimit, "",
                                            "the rule is " + std::to_string(json_text.size()) +
                                                " bytes long, more than the limit of " +
                                                std::to_string(limits.max_rule_bytes)});
    return result;
  }
  internal::JsonLimits json_limits;
  json_limits.max_document_bytes = limits.max_rule_bytes;
  json_limits.max_depth = std::min(limits.max_depth, kMaxRuleDepth);
  json_limits.max_string_bytes = limits.max_string_bytes;
  json_limits.max_values = limits.max_nodes;
  auto parsed = internal::parse_json(json_text, json_limits);
  if (auto* diagnostic = std::get_if<Diagnostic>(&parsed)) {
    result.diagnostics.push_back(std::move(*diagnostic));
    return result;
  }
  return internal::compile_rule_json(std::get<nlohmann::json>(parsed), "", operators, limits);
}

}  // namespace salesflow
