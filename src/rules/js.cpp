#include "rules/js.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>

namespace salesflow::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The byte length of the JavaScript white space or line terminator that starts `s` (ECMA-262
// WhiteSpace and LineTerminator, in UTF-8), or 0.
std::size_t white_space_at(std::string_view s) {
  if (s.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 == ' ' || (b0 >= 0x09 && b0 <= 0x0D)) return 1;
  auto starts = [&](std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; };
  if (starts("\xC2\xA0")) return 2;                        // U+00A0
  if (starts("\xE1\x9A\x80") || starts("\xE2\x80\xAF") ||  // U+1680, U+202F
      starts("\xE2\x81\x9F") || starts("\xE3\x80\x80") ||  // U+205F, U+3000
      starts("\xEF\xBB\xBF") || starts("\xE2\x80\xA8") ||  // U+FEFF, U+2028
      starts("\xE2\x80\xA9")) {                            // U+2029
    return 3;
  }
  if (s.size() >= 3 && b0 == 0xE2 && static_cast<unsigned char>(s[1]) == 0x80) {
    const auto b2 = static_cast<unsigned char>(s[2]);
    if (b2 >= 0x80 && b2 <= 0x8A) return 3;  // U+2000..U+200A
  }
  return 0;
}

std::string_view trim_start(std::string_view s) {
  while (std::size_t n = white_space_at(s)) s.remove_prefix(n);
  return s;
}

// The byte length of white space ending `s`: scans from the start, since UTF-8 white space
// cannot be recognised from its last byte alone.
std::string_view trim(std::string_view s) {
  s = trim_start(s);
  std::size_t keep = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (std::size_t n = white_space_at(s.substr(i))) {
      i += n;
    } else {
      ++i;
      keep = i;
    }
  }
  return s.substr(0, keep);
}

// A decimal exponent with optional sign; saturates instead of overflowing.
long parse_exponent(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  long value = 0;
  for (char c : s) {
    if (!is_digit(c)) break;
    value = std::min(value * 10 + (c - '0'), 1'000'000'000L);
  }
  return negative ? -value : value;
}

// The length of the longest prefix of `s` that is a StrDecimalLiteral (optional sign, then
// "Infinity" or digits with optional fraction and exponent), or 0.
std::size_t scan_decimal(std::string_view s, bool& infinity) {
  infinity = false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (s.substr(i, 8) == "Infinity") {
    infinity = true;
    return i + 8;
  }
  std::size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  std::size_t end = i;
  if (i < s.size() && s[i] == '.') {
    std::size_t j = i + 1;
    while (j < s.size() && is_digit(s[j])) ++j, ++frac_digits;
    if (int_digits + frac_digits > 0) end = j;
  }
  if (int_digits + frac_digits == 0) return 0;
  i = end;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    const std::size_t digits_start = j;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j > digits_start) end = j;
  }
  return end;
}

// Converts a complete StrDecimalLiteral (as scan_decimal accepted it) to the nearest double.
double decimal_value(std::string_view literal, bool infinity) {
  const bool negative = !literal.empty() && literal[0] == '-';
  if (!literal.empty() && (literal[0] == '+' || literal[0] == '-')) literal.remove_prefix(1);
  if (infinity) return negative ? -kInfinity : kInfinity;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: the decimal exponent of the first significant digit decides.
    long int_digits = 0;
    long leading_zeros = 0;
    bool seen_point = false;
    bool significant = false;
    std::size_t i = 0;
    for (; i < literal.size() && literal[i] != 'e' && literal[i] != 'E'; ++i) {
      if (literal[i] == '.') {
        seen_point = true;
        continue;
      }
      if (!seen_point) ++int_digits;
      if (literal[i] != '0') significant = true;
      if (!significant) ++leading_zeros;
    }
    const long exponent = i < literal.size() ? parse_exponent(literal.substr(i + 1)) : 0;
    value = (int_digits - leading_zeros + exponent > 0) ? kInfinity : 0.0;
  }
  return negative ? -value : value;
}

// The value of the digits of a 0x, 0o or 0b literal; bits_per_digit 4, 3 or 1. NaN if a digit
// is out of range or there is none.
double radix_value(std::string_view digits, int bits_per_digit) {
  if (digits.empty()) return kNaN;
  std::string bits;
  for (char c : digits) {
    int d = -1;
    if (is_digit(c))
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    if (d < 0 || d >= (1 << bits_per_digit)) return kNaN;
    for (int b = bits_per_digit - 1; b >= 0; --b) bits.push_back(((d >> b) & 1) ? '1' : '0');
  }
  // Re-group the bits as hexadecimal, which from_chars converts with correct rounding.
  std::string hex;
  const std::size_t lead = bits.size() % 4;
  std::size_t i = 0;
  auto push_group = [&](std::size_t n) {
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) v = v * 2 + (bits[i++] - '0');
    hex.push_back("0123456789abcdef"[v]);
  };
  if (lead != 0) push_group(lead);
  while (i < bits.size()) push_group(4);
  double value = 0;
  const auto [ptr, ec] =
      std::from_chars(hex.data(), hex.data() + hex.size(), value, std::chars_format::hex);
  if (ec == std::errc::result_out_of_range) return kInfinity;
  return value;
}

// Decodes one code point of UTF-8 at s[i], advancing i; invalid bytes decode as U+FFFD.
char32_t decode(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0)
    extra = 1, cp = b0 & 0x1F;
  else if ((b0 & 0xF0) == 0xE0)
    extra = 2, cp = b0 & 0x0F;
  else if ((b0 & 0xF8) == 0xF0)
    extra = 3, cp = b0 & 0x07;
  else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<std::size_t>(extra) >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

void encode(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Yields the UTF-16 code units of UTF-8 text one at a time.
class Utf16Units {
 public:
  explicit Utf16Units(std::string_view s) : s_(s) {}
  bool next(char16_t& unit) {
    if (pending_ != 0) {
      unit = pending_;
      pending_ = 0;
      return true;
    }
    if (i_ >= s_.size()) return false;
    const char32_t cp = decode(s_, i_);
    if (cp >= 0x10000) {
      unit = static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      pending_ = static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit = static_cast<char16_t>(cp);
    }
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  char16_t pending_ = 0;
};

}  // namespace

void append_js_number(std::string& out, double x) {
  if (std::isnan(x)) {
    out += "NaN";
    return;
  }
  if (x == 0) {
    out += '0';
    return;
  }
  if (std::isinf(x)) {
    out += x < 0 ? "-Infinity" : "Infinity";
    return;
  }
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(result.ptr - buf));
  // sci is "[-]d[.ddd]e[+-]xx": split into digits and the exponent n of 0.d1d2... x 10^n.
  std::size_t i = 0;
  if (sci[0] == '-') {
    out += '-';
    i = 1;
  }
  std::string digits;
  for (; sci[i] != 'e'; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const long n = parse_exponent(sci.substr(i + 1)) + 1;
  const long k = static_cast<long>(digits.size());
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += (n - 1 >= 0) ? '+' : '-';
    out += std::to_string(n - 1 >= 0 ? n - 1 : 1 - n);
  }
}

std::string js_number_to_string(double x) {
  std::string out;
  append_js_number(out, x);
  return out;
}

double js_string_to_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return 0;
  if (s.size() > 2 && s[0] == '0') {
    const char p = s[1];
    if (p == 'x' || p == 'X') return radix_value(s.substr(2), 4);
    if (p == 'o' || p == 'O') return radix_value(s.substr(2), 3);
    if (p == 'b' || p == 'B') return radix_value(s.substr(2), 1);
  }
  bool infinity = false;
  const std::size_t n = scan_decimal(s, infinity);
  if (n == 0 || n != s.size()) return kNaN;
  return decimal_value(s, infinity);
}

double js_parse_float(std::string_view s) {
  s = trim_start(s);
  bool infinity = false;
  const std::size_t n = scan_decimal(s, infinity);
  if (n == 0) return kNaN;
  return decimal_value(s.substr(0, n), infinity);
}

double js_to_integer(double x) {
  if (std::isnan(x)) return 0;
  return std::trunc(x) + 0.0;  // + 0.0 turns -0 into +0
}

std::size_t utf16_length(std::string_view s) {
  std::size_t units = 0;
  std::size_t i = 0;
  while (i < s.size()) units += decode(s, i) >= 0x10000 ? 2 : 1;
  return units;
}

int utf16_compare(std::string_view a, std::string_view b) {
  if (is_ascii(a) || is_ascii(b)) {
    // Below U+0080 UTF-8 bytes and UTF-16 units order alike, and any non-ASCII unit is larger.
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  Utf16Units ua(a), ub(b);
  for (;;) {
    char16_t x = 0, y = 0;
    const bool has_x = ua.next(x);
    const bool has_y = ub.next(y);
    if (!has_x || !has_y) return has_x ? 1 : (has_y ? -1 : 0);
    if (x != y) return x < y ? -1 : 1;
  }
}

std::string utf16_slice(std::string_view s, std::size_t begin, std::size_t end) {
  if (begin >= end) return {};
  if (is_ascii(s)) {
    begin = std::min(begin, s.size());
    end = std::min(end, s.size());
    return std::string(s.substr(begin, end - begin));
  }
  std::string out;
  std::size_t unit = 0;
  std::size_t i = 0;
  while (i < s.size() && unit < end) {
    const std::size_t start = i;
    const char32_t cp = decode(s, i);
    const std::size_t width = cp >= 0x10000 ? 2 : 1;
    const std::size_t first = unit, last = unit + width;  // units [first, last)
    if (last > begin) {
      if (first >= begin && last <= end) {
        if (cp == 0xFFFD && i - start != 3)
          encode(out, cp);  // an invalid byte
        else
          out.append(s.substr(start, i - start));
      } else {
        encode(out, 0xFFFD);  // half of a surrogate pair
      }
    }
    unit = last;
  }
  return out;
}

std::string_view utf16_unit_at(std::string_view s, std::size_t index) {
  if (is_ascii(s)) return s.substr(index, 1);
  std::size_t unit = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    const char32_t cp = decode(s, i);
    const std::size_t width = cp >= 0x10000 ? 2 : 1;
    if (index < unit + width) {
      if (width == 2 || (cp == 0xFFFD && i - start != 3)) return "\xEF\xBF\xBD";
      return s.substr(start, i - start);
    }
    unit += width;
  }
  return {};
}

std::string js_substr(std::string_view s, double start, bool has_length, double length) {
  const double size = static_cast<double>(utf16_length(s));
  double int_start = js_to_integer(start);
  if (int_start < 0) int_start = std::max(size + int_start, 0.0);
  int_start = std::min(int_start, size);
  const double int_length = has_length ? js_to_integer(length) : size;
  const double int_end = std::min(int_start + std::clamp(int_length, 0.0, size), size);
  if (int_end <= int_start) return {};
  return utf16_slice(s, static_cast<std::size_t>(int_start), static_cast<std::size_t>(int_end));
}

}  // namespace salesflow::internal
