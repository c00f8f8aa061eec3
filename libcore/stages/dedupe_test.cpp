#include "libcore/stages/dedupe.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/pipeline/runner.h"
#include "libcore/testing/stage_outcome.h"
#include "libcore/testing/temp_dir.h"

using ev::stages::DedupeOptions;
using ev::stages::Keep;
using ev::stages::Late;
using ev::testing::TempDir;

namespace {

struct Outcome : ev::testing::StageOutcome {
  std::string dups;
};

// Runs ev-dedupe's stage over `inputs` (files in `dir`, written first when given
// content) as the program would.
Outcome run(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& inputs,
            DedupeOptions opt) {
  opt.duplicates = dir.at("dups.jsonl");
  ev::pipeline::RunOptions ro;
  ro.program = "ev-dedupe";
  for (const auto& [name, content] : inputs) {
    ro.inputs.push_back(content.empty() ? dir.at(name) : dir.file(name, content));
  }
  Outcome o;
  ev::testing::run_stage(o, dir, ro, ev::stages::make_dedupe(opt));
  o.dups = dir.read("dups.jsonl");
  return o;
}

Outcome run(const TempDir& dir, const std::string& input, DedupeOptions opt) {
  return run(dir, {{"in.jsonl", input}}, std::move(opt));
}

std::string ev_at(const std::string& id, int second, const std::string& extra = "") {
  char ts[32];
  std::snprintf(ts, sizeof ts, "2024-05-01T10:%02d:%02dZ", second / 60, second % 60);
  return "{\"id\":\"" + id + "\",\"ts\":\"" + ts + "\"" + extra + "}\n";
}

constexpr int64_t kSec = 1'000'000'000;

}  // namespace

TEST_CASE("dedupe: the first event of a key passes byte for byte, repeats are dropped") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  auto o = run(dir, "{\"id\":1, \"v\":\"a\"}\n{\"id\":2}\n{ \"id\" : 1 }\n{\"id\":\"1\"}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"id\":1, \"v\":\"a\"}\n{\"id\":2}\n{\"id\":\"1\"}\n");
  CHECK(o.report.in == 4);
  CHECK(o.report.dropped == 1);
  CHECK(o.extra("duplicates") == 1);
  CHECK(o.extra("keys") == 3);
  // The audit trail: the dropped line, where it was, and its key.
  CHECK(o.dups.find(R"({"key":{"id":1},"key_hash":")") == 0);
  CHECK(o.dups.find(R"("line":3,"raw":"{ \"id\" : 1 }"})") != std::string::npos);
}

TEST_CASE("dedupe: the whole event is the default key, compared canonically") {
  TempDir dir;
  auto o =
      run(dir, "{\"a\":1,\"b\":[1,2]}\n{ \"b\": [1, 2], \"a\": 1 }\n{\"a\":1,\"b\":[2,1]}\n", {});
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"a\":1,\"b\":[1,2]}\n{\"a\":1,\"b\":[2,1]}\n");
  CHECK(o.dups.find("\"key\"") == std::string::npos);  // no key fields to show
}

TEST_CASE("dedupe: several key fields; a missing one is a bad event, null is a value") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "u, d.os";
  auto o = run(dir,
               "{\"u\":1,\"d\":{\"os\":\"ios\"}}\n{\"u\":1,\"d\":{\"os\":\"android\"}}\n"
               "{\"u\":1}\n{\"u\":1,\"d\":{\"os\":null}}\n{\"u\":1,\"d\":{\"os\":null}}\n"
               "{\"d\":{\"os\":\"ios\"},\"u\":1}\n",
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"u\":1,\"d\":{\"os\":\"ios\"}}\n{\"u\":1,\"d\":{\"os\":\"android\"}}\n"
        "{\"u\":1,\"d\":{\"os\":null}}\n");
  CHECK(o.report.rejected == 1);
  CHECK(o.rejects.find(R"("error":"key field d.os: missing")") != std::string::npos);
  CHECK(o.report.in == o.report.out + o.report.dropped + o.report.rejected);
}

TEST_CASE("dedupe: a key is forgotten once the watermark passes its last sighting + within") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  // a@0; a@5 repeat (last sighting 5); b@16 moves the watermark to 16 > 5+10: a forgotten.
  std::string in = ev_at("a", 0) + ev_at("a", 5) + ev_at("b", 16) + ev_at("a", 17) +
                   ev_at("a", 20) + ev_at("c", 40) + ev_at("a", 29);
  auto o = run(dir, in, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == ev_at("a", 0) + ev_at("b", 16) + ev_at("a", 17) + ev_at("c", 40) + ev_at("a", 29));
  CHECK(o.extra("duplicates") == 2);
  // a@29 is before the watermark (40) by more than 10s: late, passed by default.
  CHECK(o.extra("expired") == 1);
}

TEST_CASE("dedupe: --max-delay holds the watermark back for out-of-order events") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  opt.max_delay = 30 * kSec;
  std::string in = ev_at("a", 0) + ev_at("b", 35) + ev_at("a", 8);
  auto o = run(dir, in, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == ev_at("a", 0) + ev_at("b", 35));  // watermark 5: a is still known
  CHECK(o.extra("expired") == 0);
}

TEST_CASE("dedupe: late events are passed, dropped or rejected; a known key is still a repeat") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  std::string in = ev_at("a", 0) + ev_at("b", 30) + ev_at("b", 1) + ev_at("z", 2);
  auto pass = run(dir, in, opt);
  CHECK(pass.out == ev_at("a", 0) + ev_at("b", 30) + ev_at("z", 2));
  CHECK(pass.extra("duplicates") == 1);  // b@1 is late but b is known
  CHECK(pass.extra("expired") == 1);
  opt.late = Late::kDrop;
  auto drop = run(dir, in, opt);
  CHECK(drop.out == ev_at("a", 0) + ev_at("b", 30));
  CHECK(drop.report.dropped == 2);
  opt.late = Late::kReject;
  auto rej = run(dir, in, opt);
  CHECK(rej.out == ev_at("a", 0) + ev_at("b", 30));
  CHECK(rej.report.rejected == 1);
  CHECK(rej.rejects.find("late: event time 2024-05-01T10:00:02.000Z is more than --within 10s "
                         "before the watermark 2024-05-01T10:00:30.000Z") != std::string::npos);
}

TEST_CASE("dedupe: a bad or missing time is a bad event naming the field") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  opt.time_field = "at";
  auto o =
      run(dir, "{\"id\":1,\"at\":\"yesterday\"}\n{\"id\":2}\n{\"id\":3,\"at\":1714557600}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == "{\"id\":3,\"at\":1714557600}\n");
  CHECK(o.rejects.find("time field at: not a time") != std::string::npos);
  CHECK(o.rejects.find("time field at: missing") != std::string::npos);
}

TEST_CASE("dedupe: a watermark line moves the watermark and is forwarded in order") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  const std::string wm = R"({"$ev":"watermark","t":"2024-05-01T10:01:00Z"})";
  auto o = run(dir, ev_at("a", 0) + wm + "\n" + ev_at("a", 55), opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == ev_at("a", 0) + wm + "\n" + ev_at("a", 55));  // a forgotten: passes
  CHECK(o.report.control == 1);
}

TEST_CASE("dedupe: --keep last emits the newest event of a key when its horizon closes") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  opt.keep = Keep::kLast;
  std::string in = ev_at("a", 0, ",\"n\":1") + ev_at("b", 1) + ev_at("a", 4, ",\"n\":2") +
                   ev_at("a", 3, ",\"n\":3") + ev_at("c", 30) + ev_at("b", 31);
  auto o = run(dir, in, opt);
  REQUIRE(o.end.has_value());
  // At 30 both horizons have closed (b: 1+10, a: 4+10): b first (older), then a's
  // newest (n:2; n:3 is older by event time). The end of input releases c and b.
  CHECK(o.out == ev_at("b", 1) + ev_at("a", 4, ",\"n\":2") + ev_at("c", 30) + ev_at("b", 31));
  CHECK(o.report.dropped == 2);
  CHECK(o.report.in == o.report.out + o.report.dropped);
  CHECK(o.dups.find("\\\"n\\\":1") != std::string::npos);
  CHECK(o.dups.find("\\\"n\\\":3") != std::string::npos);
}

TEST_CASE("dedupe: --max-keys evicts the keys nearest expiry and counts them") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.max_keys = 1000;
  std::string in;
  for (int i = 0; i < 5000; ++i) in += "{\"id\":" + std::to_string(i) + "}\n";
  in += "{\"id\":4999}\n{\"id\":0}\n";  // the newest is remembered, the oldest was evicted
  auto o = run(dir, in, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.report.out == 5001);
  CHECK(o.extra("evicted") >= 4000);
  CHECK(o.extra("keys") <= 1000);
  // --keep last emits evicted events early rather than losing them.
  opt.keep = Keep::kLast;
  opt.max_keys = 10;
  auto last = run(dir, in, opt);
  REQUIRE(last.end.has_value());
  // 0..4999 once each, 4999's repeat dropped, 0 again after its eviction.
  CHECK(last.report.out == 5001);
  CHECK(last.report.dropped == 1);
  CHECK(last.extra("evicted") == 4991);
}

TEST_CASE("dedupe: processing time uses the clock, and keep-last releases on idle") {
  TempDir dir;
  ev::time::ManualClock clock(1000 * kSec);
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 10 * kSec;
  opt.processing_time = true;
  opt.clock = &clock;
  auto o = run(dir, "{\"id\":1}\n{\"id\":1}\n", opt);
  CHECK(o.out == "{\"id\":1}\n");
}

TEST_CASE("dedupe: --state carries keys across runs; files read are skipped") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.within = 60 * kSec;
  opt.state = dir.at("s.state");
  auto first = run(dir, {{"day1.jsonl", ev_at("a", 0) + ev_at("b", 1)}}, opt);
  REQUIRE(first.end.has_value());
  CHECK(first.extra("checkpoints") == 1);
  // day1 again is skipped (read before); day2's a repeats day1's.
  auto second = run(dir, {{"day1.jsonl", ""}, {"day2.jsonl", ev_at("a", 2) + ev_at("c", 3)}}, opt);
  REQUIRE(second.end.has_value());
  CHECK(second.out == ev_at("c", 3));
  CHECK(second.report.in == 2);
  // Another key spec cannot reuse the state.
  opt.key = "ts";
  auto other = run(dir, {{"day3.jsonl", ev_at("x", 4)}}, opt);
  REQUIRE_FALSE(other.end.has_value());
  CHECK(other.end.error().kind == ev::ErrorKind::kState);
  CHECK(other.end.error().message.find("written by a run with --key id") != std::string::npos);
}

TEST_CASE("dedupe: a stopped run resumes after the last line it handled") {
  TempDir dir;
  DedupeOptions opt;
  opt.key = "id";
  opt.keep = Keep::kLast;
  opt.within = 60 * kSec;
  opt.state = dir.at("s.state");
  std::string in;
  for (int i = 0; i < 40; ++i) in += ev_at("k" + std::to_string(i % 7), i);
  dir.file("in.jsonl", in);
  // Stop after line 20: a stage that requests a stop mid-run, as SIGTERM does.
  struct StopAt final : ev::pipeline::Stage {
    ev::pipeline::Stage& inner;
    uint64_t at;
    StopAt(ev::pipeline::Stage& s, uint64_t n) : inner(s), at(n) {}
    ev::Status on_event(ev::json::Event& e, ev::pipeline::Emitter& out) override {
      auto st = inner.on_event(e, out);
      if (e.line() == at) ev::request_stop(15);
      return st;
    }
    ev::Status on_finish(ev::pipeline::Emitter& out) override { return inner.on_finish(out); }
    ev::Status on_stop(ev::pipeline::Emitter& out) override { return inner.on_stop(out); }
    ev::Status on_end(ev::pipeline::RunReport& r, ev::pipeline::Outcome o) override {
      return inner.on_end(r, o);
    }
    ev::Result<uint64_t> on_source_begin(std::string_view s, bool r) override {
      return inner.on_source_begin(s, r);
    }
    void on_source_end(std::string_view s) override { inner.on_source_end(s); }
  };
  ev::pipeline::RunOptions ro;
  ro.inputs = {dir.at("in.jsonl")};
  ro.output = dir.at("out1.jsonl");
  ro.quiet = true;
  auto stage = ev::stages::make_dedupe(opt);
  REQUIRE(stage.has_value());
  StopAt stopper(**stage, 20);
  ev::pipeline::RunReport r1;
  auto end1 = ev::pipeline::run(ro, stopper, r1);
  ev::clear_stop();
  REQUIRE(end1.has_value());
  CHECK(end1->interrupted);
  CHECK(dir.read("out1.jsonl").empty());  // keep last: everything is still held

  auto o = run(dir, {{"in.jsonl", ""}}, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.report.in == 20);              // lines 21..40 only
  CHECK(o.extra("restored_held") == 7);  // the 7 keys held at the stop
  // The same as one uninterrupted run: the newest event of each key.
  std::string expect;
  for (int i = 33; i < 40; ++i) expect += ev_at("k" + std::to_string(i % 7), i);
  CHECK(o.out == expect);
}

TEST_CASE("dedupe: a corrupt state file is an error, never an empty start") {
  TempDir dir;
  DedupeOptions opt;
  opt.state = dir.file("s.state", "not a state file\n");
  auto o = run(dir, "{\"a\":1}\n", opt);
  REQUIRE_FALSE(o.end.has_value());
  CHECK(o.end.error().kind == ev::ErrorKind::kState);
  CHECK(o.end.error().to_string().find("not an evkit state file") != std::string::npos);
}

TEST_CASE("dedupe: option checks") {
  DedupeOptions opt;
  opt.processing_time = true;
  CHECK_FALSE(ev::stages::make_dedupe(opt).has_value());
  opt = {};
  opt.key = "a,,b";
  CHECK_FALSE(ev::stages::make_dedupe(opt).has_value());
  opt = {};
  opt.max_memory = 1000;
  CHECK_FALSE(ev::stages::make_dedupe(opt).has_value());
  opt = {};
  opt.duplicates = "-";
  CHECK_FALSE(ev::stages::make_dedupe(opt).has_value());
}
