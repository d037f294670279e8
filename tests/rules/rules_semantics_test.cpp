// The language's semantics where JsonLogic inherits JavaScript's: coercions, number formatting,
// identity of arrays, UTF-16 strings. Expected values are what json-logic-js 2.0.5 returns.
#include <cmath>

#include <gtest/gtest.h>

#include "rules/js.hpp"
#include "rules_test_support.hpp"

namespace salesflow {
namespace {

using testing::eval;

TEST(RulesNumbers, PrintAsJavaScriptPrintsThem) {
  EXPECT_EQ(internal::js_number_to_string(1.0), "1");
  EXPECT_EQ(internal::js_number_to_string(-0.0), "0");
  EXPECT_EQ(internal::js_number_to_string(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(internal::js_number_to_string(1e21), "1e+21");
  EXPECT_EQ(internal::js_number_to_string(1e20), "100000000000000000000");
  EXPECT_EQ(internal::js_number_to_string(1.5e-7), "1.5e-7");
  EXPECT_EQ(internal::js_number_to_string(0.000001), "0.000001");
  EXPECT_EQ(internal::js_number_to_string(123.456), "123.456");
  EXPECT_EQ(internal::js_number_to_string(-2.5e300), "-2.5e+300");
  EXPECT_EQ(internal::js_number_to_string(5e-324), "5e-324");
  EXPECT_EQ(internal::js_number_to_string(std::nan("")), "NaN");
  EXPECT_EQ(internal::js_number_to_string(-INFINITY), "-Infinity");
}

TEST(RulesNumbers, ResultsAreJsonLikeJsonStringify) {
  EXPECT_EQ(eval(R"({"+":[0.1,0.2]})"), "0.30000000000000004");
  EXPECT_EQ(eval(R"({"*":[2,0.5]})"), "1");
  EXPECT_EQ(eval(R"({"/":[1,0]})"), "null");  // Infinity is not JSON
  EXPECT_EQ(eval(R"({"cat":[1.0, " ", 1e21]})"), R"("1 1e+21")");
}

TEST(RulesNumbers, StringsConvertWithToNumber) {
  using internal::js_string_to_number;
  EXPECT_EQ(js_string_to_number(""), 0);
  EXPECT_EQ(js_string_to_number(" \t12\n"), 12);
  EXPECT_EQ(js_string_to_number("0x1f"), 31);
  EXPECT_EQ(js_string_to_number("0b11"), 3);
  EXPECT_EQ(js_string_to_number("0o17"), 15);
  EXPECT_EQ(js_string_to_number("1e3"), 1000);
  EXPECT_EQ(js_string_to_number(".5"), 0.5);
  EXPECT_EQ(js_string_to_number("5."), 5);
  EXPECT_EQ(js_string_to_number("-Infinity"), -INFINITY);
  EXPECT_EQ(js_string_to_number("1e400"), INFINITY);
  EXPECT_TRUE(std::isnan(js_string_to_number("3 apples")));
  EXPECT_TRUE(std::isnan(js_string_to_number("-0x1")));
  EXPECT_TRUE(std::isnan(js_string_to_number("1_000")));
  EXPECT_TRUE(std::isnan(js_string_to_number("inf")));
}

TEST(RulesNumbers, PlusAndTimesUseParseFloat) {
  EXPECT_EQ(eval(R"({"+":["3 apples", 1]})"), "4");
  EXPECT_EQ(eval(R"({"+":[true, 1]})"), "null");  // parseFloat("true") is NaN
  EXPECT_EQ(eval(R"({"-":[true, 1]})"), "0");     // but ToNumber(true) is 1
  EXPECT_EQ(eval(R"({"*":["2"]})"), R"("2")");    // a lone argument is returned unchanged
  EXPECT_EQ(eval(R"({"+":["2"]})"), "2");
  EXPECT_EQ(eval(R"({"%":[-7, 2]})"), "-1");
  EXPECT_EQ(eval(R"({"-":[[5]]})"), "-5");
}

TEST(RulesNumbers, MinAndMaxCoerceEveryArgument) {
  EXPECT_EQ(eval(R"({"max":[1, "3", 2]})"), "3");
  EXPECT_EQ(eval(R"({"min":[1, "x"]})"), "null");  // NaN
  EXPECT_EQ(eval(R"({"min":[null, [2]]})"), "0");
}

TEST(RulesEquality, LooseEqualityCoercesLikeJavaScript) {
  EXPECT_EQ(eval(R"({"==":[1, "1"]})"), "true");
  EXPECT_EQ(eval(R"({"==":[null, 0]})"), "false");
  EXPECT_EQ(eval(R"({"==":[[1], 1]})"), "true");
  EXPECT_EQ(eval(R"({"==":[[], ""]})"), "true");
  EXPECT_EQ(eval(R"({"==":[true, "1"]})"), "true");
  EXPECT_EQ(eval(R"({"==":[[1, 2], "1,2"]})"), "true");
  EXPECT_EQ(eval(R"({"==":[{"var":"o"}, "[object Object]"]})", R"({"o":{}})"), "true");
  EXPECT_EQ(eval(R"({"===":[1, "1"]})"), "false");
}

TEST(RulesEquality, ArraysAndObjectsCompareByIdentity) {
  EXPECT_EQ(eval(R"({"==":[[1], [1]]})"), "false");
  EXPECT_EQ(eval(R"({"===":[{"var":"a"}, {"var":"a"}]})", R"({"a":[1]})"), "true");
  EXPECT_EQ(eval(R"({"in":[{"var":"a.0"}, {"var":"a"}]})", R"({"a":[{"x":1}]})"), "true");
  EXPECT_EQ(eval(R"({"in":[[1], [[1]]]})"), "false");
}

TEST(RulesTruthiness, EmptyArraysAreFalsyAndStringZeroIsTruthy) {
  EXPECT_EQ(eval(R"({"!!":[[]]})"), "false");
  EXPECT_EQ(eval(R"({"!!":[[0]]})"), "true");
  EXPECT_EQ(eval(R"({"!!":["0"]})"), "true");
  EXPECT_EQ(eval(R"({"!!":[{"var":"o"}]})", R"({"o":{}})"), "true");
  EXPECT_EQ(eval(R"({"!":[{"var":"e"}]})", R"({"e":[]})"), "true");
}

TEST(RulesComparison, StringsCompareByUtf16CodeUnits) {
  EXPECT_EQ(eval(R"({"<":["a", "b"]})"), "true");
  EXPECT_EQ(eval(R"({"<":["10", "9"]})"), "true");  // both strings: no numbers involved
  EXPECT_EQ(eval(R"({"<":["10", 9]})"), "false");
  // U+E000 sorts after the surrogates of U+1F600 in UTF-16, before it by code point.
  EXPECT_EQ(eval("{\"<\":[\"\xF0\x9F\x98\x80\", \"\xEE\x80\x80\"]}"), "true");
}

TEST(RulesComparison, BetweenFormsEvaluateBothComparisons) {
  EXPECT_EQ(eval(R"({"<":[1, 2, 3]})"), "true");
  EXPECT_EQ(eval(R"({"<":[1, 3, 3]})"), "false");
  EXPECT_EQ(eval(R"({"<=":[1, 3, 3]})"), "true");
  EXPECT_EQ(eval(R"({">=":["b", "a"]})"), "true");
  EXPECT_EQ(eval(R"({">":[null, -1]})"), "true");
  EXPECT_EQ(eval(R"({">=":["x", 1]})"), "false");  // NaN compares false either way
  EXPECT_EQ(eval(R"({"<":["x", 1]})"), "false");
}

TEST(RulesStrings, CatJoinsLikeArrayJoin) {
  EXPECT_EQ(eval(R"({"cat":["a", null, [1, [2, null]], true]})"), R"("a1,2,true")");
  EXPECT_EQ(eval(R"({"cat":[]})"), R"("")");
}

TEST(RulesStrings, SubstrCountsUtf16CodeUnitsAndTakesNegativeLengths) {
  EXPECT_EQ(eval(R"({"substr":["jsonlogic", -5]})"), R"("logic")");
  EXPECT_EQ(eval(R"({"substr":["jsonlogic", 1, -1]})"), R"("sonlogi")");
  EXPECT_EQ(eval(R"({"substr":["jsonlogic", 4, "-1"]})"), R"("")");  // "5" + "-1" is NaN
  EXPECT_EQ(eval("{\"substr\":[\"\xE6\x97\xA5\xE6\x9C\xAC\", 1, 1]}"), "\"\xE6\x9C\xAC\"");
  EXPECT_EQ(eval("{\"substr\":[\"x\xF0\x9F\x98\x80y\", 1, 2]}"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(eval(R"({"substr":[12345, 1, 2]})"), R"("23")");
}

TEST(RulesStrings, InSearchesStringsForTheNeedlesText) {
  EXPECT_EQ(eval(R"({"in":["Spring", "Springfield"]})"), "true");
  EXPECT_EQ(eval(R"({"in":[1, "a1"]})"), "true");
  EXPECT_EQ(eval(R"({"in":["", ""]})"), "false");    // an empty haystack is falsy
  EXPECT_EQ(eval(R"({"in":["1", [1]]})"), "false");  // arrays compare strictly
  EXPECT_EQ(eval(R"({"in":["a", {"var":"o"}]})", R"({"o":{"a":1}})"), "false");
}

TEST(RulesArrays, MergeFlattensOneLevel) {
  EXPECT_EQ(eval(R"({"merge":[1, [2, [3]], []]})"), "[1,2,[3]]");
  EXPECT_EQ(eval(R"({"merge":[]})"), "[]");
}

TEST(RulesArrays, IterationOperatorsScopeDataToTheElement) {
  const char* data = R"({"xs":[1,2,3,4], "people":[{"age":20},{"age":15}]})";
  EXPECT_EQ(eval(R"({"map":[{"var":"xs"}, {"*":[{"var":""}, 2]}]})", data), "[2,4,6,8]");
  EXPECT_EQ(eval(R"({"filter":[{"var":"xs"}, {"%":[{"var":""}, 2]}]})", data), "[1,3]");
  EXPECT_EQ(eval(R"({"all":[{"var":"people"}, {">=":[{"var":"age"}, 18]}]})", data), "false");
  EXPECT_EQ(eval(R"({"some":[{"var":"people"}, {">=":[{"var":"age"}, 18]}]})", data), "true");
  EXPECT_EQ(eval(R"({"none":[{"var":"people"}, {">":[{"var":"age"}, 30]}]})", data), "true");
  EXPECT_EQ(
      eval(R"({"reduce":[{"var":"xs"}, {"+":[{"var":"current"}, {"var":"accumulator"}]}, 0]})",
           data),
      "10");
}

TEST(RulesArrays, EmptyAndNonArrayInputsFollowJsonLogic) {
  EXPECT_EQ(eval(R"({"all":[[], true]})"), "false");
  EXPECT_EQ(eval(R"({"some":[[], true]})"), "false");
  EXPECT_EQ(eval(R"({"none":[[], true]})"), "true");
  EXPECT_EQ(eval(R"({"map":["abc", 1]})"), "[]");
  EXPECT_EQ(eval(R"({"reduce":[5, 1, "initial"]})"), R"("initial")");
  EXPECT_EQ(eval(R"({"reduce":[[1], 1]})"), "1");
}

TEST(RulesArrays, ReduceBodyCanReturnItsFrame) {
  EXPECT_EQ(eval(R"({"reduce":[[1], {"var":""}, 0]})"), R"({"current":1,"accumulator":0})");
}

TEST(RulesVar, ReadsDottedPathsIndicesAndDefaults) {
  const char* data = R"({"a":{"b":[10,20]}, "s":"日本", "n":null})";
  EXPECT_EQ(eval(R"({"var":"a.b.1"})", data), "20");
  EXPECT_EQ(eval(R"({"var":"a.b.01"})", data), "null");  // not a canonical index
  EXPECT_EQ(eval(R"({"var":"a.b.length"})", data), "2");
  EXPECT_EQ(eval(R"({"var":"s.length"})", data), "2");
  EXPECT_EQ(eval(R"({"var":"s.1"})", data), "\"\xE6\x9C\xAC\"");
  EXPECT_EQ(eval(R"({"var":["a.x", "fallback"]})", data), R"("fallback")");
  EXPECT_EQ(eval(R"({"var":["n", "fallback"]})", data), "null");  // present, though null
  EXPECT_EQ(eval(R"({"var":["n.x", "fallback"]})", data), R"("fallback")");
  EXPECT_EQ(eval(R"({"var":""})", R"([1,2])"), "[1,2]");
  EXPECT_EQ(eval(R"({"var":1})", R"(["x","y"])"), R"("y")");
  EXPECT_EQ(eval(R"({"var":{"cat":["a", ".b"]}})", data), "[10,20]");
}

TEST(RulesMissing, ListsKeysThatAreNullOrEmpty) {
  const char* data = R"({"a":1, "b":"", "c":null})";
  EXPECT_EQ(eval(R"({"missing":["a", "b", "c", "d"]})", data), R"(["b","c","d"])");
  EXPECT_EQ(eval(R"({"missing":[["a", "d"], "b"]})", data), R"(["d"])");  // first array wins
  EXPECT_EQ(eval(R"({"missing_some":[1, ["a", "d"]]})", data), "[]");
  EXPECT_EQ(eval(R"({"missing_some":[2, ["a", "d"]]})", data), R"(["d"])");
}

TEST(RulesControl, IfTakesElseIfChainsAndDefaultsToNull) {
  EXPECT_EQ(eval(R"({"if":[false, 1, true, 2, 3]})"), "2");
  EXPECT_EQ(eval(R"({"if":[false, 1, false, 2, 3]})"), "3");
  EXPECT_EQ(eval(R"({"if":[false, 1]})"), "null");
  EXPECT_EQ(eval(R"({"?:":[[], 1, 2]})"), "2");
  EXPECT_EQ(eval(R"({"and":[1, "", 2]})"), R"("")");
  EXPECT_EQ(eval(R"({"or":[0, [], "x"]})"), R"("x")");
}

}  // namespace
}  // namespace salesflow
