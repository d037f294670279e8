// The JSON text helpers every hand-written JSON writer and every message uses.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "definition/json_document.hpp"

namespace salesflow::internal {
namespace {

std::string as_json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonText, EscapesWhatJsonRequiresAndKeepsUtf8) {
  EXPECT_EQ(as_json("plain"), "\"plain\"");
  EXPECT_EQ(as_json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(as_json("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(as_json(std::string("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(as_json("Stra\xC3\x9F"
                    "e \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"Stra\xC3\x9F"
            "e \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonText, ReplacesInvalidUtf8SoTheOutputAlwaysParses) {
  for (const std::string bad : {"\xff", "a\xc3", "\xe2\x82x", "\x80\x80", "ok\xf0\x9f\x98"}) {
    const std::string out = as_json(bad);
    EXPECT_TRUE(nlohmann::json::accept(out)) << out;
    EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos) << out;
  }
}

TEST(JsonText, RoundTripsThroughAParser) {
  const std::string text = "line1\nline2 \"quoted\" \\ tab\t end \xC3\xA9";
  EXPECT_EQ(nlohmann::json::parse(as_json(text)).get<std::string>(), text);
}

TEST(JsonText, QuoteTextShortensLongTextWithoutSplittingCharacters) {
  const std::string long_text(100, 'x');
  EXPECT_EQ(quote_text(long_text, 10), "\"xxxxxxxxxx...\"");
  // 'é' is two bytes: a cut through it drops the whole character.
  EXPECT_EQ(quote_text("abc\xC3\xA9", 4), "\"abc...\"");
  EXPECT_EQ(quote_text("\xff"), "\"\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace salesflow::internal
