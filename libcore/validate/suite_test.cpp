// Runs the official JSON-Schema-Test-Suite (draft 2020-12, required tests only) against
// ev::validate::Schema and compares with tests/schema-suite/expectations.txt, which
// lists every test that does not pass, with the reason. The test fails when an unlisted
// test fails and when a listed test passes, so the list stays exact.
//
// Set EV_SCHEMA_SUITE_DUMP=FILE to write the current failures in the expectations format
// (reasons filled from kReasons below) when updating the list.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "libcore/validate/schema.h"

#ifndef EV_SHARED_DIR
#define EV_SHARED_DIR "../shared"
#endif
#ifndef EV_SOURCE_DIR
#define EV_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? std::string{} : s.substr(start);
}

// "file.json | case | test" -> reason, from the expectations file.
std::map<std::string, std::string> read_expectations(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t a = line.find(" | ");
    size_t b = a == std::string::npos ? a : line.find(" | ", a + 3);
    size_t c = b == std::string::npos ? b : line.find(" | ", b + 3);
    if (c == std::string::npos) continue;
    std::string key = trim(line.substr(0, a)) + " | " + trim(line.substr(a + 3, b - a - 3)) +
                      " | " + trim(line.substr(b + 3, c - b - 3));
    out[key] = trim(line.substr(c + 3));
  }
  return out;
}

// The reason recorded for a failure, by file (the features we leave out of scope).
std::string reason_for(const std::string& file, const std::string& detail) {
  if (file == "dynamicRef.json" || detail.find("dynamicRef") != std::string::npos)
    return "$dynamicRef has no dynamic scope (out of scope)";
  if (file == "vocabulary.json") return "$vocabulary is not supported (out of scope)";
  if (detail.find("json-schema.org") != std::string::npos) {
    return "needs the 2020-12 metaschema, which is not available offline";
  }
  return "not supported: " + detail;
}

}  // namespace

TEST_CASE("schema: JSON-Schema-Test-Suite draft2020-12") {
  const fs::path suite = fs::path(EV_SHARED_DIR) / "corpora/json-schema-test-suite";
  const fs::path tests_dir = suite / "tests/draft2020-12";
  REQUIRE(fs::is_directory(tests_dir));
  const std::string expectations_path =
      std::string(EV_SOURCE_DIR) + "/tests/schema-suite/expectations.txt";
  auto expected = read_expectations(expectations_path);

  ev::validate::SchemaOptions options;
  options.formats = false;  // 2020-12: "format" is an annotation unless asked for
  options.uri_map = {{"http://localhost:1234/", (suite / "remotes").string()}};

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(tests_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());

  std::set<std::string> failures;
  std::vector<std::string> dump;
  size_t total_passed = 0;
  size_t total = 0;
  simdjson::dom::parser file_parser;
  simdjson::dom::parser data_parser;
  for (const fs::path& path : files) {
    const std::string file = path.filename().string();
    simdjson::dom::element root;
    REQUIRE(file_parser.load(path.string()).get(root) == simdjson::SUCCESS);
    simdjson::dom::array cases;
    REQUIRE(root.get(cases) == simdjson::SUCCESS);
    size_t passed = 0;
    size_t count = 0;
    for (simdjson::dom::element test_case : cases) {
      std::string_view case_desc;
      REQUIRE(test_case["description"].get(case_desc) == simdjson::SUCCESS);
      simdjson::dom::element schema_elem;
      REQUIRE(test_case["schema"].get(schema_elem) == simdjson::SUCCESS);
      auto schema = ev::validate::Schema::compile_text(simdjson::minify(schema_elem), "", options);
      simdjson::dom::array tests;
      REQUIRE(test_case["tests"].get(tests) == simdjson::SUCCESS);
      for (simdjson::dom::element test : tests) {
        std::string_view test_desc;
        bool valid = false;
        simdjson::dom::element data;
        REQUIRE(test["description"].get(test_desc) == simdjson::SUCCESS);
        REQUIRE(test["valid"].get(valid) == simdjson::SUCCESS);
        REQUIRE(test["data"].get(data) == simdjson::SUCCESS);
        ++count;
        bool ok = false;
        std::string detail;
        if (!schema) {
          detail = "schema error: " + schema.error().to_string();
        } else {
          // Re-parse the data on its own so the instance is a document like an event.
          simdjson::dom::element instance;
          std::string text = simdjson::minify(data);
          REQUIRE(data_parser.parse(text).get(instance) == simdjson::SUCCESS);
          std::vector<ev::validate::Violation> violations;
          bool got = schema->validate(instance, violations);
          ok = got == valid;
          if (ok && !got) ok = !violations.empty();  // an invalid verdict names a reason
          if (ok && got) ok = violations.empty();
          detail = got ? "accepted an invalid instance" : "rejected a valid instance";
          // The verdict must not depend on the error bound.
          std::vector<ev::validate::Violation> none;
          if (schema->validate(instance, none, 0) != got || !none.empty()) {
            ok = false;
            detail = "verdict depends on max_errors";
          }
        }
        std::string key = file + " | " + std::string(case_desc) + " | " + std::string(test_desc);
        if (ok) {
          ++passed;
          CHECK_MESSAGE(expected.count(key) == 0, "listed in expectations but passes: " << key);
        } else {
          failures.insert(key);
          dump.push_back(key + " | " + reason_for(file, std::string(case_desc) + ": " + detail));
          CHECK_MESSAGE(expected.count(key) == 1,
                        "unexpected failure: " << key << " (" << detail << ")");
        }
      }
    }
    MESSAGE(file << " " << passed << "/" << count);
    total_passed += passed;
    total += count;
  }
  MESSAGE("total " << total_passed << "/" << total << ", expected failures " << expected.size());
  for (const auto& [key, reason] : expected) {
    CHECK_MESSAGE(failures.count(key) == 1,
                  "expectation for a test that does not exist or passes: " << key);
  }
  if (const char* out = std::getenv("EV_SCHEMA_SUITE_DUMP")) {
    std::ofstream dump_file(out);
    dump_file << "# JSON-Schema-Test-Suite draft2020-12: tests that do not pass.\n"
              << "# file.json | case description | test description | reason\n";
    for (const auto& line : dump) dump_file << line << "\n";
  }
}
