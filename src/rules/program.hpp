// The compiled form of a rule: a flat vector of nodes addressed by index, their argument lists,
// constants and interned "var" paths. Built once by the compiler, then only read.
#ifndef SALESFLOW_RULES_PROGRAM_HPP_
#define SALESFLOW_RULES_PROGRAM_HPP_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/value.hpp"
#include "salesflow/rules.hpp"

namespace salesflow::internal {

enum class Op : std::uint8_t {
  kConst,       // a: index into constants
  kArray,       // an array literal whose elements are evaluated: children are the elements
  kVarPath,     // a: path index; optional child: the default
  kVarSimple,   // a: path index of a path that is not the whole data; no default
  kVarMember,   // as kVarSimple for a path of one segment; a: index into segments
  kVarDynamic,  // children: path [, default]
  kMissing,
  kMissingSome,
  kIf,  // also "?:"
  kEq,
  kStrictEq,
  kNe,
  kStrictNe,
  kNot,
  kNotNot,
  kOr,
  kAnd,
  kGt,
  kGe,
  kLt,
  kLe,
  kMax,
  kMin,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kCat,
  kSubstr,
  kIn,
  kMerge,
  kMap,
  kFilter,
  kReduce,
  kAll,
  kSome,
  kNone,
  kHost,  // a: index into host_operators
  // A comparison (==, ===, !=, !==, >, >=, <, <= with two arguments) of a kVarSimple or kVarMember
  // child and a kConst child, evaluated without dispatching on them. a: the comparison's Op, plus
  // kConstFirst when the constant is the first argument; children as the comparison's.
  kCompareVarConst,
  // "missing" and "missing_some" whose keys are constant strings (directly, or in one array
  // literal): the keys' paths are interned at compile time. a: index into key_paths, where the
  // array literal's node index + 1 (0 without one) comes first, then each key's path index.
  // Children: the kConst key nodes, after the number needed for kMissingSomeKeys.
  kMissingKeys,
  kMissingSomeKeys,
};

inline constexpr std::uint32_t kConstFirst = 0x100;

struct Node {
  Op op = Op::kConst;
  std::uint32_t a = 0;
  std::uint32_t first_child = 0;  // into CompiledRule::children
  std::uint32_t child_count = 0;
};

// A "var" path split at '.'; whole_data means the path was absent, "" or null.
struct VarPath {
  std::uint32_t first_segment = 0;  // into CompiledRule::segments
  std::uint32_t segment_count = 0;
  bool whole_data = false;
};

class CompiledRule {
 public:
  RuleLimits limits;
  std::vector<Node> nodes;  // nodes[root] is the rule
  std::uint32_t root = 0;
  std::vector<std::uint32_t> children;
  std::vector<Value> constants;
  std::vector<VarPath> paths;
  std::vector<std::uint32_t> key_paths;  // of kMissingKeys and kMissingSomeKeys nodes
  std::vector<std::string_view> segments;
  std::vector<std::uint64_t> segment_hashes;  // key_hash of each segment (json_tree.hpp)
  std::vector<std::shared_ptr<const OperatorRegistry::Entry>> host_operators;
  std::vector<std::string> node_pointers;  // JSON Pointer of each node, for evaluation errors
  std::deque<std::string> strings;         // storage of constant strings and path segments

  std::span<const std::uint32_t> args(const Node& node) const noexcept {
    return {children.data() + node.first_child, node.child_count};
  }
  std::span<const std::string_view> path_segments(const VarPath& path) const noexcept {
    return {segments.data() + path.first_segment, path.segment_count};
  }
  const std::uint64_t* path_hashes(const VarPath& path) const noexcept {
    return segment_hashes.data() + path.first_segment;
  }
};

// Lets the compiler construct Rule, whose constructor is private.
struct RuleAccess {
  static Rule make(std::shared_ptr<const CompiledRule> program) { return Rule(std::move(program)); }
  static const CompiledRule& program(const Rule& rule) { return *rule.program_; }
  // The tree of a JsonRuleData, or nullptr for any other RuleData.
  static const JsonTree* json_tree(const RuleData& data) noexcept { return data.json_tree_; }
};

// Evaluates a compiled rule; see Rule::evaluate. Defined in evaluate.cpp.
std::variant<Value, RuleError> evaluate_program(const CompiledRule& program, const RuleData& data,
                                                Arena& arena);

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_PROGRAM_HPP_
