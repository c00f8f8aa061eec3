#include "libcore/stages/enrich.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/pipeline/runner.h"
#include "libcore/testing/stage_outcome.h"
#include "libcore/testing/temp_dir.h"
#include "libcore/time/clock.h"

using ev::stages::EnrichOptions;
using ev::stages::EnrichTableOptions;
using ev::stages::Missing;
using ev::testing::TempDir;

namespace {

using Outcome = ev::testing::StageOutcome;

Outcome run(const TempDir& dir, const std::string& input, EnrichOptions opt) {
  ev::pipeline::RunOptions ro;
  ro.program = "ev-enrich";
  ro.inputs.push_back(dir.file("in.jsonl", input));
  Outcome o;
  ev::testing::run_stage(o, dir, ro, ev::stages::make_enrich(std::move(opt)));
  return o;
}

EnrichTableOptions table_opt(std::string spec, std::string on = "user_id") {
  EnrichTableOptions t;
  t.spec = std::move(spec);
  t.event_field = std::move(on);
  return t;
}

}  // namespace

TEST_CASE("enrich: matched rows are spliced in, the rest of the line kept byte for byte") {
  TempDir dir;
  EnrichOptions opt;
  opt.tables.push_back(
      table_opt(dir.file("users.csv", "user_id,tier,age\nu1,gold,34\nu2,free,19\n"), "user_id"));
  auto o = run(dir,
               "{ \"user_id\" : \"u1\", \"amount\": 1.50 }\n"
               "{\"user_id\":\"u9\"}\n"
               "{\"user_id\":\"u2\",\"tier\":\"old\",\"x\":1}\n",
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{ \"user_id\" : \"u1\", \"amount\": 1.50,\"tier\":\"gold\",\"age\":34 }\n"
        "{\"user_id\":\"u9\"}\n"
        "{\"user_id\":\"u2\",\"x\":1,\"tier\":\"free\",\"age\":19}\n");
  CHECK(o.extra("users_matched") == 2);
  CHECK(o.extra("users_missing") == 1);
  CHECK(o.extra("users_rows") == 2);
}

TEST_CASE("enrich: keys compare as text; --on names the table's column") {
  TempDir dir;
  EnrichOptions opt;
  auto t = table_opt(
      dir.file("p.jsonl", "{\"id\":7,\"name\":\"cap\"}\n{\"id\":\"x\\\"y\",\"name\":\"q\"}\n"),
      "item.sku");
  t.table_field = "id";
  t.placement.into = "product";
  opt.tables.push_back(t);
  auto o = run(dir,
               "{\"item\":{\"sku\":7}}\n{\"item\":{\"sku\":\"7\"}}\n{\"item\":{\"sku\":7.0}}\n"
               "{\"item\":{\"sku\":\"x\\u0022y\"}}\n",
               opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"item\":{\"sku\":7},\"product\":{\"name\":\"cap\"}}\n"
        "{\"item\":{\"sku\":\"7\"},\"product\":{\"name\":\"cap\"}}\n"
        "{\"item\":{\"sku\":7.0}}\n"
        "{\"item\":{\"sku\":\"x\\u0022y\"},\"product\":{\"name\":\"q\"}}\n");
}

TEST_CASE("enrich: --missing keep, drop, reject and default") {
  TempDir dir;
  const std::string users = dir.file("users.csv", "user_id,tier\nu1,gold\n");
  const std::string input =
      "{\"user_id\":\"u1\"}\n{\"user_id\":\"u2\"}\n{\"x\":1}\n"
      "{\"user_id\":null}\n";
  auto with = [&](Missing m, std::string def = "") {
    EnrichOptions opt;
    auto t = table_opt(users, "user_id");
    t.missing = m;
    t.default_json = std::move(def);
    t.placement.prefix = "u_";
    opt.tables.push_back(t);
    return run(dir, input, opt);
  };
  auto keep = with(Missing::kKeep);
  CHECK(keep.out ==
        "{\"user_id\":\"u1\",\"u_tier\":\"gold\"}\n{\"user_id\":\"u2\"}\n{\"x\":1}\n"
        "{\"user_id\":null}\n");
  CHECK(keep.extra("users_missing") == 3);
  auto drop = with(Missing::kDrop);
  CHECK(drop.out == "{\"user_id\":\"u1\",\"u_tier\":\"gold\"}\n");
  CHECK(drop.report.dropped == 3);
  auto reject = with(Missing::kReject);
  CHECK(reject.out == "{\"user_id\":\"u1\",\"u_tier\":\"gold\"}\n");
  CHECK(reject.report.rejected == 3);
  CHECK(reject.rejects.find(R"(table users: no row for user_id \"u2\")") != std::string::npos);
  CHECK(reject.rejects.find("table users: no row for an event without its key field") !=
        std::string::npos);
  auto def = with(Missing::kDefault, R"({"tier":"free","n":0})");
  CHECK(def.out ==
        "{\"user_id\":\"u1\",\"u_tier\":\"gold\"}\n{\"user_id\":\"u2\",\"u_tier\":\"free\",\"u_n\":"
        "0}\n"
        "{\"x\":1,\"u_tier\":\"free\",\"u_n\":0}\n{\"user_id\":null,\"u_tier\":\"free\",\"u_n\":0}"
        "\n");
}

TEST_CASE("enrich: several tables add their fields in order; a container key is a bad event") {
  TempDir dir;
  EnrichOptions opt;
  opt.tables.push_back(table_opt(dir.file("users.csv", "user_id,tier\nu1,gold\n"), "user_id"));
  auto p = table_opt(dir.file("products.tsv", "sku\tcat\nA\tshoes\n"), "sku");
  p.placement.into = "product";
  opt.tables.push_back(p);
  auto o =
      run(dir, "{\"user_id\":\"u1\",\"sku\":\"A\"}\n{\"user_id\":{\"a\":1},\"sku\":\"A\"}\n", opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out ==
        "{\"user_id\":\"u1\",\"sku\":\"A\",\"tier\":\"gold\",\"product\":{\"cat\":\"shoes\"}}\n");
  CHECK(o.report.rejected == 1);
  CHECK(o.rejects.find("table users: key field user_id is an object") != std::string::npos);
}

TEST_CASE("enrich: a changed file is reloaded aside and swapped in; a broken one is kept out") {
  TempDir dir;
  const std::string path = dir.file("users.csv", "user_id,tier\nu1,gold\n");
  ev::time::ManualClock clock(0);
  EnrichOptions opt;
  auto t = table_opt(path, "user_id");
  t.reload = true;
  opt.tables.push_back(t);
  opt.clock = &clock;
  auto stage = ev::stages::make_enrich(opt);
  REQUIRE(stage);
  // Drive the stage by hand through a runner-less emitter.
  struct Sink : ev::pipeline::Emitter {
    std::string lines, buf;
    ev::pipeline::RunReport rep;
    ev::Status emit(std::string_view l) override {
      lines += std::string(l) + "\n";
      return {};
    }
    ev::Status emit_control(std::string_view l) override { return emit(l); }
    std::string& line_buffer() override { return buf; }
    ev::Status end_line() override {
      lines += buf + "\n";
      buf.clear();
      return {};
    }
    ev::Status reject(const ev::json::Event&, std::string_view, std::string_view) override {
      return {};
    }
    ev::Status flush() override { return {}; }
    ev::pipeline::RunReport& report() override { return rep; }
  } sink;
  simdjson::ondemand::parser parser;
  ev::json::Event event(parser);
  std::string line = "{\"user_id\":\"u1\"}" + std::string(64, ' ');
  auto feed = [&] {
    event.reset(std::string_view(line.data(), 16), "in", 1);
    REQUIRE((*stage)->on_event(event, sink));
  };
  auto settle = [&] {
    // Idle calls check the file and pick up a finished load.
    for (int i = 0; i < 200; ++i) {
      clock.advance(2'000'000'000);
      REQUIRE((*stage)->on_idle(sink));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  feed();
  std::filesystem::rename(dir.file("next.csv", "user_id,tier\nu1,plus\n"), path);
  settle();
  feed();
  std::filesystem::rename(dir.file("bad.csv", "user_id,tier\nu1,\"open\n"), path);
  settle();
  feed();
  REQUIRE((*stage)->on_finish(sink));  // writes what the lookup pipeline holds
  CHECK(sink.lines ==
        "{\"user_id\":\"u1\",\"tier\":\"gold\"}\n{\"user_id\":\"u1\",\"tier\":\"plus\"}\n"
        "{\"user_id\":\"u1\",\"tier\":\"plus\"}\n");
  ev::pipeline::RunReport report;
  REQUIRE((*stage)->on_end(report, ev::pipeline::Outcome::kComplete));
  bool counted = false;
  for (const auto& [k, v] : report.extra) {
    if (k == "users_reloads") CHECK(v == 1);
    if (k == "users_reload_failures") {
      CHECK(v == 1);
      counted = true;
    }
  }
  CHECK(counted);
}

TEST_CASE("enrich: option checks") {
  TempDir dir;
  const std::string users = dir.file("users.csv", "user_id,tier\nu1,gold\n");
  auto fails = [&](EnrichOptions opt) {
    auto s = ev::stages::make_enrich(std::move(opt));
    REQUIRE_FALSE(s);
    return s.error().to_string();
  };
  CHECK(fails({}) == "no --table given");
  EnrichOptions both;
  auto t = table_opt(users, "user_id");
  t.placement = {"u", "p_"};
  both.tables.push_back(t);
  CHECK(fails(both) == "table users: --into and --prefix exclude each other");
  EnrichOptions twice;
  twice.tables.push_back(table_opt(users, "user_id"));
  twice.tables.push_back(table_opt(users, "user_id"));
  CHECK(fails(twice) == "two tables are named users; give one --name");
  EnrichOptions no_on;
  no_on.tables.push_back(table_opt(users, ""));
  CHECK(fails(no_on) == "table users: --on FIELD is needed");
  EnrichOptions bad_default;
  auto d = table_opt(users, "user_id");
  d.missing = Missing::kDefault;
  d.default_json = "[1]";
  bad_default.tables.push_back(d);
  CHECK(fails(bad_default).starts_with("--missing default=[1]: not a JSON object"));
  EnrichOptions broken;
  broken.tables.push_back(table_opt(dir.file("b.csv", "user_id,x\n1\n"), "user_id"));
  CHECK(fails(broken).find("b.csv:2: 1 fields where the header has 2") != std::string::npos);
}

TEST_CASE("enrich: table options follow their --table on the command line") {
  std::vector<std::string> args = {"ev-enrich", "-i",         "in.jsonl", "--table",
                                   "a.csv",     "--on",       "user_id",  "--into=u",
                                   "--reload",  "-t",         "b.tsv",    "--on=sku=id",
                                   "--missing", "default={}", "--stats"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::vector<EnrichTableOptions> tables;
  auto rest = ev::stages::take_table_options(static_cast<int>(argv.size()), argv.data(), tables);
  REQUIRE(rest);
  std::vector<std::string> left;
  for (char* a : *rest) {
    if (a) left.emplace_back(a);
  }
  CHECK(left == std::vector<std::string>{"ev-enrich", "-i", "in.jsonl", "--table", "a.csv", "-t",
                                         "b.tsv", "--stats"});
  REQUIRE(tables.size() == 2);
  CHECK(tables[0].spec == "a.csv");
  CHECK(tables[0].event_field == "user_id");
  CHECK(tables[0].placement.into == "u");
  CHECK(tables[0].reload);
  CHECK(tables[1].event_field == "sku");
  CHECK(tables[1].table_field == "id");
  CHECK(tables[1].missing == Missing::kDefault);
  CHECK(tables[1].default_json == "{}");
  std::vector<std::string> early = {"ev-enrich", "--on", "x", "--table", "a.csv"};
  argv.clear();
  for (auto& a : early) argv.push_back(a.data());
  tables.clear();
  auto err = ev::stages::take_table_options(static_cast<int>(argv.size()), argv.data(), tables);
  REQUIRE_FALSE(err);
  CHECK(err.error().message == "--on must follow the --table it applies to");
  CHECK(ev::stages::default_table_name("data/users.csv.zst") == "users");
  CHECK(ev::stages::default_table_name("kafka://h:1/profiles") == "profiles");
  CHECK(ev::stages::default_table_name("redis://h:6379") == "redis");
}

TEST_CASE("enrich: events, drops and bad lines keep their order through the lookup pipeline") {
  TempDir dir;
  std::string table = "user_id,n\n";
  for (int i = 0; i < 5000; i += 2)
    table += "u" + std::to_string(i) + "," + std::to_string(i) + "\n";
  const std::string users = dir.file("users.csv", table);
  std::string input, want, want_rejects;
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "u" + std::to_string(i);
    if (i % 97 == 5) {
      input += "not json\n";
      want_rejects += std::to_string(i + 1) + ",";
    } else if (i % 89 == 7) {
      input += "{\"user_id\":{\"x\":1}}\n";
      want_rejects += std::to_string(i + 1) + ",";
    } else if (i % 2 == 1) {
      input += "{\"user_id\":\"" + id + "\"}\n";
      want_rejects += std::to_string(i + 1) + ",";  // no row: --missing reject
    } else {
      input += "{\"user_id\":\"" + id + "\"}\n";
      want += "{\"user_id\":\"" + id + "\",\"n\":" + std::to_string(i) + "}\n";
    }
  }
  EnrichOptions opt;
  auto t = table_opt(users);
  t.missing = Missing::kReject;
  opt.tables.push_back(t);
  auto o = run(dir, input, opt);
  REQUIRE(o.end.has_value());
  CHECK(o.out == want);
  std::string got_rejects;
  for (size_t p = o.rejects.find("\"line\":"); p != std::string::npos;
       p = o.rejects.find("\"line\":", p + 1)) {
    got_rejects += o.rejects.substr(p + 7, o.rejects.find(',', p) - p - 7) + ",";
  }
  CHECK(got_rejects == want_rejects);
  // --on-error fail stops at the first bad event, a row-less one before a bad line.
  ev::pipeline::RunOptions ro;
  ro.program = "ev-enrich";
  ro.inputs.push_back(
      dir.file("two.jsonl", "{\"user_id\":\"u0\"}\n{\"user_id\":\"u1\"}\nnot json\n"));
  ro.output = dir.at("two.out");
  ro.on_error = ev::pipeline::OnError::kFail;
  ev::pipeline::RunReport report;
  auto stage = ev::stages::make_enrich(opt);
  REQUIRE(stage);
  auto end = ev::pipeline::run(ro, **stage, report);
  REQUIRE_FALSE(end);
  CHECK(end.error().to_string().find("two.jsonl:2: table users: no row for user_id") !=
        std::string::npos);
}
