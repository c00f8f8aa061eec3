#include "libcore/stages/window.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/testing/temp_dir.h"
#include "libcore/time/clock.h"

using ev::stages::EmitMode;
using ev::stages::WindowKind;
using ev::stages::WindowOptions;
using ev::testing::TempDir;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;

// Collects what a stage emits; rejects are recorded with their reason.
class Collector final : public ev::pipeline::Emitter {
 public:
  std::vector<std::string> lines, rejects;
  ev::pipeline::RunReport rep;
  ev::Status emit(std::string_view line) override {
    lines.emplace_back(line);
    ++rep.out;
    return {};
  }
  ev::Status emit_control(std::string_view line) override {
    lines.emplace_back(line);
    return {};
  }
  std::string& line_buffer() override { return buf_; }
  ev::Status end_line() override {
    lines.push_back(buf_);
    buf_.clear();
    ++rep.out;
    return {};
  }
  ev::Status reject(const ev::json::Event&, std::string_view reason, std::string_view) override {
    rejects.emplace_back(reason);
    return {};
  }
  ev::Status flush() override { return {}; }
  ev::pipeline::RunReport& report() override { return rep; }

 private:
  std::string buf_;
};

// Drives a window stage event by event, as the runner does.
struct Driver {
  std::unique_ptr<ev::pipeline::Stage> stage;
  Collector out;
  simdjson::ondemand::parser parser;
  ev::json::Event event{parser};
  std::string buf;
  uint64_t line = 0;

  explicit Driver(WindowOptions opt) {
    ev::diag::set_quiet(true);
    auto made = ev::stages::make_window(opt);
    REQUIRE(made.has_value());
    stage = std::move(*made);
  }
  void feed(const std::string& l) {
    buf = l + std::string(64, ' ');
    event.reset(std::string_view(buf.data(), l.size()), "in.jsonl", ++line);
    if (l.starts_with("{\"$ev\"")) {
      REQUIRE(stage->on_control(l, out).has_value());
    } else {
      REQUIRE(stage->on_event(event, out).has_value());
    }
  }
  // An event read from Kafka partition `partition` of topic "t".
  void feed_kafka(const std::string& l, int32_t partition) {
    origin.topic = "t";
    origin.partition = partition;
    origin.offset = static_cast<int64_t>(++line);
    buf = l + std::string(64, ' ');
    event.reset(std::string_view(buf.data(), l.size()), "kafka://b:1/t", 1);
    event.set_kafka(&origin);
    REQUIRE(stage->on_event(event, out).has_value());
  }
  ev::json::KafkaOrigin origin;
  void finish() { REQUIRE(stage->on_finish(out).has_value()); }
  // The emitted lines, and clears them.
  std::vector<std::string> take() { return std::exchange(out.lines, {}); }
  uint64_t extra(ev::pipeline::Outcome how, const std::string& name) {
    ev::pipeline::RunReport r;
    REQUIRE(stage->on_end(r, how).has_value());
    for (const auto& [k, v] : r.extra) {
      if (k == name) return v;
    }
    FAIL("no counter " << name);
    return 0;
  }
};

std::string ev_at(const std::string& user, int second, int v = 1) {
  char ts[32];
  std::snprintf(ts, sizeof ts, "2024-05-01T10:%02d:%02dZ", second / 60, second % 60);
  return "{\"u\":\"" + user + "\",\"ts\":\"" + ts + "\",\"v\":" + std::to_string(v) + "}";
}

WindowOptions tumble(int64_t size) {
  WindowOptions opt;
  opt.kind = WindowKind::kTumble;
  opt.spec.size = opt.spec.slide = size;
  opt.by = "u";
  opt.aggs = {"count, sum(v)"};
  return opt;
}

std::string result(const char* start, const char* end, const std::string& rest) {
  return std::string("{\"window_start\":\"2024-05-01T10:") + start +
         ".000Z\",\"window_end\":\"2024-05-01T10:" + end + ".000Z\"," + rest + "}";
}

}  // namespace

TEST_CASE("window: a window fires when the watermark passes its end, groups in order") {
  Driver d(tumble(kMin));
  d.feed(ev_at("b", 1, 2));
  d.feed(ev_at("a", 2, 3));
  d.feed(ev_at("b", 59, 4));
  CHECK(d.take().empty());
  d.feed(ev_at("a", 60));
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":1,"sum_v":3)"),
                                 result("00:00", "01:00", R"("u":"b","count":2,"sum_v":6)")});
  d.finish();  // the end of the input fires the rest
  CHECK(d.take() ==
        std::vector<std::string>{result("01:00", "02:00", R"("u":"a","count":1,"sum_v":1)")});
}

TEST_CASE("window: with Kafka input the slowest partition holds the watermark back") {
  Driver d(tumble(kMin));
  d.feed_kafka(ev_at("a", 10), 0);
  d.feed_kafka(ev_at("b", 20), 1);
  d.feed_kafka(ev_at("a", 130), 0);  // partition 0 is minutes ahead
  CHECK(d.take().empty());           // partition 1 is still in the first minute
  d.feed_kafka(ev_at("b", 50), 1);   // not late: the watermark waits for partition 1
  CHECK(d.take().empty());
  d.feed_kafka(ev_at("b", 61), 1);  // partition 1 passes 10:01: the first minute fires
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":1,"sum_v":1)"),
                                 result("00:00", "01:00", R"("u":"b","count":2,"sum_v":2)")});
  CHECK(d.extra(ev::pipeline::Outcome::kComplete, "late") == 0);
}

TEST_CASE("window: an assigned Kafka partition holds event time until it sends or catches up") {
  using C = ev::pipeline::Stage::PartitionChange;
  Driver d(tumble(kMin));
  for (int32_t p : {0, 1}) d.stage->on_kafka_partition("t", p, C::kAssigned);
  d.feed_kafka(ev_at("a", 10), 0);
  d.feed_kafka(ev_at("a", 130), 0);
  CHECK(d.take().empty());  // partition 1 has sent nothing yet
  REQUIRE(d.stage->on_idle(d.out).has_value());
  CHECK(d.take().empty());
  // Partition 1 is read to its end (it is empty): it no longer holds time back.
  d.stage->on_kafka_partition("t", 1, C::kCaughtUp);
  REQUIRE(d.stage->on_idle(d.out).has_value());
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":1,"sum_v":1)")});
  // It sends again: it counts again, from its own time (10:02:20 holds 10:02 open).
  d.feed_kafka(ev_at("b", 140), 1);
  d.feed_kafka(ev_at("a", 200), 0);
  CHECK(d.take().empty());
  // Taken away: it no longer counts, and partition 0's 10:04:10 fires two minutes.
  d.stage->on_kafka_partition("t", 1, C::kRevoked);
  d.feed_kafka(ev_at("a", 250), 0);
  CHECK(d.take() ==
        std::vector<std::string>{result("02:00", "03:00", R"("u":"a","count":1,"sum_v":1)"),
                                 result("02:00", "03:00", R"("u":"b","count":1,"sum_v":1)"),
                                 result("03:00", "04:00", R"("u":"a","count":1,"sum_v":1)")});
}

TEST_CASE("window: --max-delay admits out-of-order events; later ones are late") {
  TempDir dir;
  auto opt = tumble(kMin);
  opt.max_delay = 10 * kSec;
  opt.late = dir.at("late.jsonl");
  opt.events_on_stdout = false;
  Driver d(opt);
  d.feed(ev_at("a", 50));
  d.feed(ev_at("a", 65));  // watermark 00:55
  d.feed(ev_at("a", 58));  // out of order, still on time
  CHECK(d.take().empty());
  d.feed(ev_at("a", 75));  // watermark 01:05: [00:00, 01:00) fires
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":2,"sum_v":2)")});
  d.feed(ev_at("a", 30));  // its window is gone: late
  d.finish();
  CHECK(d.extra(ev::pipeline::Outcome::kComplete, "late") == 1);
  CHECK(dir.read("late.jsonl") == ev_at("a", 30) + "\n");
}

TEST_CASE("window: --allowed-lateness emits corrections marked as updates") {
  auto opt = tumble(kMin);
  opt.allowed_lateness = kMin;
  Driver d(opt);
  d.feed(ev_at("a", 10));
  d.feed(ev_at("a", 61));
  CHECK(d.take() == std::vector<std::string>{
                        result("00:00", "01:00", R"("u":"a","count":1,"sum_v":1,"final":true)")});
  d.feed(ev_at("a", 20, 5));
  CHECK(d.take() ==
        std::vector<std::string>{
            result("00:00", "01:00", R"("u":"a","count":2,"sum_v":6,"final":true,"update":true)")});
  d.feed(ev_at("a", 121));  // the watermark passes 01:00 + 1m: the window is dropped
  d.take();
  d.feed(ev_at("a", 30));
  CHECK(d.take().empty());
  CHECK(d.extra(ev::pipeline::Outcome::kComplete, "late") == 1);
}

TEST_CASE("window: hopping windows count an event in each window that holds it") {
  WindowOptions opt;
  opt.kind = WindowKind::kHop;
  opt.spec.size = 2 * kMin;
  opt.spec.slide = kMin;
  Driver d(opt);
  d.feed(ev_at("a", 70));
  d.finish();
  CHECK(d.take() == std::vector<std::string>{result("00:00", "02:00", R"("count":1)"),
                                             result("01:00", "03:00", R"("count":1)")});
}

TEST_CASE("window: sessions split at gaps and merge when a late event bridges them") {
  WindowOptions opt;
  opt.kind = WindowKind::kSession;
  opt.gap = 30 * kSec;
  opt.by = "u";
  opt.aggs = {"count"};
  opt.max_delay = 5 * kMin;
  Driver d(opt);
  d.feed(ev_at("a", 0));
  d.feed(ev_at("a", 29));  // less than the gap apart: the same session
  d.feed(ev_at("a", 80));  // the gap or more after: a new one
  d.feed(ev_at("b", 10));
  d.feed(ev_at("b", 40));  // exactly the gap: a new one too
  d.feed(ev_at("a", 55));  // bridges [0:00, 0:59) and [1:20, 1:50)
  d.finish();
  CHECK(d.take() == std::vector<std::string>{result("00:00", "01:50", R"("u":"a","count":4)"),
                                             result("00:10", "00:40", R"("u":"b","count":1)"),
                                             result("00:40", "01:10", R"("u":"b","count":1)")});
}

TEST_CASE("window: --emit update and --emit every give early results, then one final") {
  auto opt = tumble(kMin);
  opt.aggs = {"count"};
  opt.emit = EmitMode::kUpdate;
  Driver d(opt);
  d.feed(ev_at("a", 1));
  d.feed(ev_at("a", 2));
  d.feed(ev_at("a", 60));
  auto lines = d.take();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == result("00:00", "01:00", R"("u":"a","count":1,"final":false)"));
  CHECK(lines[1] == result("00:00", "01:00", R"("u":"a","count":2,"final":false,"update":true)"));
  CHECK(lines[2] == result("00:00", "01:00", R"("u":"a","count":2,"final":true,"update":true)"));
  CHECK(lines[3] == result("01:00", "02:00", R"("u":"a","count":1,"final":false)"));

  opt.emit = EmitMode::kEvery;
  opt.emit_every = 10 * kSec;
  opt.spec.size = opt.spec.slide = 10 * kMin;
  Driver e(opt);
  e.feed(ev_at("a", 1));
  e.feed(ev_at("a", 5));
  e.feed(ev_at("a", 12));  // crosses 00:10: a partial result of the changes so far
  e.feed(ev_at("a", 15));  // nothing new to say until 00:20
  e.feed(ev_at("b", 25));
  lines = e.take();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == result("00:00", "10:00", R"("u":"a","count":2,"final":false)"));
  CHECK(lines[1] == result("00:00", "10:00", R"("u":"a","count":4,"final":false,"update":true)"));
}

TEST_CASE("window: --max-future rejects an event far ahead; the watermark stays") {
  ev::time::ManualClock clock(*ev::time::parse_rfc3339("2024-05-01T12:00:00Z"));
  auto opt = tumble(kMin);
  opt.max_future = kMin;
  opt.clock = &clock;
  Driver d(opt);
  d.feed(ev_at("a", 10));
  d.feed(R"({"u":"a","ts":"2031-01-01T00:00:00Z","v":1})");
  d.feed(ev_at("a", 20));  // still on time: the far-future event moved nothing
  d.feed(ev_at("a", 69));  // within a minute of the latest good event
  REQUIRE(d.out.rejects.size() == 1);
  CHECK(d.out.rejects[0].find("--max-future 1m ahead of the wall clock") != std::string::npos);
  d.finish();
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":2,"sum_v":2)"),
                                 result("01:00", "02:00", R"("u":"a","count":1,"sum_v":1)")});
}

TEST_CASE("window: --idle moves event time on with the wall clock when input is quiet") {
  ev::time::ManualClock clock(1000 * kSec);
  auto opt = tumble(10 * kSec);
  opt.idle = 5 * kSec;
  opt.clock = &clock;
  Driver d(opt);
  d.feed(ev_at("a", 3));
  clock.advance(4 * kSec);
  REQUIRE(d.stage->on_idle(d.out).has_value());
  CHECK(d.take().empty());  // quiet for less than --idle
  clock.advance(4 * kSec);  // 00:03 + 8s = 00:11: past the window's end
  REQUIRE(d.stage->on_idle(d.out).has_value());
  CHECK(d.take() ==
        std::vector<std::string>{result("00:00", "00:10", R"("u":"a","count":1,"sum_v":1)")});
}

TEST_CASE("window: missing time, missing --by field and bad values are rejected") {
  Driver d(tumble(kMin));
  d.feed(R"({"u":"a","v":1})");
  d.feed(R"({"ts":"2024-05-01T10:00:00Z","v":1})");
  d.feed(R"({"u":"a","ts":"2024-05-01T10:00:00Z","v":"x"})");
  d.feed(R"({"u":"a","ts":"not a time","v":1})");
  REQUIRE(d.out.rejects.size() == 4);
  CHECK(d.out.rejects[0] == "time field ts: missing");
  CHECK(d.out.rejects[1] == "--by field u: missing");
  CHECK(d.out.rejects[2] == R"(field v: "x" is not a number (sum(v)))");
  CHECK(d.out.rejects[3].starts_with("time field ts: not a time"));
  d.finish();
  CHECK(d.take().empty());
}

TEST_CASE("window: --max-groups fires the earliest window early and counts it") {
  auto opt = tumble(kMin);
  opt.max_groups = 2;
  opt.aggs = {"count"};
  Driver d(opt);
  d.feed(ev_at("a", 1));
  d.feed(ev_at("b", 2));
  d.feed(ev_at("c", 3));  // a third group: the window fires now
  auto lines = d.take();
  CHECK(lines.size() == 3);
  d.feed(ev_at("d", 4));  // its window was closed early: late
  CHECK(d.take().empty());
  CHECK(d.extra(ev::pipeline::Outcome::kComplete, "forced") == 1);
  CHECK(d.extra(ev::pipeline::Outcome::kComplete, "late") == 1);
}

TEST_CASE("window: a stopped run's open windows continue from --state") {
  TempDir dir;
  auto opt = tumble(kMin);
  opt.state = dir.at("w.state");
  std::vector<std::string> all;
  {
    Driver d(opt);
    d.feed(ev_at("a", 10));
    d.feed(ev_at("b", 20, 7));
    REQUIRE(d.stage->on_stop(d.out).has_value());
    CHECK(d.take().empty());  // held in the snapshot
    CHECK(d.extra(ev::pipeline::Outcome::kStopped, "checkpoints") == 1);
  }
  {
    Driver d(opt);
    d.feed(ev_at("a", 30));
    d.finish();
    CHECK(d.take() ==
          std::vector<std::string>{result("00:00", "01:00", R"("u":"a","count":2,"sum_v":2)"),
                                   result("00:00", "01:00", R"("u":"b","count":1,"sum_v":7)")});
    d.extra(ev::pipeline::Outcome::kComplete, "checkpoints");
  }
  {
    // The first run fired everything at its end: a later event for it is late.
    Driver d(opt);
    d.feed(ev_at("a", 40));
    d.finish();
    CHECK(d.take().empty());
    CHECK(d.extra(ev::pipeline::Outcome::kComplete, "late") == 1);
  }
  // Another window size cannot read this state.
  auto other = tumble(2 * kMin);
  other.state = opt.state;
  auto made = ev::stages::make_window(other);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().kind == ev::ErrorKind::kState);
  CHECK(made.error().message.find("--tumble 1m") != std::string::npos);
}

TEST_CASE("window: option checks") {
  auto opt = tumble(kMin);
  opt.aggs = {"count as u"};
  auto clash = ev::stages::make_window(opt);
  REQUIRE_FALSE(clash.has_value());
  CHECK(clash.error().kind == ev::ErrorKind::kUsage);
  opt = tumble(kMin);
  opt.emit = EmitMode::kEvery;
  CHECK_FALSE(ev::stages::make_window(opt).has_value());
  WindowOptions session;
  session.kind = WindowKind::kSession;
  session.gap = kMin;
  session.spec.tz = "Europe/Berlin";
  CHECK_FALSE(ev::stages::make_window(session).has_value());
}

TEST_CASE("window: groups of a firing are ordered by type, then value") {
  WindowOptions opt;
  opt.kind = WindowKind::kTumble;
  opt.spec.size = opt.spec.slide = kMin;
  opt.by = "u,w";
  Driver d(opt);
  for (const char* u : {"10", "\"x\"", "9", "-2.5", "null", "true", "\"a\"", "[1]", "1e1"}) {
    d.feed(std::string("{\"u\":") + u + ",\"w\":2,\"ts\":\"2024-05-01T10:00:00Z\"}");
  }
  d.feed(R"({"u":9,"w":1,"ts":"2024-05-01T10:00:00Z"})");
  d.finish();
  std::vector<std::string> order;
  for (const auto& l : d.take()) {
    const size_t at = l.find("\"u\":") + 4;
    order.push_back(l.substr(at, l.find(",\"count\"") - at));
  }
  CHECK(order == std::vector<std::string>{"null,\"w\":2", "true,\"w\":2", "-2.5,\"w\":2",
                                          "9,\"w\":1", "9,\"w\":2", "10,\"w\":2", "1e1,\"w\":2",
                                          "\"a\",\"w\":2", "\"x\",\"w\":2", "[1],\"w\":2"});
}
