#include "libcore/pipeline/runner.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/stages/ingest.h"
#include "libcore/time/clock.h"

namespace fs = std::filesystem;
using ev::pipeline::OnError;
using ev::pipeline::RunOptions;
using ev::pipeline::RunReport;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/ev-runner-test.XXXXXX";
    int fd = ::mkstemp(tmpl);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { fs::remove(path); }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Passes events through; marks control lines it saw so order can be checked.
class Recorder final : public ev::pipeline::Stage {
 public:
  ev::Status on_event(ev::json::Event& e, ev::pipeline::Emitter& out) override {
    return out.emit(e.raw());
  }
  ev::Status on_finish(ev::pipeline::Emitter& out) override {
    finished = true;
    return out.emit(R"({"finished":true})");
  }
  bool finished = false;
};

struct Outcome {
  ev::Result<ev::pipeline::RunEnd> end;
  std::string out;
  RunReport report;
};

Outcome run_on(const std::string& input, RunOptions opt, ev::pipeline::Stage& stage) {
  TempFile in(input);
  TempFile out("");
  opt.inputs = {in.path};
  opt.output = out.path;
  opt.quiet = true;
  ev::diag::set_quiet(true);  // the warnings are pinned by the end-to-end cases
  Outcome o{ev::pipeline::RunEnd{}, {}, {}};
  o.end = ev::pipeline::run(opt, stage, o.report);
  o.out = slurp(out.path);
  return o;
}

}  // namespace

TEST_CASE("runner: passes events and control lines through in order") {
  Recorder stage;
  std::string input =
      "{\"a\":1}\n{\"$ev\":\"barrier\",\"id\":1}\n{\"a\":2}\n{\"$ev\":\"watermark\",\"t\":0}\n";
  auto o = run_on(input, {}, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.out == input + "{\"finished\":true}\n");
  CHECK(o.report.in == 2);
  CHECK(o.report.control == 2);
  CHECK(o.report.out == 3);
  CHECK(stage.finished);
}

TEST_CASE("runner: bad lines are skipped by default and the others all pass") {
  Recorder stage;
  std::string input =
      std::string("{\"a\":1}\n[1,2]\n{\"b\":\"\xff\"}\n{\"c\":\"x\0\"}\n{\"d\":4}\nnot json\n", 46);
  auto o = run_on(input, {}, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"a\":1}\n{\"d\":4}\n{\"finished\":true}\n");
  CHECK(o.report.in == 6);
  CHECK(o.report.skipped == 4);
}

TEST_CASE("runner: --on-error fail stops with a data error naming source and line") {
  Recorder stage;
  RunOptions opt;
  opt.on_error = OnError::kFail;
  auto o = run_on("{\"a\":1}\n{\"a\":\n{\"a\":3}\n", opt, stage);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kData);
  CHECK(o.end.error().where.ends_with(":2"));
  CHECK(o.end.error().message == "not a JSON object");
}

TEST_CASE("runner: --reject writes envelopes; counts add up") {
  Recorder stage;
  TempFile rej("");
  RunOptions opt;
  opt.reject = rej.path;
  auto o = run_on("{\"a\":1}\n{\"a\":\n{\"a\":3}\n", opt, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 1);
  CHECK(o.report.in == o.report.out - 1 + o.report.rejected);  // -1: the finish line
  auto env = slurp(rej.path);
  CHECK(env.find("\"error\":\"not a JSON object\"") != std::string::npos);
  CHECK(env.find("\"line\":2") != std::string::npos);
  CHECK(env.find("\"raw\":\"{\\\"a\\\":\"") != std::string::npos);
}

TEST_CASE("runner: --check-json catches malformed JSON shaped like an object") {
  Recorder stage;
  RunOptions opt;
  opt.check_json = true;
  auto o = run_on("{\"a\":1}\n{\"a\":}\n{\"a\":tru}\n", opt, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.skipped == 2);
  CHECK(o.out == "{\"a\":1}\n{\"finished\":true}\n");
}

TEST_CASE("runner: oversize lines are bad events; the next line is intact") {
  Recorder stage;
  RunOptions opt;
  opt.max_line = 100;
  std::string big = "{\"x\":\"" + std::string(500, 'x') + "\"}";
  auto o = run_on("{\"a\":1}\n" + big + "\n{\"a\":3}", opt, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.skipped == 1);
  CHECK(o.out == "{\"a\":1}\n{\"a\":3}\n{\"finished\":true}\n");
}

TEST_CASE("runner: reject without a sink is a usage error") {
  Recorder stage;
  RunOptions opt;
  opt.on_error = OnError::kReject;
  auto o = run_on("{}\n", opt, stage);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kUsage);
}

TEST_CASE("runner: ingest --meta splices the origin; pacing flushes and sleeps") {
  ev::time::ManualClock clock;
  auto stage = ev::stages::make_ingest({.meta = true, .rate = 10}, clock);
  REQUIRE(stage.has_value());
  auto o = run_on("{\"a\":1}\n\n{}\n", {}, **stage);
  REQUIRE(o.end.has_value());
  CHECK(o.out.find("{\"a\":1,\"_src\":{\"file\":\"/tmp/ev-runner-test.") == 0);
  CHECK(o.out.find("\"line\":1}}\n") != std::string::npos);
  CHECK(o.out.find("{\"_src\":{\"file\":") != std::string::npos);
  CHECK(o.out.find("\"line\":3}}\n") != std::string::npos);
  CHECK(clock.sleeps() == 1);  // the second event waits 100 ms
  CHECK(clock.mono_ns() == 100'000'000);
}

TEST_CASE("runner: a stop request ends the run as interrupted, after finishing") {
  Recorder stage;
  ev::request_stop(15);
  auto o = run_on("{\"a\":1}\n", {}, stage);
  ev::clear_stop();
  REQUIRE(o.end.has_value());
  CHECK(o.end->interrupted);
  CHECK(stage.finished);
}

TEST_CASE("runner: a last line without newline passes through without one") {
  Recorder stage;  // its finish line would follow, so use a plain pass-through instead
  ev::time::ManualClock clock;
  auto ingest = ev::stages::make_ingest({}, clock);
  REQUIRE(ingest.has_value());
  auto o = run_on("{\"a\":1}\n{\"b\":2}", {}, **ingest);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"a\":1}\n{\"b\":2}");
  auto o2 = run_on("{\"a\":1}\n{\"b\":2}", {}, stage);
  CHECK(o2.out == "{\"a\":1}\n{\"b\":2}\n{\"finished\":true}\n");
  auto o3 = run_on("{\"a\":1}\n[bad]", {}, **ingest);
  CHECK(o3.out == "{\"a\":1}\n");
}

TEST_CASE("runner: with --check-json, invalid UTF-8 and NUL bytes keep their reasons") {
  Recorder stage;
  TempFile rej("");
  RunOptions opt;
  opt.check_json = true;
  opt.reject = rej.path;
  auto o = run_on(std::string("{\"a\":\"\xff\"}\n{\"a\":\"x\0\"}\n{\"a\":1}\n", 29), opt, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 2);
  auto env = slurp(rej.path);
  CHECK(env.find("\"error\":\"invalid UTF-8\"") != std::string::npos);
  CHECK(env.find("\"error\":\"NUL byte in line\"") != std::string::npos);
  CHECK(o.out == "{\"a\":1}\n{\"finished\":true}\n");
}

TEST_CASE("runner: a failed run leaves an existing output as it was; in and out may be one file") {
  Recorder stage;
  TempFile in("{\"a\":1}\n");
  TempFile out("precious\n");
  RunOptions opt;
  opt.quiet = true;
  opt.inputs = {in.path, "/nonexistent/input.jsonl"};
  opt.output = out.path;
  RunReport report;
  auto end = ev::pipeline::run(opt, stage, report);
  REQUIRE_FALSE(end.has_value());
  CHECK(end.error().kind == ev::ErrorKind::kIo);
  CHECK(slurp(out.path) == "precious\n");
  CHECK(fs::exists(out.path + ".partial"));  // what the failed run wrote, kept aside
  fs::remove(out.path + ".partial");

  // A usage error is found before any file is touched.
  opt.inputs = {in.path};
  opt.on_error = OnError::kReject;
  Recorder stage2;
  CHECK(ev::pipeline::run(opt, stage2, report).error().kind == ev::ErrorKind::kUsage);
  CHECK(slurp(out.path) == "precious\n");
  CHECK_FALSE(fs::exists(out.path + ".partial"));

  // Reading and writing the same file: the input is read whole before the rename.
  opt.on_error = OnError::kDefault;
  opt.inputs = {in.path};
  opt.output = in.path;
  Recorder stage3;
  REQUIRE(ev::pipeline::run(opt, stage3, report).has_value());
  CHECK(slurp(in.path) == "{\"a\":1}\n{\"finished\":true}\n");
}

TEST_CASE("runner: a closed dead-letter sink is an I/O error, not a quiet end") {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);  // nobody reads the dead letters
  ev::time::ManualClock clock;
  auto ingest = ev::stages::make_ingest({}, clock);
  REQUIRE(ingest.has_value());
  RunOptions opt;
  opt.reject = "/dev/fd/" + std::to_string(fds[1]);
  auto o = run_on("{\"a\":1}\n[bad]\n", opt, **ingest);
  ::close(fds[1]);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kIo);
  CHECK(o.end.error().message.find("dead-letter sink closed") != std::string::npos);
}

TEST_CASE("runner: --check-json accepts numbers of any magnitude, rejects malformed ones") {
  Recorder stage;
  TempFile rej("");
  RunOptions opt;
  opt.check_json = true;
  opt.reject = rej.path;
  auto o = run_on("{\"a\":1e400}\n{\"b\":99999999999999999999999}\n{\"c\":01}\n{\"d\":1.}\n", opt,
                  stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.rejected == 2);
  CHECK(o.out == "{\"a\":1e400}\n{\"b\":99999999999999999999999}\n{\"finished\":true}\n");
}

TEST_CASE("runner: on_end comes last, with the run's time and whether it was complete") {
  struct Ender final : ev::pipeline::Stage {
    ev::Status on_event(ev::json::Event& e, ev::pipeline::Emitter& out) override {
      return out.emit(e.raw());
    }
    ev::Status on_end(RunReport& report, ev::pipeline::Outcome outcome) override {
      seconds = report.seconds;
      was_complete = outcome == ev::pipeline::Outcome::kComplete;
      ++calls;
      return {};
    }
    double seconds = -1;
    bool was_complete = false;
    int calls = 0;
  };
  Ender stage;
  auto o = run_on("{\"a\":1}\n", {}, stage);
  REQUIRE(o.end.has_value());
  CHECK(stage.calls == 1);
  CHECK(stage.seconds > 0);
  CHECK(stage.seconds == o.report.seconds);
  CHECK(stage.was_complete);
  Ender failed;
  RunOptions opt;
  opt.on_error = OnError::kFail;
  auto f = run_on("[bad]\n", opt, failed);
  REQUIRE_FALSE(f.end.has_value());
  CHECK(failed.calls == 1);
  CHECK_FALSE(failed.was_complete);
}

// ---- --where ----

TEST_CASE("runner: --where drops events that are false or null and counts them") {
  Recorder stage;
  RunOptions opt;
  opt.where = "amount > 10 or vip";
  auto o = run_on(
      "{\"amount\":20}\n{\"amount\":5}\n{\"x\":1}\n{\"amount\":5,\"vip\":true}\n"
      "{\"$ev\":\"barrier\",\"id\":1}\n{\"amount\":11}\n",
      opt, stage);
  REQUIRE(o.end.has_value());
  // {"amount":5} is false, {"x":1} null: both dropped; control lines are not filtered.
  CHECK(o.out ==
        "{\"amount\":20}\n{\"amount\":5,\"vip\":true}\n{\"$ev\":\"barrier\",\"id\":1}\n"
        "{\"amount\":11}\n{\"finished\":true}\n");
  CHECK(o.report.in == 5);
  CHECK(o.report.dropped == 2);
  CHECK(o.report.control == 1);
  REQUIRE(o.report.extra.size() == 1);
  CHECK(o.report.extra[0].first == "filtered");
  CHECK(o.report.extra[0].second == 2);
}

TEST_CASE("runner: without --where there is no filtered counter") {
  Recorder stage;
  auto o = run_on("{\"a\":1}\n", {}, stage);
  REQUIRE(o.end.has_value());
  CHECK(o.report.extra.empty());
}

TEST_CASE("runner: a runtime error in --where is a bad event that follows --on-error") {
  const std::string input =
      "{\"amount\":20}\n{\"amount\":\"12\"}\n{\"amount\":30}\n{\"amount\":[1]}\n";
  SUBCASE("reject: an envelope naming --where and the column") {
    Recorder stage;
    TempFile rej("");
    RunOptions opt;
    opt.where = "amount * 2 > 30";
    opt.reject = rej.path;
    auto o = run_on(input, opt, stage);
    REQUIRE(o.end.has_value());
    CHECK(o.out == "{\"amount\":20}\n{\"amount\":30}\n{\"finished\":true}\n");
    CHECK(o.report.rejected == 2);
    CHECK(o.report.dropped == 0);
    const std::string env = slurp(rej.path);
    CHECK(env.find("\"error\":\"--where, column 8: '*' needs numbers, got string and number\"") !=
          std::string::npos);
    CHECK(env.find("\"line\":2") != std::string::npos);
    CHECK(env.find("\"raw\":\"{\\\"amount\\\":\\\"12\\\"}\"") != std::string::npos);
    CHECK(env.find("\"line\":4") != std::string::npos);
  }
  SUBCASE("skip") {
    Recorder stage;
    RunOptions opt;
    opt.where = "amount * 2 > 30";
    auto o = run_on(input, opt, stage);
    REQUIRE(o.end.has_value());
    CHECK(o.report.skipped == 2);
    CHECK(o.out == "{\"amount\":20}\n{\"amount\":30}\n{\"finished\":true}\n");
  }
  SUBCASE("fail: a data error at the line") {
    Recorder stage;
    RunOptions opt;
    opt.where = "amount * 2 > 30";
    opt.on_error = OnError::kFail;
    auto o = run_on(input, opt, stage);
    REQUIRE_FALSE(o.end.has_value());
    CHECK(o.end.error().kind == ev::ErrorKind::kData);
    CHECK(o.end.error().where.ends_with(":2"));
    CHECK(o.end.error().message == "--where, column 8: '*' needs numbers, got string and number");
  }
}

TEST_CASE("runner: a --where that does not compile fails the run with kUsage and the column") {
  Recorder stage;
  RunOptions opt;
  opt.where = "amount >";
  auto o = run_on("{\"amount\":1}\n", opt, stage);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kUsage);
  CHECK(o.end.error().message.starts_with("--where: column 9: "));
  CHECK(o.out.empty());
  CHECK_FALSE(stage.finished);
  opt.where = "\"a\" * 2";
  auto checked = ev::pipeline::check_options(opt);
  REQUIRE_FALSE(checked.has_value());
  CHECK(checked.error().message.starts_with("--where: column 5: '*' needs numbers"));
}

TEST_CASE("runner: --where reads the time field by time_field and time_unit") {
  // 1714521600 s is 2024-05-01T00:00:00Z.
  const std::string input =
      "{\"t\":1714521600,\"ts\":\"x\"}\n{\"t\":1714521599}\n{\"t\":\"2024-06-01T00:00:00Z\"}\n";
  SUBCASE("seconds") {
    Recorder stage;
    RunOptions opt;
    opt.where = "t >= time(\"2024-05-01T00:00:00Z\")";
    opt.time_field = "t";
    opt.time_unit = ev::time::EpochUnit::kSeconds;
    auto o = run_on(input, opt, stage);
    REQUIRE(o.end.has_value());
    CHECK(o.out ==
          "{\"t\":1714521600,\"ts\":\"x\"}\n{\"t\":\"2024-06-01T00:00:00Z\"}\n"
          "{\"finished\":true}\n");
    CHECK(o.report.dropped == 1);
  }
  SUBCASE("milliseconds: the same numbers are in January 1970") {
    Recorder stage;
    RunOptions opt;
    opt.where = "t < time(\"1970-01-31T00:00:00Z\")";
    opt.time_field = "t";
    opt.time_unit = ev::time::EpochUnit::kMillis;
    auto o = run_on(input, opt, stage);
    REQUIRE(o.end.has_value());
    CHECK(o.out == "{\"t\":1714521600,\"ts\":\"x\"}\n{\"t\":1714521599}\n{\"finished\":true}\n");
  }
  SUBCASE("ts is then a plain field; an unreadable time field is a bad event") {
    Recorder stage;
    RunOptions opt;
    opt.where = "ts == \"x\" or t > time(\"2024-01-01T00:00:00Z\")";
    opt.time_field = "t";
    auto o = run_on(input + "{\"t\":\"soon\"}\n", opt, stage);
    REQUIRE(o.end.has_value());
    CHECK(o.out ==
          "{\"t\":1714521600,\"ts\":\"x\"}\n{\"t\":1714521599}\n{\"t\":\"2024-06-01T00:00:00Z\"}\n"
          "{\"finished\":true}\n");
    CHECK(o.report.skipped == 1);
  }
}
