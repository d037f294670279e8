// Hostile and broken input: every case must end in diagnostics, never a crash or a hang.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "salesflow/engine.hpp"
#include "salesflow/hooks.hpp"
#include "support/definition_test_util.hpp"

namespace salesflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;
using json = nlohmann::json;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string& b2b_text() {
  static const std::string text =
      read_file(std::filesystem::path(SALESFLOW_SOURCE_DIR) / "examples/b2b_pipeline.json");
  return text;
}

// The only diagnostic of loading `text`.
Diagnostic single_diagnostic(std::string_view text, const LoadLimits& limits = {}) {
  const LoadResult result = load_definition(text, limits);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.diagnostics, SizeIs(1));
  return result.diagnostics.empty() ? Diagnostic{} : result.diagnostics[0];
}

TEST(HostileInput, ATenMegabyteStringIsRefusedWhereItStands) {
  json doc = minimal_json();
  doc["stages"][0]["guidance"] = std::string(10 << 20, 'x');
  LoadLimits limits;
  limits.max_document_bytes = 16 << 20;  // let the string itself, not the document, hit a limit
  EXPECT_THAT(single_diagnostic(doc.dump(), limits),
              IsDiagnostic(DiagnosticCode::kLimit, "/stages/0/guidance"));
}

TEST(HostileInput, ATenMegabyteDocumentIsRefusedByDefault) {
  json doc = minimal_json();
  doc["stages"][0]["guidance"] = std::string(10 << 20, 'x');
  EXPECT_THAT(single_diagnostic(doc.dump()), IsDiagnostic(DiagnosticCode::kLimit, ""));
}

TEST(HostileInput, ATenMegabyteKeyIsRefused) {
  LoadLimits limits;
  limits.max_document_bytes = 16 << 20;
  const std::string text = "{\"" + std::string(10 << 20, 'k') + "\": 1}";
  EXPECT_EQ(single_diagnostic(text, limits).code, DiagnosticCode::kLimit);
}

TEST(HostileInput, NestingOneHundredThousandDeepIsRefusedWithoutRecursion) {
  const std::size_t depth = 100'000;
  const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_EQ(single_diagnostic(arrays).code, DiagnosticCode::kLimit);
  std::string objects;
  for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  const Diagnostic d = single_diagnostic(objects);
  EXPECT_EQ(d.code, DiagnosticCode::kLimit);
  EXPECT_TRUE(d.pointer.starts_with("/a/a/a/")) << "the pointer shows where the limit was hit";
  // Unbalanced: opened and never closed.
  EXPECT_EQ(single_diagnostic(std::string(depth, '[')).code, DiagnosticCode::kLimit);
}

TEST(HostileInput, NestingInsideAValidDefinitionIsRefusedAtItsPointer) {
  json doc = minimal_json();
  std::string deep = std::string(100, '[') + std::string(100, ']');
  std::string text = doc.dump();
  text.insert(text.size() - 1, ",\"x-deep\":" + deep);
  EXPECT_TRUE(single_diagnostic(text).pointer.starts_with("/x-deep/0/0/"));
}

TEST(HostileInput, OneHundredThousandStagesAreRefused) {
  // Realistic stages: the document is far over the size limit and is refused before parsing.
  EXPECT_EQ(single_diagnostic(generate_definition(100'000)).code, DiagnosticCode::kLimit);
  // Small stages that fit in the document: refused by the stage limit, before any is compiled.
  std::string text = minimal_definition();
  std::string many = "\"stages\": [";
  for (int i = 0; i < 100'000; ++i) many += "{},";
  text.replace(text.find("\"stages\": ["), 11, many);
  const LoadResult result = load_definition(text);
  EXPECT_THAT(result.diagnostics, ElementsAre(IsDiagnostic(DiagnosticCode::kLimit, "/stages")));
}

// An instance counts its standards' lives in 16 bits: more than kMaxDeliveryStandards are refused
// whatever the limits allow, and exactly that many load and run.
TEST(HostileInput, MoreDeliveryStandardsThanAnInstanceCanCountAreRefused) {
  const auto with_standards = [](std::size_t n) {
    json doc = minimal_json();
    json standard = doc["delivery_standards"][0];
    doc["delivery_standards"] = json::array();
    for (std::size_t i = 0; i < n; ++i) {
      standard["id"] = "s" + std::to_string(i);
      doc["delivery_standards"].push_back(standard);
    }
    return doc.dump();
  };
  LoadLimits limits;
  limits.max_list_items = 100'000;
  const LoadResult too_many = load_definition(with_standards(kMaxDeliveryStandards + 1), limits);
  EXPECT_THAT(too_many.diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kLimit, "/delivery_standards")));

  const LoadResult most = load_definition(with_standards(kMaxDeliveryStandards), limits);
  ASSERT_TRUE(most.ok()) << most.diagnostics.front().message;
  InMemoryDirectory directory;
  directory.grant("ann", "rep");
  EngineOptions options;
  options.directory = &directory;
  Engine engine(options);
  ASSERT_TRUE(engine.register_definition(most.definition));
  Command create;
  create.type = CommandType::kCreate;
  create.instance = "i";
  create.actor = "ann";
  create.definition_id = "minimal";
  const Timestamp now = *parse_timestamp("2026-11-27T10:00:00Z");
  ASSERT_TRUE(engine.execute(create, now).ok());
  const auto standards = engine.standards("i", now);
  ASSERT_TRUE(standards.has_value());
  ASSERT_EQ(standards->size(), kMaxDeliveryStandards);
  EXPECT_EQ(standards->back().phase, StandardPhase::kRunning);
}

TEST(HostileInput, TooManyValuesAreRefused) {
  std::string text = "[";
  for (int i = 0; i < 1'000'001; ++i) text += "0,";
  text.back() = ']';
  EXPECT_EQ(single_diagnostic(text).code, DiagnosticCode::kLimit);
}

TEST(HostileInput, OneHugeObjectDoesNotMakeEveryLaterObjectSlow) {
  // Duplicate-key checks must cost each object its own size: a shared, large hash table cleared
  // per object would take hours here.
  std::string text = "{\"x-big\": {";
  for (int i = 0; i < 100'000; ++i) text += "\"k" + std::to_string(i) + "\": 0,";
  text.back() = '}';
  text += ", \"x-many\": [";
  for (int i = 0; i < 300'000; ++i) text += "{\"a\": 1},";
  text.back() = ']';
  text += "}";
  const LoadResult result = load_definition(text);
  ASSERT_FALSE(result.diagnostics.empty());
  for (const Diagnostic& d : result.diagnostics) EXPECT_EQ(d.code, DiagnosticCode::kMissingKey);
}

TEST(HostileInput, ASharedGuardIsNotCopiedPerExpandedSource) {
  // 2,000 stages, one transition from all of them with a 500 KB guard: one compiled guard shared,
  // not 2,000 copies (1 GB).
  json doc = minimal_json();
  json from = json::array();
  for (int i = 0; i < 2000; ++i) {
    const std::string id = std::string("s").append(std::to_string(i));
    doc["stages"].push_back({{"id", id},
                             {"name", id},
                             {"module", "main"},
                             {"responsibility", {{"accountable", "manager"}}}});
    from.push_back(id);
    doc["transitions"].push_back(
        {{"from", i == 0 ? "open" : std::string("s").append(std::to_string(i - 1))}, {"to", id}});
  }
  json list = json::array();
  for (int i = 0; i < 8; ++i) list.push_back(std::string(60'000, 'a' + i));
  doc["transitions"].push_back(
      {{"from", from},
       {"to", "won"},
       {"guard", {{"description", "d"}, {"rule", {{"in", {{{"var", "x"}}, list}}}}}}});
  const LoadResult result = load_definition(doc.dump());
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(result.diagnostics);
  const auto& transitions = result.definition->transitions();
  const Transition& first = result.definition->transition(*result.definition->find_transition(
      *result.definition->find_stage("s0"), *result.definition->find_stage("won")));
  const Transition& last = result.definition->transition(*result.definition->find_transition(
      *result.definition->find_stage("s1999"), *result.definition->find_stage("won")));
  EXPECT_EQ(first.guard.get(), last.guard.get());
  EXPECT_GT(transitions.size(), 4000u);
}

TEST(HostileInput, DuplicateKeysAreRefusedAtTheDuplicate) {
  std::string text = minimal_definition();
  text.replace(text.find("\"name\": \"Open\""), 14, "\"name\": \"Open\", \"name\": \"Again\"");
  const Diagnostic d = single_diagnostic(text);
  EXPECT_THAT(d, IsDiagnostic(DiagnosticCode::kDuplicateKey, "/stages/0/name"));
  EXPECT_THAT(d.message, ::testing::HasSubstr("\"name\""));
}

TEST(HostileInput, NaNAndInfinityAreNotJson) {
  for (const char* value : {"NaN", "Infinity", "-Infinity", "nan", "inf", "1e400", "-1e400"}) {
    std::string text = minimal_definition();
    text.replace(text.find("\"min\": 0"), 8, std::string("\"min\": ") + value);
    const Diagnostic d = single_diagnostic(text);
    EXPECT_EQ(d.code, DiagnosticCode::kSyntax) << value;
    EXPECT_EQ(d.pointer, "/fields/0/min") << value;
  }
}

// Valid JSON that the fast parser cannot read exactly: refused with a message that says what to
// write instead, not as "invalid JSON".
TEST(HostileInput, AnIntegerBeyond64BitsIsRefusedWithWhatToWriteInstead) {
  for (const char* value : {"100000000000000000000", "-9223372036854775809"}) {
    std::string text = minimal_definition();
    text.replace(text.find("\"min\": 0"), 8, std::string("\"min\": ") + value);
    const Diagnostic d = single_diagnostic(text);
    EXPECT_EQ(d.code, DiagnosticCode::kSyntax) << value;
    EXPECT_THAT(d.message, ::testing::HasSubstr("integer beyond 64 bits")) << value;
    EXPECT_THAT(d.message, ::testing::HasSubstr("1e20")) << value;
  }
}

TEST(HostileInput, InvalidUtf8IsRefusedAndNeverEchoedRaw) {
  for (const std::string& bad :
       {std::string("\xff"), std::string("\xc3\x28"), std::string("\xe2\x82"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\xc0\xaf")}) {
    std::string text = minimal_definition();
    text.replace(text.find("Minimal"), 7, "Min" + bad + "imal");
    const Diagnostic d = single_diagnostic(text);
    EXPECT_EQ(d.code, DiagnosticCode::kSyntax);
    EXPECT_EQ(d.pointer, "/name");
    // The message must itself be valid UTF-8: dumping it as JSON would throw otherwise.
    EXPECT_NO_THROW((void)json(d.message).dump());
  }
  // Outside strings too.
  EXPECT_EQ(single_diagnostic("{\"a\": 1, \xff}").code, DiagnosticCode::kSyntax);
}

TEST(HostileInput, EveryTruncationOfAValidFileIsASyntaxError) {
  const std::string& text = b2b_text();
  // Every prefix that ends inside the document (trailing whitespace aside) must fail cleanly.
  std::size_t end = text.find_last_not_of(" \n\r\t");
  for (std::size_t length = 0; length <= end; length += (length < 2000 ? 1 : 7)) {
    const LoadResult result = load_definition(std::string_view(text).substr(0, length));
    ASSERT_FALSE(result.ok()) << "prefix of " << length << " bytes";
    ASSERT_THAT(result.diagnostics, SizeIs(1));
    ASSERT_EQ(result.diagnostics[0].code, DiagnosticCode::kSyntax) << length;
  }
}

TEST(HostileInput, EmptyAndBlankDocumentsAreSyntaxErrors) {
  for (const char* text : {"", " ", "\n\t\r\n"}) {
    const Diagnostic d = single_diagnostic(text);
    EXPECT_THAT(d, IsDiagnostic(DiagnosticCode::kSyntax, ""));
    EXPECT_THAT(d.message, ::testing::HasSubstr("empty"));
  }
}

TEST(HostileInput, TrailingGarbageAndCommentsAreSyntaxErrors) {
  EXPECT_EQ(single_diagnostic(minimal_definition() + " {}").code, DiagnosticCode::kSyntax);
  EXPECT_EQ(single_diagnostic("// comment\n" + minimal_definition()).code, DiagnosticCode::kSyntax);
  EXPECT_EQ(single_diagnostic(minimal_definition() + std::string("\0{}", 3)).code,
            DiagnosticCode::kSyntax);
}

TEST(HostileInput, ScalarsAndWrongDocumentsGetATypeError) {
  for (const char* text : {"null", "1", "\"definition\"", "[]", "true"}) {
    EXPECT_THAT(single_diagnostic(text), IsDiagnostic(DiagnosticCode::kWrongType, "")) << text;
  }
}

class HostileFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("salesflow-hostile-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(HostileFile, AMissingFileIsAnIoDiagnostic) {
  const LoadResult result = load_definition_file(dir_ / "absent.json");
  EXPECT_THAT(result.diagnostics, ElementsAre(IsDiagnostic(DiagnosticCode::kIo, "")));
  EXPECT_THAT(result.diagnostics[0].message, ::testing::HasSubstr("No such file"));
}

TEST_F(HostileFile, ADirectoryIsAnIoDiagnostic) {
  EXPECT_THAT(load_definition_file(dir_).diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kIo, "")));
}

TEST_F(HostileFile, AnEndlessFileIsRefusedAtTheSizeLimit) {
  if (!std::filesystem::exists("/dev/zero")) GTEST_SKIP() << "no /dev/zero";
  EXPECT_THAT(load_definition_file("/dev/zero").diagnostics,
              ElementsAre(IsDiagnostic(DiagnosticCode::kLimit, "")));
}

TEST_F(HostileFile, AnEmptyOrTruncatedFileIsASyntaxError) {
  EXPECT_EQ(load_definition_file(write("empty.json", "")).diagnostics.at(0).code,
            DiagnosticCode::kSyntax);
  EXPECT_EQ(load_definition_file(write("half.json", b2b_text().substr(0, b2b_text().size() / 2)))
                .diagnostics.at(0)
                .code,
            DiagnosticCode::kSyntax);
  EXPECT_TRUE(load_definition_file(write("whole.json", b2b_text())).ok());
}

// Random damage to valid definitions: byte-level (syntax) and value-level (types, references).
// Whatever the damage, loading ends in a definition or in diagnostics, and each diagnostic of a
// parsed document points at a place that exists in it.
TEST(HostileInput, RandomByteDamageNeverCrashes) {
  std::mt19937 random(20261127);
  const std::string& base = b2b_text();
  const std::string alphabet = "{}[],:\"\\0123456789.eE+-tfn x\xff\x01";
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + random() % 8);
          break;
        default:
          text.insert(at, 1, alphabet[random() % alphabet.size()]);
      }
    }
    const LoadResult result = load_definition(text);
    ASSERT_EQ(result.ok(), result.diagnostics.empty()) << "round " << round;
    for (const Diagnostic& d : result.diagnostics) ASSERT_FALSE(d.message.empty());
  }
}

json random_value(std::mt19937& random) {
  switch (random() % 9) {
    case 0:
      return nullptr;
    case 1:
      return random() % 2 == 0;
    case 2:
      return static_cast<int>(random() % 5) - 1;
    case 3:
      return 1e300;
    case 4:
      return "";
    case 5:
      return "lost";
    case 6:
      return json::array({"rep", 3});
    case 7:
      return json::object({{"id", "x"}});
    default:
      return "P1M";
  }
}

// Every (pointer, value) position of a document, objects and arrays included.
void collect_pointers(const json& value, const std::string& pointer,
                      std::vector<std::string>& out) {
  out.push_back(pointer);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      collect_pointers(child, pointer + "/" + key, out);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      collect_pointers(value[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

TEST(HostileInput, RandomValueDamageGivesDiagnosticsThatPointIntoTheDocument) {
  std::mt19937 random(11272026);
  const json base = json::parse(b2b_text());
  std::vector<std::string> pointers;
  collect_pointers(base, "", pointers);
  int rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    json doc = base;
    for (int e = 0; e < 1 + static_cast<int>(random() % 3); ++e) {
      const std::string& target = pointers[1 + random() % (pointers.size() - 1)];
      if (!doc.contains(json::json_pointer(target))) continue;
      doc[json::json_pointer(target)] = random_value(random);
    }
    const LoadResult result = load_definition(doc.dump());
    ASSERT_EQ(result.ok(), result.diagnostics.empty());
    rejected += result.ok() ? 0 : 1;
    for (const Diagnostic& d : result.diagnostics) {
      ASSERT_NE(d.code, DiagnosticCode::kSyntax);
      ASSERT_TRUE(d.pointer.empty() || doc.contains(json::json_pointer(d.pointer)))
          << "round " << round << ": " << ::testing::PrintToString(d);
    }
  }
  EXPECT_GT(rejected, 1000) << "most random damage must be caught";
}

}  // namespace
}  // namespace salesflow::testing
