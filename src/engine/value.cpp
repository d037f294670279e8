#include <cmath>
#include <cstdio>
#include <locale>

#include <date/date.h>

#include "definition/json_document.hpp"
#include "salesflow/value.hpp"

namespace salesflow {

namespace {

// Reads `count` digits at `at`; false when any is not a digit.
bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<Timestamp> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM). The fixed-width fields are read here (this
  // runs once per command line, so no stream parsing); the calendar (month lengths, leap years)
  // is date's.
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !digits(text, 11, 2, hour) || text[13] != ':' ||
      !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year(year), date::month(static_cast<unsigned>(month)),
                                 date::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::size_t at = 19;
  int millis = 0;
  if (text[at] == '.') {
    std::size_t n = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++n) {
      if (n < 3) millis = millis * 10 + (text[at] - '0');
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (; n < 3; ++n) millis *= 10;
  }
  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int oh, om;
    if (!digits(text, at + 1, 2, oh) || !digits(text, at + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (text[at] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  return Timestamp(date::sys_days(ymd)) + hours(hour) + minutes(minute - offset_minutes) +
         seconds(second) + milliseconds(millis);
}

std::string format_timestamp(Timestamp t) {
  // In the classic locale: the text is data (rules compare it, stores keep it), so the decimal
  // point of the milliseconds must not follow a locale the host sets.
  const std::locale& classic = std::locale::classic();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  if (seconds == t) return date::format(classic, "%FT%TZ", seconds);
  return date::format(classic, "%FT%TZ", t);
}

namespace {

std::string list_values(const std::vector<std::string>& values) {
  std::string text;
  for (std::size_t i = 0; i < values.size() && i < 12; ++i) {
    text += (i > 0 ? ", " : "") + internal::quote_text(values[i]);
  }
  if (values.size() > 12) text += ", ...";
  return text;
}

std::optional<std::string> check_bounds(const Field& field, double value) {
  if (!std::isfinite(value)) return "must be a finite number";
  if (field.min && value < *field.min)
    return "is below the minimum " + to_display_string(*field.min);
  if (field.max && value > *field.max)
    return "is above the maximum " + to_display_string(*field.max);
  return std::nullopt;
}

std::optional<std::string> check_length(const Field& field, const std::string& text) {
  if (field.max_length && text.size() > *field.max_length) {
    return "is " + std::to_string(text.size()) + " bytes long; at most " +
           std::to_string(*field.max_length) + " are allowed";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_field_value(const Field& field, const FieldValue& value) {
  if (!is_set(value)) return std::nullopt;
  const auto expected = [&]() -> std::optional<std::string> {
    return "must be " + std::string(field.type == FieldType::kInteger ? "an " : "a ") +
           std::string(to_string(field.type));
  };
  switch (field.type) {
    case FieldType::kString:
      if (const auto* s = std::get_if<std::string>(&value)) return check_length(field, *s);
      return expected();
    case FieldType::kEnum:
      if (const auto* s = std::get_if<std::string>(&value)) {
        for (const auto& v : field.values) {
          if (v == *s) return std::nullopt;
        }
        return "must be one of " + list_values(field.values);
      }
      return expected();
    case FieldType::kNumber:
      if (const auto* d = std::get_if<double>(&value)) return check_bounds(field, *d);
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        return check_bounds(field, static_cast<double>(*i));
      }
      return expected();
    case FieldType::kInteger:
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        // The loader keeps integer bounds within +-2^53, so they convert exactly; the value is
        // compared as an integer, not rounded through double.
        if (field.min && *i < static_cast<std::int64_t>(*field.min)) {
          return "is below the minimum " + to_display_string(*field.min);
        }
        if (field.max && *i > static_cast<std::int64_t>(*field.max)) {
          return "is above the maximum " + to_display_string(*field.max);
        }
        return std::nullopt;
      }
      return expected();
    case FieldType::kBoolean:
      if (std::holds_alternative<bool>(value)) return std::nullopt;
      return expected();
    case FieldType::kTimestamp:
      if (std::holds_alternative<Timestamp>(value)) return std::nullopt;
      return expected();
    case FieldType::kStringList:
      if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
        if (field.max_items && list->size() > *field.max_items) {
          return "has " + std::to_string(list->size()) + " items; at most " +
                 std::to_string(*field.max_items) + " are allowed";
        }
        for (const auto& item : *list) {
          if (auto problem = check_length(field, item)) return "has an item that " + *problem;
        }
        return std::nullopt;
      }
      return expected();
  }
  return expected();
}

std::string to_display_string(const FieldValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "(not set)"; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(double d) const {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.15g", d);
      return buffer;
    }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(Timestamp t) const { return format_timestamp(t); }
    std::string operator()(const std::vector<std::string>& list) const {
      std::string text;
      for (std::size_t i = 0; i < list.size(); ++i) text += (i > 0 ? ", " : "") + list[i];
      return text;
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace salesflow
