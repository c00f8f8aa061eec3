#include "libcore/validate/quality.h"

#include <doctest/doctest.h>
#include <simdjson.h>

using ev::validate::InvalidLimit;
using ev::validate::QualityReport;
using ev::validate::Violation;

TEST_CASE("quality: --max-invalid parses counts and percentages, strictly") {
  auto n = InvalidLimit::parse("10");
  REQUIRE(n);
  CHECK(!n->percent);
  CHECK(!n->exceeded(10, 1000));
  CHECK(n->exceeded(11, 1000));
  auto p = InvalidLimit::parse("0.5%");
  REQUIRE(p);
  CHECK(p->percent);
  CHECK(!p->exceeded(5, 1000));
  CHECK(p->exceeded(6, 1000));
  CHECK(!p->exceeded(0, 0));
  auto zero = InvalidLimit::parse("0");
  REQUIRE(zero);
  CHECK(zero->exceeded(1, 1));
  CHECK(!zero->exceeded(0, 5));
  for (const char* bad : {"", "%", "-1", "1.5", "x", "101%", "-1%", "5 %", "nan%"}) {
    CAPTURE(bad);
    CHECK_FALSE(InvalidLimit::parse(bad));
  }
}

TEST_CASE("quality: report counts by category, keyword and path; examples bounded") {
  QualityReport q("ev-validate", "s.json", 2);
  std::vector<Violation> vs = {{"/type", "enum", "/properties/type/enum", "bad"},
                               {"", "required", "/required", "missing"}};
  q.add_invalid("schema", "in.jsonl", 3, "schema: /type: bad [enum] (+1 more)", &vs);
  q.add_invalid("schema", "in.jsonl", 5, "schema: /type: bad [enum]", &vs);
  q.add_invalid("json", "in.jsonl", 7, "invalid JSON: x", nullptr);
  CHECK(q.invalid() == 3);
  CHECK(q.summary(10) == "3 of 10 events invalid (30.00%)");
  auto limit = InvalidLimit::parse("20%");
  std::string j = q.to_json(10, 1, &*limit);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(j).get(e) == simdjson::SUCCESS);
  CHECK(e["events"].get_uint64().value() == 10);
  CHECK(e["valid"].get_uint64().value() == 7);
  CHECK(e["invalid"].get_uint64().value() == 3);
  CHECK(e["normalized"].get_uint64().value() == 1);
  CHECK(e["passed"].get_bool().value() == false);
  CHECK(e["by_category"]["schema"].get_uint64().value() == 2);
  CHECK(e["by_category"]["json"].get_uint64().value() == 1);
  CHECK(e["by_keyword"]["enum"].get_uint64().value() == 2);
  CHECK(e["by_instance_path"][""].get_uint64().value() == 2);
  CHECK(e["examples"].get_array().size() == 2);  // bounded by max_examples
  CHECK(e["examples"].at(0)["violations"].get_array().size() == 2);
}

TEST_CASE("quality: instance paths beyond the bound count as (other)") {
  QualityReport q("ev-validate", "s.json", 0);
  for (size_t k = 0; k < QualityReport::kMaxPaths + 5; ++k) {
    std::vector<Violation> vs = {{"/p" + std::to_string(k), "type", "/type", "m"}};
    q.add_invalid("schema", "-", k, "r", &vs);
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(q.to_json(2000, 0, nullptr)).get(e) == simdjson::SUCCESS);
  CHECK(e["by_instance_path"].get_object().size() == QualityReport::kMaxPaths + 1);
  CHECK(e["by_instance_path"]["(other)"].get_uint64().value() == 5);
  CHECK(e["examples"].get_array().size() == 0);
  CHECK(e["passed"].error() == simdjson::NO_SUCH_FIELD);  // no limit, no verdict
}

TEST_CASE("quality: JUnit lists invalid events as failures, escapes XML, counts the gate") {
  QualityReport q("ev-validate", "s.json", 10);
  std::vector<Violation> vs = {{"/a", "const", "/properties/a/const", "expected \"<&>\"\x01"}};
  q.add_invalid("schema", "in.jsonl", 2, "schema: /a: expected \"<&>\" [const]", &vs);
  auto limit = InvalidLimit::parse("0");
  std::string x = q.to_junit(4, 0.25, &*limit);
  CHECK(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
  CHECK(x.find("tests=\"3\" failures=\"2\"") != std::string::npos);
  CHECK(x.find("name=\"in.jsonl:2\"") != std::string::npos);
  CHECK(x.find("expected &quot;&lt;&amp;&gt;&quot; ") != std::string::npos);  // \x01 -> space
  CHECK(x.find('\x01') == std::string::npos);
  CHECK(x.find("name=\"3 valid events\"/>") != std::string::npos);
  CHECK(x.find("1 of 4 events invalid (25.00%), over --max-invalid 0") != std::string::npos);
  CHECK(x.find("time=\"0.250\"") != std::string::npos);
}
