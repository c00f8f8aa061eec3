#include "libcore/stages/score.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <string>
#include <vector>

#include "libcore/pipeline/runner.h"
#include "libcore/testing/stage_outcome.h"
#include "libcore/testing/temp_dir.h"

using ev::stages::ScoreOptions;
using ev::testing::TempDir;

namespace {

using Outcome = ev::testing::StageOutcome;

// Runs ev-score's stage over `input` (written to `file` in `dir`) as the program
// would; bad events go to the reject file.
// With `input` empty the file is read as it is.
Outcome run(const TempDir& dir, const std::string& input, const ScoreOptions& opt,
            const std::string& file = "in.jsonl") {
  ev::pipeline::RunOptions ro;
  ro.program = "ev-score";
  ro.inputs.push_back(input.empty() ? dir.at(file) : dir.file(file, input));
  Outcome o;
  ev::testing::run_stage(o, dir, ro, ev::stages::make_score(opt));
  return o;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The number at top-level `key` of the JSON object `line`; NaN when it is missing or
// not a number.
double number_at(const std::string& line, const std::string& key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(line).get(root)) return std::nan("");
  double d = 0;
  if (root[key].get_double().get(d)) return std::nan("");
  return d;
}

// The kUsage message of building `opt`, or "built" when it builds.
std::string usage(const ScoreOptions& opt) {
  auto stage = ev::stages::make_score(opt);
  if (stage) return "built";
  if (stage.error().kind != ev::ErrorKind::kUsage) return "not kUsage: " + stage.error().message;
  return stage.error().message;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr double kTol = 1e-12;

}  // namespace

// ---- --set ----

TEST_CASE("score: --set names chain, and a set shadows and replaces the field of its name") {
  TempDir dir;
  ScoreOptions opt;
  opt.sets = {"amount = amount * 2", "plus = amount + 1", "label = \"n\" + str(plus)"};
  auto o = run(dir, "{\"amount\":10,\"x\":1}\n{\"x\":2}\n", opt);
  REQUIRE(o.end.has_value());
  // `amount` in the first expression is the field (10); later ones see the set (20).
  CHECK(o.out ==
        "{\"x\":1,\"amount\":20,\"plus\":21,\"label\":\"n21\"}\n"
        "{\"x\":2,\"amount\":null,\"plus\":null,\"label\":null}\n");
  CHECK(o.report.out == 2);
}

TEST_CASE("score: a --set name declared twice or a malformed --set is a usage error") {
  ScoreOptions opt;
  opt.sets = {"a = 1", "a = 2"};
  CHECK(has(usage(opt), "--set"));
  opt.sets = {"a == 1"};
  CHECK(has(usage(opt), "--set: expected 'name = EXPR'"));
  opt.sets = {" = 1"};
  CHECK(has(usage(opt), "a name is missing"));
  opt.sets = {"a = "};
  CHECK(has(usage(opt), "--set a: the expression is empty"));
}

// ---- output order ----

TEST_CASE("score: output members come as sets, z, score, flags, risk, severity, segment") {
  TempDir dir;
  ScoreOptions opt;
  // Given in another order than they are written.
  opt.segments = {"hi: amount > 5"};
  opt.rule_files = {dir.file("r.jsonl", R"({"name":"big","when":"amount > 5","weight":2,)"
                                        R"("severity":"low"})"
                                        "\n")};
  opt.model = dir.file("m.json", R"({"type":"linear","intercept":1,)"
                                 R"("features":[{"expr":"d","weight":1}]})");
  opt.zscore = {"amount"};
  opt.by = "id";
  opt.half_life = 3600 * ev::time::kNsPerSec;
  opt.sets = {"d = amount * 2"};
  // Members the event already has are replaced, wherever they were.
  auto o = run(dir,
               "{\"segment\":0,\"id\":\"a\",\"score\":\"old\",\"amount\":7,\"flags\":[]}\n"
               "{\"id\":\"a\",\"amount\":1}\n",
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"id\":\"a\",\"amount\":7,\"d\":14,\"amount_z\":null,\"score\":15,\"flags\":[\"big\"],"
        "\"risk\":2,\"severity\":\"low\",\"segment\":\"hi\"}\n"
        "{\"id\":\"a\",\"amount\":1,\"d\":2,\"amount_z\":null,\"score\":3,\"flags\":[],"
        "\"risk\":0,\"severity\":null,\"segment\":\"other\"}\n");
}

// ---- rules ----

TEST_CASE("score: rules list the names that hold in order, and the names are variables") {
  TempDir dir;
  ScoreOptions opt;
  opt.rules = {"big: amount > 100", "night: hour(ts) < 6", "odd-one: amount == 7",
               "small: amount < 5"};
  opt.segments = {"risky: big and night", "big: big", "tiny: small"};
  opt.default_segment = "plain";
  opt.alert = "\"night\" in flags or segment == \"big\" or \"odd-one\" in flags";
  auto o = run(dir,
               "{\"amount\":200,\"ts\":\"2024-05-01T03:00:00Z\"}\n"  // big, night: risky
               "{\"amount\":200,\"ts\":\"2024-05-01T12:00:00Z\"}\n"  // big: segment big
               "{\"amount\":2,\"ts\":\"2024-05-01T03:00:00Z\"}\n"    // night, small: tiny
               "{\"amount\":2,\"ts\":\"2024-05-01T12:00:00Z\"}\n"    // small: dropped
               "{\"amount\":7,\"ts\":\"2024-05-01T12:00:00Z\"}\n"    // odd-one: plain
               "{\"amount\":50,\"ts\":\"2024-05-01T12:00:00Z\"}\n",  // none: dropped
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"amount\":200,\"ts\":\"2024-05-01T03:00:00Z\",\"flags\":[\"big\",\"night\"],"
        "\"segment\":\"risky\"}\n"
        "{\"amount\":200,\"ts\":\"2024-05-01T12:00:00Z\",\"flags\":[\"big\"],"
        "\"segment\":\"big\"}\n"
        "{\"amount\":2,\"ts\":\"2024-05-01T03:00:00Z\",\"flags\":[\"night\",\"small\"],"
        "\"segment\":\"tiny\"}\n"
        "{\"amount\":7,\"ts\":\"2024-05-01T12:00:00Z\",\"flags\":[\"odd-one\"],"
        "\"segment\":\"plain\"}\n");
  CHECK(o.report.dropped == 2);
  CHECK(o.extra("flagged") == 5);
  CHECK(o.extra("alerts") == 4);
}

TEST_CASE("score: a rule name that is not a plain name is listed but is no variable") {
  ScoreOptions opt;
  opt.rules = {"odd-one: true"};
  opt.alert = "odd";  // `odd` is a field, not the rule: it compiles
  CHECK(usage(opt) == "built");
  opt.rules = {"a: true", "a: false"};
  CHECK(has(usage(opt), "--rule: rule 'a' is defined twice"));
  opt.rules = {"a true"};
  CHECK(has(usage(opt), "--rule: expected 'name: EXPR'"));
}

TEST_CASE("score: --rules as JSON Lines and as an array, weights summed, the highest severity") {
  TempDir dir;
  const std::string lines =
      "{\"name\":\"big\",\"when\":\"amount > 100\",\"weight\":2.5,\"severity\":\"medium\"}\n"
      "# a comment\n"
      "\n"
      "{\"name\":\"night\",\"when\":\"hour(ts) < 6\",\"weight\":1.25,\"severity\":\"critical\"}\r\n"
      "{\"name\":\"round\",\"when\":\"amount % 100 == 0\",\"weight\":0.5,\"severity\":\"low\"}";
  const std::string array =
      "  [{\"name\":\"big\",\"when\":\"amount > 100\",\"weight\":2.5,\"severity\":\"medium\"},\n"
      "   {\"name\":\"night\",\"when\":\"hour(ts) < 6\",\"weight\":1.25,"
      "\"severity\":\"critical\"},\n"
      "   {\"name\":\"round\",\"when\":\"amount % 100 == 0\",\"weight\":0.5,"
      "\"severity\":\"low\"}]\n";
  const std::string input =
      "{\"amount\":200,\"ts\":\"2024-05-01T03:00:00Z\"}\n"
      "{\"amount\":150,\"ts\":\"2024-05-01T12:00:00Z\"}\n"
      "{\"amount\":100,\"ts\":\"2024-05-01T12:00:00Z\"}\n"
      "{\"amount\":1,\"ts\":\"2024-05-01T12:00:00Z\"}\n";
  const std::string expect =
      "{\"amount\":200,\"ts\":\"2024-05-01T03:00:00Z\",\"flags\":[\"big\",\"night\",\"round\"],"
      "\"risk\":4.25,\"severity\":\"critical\"}\n"
      "{\"amount\":150,\"ts\":\"2024-05-01T12:00:00Z\",\"flags\":[\"big\"],\"risk\":2.5,"
      "\"severity\":\"medium\"}\n"
      "{\"amount\":100,\"ts\":\"2024-05-01T12:00:00Z\",\"flags\":[\"round\"],\"risk\":0.5,"
      "\"severity\":\"low\"}\n"
      "{\"amount\":1,\"ts\":\"2024-05-01T12:00:00Z\",\"flags\":[],\"risk\":0,"
      "\"severity\":null}\n";
  for (const std::string& text : {lines, array}) {
    ScoreOptions opt;
    opt.rule_files = {dir.file("rules.json", text)};
    auto o = run(dir, input, opt);
    REQUIRE(o.end.has_value());
    CHECK(o.out == expect);
    CHECK(o.extra("flagged") == 3);
  }
}

TEST_CASE("score: risk and severity are written only when the rules file gives them") {
  TempDir dir;
  ScoreOptions opt;
  opt.rule_files = {dir.file("r.jsonl", "{\"name\":\"big\",\"when\":\"amount > 1\"}\n")};
  auto o = run(dir, "{\"amount\":2}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"amount\":2,\"flags\":[\"big\"]}\n");
  // Weights only: no severity member; and the other way round.
  opt.rule_files = {
      dir.file("w.jsonl", "{\"name\":\"big\",\"when\":\"amount > 1\",\"weight\":3}\n")};
  o = run(dir, "{\"amount\":2}\n", opt);
  CHECK(o.out == "{\"amount\":2,\"flags\":[\"big\"],\"risk\":3}\n");
  opt.rule_files = {
      dir.file("s.jsonl", "{\"name\":\"big\",\"when\":\"amount > 1\",\"severity\":\"high\"}\n")};
  o = run(dir, "{\"amount\":2}\n", opt);
  CHECK(o.out == "{\"amount\":2,\"flags\":[\"big\"],\"severity\":\"high\"}\n");
  // risk and severity are variables for --alert.
  opt.rule_files = {
      dir.file("ws.jsonl",
               "{\"name\":\"big\",\"when\":\"amount > 1\",\"weight\":3,\"severity\":\"high\"}\n"
               "{\"name\":\"huge\",\"when\":\"amount > 10\",\"weight\":4}\n")};
  opt.alert = "risk > 5 and severity == \"high\"";
  o = run(dir, "{\"amount\":2}\n{\"amount\":20}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"amount\":20,\"flags\":[\"big\",\"huge\"],\"risk\":7,\"severity\":\"high\"}\n");
  CHECK(o.report.dropped == 1);
}

TEST_CASE("score: every rules file error is a usage error naming the file") {
  TempDir dir;
  struct Case {
    std::string content, message;
  };
  const std::vector<Case> cases = {
      {"{\"name\":\"a\",\"when\":\"true\",\"wieght\":1}\n", ":1: unknown member \"wieght\""},
      {"{\"when\":\"true\"}\n", ":1: \"name\" must be a non-empty string"},
      {"{\"name\":\"\",\"when\":\"true\"}\n", ":1: \"name\" must be a non-empty string"},
      {"{\"name\":\"a\"}\n", ":1: \"when\" must be an expression"},
      {"{\"name\":\"a\",\"when\":true}\n", ":1: \"when\" must be an expression"},
      {"{\"name\":\"a\",\"when\":\"true\",\"weight\":\"2\"}\n", ":1: \"weight\" must be a number"},
      {"{\"name\":\"a\",\"when\":\"true\",\"severity\":\"severe\"}\n",
       ":1: \"severity\" must be low, medium, high or critical"},
      {"{\"name\":\"a\",\"when\":\"true\",\"severity\":3}\n", ":1: \"severity\" must be low"},
      {"{\"name\":\"a\",\"when\":\"true\"}\n{\"name\":\"a\",\n", ":2: "},
      {"{\"name\":\"a\",\"when\":\"true\"}\n\n{\"name\":\"a\",\"when\":\"false\"}\n",
       ":3: rule 'a' is defined twice"},
      {"[1]", ": rule 1: not an object"},
      {"[{\"name\":\"a\",\"when\":\"true\"},{\"name\":\"b\"}]", ": rule 2: \"when\" must be"},
      {"[{\"name\":\"a\",\"when\":\"true\"}", ": "},
      {"\"a\"\n", ":1: not an object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.content);
    ScoreOptions opt;
    const std::string path = dir.file("bad.jsonl", c.content);
    opt.rule_files = {path};
    const std::string msg = usage(opt);
    CHECK(msg.starts_with("--rules " + path + c.message));
  }
  ScoreOptions opt;
  opt.rule_files = {dir.at("missing.jsonl")};
  CHECK(usage(opt) ==
        "--rules " + dir.at("missing.jsonl") + ": cannot open: No such file or directory");
  // A --rule and a file rule of the same name.
  opt.rules = {"a: true"};
  opt.rule_files = {dir.file("dup.jsonl", "{\"name\":\"a\",\"when\":\"true\"}\n")};
  CHECK(has(usage(opt), dir.at("dup.jsonl") + ":1: rule 'a' is defined twice"));
  // A malformed `when`: the rule and the column.
  opt.rules.clear();
  opt.rule_files = {dir.file("expr.jsonl", "{\"name\":\"a\",\"when\":\"amount >\"}\n")};
  CHECK(has(usage(opt), "rule a: column 9: "));
}

TEST_CASE("score: a malformed expression in a rules or model file names the file") {
  TempDir dir;
  ScoreOptions opt;
  opt.rule_files = {dir.file("expr.jsonl", "{\"name\":\"a\",\"when\":\"amount >\"}\n")};
  CHECK(has(usage(opt), dir.at("expr.jsonl")));
  opt = {};
  opt.model = dir.file("m.json", R"({"features":[{"expr":"a +","weight":1}]})");
  CHECK(has(usage(opt), dir.at("m.json")));
}

// ---- model ----

namespace {

const char* const kFeatures =
    R"("intercept":-1,"features":[)"
    R"({"expr":"amount","weight":0.5,"mean":10,"std":4},)"
    R"({"expr":"type == \"purchase\"","weight":1.5},)"
    R"({"expr":"country","categories":{"US":0.4,"IN":-0.2,"3":0.7,"true":0.9},"other":0.1},)"
    R"({"expr":"qty","weight":2,"mean":1,"std":2,"default":3},)"
    R"({"expr":"vip","weight":0.25}]})";

}  // namespace

TEST_CASE("score: a linear and a logistic model against hand-computed scores") {
  TempDir dir;
  const std::string input =
      // -1 + 0.5*(18-10)/4 + 1.5 + 0.4 + 2*(3-1)/2 (qty null: default 3) + 0.25 = 4.15
      "{\"amount\":18,\"type\":\"purchase\",\"country\":\"US\",\"vip\":true}\n"
      // -1 + 0 (null, no default) + 0 + 0.1 (other) + 2*(5-1)/2 + 0 (false) = 3.1
      "{\"type\":\"view\",\"country\":\"FR\",\"qty\":5,\"vip\":false}\n"
      // -1 + 0.5*(2-10)/4 + 0 + 0.7 ("3") + 2*(0-1)/2 + 0 = -2.3
      "{\"amount\":2,\"country\":3,\"qty\":0}\n"
      // -1 + 0 + 0 + 0.9 ("true") + 2 (default) + 0 = 1.9
      "{\"country\":true}\n"
      // -1 + 0 + 0 + 0 (null category) + 2 = 1
      "{\"country\":null}\n";
  const std::vector<double> raw = {4.15, 3.1, -2.3, 1.9, 1};
  for (const std::string type : {"linear", "logistic"}) {
    CAPTURE(type);
    ScoreOptions opt;
    opt.model = dir.file("m.json", "{\"type\":\"" + type + "\"," + kFeatures);
    opt.score_field = "p";
    auto o = run(dir, input, opt);
    REQUIRE(o.end.has_value());
    auto lines = lines_of(o.out);
    REQUIRE(lines.size() == raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      CAPTURE(lines[i]);
      const double expect = type == "linear" ? raw[i] : 1 / (1 + std::exp(-raw[i]));
      CHECK(std::abs(number_at(lines[i], "p") - expect) < kTol);
    }
  }
}

TEST_CASE("score: a model without type is linear, and its features see --set names") {
  TempDir dir;
  ScoreOptions opt;
  opt.sets = {"twice = x * 2"};
  opt.model = dir.file("m.json", R"({"intercept":0.5,"features":[{"expr":"twice","weight":3}]})");
  auto o = run(dir, "{\"x\":1.5}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"x\":1.5,\"twice\":3,\"score\":9.5}\n");
}

TEST_CASE("score: a feature of the wrong type is a bad event, the others pass") {
  TempDir dir;
  ScoreOptions opt;
  opt.model = dir.file("m.json", std::string("{\"type\":\"linear\",") + kFeatures);
  auto o =
      run(dir, "{\"amount\":\"12\"}\n{\"amount\":10}\n{\"country\":[1]}\n{\"amount\":14}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 2);
  CHECK(o.report.out == 2);
  CHECK(has(o.rejects, "m.json: feature 1: needs a number, got string"));
  CHECK(has(o.rejects, "a category must be a string, number or boolean, got array"));
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 2);
  // -1 + 0 (country null: no category) + 2 (qty default); then + 0.5*(14-10)/4.
  CHECK(std::abs(number_at(lines[0], "score") - 1) < kTol);
  CHECK(std::abs(number_at(lines[1], "score") - 1.5) < kTol);
}

TEST_CASE("score: every model file error is a usage error naming the file") {
  TempDir dir;
  struct Case {
    std::string content, message;
  };
  const std::vector<Case> cases = {
      {R"({"type":"linear","features":[],"bias":1})", ": unknown member \"bias\""},
      {R"({"type":"tree","features":[]})", ": \"type\" must be \"linear\" or \"logistic\""},
      {R"({"type":1,"features":[]})", ": \"type\" must be"},
      {R"({"intercept":"1","features":[]})", ": \"intercept\" must be a number"},
      {R"({"intercept":1})", ": \"features\" must be an array"},
      {R"({"features":[{"expr":"a"}]})", ": feature 1: \"weight\" is missing"},
      {R"({"features":[{"weight":1}]})", ": feature 1: \"expr\" must be an expression"},
      {R"({"features":[{"expr":"a","weight":1},{"expr":"b","weight":1,"std":0}]})",
       ": feature 2: \"std\" must be positive"},
      {R"({"features":[{"expr":"a","weight":1,"std":-2}]})", ": feature 1: \"std\" must be"},
      {R"({"features":[{"expr":"a","weight":1,"mean":"x"}]})", ": feature 1: \"mean\" must be"},
      {R"({"features":[{"expr":"a","weight":1,"default":null}]})",
       ": feature 1: \"default\" must be a number"},
      {R"({"features":[{"expr":"a","weight":1,"scale":2}]})",
       ": feature 1: unknown member \"scale\""},
      {R"({"features":[{"expr":"a","categories":{"x":"1"}}]})",
       ": feature 1: category \"x\" needs a number"},
      {R"({"features":[{"expr":"a","categories":{"x":1},"weight":2}]})",
       ": feature 1: a feature with \"categories\" takes \"other\""},
      {R"({"features":[3]})", ": feature 1: not an object"},
      {R"({"features":[)", ": "},
      {R"([1])", ": not a JSON object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.content);
    ScoreOptions opt;
    opt.model = dir.file("m.json", c.content);
    CHECK(usage(opt).starts_with("--model " + opt.model + c.message));
  }
  ScoreOptions opt;
  opt.model = dir.at("none.json");
  CHECK(usage(opt) == "--model " + opt.model + ": cannot open: No such file or directory");
  opt.model = dir.file("m.json", R"({"features":[{"expr":"a +","weight":1}]})");
  CHECK(has(usage(opt), "m.json: feature 1: column 4: "));
  opt.model.clear();
  opt.min_score = 0.5;
  CHECK(has(usage(opt), "--min-score needs --model"));
}

// ---- z-scores ----

namespace {

ScoreOptions zscore_opt() {
  ScoreOptions opt;
  opt.zscore = {"v"};
  opt.by = "id";
  opt.half_life = 3600 * ev::time::kNsPerSec;
  opt.warmup = 2;
  return opt;
}

std::string zev(const std::string& id, const std::string& v, const std::string& ts = "10:00") {
  return "{\"id\":" + id + ",\"v\":" + v + ",\"ts\":\"2024-05-01T" + ts + ":00Z\"}\n";
}

}  // namespace

TEST_CASE("score: --zscore after --warmup events, null keys and values change nothing") {
  TempDir dir;
  auto o = run(dir,
               zev("\"a\"", "1") + zev("\"b\"", "10") + zev("\"a\"", "3") +
                   "{\"v\":4}\n" +         // no key: null, nothing updated
                   zev("null", "4") +      // null key: the same
                   zev("\"a\"", "null") +  // null value: the same
                   zev("\"a\"", "5") +     // mean 2, variance 1: z = 3
                   zev("\"a\"", "7") +     // mean 3, variance 8/3: z = sqrt(6)
                   zev("\"b\"", "10"),     // 1 event before: warming up
               zscore_opt());
  REQUIRE(o.end.has_value());
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 9);
  for (size_t i : {0u, 1u, 2u, 3u, 4u, 5u, 8u}) {
    CAPTURE(lines[i]);
    CHECK(lines[i].ends_with(",\"v_z\":null}"));
  }
  CHECK(lines[6] == "{\"id\":\"a\",\"v\":5,\"ts\":\"2024-05-01T10:00:00Z\",\"v_z\":3}");
  CHECK(std::abs(number_at(lines[7], "v_z") - std::sqrt(6.0)) < kTol);
  CHECK(o.extra("keys") == 2);
  CHECK(o.extra("evicted") == 0);
}

TEST_CASE("score: --zscore decays by the half-life in event time, a number key is its text") {
  TempDir dir;
  // Weights at 11:00 of the values 0, 2 (10:00) and 3 (11:00): 0.5, 0.5, 1, so the
  // mean is 2 and the variance 1.5 when 5 arrives: z = 3 / sqrt(1.5) = sqrt(6).
  auto o = run(
      dir, zev("7", "0") + zev("7", "2") + zev("\"7\"", "3", "11:00") + zev("7.0", "5", "11:00"),
      zscore_opt());
  REQUIRE(o.end.has_value());
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2].ends_with(",\"v_z\":2}"));  // (3 - 1) / 1, before the decay
  CHECK(std::abs(number_at(lines[3], "v_z") - std::sqrt(6.0)) < kTol);
  CHECK(o.extra("keys") == 1);
}

TEST_CASE("score: --zscore of a non-number is a bad event naming the field") {
  TempDir dir;
  auto o =
      run(dir, zev("\"a\"", "\"12\"") + zev("\"a\"", "1") + zev("\"a\"", "true"), zscore_opt());
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 2);
  CHECK(o.report.out == 1);
  CHECK(has(o.rejects, "--zscore v: needs a number, got string"));
  CHECK(has(o.rejects, "--zscore v: needs a number, got boolean"));
}

TEST_CASE("score: --max-keys evicts the least recently seen key and counts it") {
  TempDir dir;
  ScoreOptions opt = zscore_opt();
  opt.max_keys = 2;
  opt.warmup = 1;
  // a: 1, 3; b: 1, 3; a: 5 (z 3); c evicts b (the least recently seen); b evicts a;
  // a evicts c. Without evictions the last two would have a z-score.
  auto o = run(dir,
               zev("\"a\"", "1") + zev("\"a\"", "3") + zev("\"b\"", "1") + zev("\"b\"", "3") +
                   zev("\"a\"", "5") + zev("\"c\"", "1") + zev("\"b\"", "5") + zev("\"a\"", "5"),
               opt);
  REQUIRE(o.end.has_value());
  auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 8);
  CHECK(lines[4].ends_with(",\"v_z\":3}"));
  CHECK(lines[6].ends_with(",\"v_z\":null}"));
  CHECK(lines[7].ends_with(",\"v_z\":null}"));
  CHECK(o.extra("keys") == 2);
  CHECK(o.extra("evicted") == 3);  // b (by c), a (by b), c (by a)
}

TEST_CASE("score: --zscore names, and its option checks") {
  TempDir dir;
  ScoreOptions opt = zscore_opt();
  opt.zscore = {"m.v", "items[0].n"};
  opt.warmup = 0;
  auto o = run(dir, "{\"id\":1,\"m\":{\"v\":1},\"items\":[{\"n\":2}]}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"id\":1,\"m\":{\"v\":1},\"items\":[{\"n\":2}],\"m_v_z\":null,\"items_0_n_z\":null}\n");
  opt = zscore_opt();
  opt.by.clear();
  CHECK(has(usage(opt), "--zscore needs --by"));
  opt = zscore_opt();
  opt.half_life = 0;
  CHECK(has(usage(opt), "--half-life"));
  opt = zscore_opt();
  opt.max_keys = 0;
  CHECK(has(usage(opt), "--max-keys"));
  opt = ScoreOptions{};
  opt.by = "id";
  CHECK(has(usage(opt), "--by is for --zscore"));
  opt = ScoreOptions{};
  opt.state = dir.at("s.state");
  CHECK(has(usage(opt), "--state"));
}

TEST_CASE("score: --state carries the z-score statistics to the next run") {
  TempDir dir;
  ScoreOptions opt = zscore_opt();
  opt.state = dir.at("z.state");
  auto first = run(dir, zev("\"a\"", "1") + zev("\"a\"", "3"), opt, "day1.jsonl");
  REQUIRE(first.end.has_value());
  CHECK(first.extra("checkpoints") == 1);
  // A new stage on the same state continues: mean 2, variance 1 as if in one run.
  auto second = run(dir, zev("\"a\"", "5") + zev("\"b\"", "5"), opt, "day2.jsonl");
  REQUIRE(second.end.has_value());
  CHECK(lines_of(second.out).at(0).ends_with(",\"v_z\":3}"));
  CHECK(second.extra("keys") == 2);
  // A file read before is skipped.
  auto again = run(dir, "", opt, "day1.jsonl");
  REQUIRE(again.end.has_value());
  CHECK(again.report.in == 0);
  // Other statistics cannot reuse the state.
  opt.half_life = 60 * ev::time::kNsPerSec;
  auto other = run(dir, zev("\"a\"", "5"), opt, "day3.jsonl");
  REQUIRE_FALSE(other.end.has_value());
  CHECK(other.end.error().kind == ev::ErrorKind::kState);
  opt = zscore_opt();
  opt.state = dir.at("z.state");
  opt.warmup = 3;
  auto warm = run(dir, zev("\"a\"", "5"), opt, "day3.jsonl");
  REQUIRE_FALSE(warm.end.has_value());
  CHECK(warm.end.error().kind == ev::ErrorKind::kState);
}

// ---- --alert and --min-score ----

TEST_CASE("score: --min-score and --alert drop the others and count what is written") {
  TempDir dir;
  ScoreOptions opt;
  opt.model = dir.file("m.json", R"({"features":[{"expr":"x","weight":1}]})");
  opt.min_score = 2;
  auto o = run(dir, "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n{\"y\":1}\n", opt);
  REQUIRE(o.end.has_value());
  // A null feature adds 0: score 0 for the last.
  CHECK(o.out == "{\"x\":2,\"score\":2}\n{\"x\":3,\"score\":3}\n");
  CHECK(o.report.dropped == 2);
  CHECK(o.extra("alerts") == 2);
  opt.alert = "x != 3";
  o = run(dir, "{\"x\":1}\n{\"x\":2}\n{\"x\":3}\n", opt);
  CHECK(o.out == "{\"x\":2,\"score\":2}\n");
  CHECK(o.report.dropped == 2);
  CHECK(o.extra("alerts") == 1);
}

TEST_CASE("score: with nothing to add an event passes byte for byte") {
  TempDir dir;
  ScoreOptions opt;
  opt.alert = "amount > 1 or missing";  // null does not hold
  const std::string keep = "{ \"amount\" : 5.50 ,\"x\":[1, 2],\"s\":\"\\u00e9\" }\n";
  auto o = run(dir, keep + "{\"amount\":1}\n" + keep, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == keep + keep);
  CHECK(o.report.dropped == 1);
  CHECK(o.extra("alerts") == 2);
  bool has_flagged = false;
  for (const auto& [k, v] : o.report.extra) has_flagged = has_flagged || k == "flagged";
  CHECK_FALSE(has_flagged);  // no rules
}

// ---- errors ----

TEST_CASE("score: a runtime error rejects the event naming the expression and column") {
  TempDir dir;
  ScoreOptions opt;
  opt.sets = {"d = amount * 2"};
  opt.rules = {"big: d > limit"};
  opt.segments = {"x: big and flag"};
  opt.alert = "d + note > 0";
  auto o = run(dir,
               "{\"amount\":\"12\"}\n"                        // --set
               "{\"amount\":1,\"limit\":\"a\"}\n"             // rule
               "{\"amount\":9,\"limit\":1,\"flag\":3}\n"      // segment
               "{\"amount\":1,\"limit\":5,\"note\":\"n\"}\n"  // --alert
               "{\"amount\":1,\"limit\":5,\"note\":1}\n",     // fine
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 4);
  CHECK(o.out ==
        "{\"amount\":1,\"limit\":5,\"note\":1,\"d\":2,\"flags\":[],\"segment\":\"other\"}\n");
  CHECK(has(o.rejects, "--set d, column 8: '*' needs numbers, got string and number"));
  CHECK(has(o.rejects, "rule big, column 3: '>' cannot compare number and string"));
  CHECK(has(o.rejects, "--segment x, column 5: 'and' needs booleans, got number"));
  CHECK(has(o.rejects, "--alert, column 3: '+' needs numbers or strings, got number and string"));
}

TEST_CASE("score: an unreadable time field read by an expression is a bad event") {
  TempDir dir;
  ScoreOptions opt;
  opt.rules = {"night: hour(ts) < 6"};
  auto o = run(dir, "{\"ts\":\"garbage\"}\n{\"ts\":\"2024-05-01T01:00:00Z\"}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 1);
  CHECK(o.out == "{\"ts\":\"2024-05-01T01:00:00Z\",\"flags\":[\"night\"]}\n");
}

TEST_CASE("score: malformed expressions are usage errors with the column") {
  ScoreOptions opt;
  opt.sets = {"d = (amount + 1"};
  CHECK(usage(opt).starts_with("--set d: column 12: "));
  opt = {};
  opt.rules = {"r: amount >"};
  CHECK(usage(opt).starts_with("rule r: column 9: "));
  opt = {};
  opt.segments = {"s: nosuch(1)"};
  CHECK(usage(opt).starts_with("--segment s: column 1: unknown function 'nosuch'"));
  opt = {};
  opt.alert = "\"a\" * 2";
  CHECK(usage(opt).starts_with("--alert: column 5: '*' needs numbers"));
  opt = {};
  opt.alert = "x == 1 +";
  CHECK(has(usage(opt), "x == 1 +\n"));  // the expression and a caret line
  opt = {};
  opt.segments = {"s true"};
  CHECK(has(usage(opt), "--segment: expected 'label: EXPR'"));
}
