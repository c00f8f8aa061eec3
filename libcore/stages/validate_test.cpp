#include "libcore/stages/validate.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "libcore/base/diag.h"
#include "libcore/pipeline/runner.h"
#include "libcore/testing/temp_dir.h"

namespace fs = std::filesystem;
using ev::stages::ValidateOptions;

namespace {

using ev::testing::TempDir;

struct Outcome {
  ev::Result<ev::pipeline::RunEnd> end;
  std::string out, rejects;
  ev::pipeline::RunReport report;
};

constexpr const char* kSchema = R"({
  "type": "object",
  "required": ["id", "n"],
  "properties": {
    "id": {"type": "string", "pattern": "^u[0-9]+$"},
    "n": {"type": "integer", "minimum": 0},
    "x": {"type": "number"},
    "ok": {"type": "boolean"},
    "tier": {"type": "string", "default": "free"},
    "d": {"type": "object", "properties": {"os": {"enum": ["ios", "android"], "default": "ios"}}},
    "ts": {"type": "string", "format": "date-time"}
  }
})";

Outcome run(const TempDir& dir, const std::string& input, ValidateOptions opt,
            const std::string& schema = kSchema) {
  opt.schema = dir.file("s.json", schema);
  auto stage = ev::stages::make_validate(opt);
  REQUIRE_MESSAGE(stage.has_value(), (stage ? "" : stage.error().to_string()));
  ev::pipeline::RunOptions ro;
  ro.program = "ev-validate";
  ro.inputs = {dir.file("in.jsonl", input)};
  ro.output = (dir.path / "out.jsonl").string();
  ro.reject = (dir.path / "rej.jsonl").string();
  ro.quiet = true;
  ev::diag::set_quiet(true);
  Outcome o{ev::pipeline::RunEnd{}, {}, {}, {}};
  o.end = ev::pipeline::run(ro, **stage, o.report);
  o.out = dir.read("out.jsonl");
  o.rejects = dir.read("rej.jsonl");
  return o;
}

}  // namespace

TEST_CASE("validate stage: valid events pass byte for byte; invalid ones list every violation") {
  TempDir dir;
  std::string in = "{ \"id\" : \"u1\", \"n\": 1.0e0 }\n{\"id\":\"x\",\"n\":-1,\"x\":\"s\"}\n";
  auto o = run(dir, in, {});
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{ \"id\" : \"u1\", \"n\": 1.0e0 }\n");
  CHECK(o.report.rejected == 1);
  CHECK(o.rejects.find(R"("error":"schema: /id: )") != std::string::npos);
  CHECK(o.rejects.find("(+2 more)") != std::string::npos);
  CHECK(o.rejects.find(R"("keyword":"pattern")") != std::string::npos);
  CHECK(o.rejects.find(R"("keyword":"minimum")") != std::string::npos);
  CHECK(o.rejects.find(
            R"("instance_path":"/x","keyword":"type","schema_path":"/properties/x/type")") !=
        std::string::npos);
  CHECK(o.rejects.find("violations_truncated") == std::string::npos);
}

TEST_CASE("validate stage: --max-errors-per-event bounds the list and says so") {
  TempDir dir;
  ValidateOptions opt;
  opt.max_errors = 1;
  auto o = run(dir, "{\"id\":\"x\",\"n\":-1}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.rejects.find(R"("keyword":"minimum")") == std::string::npos);
  CHECK(o.rejects.find(R"("violations_truncated":true)") != std::string::npos);
  CHECK(o.rejects.find("(+1 or more)") != std::string::npos);
}

TEST_CASE("validate stage: duplicate keys, numbers out of range and bad JSON are bad events") {
  TempDir dir;
  std::string in =
      "{\"id\":\"u1\",\"n\":1,\"n\":2}\n"
      "{\"id\":\"u1\",\"n\":18446744073709551616}\n"
      "{\"id\":\"u1\",\"n\":1,\"x\":1e400}\n"
      "{\"id\":\"u1\",\"n\":1,}\n"
      "{\"id\":\"u1\",\"n\":1}\n";
  auto o = run(dir, in, {});
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"id\":\"u1\",\"n\":1}\n");
  CHECK(o.report.rejected == 4);
  CHECK(o.rejects.find("duplicate key /n") != std::string::npos);
  CHECK(o.rejects.find("out of range") != std::string::npos);
  CHECK(o.rejects.find("invalid JSON") != std::string::npos);
}

TEST_CASE("validate stage: --coerce, --apply-defaults and --normalize-time splice their changes") {
  TempDir dir;
  ValidateOptions opt;
  opt.normalize.coerce = true;
  opt.normalize.defaults = true;
  opt.normalize_time = "ts";
  std::string in =
      "{\"id\":\"u1\",\"n\":\"7\",\"x\":\"2.50\",\"ok\":\"true\",\"d\":{},\"ts\":1700000000123}\n"
      "{\"id\":\"u1\",\"n\":1,\"tier\":\"pro\",\"d\":{\"os\":\"android\"},"
      "\"ts\":\"2024-01-01T00:00:00.000Z\"}\n"
      "{\"id\":\"u1\",\"n\":\"7.5\"}\n"
      "{\"id\":\"u1\",\"n\":1,\"ts\":\"yesterday\"}\n"
      "{\"id\":\"u1\",\"n\":1,\"ts\":\"2024-01-01T01:00:00.5+01:00\"}\n";
  auto o = run(dir, in, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"id\":\"u1\",\"n\":7,\"x\":2.50,\"ok\":true,\"d\":{\"os\":\"ios\"},"
        "\"ts\":\"2023-11-14T22:13:20.123Z\",\"tier\":\"free\"}\n"
        "{\"id\":\"u1\",\"n\":1,\"tier\":\"pro\",\"d\":{\"os\":\"android\"},"
        "\"ts\":\"2024-01-01T00:00:00.000Z\"}\n"
        "{\"id\":\"u1\",\"n\":1,\"ts\":\"2024-01-01T00:00:00.500Z\",\"tier\":\"free\"}\n");
  CHECK(o.report.rejected == 2);  // "7.5" is not an integer; "yesterday" is not a time
  CHECK(o.rejects.find("ts: not a time") != std::string::npos);
  CHECK(o.rejects.find(R"("keyword":"type")") != std::string::npos);
}

TEST_CASE("validate stage: --time-out epoch-ms floors to the millisecond") {
  TempDir dir;
  ValidateOptions opt;
  opt.normalize_time = "ts";
  opt.time_out = "epoch-ms";
  std::string in =
      "{\"id\":\"u1\",\"n\":1,\"ts\":\"1969-12-31T23:59:59.9995Z\"}\n"
      "{\"id\":\"u1\",\"n\":1,\"ts\":1700000000}\n";
  auto o = run(dir, in, opt, R"({"properties":{"ts":{"type":"integer"}}})");
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"id\":\"u1\",\"n\":1,\"ts\":-1}\n"
        "{\"id\":\"u1\",\"n\":1,\"ts\":1700000000000}\n");
}

TEST_CASE("validate stage: --max-invalid fails the run with a summary; reports are written") {
  TempDir dir;
  ValidateOptions opt;
  opt.max_invalid = "10%";
  opt.report = (dir.path / "dq.json").string();
  opt.junit = (dir.path / "dq.xml").string();
  std::string in = "{\"id\":\"u1\",\"n\":1}\n{\"id\":\"u1\"}\nnot json\n";
  auto o = run(dir, in, opt);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kData);
  CHECK(o.end.error().message == "2 of 3 events invalid (66.67%), over --max-invalid 10%");
  std::string report = dir.read("dq.json");
  CHECK(report.find(R"("by_category":{"line":1,"schema":1})") != std::string::npos);
  CHECK(report.find(R"("passed":false)") != std::string::npos);
  CHECK(dir.read("dq.xml").find("failures=\"3\"") != std::string::npos);

  opt.max_invalid = "2";
  auto ok = run(dir, in, opt);
  CHECK(ok.end.has_value());
  CHECK(dir.read("dq.json").find(R"("passed":true)") != std::string::npos);
}

TEST_CASE("validate stage: schema and option errors are usage errors naming the file") {
  TempDir dir;
  ValidateOptions opt;
  opt.schema = dir.file("bad.json", R"({"type": 5})");
  auto s = ev::stages::make_validate(opt);
  REQUIRE_FALSE(s);
  CHECK(s.error().kind == ev::ErrorKind::kUsage);
  CHECK(s.error().to_string().find("bad.json") != std::string::npos);
  opt.schema = (dir.path / "missing.json").string();
  CHECK(ev::stages::make_validate(opt).error().kind == ev::ErrorKind::kUsage);
  opt.schema = dir.file("ok.json", "{}");
  opt.max_errors = 0;
  CHECK(ev::stages::make_validate(opt).error().kind == ev::ErrorKind::kUsage);
  opt.max_errors = 5;
  opt.normalize_time = "a..b";
  CHECK(ev::stages::make_validate(opt).error().kind == ev::ErrorKind::kUsage);
}

TEST_CASE("validate stage: --normalize-time wins over --coerce on the same field") {
  TempDir dir;
  ValidateOptions opt;
  opt.normalize.coerce = true;
  opt.normalize_time = "ts";
  opt.time_out = "epoch-ms";
  auto o = run(dir, "{\"id\":\"u1\",\"n\":1,\"ts\":\"1714557600\"}\n", opt,
               R"({"properties":{"ts":{"type":"integer"}}})");
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"id\":\"u1\",\"n\":1,\"ts\":1714557600000}\n");
}

TEST_CASE("validate stage: report files are created before any input is read") {
  TempDir dir;
  ValidateOptions opt;
  opt.schema = dir.file("s.json", "{}");
  opt.report = (dir.path / "no-such-dir" / "dq.json").string();
  auto bad_dir = ev::stages::make_validate(opt);
  REQUIRE_FALSE(bad_dir);
  CHECK(bad_dir.error().kind == ev::ErrorKind::kIo);
  opt.report = "-";
  auto to_stdout = ev::stages::make_validate(opt);
  REQUIRE_FALSE(to_stdout);
  CHECK(to_stdout.error().kind == ev::ErrorKind::kUsage);
  opt.report.clear();
  opt.junit = "/dev/stdout";
  CHECK(ev::stages::make_validate(opt).error().kind == ev::ErrorKind::kUsage);
  opt.events_on_stdout = false;  // -o FILE: stdout is free for the report
  CHECK(ev::stages::make_validate(opt).has_value());
  opt.junit.clear();
  opt.normalize_time = "";
  CHECK(ev::stages::make_validate(opt).error().kind == ev::ErrorKind::kUsage);
}

TEST_CASE("validate stage: a run stopped early writes its reports marked incomplete") {
  TempDir dir;
  ValidateOptions opt;
  opt.report = (dir.path / "dq.json").string();
  opt.junit = (dir.path / "dq.xml").string();
  opt.schema = dir.file("s.json", R"({"required":["id"]})");
  auto stage = ev::stages::make_validate(opt);
  REQUIRE(stage.has_value());
  ev::pipeline::RunOptions ro;
  ro.program = "ev-validate";
  ro.inputs = {dir.file("in.jsonl", "{\"id\":1}\n{}\n{\"id\":2}\n")};
  ro.output = (dir.path / "out.jsonl").string();
  ro.on_error = ev::pipeline::OnError::kFail;
  ro.quiet = true;
  ev::pipeline::RunReport report;
  auto end = ev::pipeline::run(ro, **stage, report);
  REQUIRE_FALSE(end.has_value());
  CHECK(dir.read("dq.json").find(R"("complete":false)") != std::string::npos);
  std::string junit = dir.read("dq.xml");
  CHECK(junit.find("name=\"incomplete run\"") != std::string::npos);
}
