// The JSON text helpers every hand-written JSON writer and every message uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>

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

// An endless stream of 'z' (as /dev/zero is of NULs), counting what was asked of it; or one
// that fails after `fail_after` bytes.
class EndlessBuffer : public std::streambuf {
 public:
  explicit EndlessBuffer(std::size_t fail_after = SIZE_MAX) : fail_after_(fail_after) {}
  std::size_t served() const { return served_; }

 protected:
  int_type underflow() override {
    if (served_ >= fail_after_) throw std::runtime_error("device error");  // istream: badbit
    const std::size_t n = std::min(sizeof block_, fail_after_ - served_);
    std::fill_n(block_, n, 'z');
    served_ += n;
    setg(block_, block_, block_ + n);
    return traits_type::to_int_type(block_[0]);
  }

 private:
  char block_[4096];
  std::size_t served_ = 0;
  std::size_t fail_after_;
};

TEST(ReadBounded, ReadsAStreamWholeAndReplacesWhatTheTextHeld) {
  const std::string content(200'000, 'q');
  std::istringstream in(content + "end");
  std::string text = "left over";
  ASSERT_TRUE(read_bounded(in, content.size() + 3, text));
  EXPECT_EQ(text, content + "end");
  std::istringstream empty("");
  ASSERT_TRUE(read_bounded(empty, 10, text));
  EXPECT_EQ(text, "");
}

TEST(ReadBounded, StopsSoonAfterTheLimitOfAnEndlessStream) {
  EndlessBuffer endless;
  std::istream in(&endless);
  std::string text;
  ASSERT_TRUE(read_bounded(in, 1'000'000, text));
  EXPECT_GT(text.size(), 1'000'000u);  // the caller can tell: over the limit
  EXPECT_LE(endless.served(), 1'000'000u + 128 * 1024);
  EXPECT_EQ(text.find_first_not_of('z'), std::string::npos);
}

TEST(ReadBounded, AFailingStreamIsReportedNotTakenForItsEnd) {
  EndlessBuffer failing(10'000);
  std::istream in(&failing);
  std::string text;
  EXPECT_FALSE(read_bounded(in, 1'000'000, text));
}

// parse_json_any() answers as parse_json() does, whichever reader read the text.
TEST(ParseJsonAny, ReadsWithSimdjsonAndWithNlohmannWhatSimdjsonCannot) {
  simdjson::dom::parser parser;
  const JsonLimits limits;
  auto fast = parse_json_any(R"({"a": [1, "x"]})", limits, parser);
  ASSERT_TRUE(std::holds_alternative<simdjson::dom::element>(fast));
  EXPECT_EQ(simdjson::minify(std::get<simdjson::dom::element>(fast)), R"({"a":[1,"x"]})");

  auto slow = parse_json_any(R"({"a": 100000000000000000000})", limits, parser);
  ASSERT_TRUE(std::holds_alternative<nlohmann::json>(slow));
  EXPECT_EQ(std::get<nlohmann::json>(slow)["a"].get<double>(), 1e20);

  auto bad = parse_json_any(R"({"a": 1,})", limits, parser);
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(bad));
  EXPECT_EQ(std::get<Diagnostic>(bad).code, DiagnosticCode::kSyntax);
  // The fast reader refuses such a document, with what to write instead.
  auto refused = parse_json_fast(R"({"a": 100000000000000000000})", limits, parser);
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(refused));
  EXPECT_NE(std::get<Diagnostic>(refused).message.find("integer beyond 64 bits"),
            std::string::npos);
}

// simdjson does not count an empty array or object towards its depth limit: the tape's check
// does, as nlohmann's reader does.
TEST(ParseJsonAny, AnEmptyContainerPastTheDepthLimitIsRefusedAsNlohmannRefusesIt) {
  const JsonLimits limits{.max_depth = 4};
  simdjson::dom::parser parser;
  for (const std::string text : {"[[[[]]]]", "[[[{}]]]", "{\"a\":[[[]]]}"}) {
    auto ok = parse_json_any(text, limits, parser);
    EXPECT_FALSE(std::holds_alternative<Diagnostic>(ok)) << text;
  }
  for (const std::string text : {"[[[[[]]]]]", "[[[[{}]]]]", "{\"a\":[[[{}]]]}"}) {
    auto any = parse_json_any(text, limits, parser);
    auto fast = parse_json_fast(text, limits, parser);
    auto slow = parse_json(text, limits);
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(any)) << text;
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(fast)) << text;
    ASSERT_TRUE(std::holds_alternative<Diagnostic>(slow)) << text;
    EXPECT_EQ(std::get<Diagnostic>(any), std::get<Diagnostic>(slow)) << text;
    EXPECT_EQ(std::get<Diagnostic>(fast), std::get<Diagnostic>(slow)) << text;
    EXPECT_EQ(std::get<Diagnostic>(any).code, DiagnosticCode::kLimit) << text;
  }
}

// The first problem in document order, as parse_json() finds it: here too many values inside
// the first of two equal keys.
TEST(ParseJsonAny, ReportsTheFirstProblemInDocumentOrder) {
  const JsonLimits limits{.max_values = 10};
  simdjson::dom::parser parser;
  const std::string text = R"({"k": [0,0,0,0,0,0,0,0,0,0,0,0], "k": 1})";
  auto any = parse_json_any(text, limits, parser);
  auto slow = parse_json(text, limits);
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(any));
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(slow));
  EXPECT_EQ(std::get<Diagnostic>(any), std::get<Diagnostic>(slow));
  EXPECT_EQ(std::get<Diagnostic>(any).code, DiagnosticCode::kLimit);
}

}  // namespace
}  // namespace salesflow::internal
