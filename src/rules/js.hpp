// The parts of JavaScript's semantics that JsonLogic inherits and that have nothing to do with
// rules: number <-> string conversions and UTF-16 string indexing over UTF-8 text.
#ifndef SALESFLOW_RULES_JS_HPP_
#define SALESFLOW_RULES_JS_HPP_

#include <cstddef>
#include <string>
#include <string_view>

namespace salesflow::internal {

// Appends Number::toString(x) (ECMA-262 6.1.6.1.20): shortest round-trip digits, "1e+21",
// "1e-7", "0" for -0, "NaN", "Infinity".
void append_js_number(std::string& out, double x);
std::string js_number_to_string(double x);

// ToNumber applied to a string (StringToNumber): surrounding white space ignored, "" is 0,
// 0x/0o/0b prefixes, "Infinity"; anything else that is not a whole decimal literal is NaN.
double js_string_to_number(std::string_view s);

// parseFloat(s): the longest decimal-literal prefix after leading white space, else NaN.
double js_parse_float(std::string_view s);

// ToIntegerOrInfinity for a number: NaN is 0, otherwise truncated toward zero.
double js_to_integer(double x);

// Length of valid UTF-8 text in UTF-16 code units (what JavaScript's .length counts).
std::size_t utf16_length(std::string_view s);

// <0, 0, >0 as JavaScript orders strings: by UTF-16 code units.
int utf16_compare(std::string_view a, std::string_view b);

// The code units [begin, end) of `s` (indices in UTF-16 code units, clamped), as UTF-8. A
// surrogate pair cut in half becomes U+FFFD.
std::string utf16_slice(std::string_view s, std::size_t begin, std::size_t end);

// The code unit at `index` (< utf16_length(s)) as UTF-8: the bytes of its character, or U+FFFD
// when it is half of a surrogate pair.
std::string_view utf16_unit_at(std::string_view s, std::size_t index);

// String.prototype.substr(start, length) of JavaScript, with `start` and `length` already
// converted ToNumber; without has_length the length is absent (to the end).
std::string js_substr(std::string_view s, double start, bool has_length, double length);

}  // namespace salesflow::internal

#endif  // SALESFLOW_RULES_JS_HPP_
