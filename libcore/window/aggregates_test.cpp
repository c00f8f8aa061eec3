#include "libcore/window/aggregates.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libcore/testing/temp_dir.h"

using ev::window::AggFn;
using ev::window::Aggregates;
using ev::window::parse_aggregates;

namespace {

// Feeds events to the aggregates and writes rows as JSON objects.
struct Harness {
  std::unique_ptr<Aggregates> aggs;
  simdjson::ondemand::parser parser;
  ev::json::Event event{parser};
  std::string buf;

  explicit Harness(const std::string& list, bool exact = false) {
    auto specs = parse_aggregates(list);
    REQUIRE(specs.has_value());
    auto made = Aggregates::make(std::move(*specs), exact);
    REQUIRE(made.has_value());
    aggs = std::move(*made);
  }
  // Adds `line` at time t to `row`; returns the extract error, or "".
  std::string add(uint32_t row, const std::string& line, int64_t t = 0) {
    buf = line + std::string(64, ' ');
    event.reset(std::string_view(buf.data(), line.size()), "test", 1);
    auto st = aggs->extract(event);
    if (!st) return st.error().message;
    aggs->add(row, t);
    return "";
  }
  std::string json(uint32_t row) const {
    std::string out;
    ev::json::JsonWriter w(out);
    w.begin_object();
    aggs->write(row, w);
    w.end_object();
    return out;
  }
};

}  // namespace

TEST_CASE("aggregates: the list, names and their defaults") {
  auto specs = parse_aggregates(
      "count, sum(amount) as revenue, p95(latency), percentile(latency, 0.999), top(page, 3), "
      "count(user.id)");
  REQUIRE(specs.has_value());
  REQUIRE(specs->size() == 6);
  CHECK((*specs)[0].name == "count");
  CHECK((*specs)[1].name == "revenue");
  CHECK((*specs)[2].name == "p95_latency");
  CHECK((*specs)[2].q == doctest::Approx(0.95));
  CHECK((*specs)[3].name == "p99.9_latency");
  CHECK((*specs)[4].fn == AggFn::kTop);
  CHECK((*specs)[4].k == 3);
  CHECK((*specs)[5].fn == AggFn::kCountField);
  CHECK((*specs)[5].name == "count_user.id");
  CHECK(ev::window::describe_aggregates(*specs).starts_with("count, sum(amount) as revenue, percentile(latency, 0.95), "));
}

TEST_CASE("aggregates: bad lists are usage errors that name the item") {
  for (const char* bad : {"median(x)", "sum", "sum(a, b)", "percentile(x, 1.5)", "p101(x)",
                          "top(x, 0)", "sum(x) as", "count,,sum(x)", "sum(a[)", "sum(x"}) {
    auto specs = parse_aggregates(bad);
    CAPTURE(bad);
    REQUIRE_FALSE(specs.has_value());
    CHECK(specs.error().kind == ev::ErrorKind::kUsage);
  }
  auto twice = parse_aggregates("sum(a), sum(a)");
  REQUIRE(twice.has_value());
  auto made = Aggregates::make(std::move(*twice), false);
  REQUIRE_FALSE(made.has_value());
  CHECK(made.error().message.find("sum_a") != std::string::npos);
}

TEST_CASE("aggregates: count, sum, avg, min, max; null and missing are ignored like SQL NULL") {
  Harness h("count, count(v), sum(v), avg(v), min(v), max(v)");
  const uint32_t row = h.aggs->new_row();
  CHECK(h.json(row) ==
        R"({"count":0,"count_v":0,"sum_v":null,"avg_v":null,"min_v":null,"max_v":null})");
  CHECK(h.add(row, R"({"v":3})") == "");
  CHECK(h.add(row, R"({"v":-1})") == "");
  CHECK(h.add(row, R"({"v":null})") == "");
  CHECK(h.add(row, R"({"w":1})") == "");
  CHECK(h.json(row) == R"({"count":4,"count_v":2,"sum_v":2,"avg_v":1.0,"min_v":-1,"max_v":3})");
  // One fraction makes the sum, min and max doubles.
  CHECK(h.add(row, R"({"v":0.5})") == "");
  CHECK(h.json(row) ==
        R"({"count":5,"count_v":3,"sum_v":2.5,"avg_v":0.8333333333333334,"min_v":-1.0,"max_v":3.0})");
}

TEST_CASE("aggregates: sums are compensated, so the order of the events does not matter") {
  Harness forward("sum(v)"), backward("sum(v)");
  const uint32_t a = forward.aggs->new_row(), b = backward.aggs->new_row();
  std::vector<std::string> lines = {R"({"v":1e16})", R"({"v":1})", R"({"v":-1e16})", R"({"v":1})"};
  for (const auto& l : lines) forward.add(a, l);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) backward.add(b, *it);
  CHECK(forward.json(a) == R"({"sum_v":2.0})");
  CHECK(backward.json(b) == forward.json(a));
}

TEST_CASE("aggregates: a value that is not a number makes the event bad, changing nothing") {
  Harness h("count, sum(v), top(v, 2)");
  const uint32_t row = h.aggs->new_row();
  CHECK(h.add(row, R"({"v":1})") == "");
  const std::string err = h.add(row, R"({"v":"abc"})");
  CHECK(err == R"(field v: "abc" is not a number (sum(v)))");
  CHECK(h.json(row) == R"({"count":1,"sum_v":1,"top_v":[{"value":1,"count":1}]})");
  // count(F) alone takes any value.
  Harness c("count(v)");
  const uint32_t r2 = c.aggs->new_row();
  CHECK(c.add(r2, R"({"v":"abc"})") == "");
  CHECK(c.json(r2) == R"({"count_v":1})");
}

TEST_CASE("aggregates: first and last by event time, distinct and top canonically") {
  Harness h("first(p), last(p), count_distinct(p), top(p, 2)");
  const uint32_t row = h.aggs->new_row();
  h.add(row, R"({"p":"b"})", 20);
  h.add(row, R"({"p":"\u0061"})", 10);  // "a", spelled escaped: earliest
  h.add(row, R"({"p":"a"})", 30);
  h.add(row, R"({"p":"c"})", 30);  // a tie on time: the later arrival is last
  h.add(row, R"({"p":"a"})", 25);
  CHECK(h.json(row) ==
        R"({"first_p":"a","last_p":"c","count_distinct_p":3,"top_p":[{"value":"a","count":3},{"value":"b","count":1}]})");
}

TEST_CASE("aggregates: percentiles within 1% of the exact value") {
  Harness h("p50(v), p99(v), min(v), max(v)");
  const uint32_t row = h.aggs->new_row();
  for (int i = 1; i <= 1000; ++i) h.add(row, "{\"v\":" + std::to_string(i) + "}");
  auto json = h.json(row);
  simdjson::dom::parser p;
  auto doc = p.parse(json);
  CHECK(double(doc["p50_v"]) == doctest::Approx(500).epsilon(0.01));
  CHECK(double(doc["p99_v"]) == doctest::Approx(990).epsilon(0.01));
  CHECK(int64_t(doc["min_v"]) == 1);
  CHECK(int64_t(doc["max_v"]) == 1000);
}

TEST_CASE("aggregates: merging rows equals adding everything to one") {
  const char* list = "count, sum(v), min(v), p90(v), count_distinct(v), top(v, 2), first(v), last(v)";
  Harness h(list);
  const uint32_t one = h.aggs->new_row(), a = h.aggs->new_row(), b = h.aggs->new_row();
  for (int i = 0; i < 200; ++i) {
    const std::string line = "{\"v\":" + std::to_string(i % 37) + "}";
    h.add(one, line, i);
    h.add(i % 2 ? a : b, line, i);
  }
  h.aggs->merge(a, b);
  CHECK(h.json(a) == h.json(one));
  // The freed row comes back empty.
  const uint32_t again = h.aggs->new_row();
  CHECK(again == b);
  CHECK(h.json(again).starts_with(R"({"count":0,"sum_v":null)"));
}

TEST_CASE("aggregates: rows save and load") {
  ev::testing::TempDir dir;
  const char* list = "count, avg(v), p50(v), count_distinct(v), top(v, 2), first(v), last(v)";
  Harness h(list);
  const uint32_t row = h.aggs->new_row(), empty = h.aggs->new_row();
  for (int i = 0; i < 50; ++i) h.add(row, "{\"v\":" + std::to_string(i % 7) + "}", i);
  {
    auto w = ev::state::SnapshotWriter::create(dir.at("s"), "test");
    REQUIRE(w.has_value());
    h.aggs->save(row, **w);
    h.aggs->save(empty, **w);
    REQUIRE((*w)->commit().has_value());
  }
  Harness other(list);
  auto r = ev::state::SnapshotReader::open(dir.at("s"), "test");
  REQUIRE(r.has_value());
  auto loaded = other.aggs->load(**r);
  REQUIRE(loaded.has_value());
  CHECK(other.json(*loaded) == h.json(row));
  auto loaded_empty = other.aggs->load(**r);
  REQUIRE(loaded_empty.has_value());
  CHECK(other.json(*loaded_empty) == h.json(empty));
  // Nothing more: a further row is a truncated record.
  CHECK_FALSE(other.aggs->load(**r).has_value());
}
