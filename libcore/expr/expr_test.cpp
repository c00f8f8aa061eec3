#include "libcore/expr/expr.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ev::expr {
namespace {

// Evaluates `text` over the event `line`: the value as JSON, or "error: <message>".
struct Eval {
  explicit Eval(std::string l, ScopeOptions o = {}) : line(std::move(l)), opt(std::move(o)) {}
  std::string line;
  ScopeOptions opt;
  time::ManualClock clock{1'714'557'600'000'000'000};  // 2024-05-01T10:00:00Z

  std::string operator()(std::string_view text) {
    Scope scope(opt);
    auto e = Expr::compile(text, scope, "expr");
    if (!e) return "compile error: " + e.error().message;
    Frame frame(scope, &clock);
    std::string padded = line;
    padded.append(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::ondemand::parser parser;
    json::Event event(parser);
    event.reset(std::string_view(padded.data(), line.size()), "test", 1);
    frame.reset(event);
    Value v;
    if (!e->eval(frame, v)) return "error: " + frame.error();
    std::string out;
    append_json(out, v);
    return out;
  }
};

const char* kEvent =
    R"({"user_id":"u1","type":"purchase","amount":120.5,"qty":3,"ts":"2024-05-01T10:30:15.250Z",)"
    R"("device":{"os":"ios","app_version":"5.3.1"},"tags":["vip","new"],"items":[{"sku":"a1"},)"
    R"({"sku":"b2"}],"flag":true,"none":null,"name":"Zo\u00eb","text":"12.5","weird.key":7})";

TEST_CASE("expr: literals, arithmetic and precedence") {
  Eval ev{kEvent};
  CHECK(ev("1 + 2 * 3") == "7");
  CHECK(ev("(1 + 2) * 3") == "9");
  CHECK(ev("-2 - -3") == "1");
  CHECK(ev("7 % 4") == "3");
  CHECK(ev("10 / 4") == "2.5");
  CHECK(ev("1e3 + .5") == "1000.5");
  CHECK(ev("5m") == "300");
  CHECK(ev("1h30m + 250ms") == "5400.25");
  CHECK(ev(R"("a" + 'b' + "\u00e9\n")") == R"("abé\n")");
  CHECK(ev("[1, \"x\", null, true]") == R"([1,"x",null,true])");
  CHECK(ev("amount * qty") == "361.5");
  CHECK(ev("amount / 0") == "null");
  CHECK(ev("amount % 0") == "null");
  CHECK(ev("missing + 1") == "null");
  CHECK(ev("none * 2") == "null");
}

TEST_CASE("expr: field paths") {
  Eval ev{kEvent};
  CHECK(ev("device.os") == R"("ios")");
  CHECK(ev("items[1].sku") == R"("b2")");
  CHECK(ev("items[5].sku") == "null");
  CHECK(ev("tags") == R"(["vip","new"])");
  CHECK(ev("device") == R"({"os":"ios","app_version":"5.3.1"})");
  CHECK(ev("device.os == \"ios\" and device.app_version == \"5.3.1\"") == "true");
  CHECK(ev("device.os + device") ==
        "error: expr, column 11: '+' needs numbers or strings, got string and object");
  CHECK(ev("`weird\\.key` + 1") == "8");
  CHECK(ev("name") == R"("Zoë")");
  CHECK(ev("user_id.x") == "null");
  CHECK(ev("exists(none) and not exists(nothing) and is_null(none)") == "true");
}

TEST_CASE("expr: comparison and three-valued logic") {
  Eval ev{kEvent};
  CHECK(ev("amount > 100 and type == \"purchase\"") == "true");
  CHECK(ev("1 == \"1\"") == "false");
  CHECK(ev("null == null") == "true");
  CHECK(ev("missing == null") == "true");
  CHECK(ev("missing > 3") == "null");
  CHECK(ev("missing > 3 and false") == "false");
  CHECK(ev("missing > 3 and true") == "null");
  CHECK(ev("missing > 3 or true") == "true");
  CHECK(ev("not (missing > 3)") == "null");
  CHECK(ev("\"b\" > \"a\" && !(1 >= 2) || false") == "true");
  CHECK(ev("type in [\"click\", \"purchase\"]") == "true");
  CHECK(ev("type not in [\"click\", \"purchase\"]") == "false");
  CHECK(ev("\"vip\" in tags") == "true");
  CHECK(ev("\"old\" in tags") == "false");
  CHECK(ev("missing in [1]") == "null");
  CHECK(ev("qty in [1, 2, qty]") == "true");
  CHECK(ev("type < 1") == "error: expr, column 6: '<' cannot compare string and number");
  CHECK(ev("amount and true") == "error: expr, column 8: 'and' needs booleans, got number");
  CHECK(ev("1 in amount") == "error: expr, column 3: 'in' needs an array on its right, got number");
  // Short circuit: the type error on the right is never evaluated.
  CHECK(ev("false and amount") == "false");
}

TEST_CASE("expr: functions") {
  Eval ev{kEvent};
  CHECK(ev("if(amount > 100, \"big\", \"small\")") == R"("big")");
  CHECK(ev("if(missing, 1, 2)") == "2");
  CHECK(ev("coalesce(missing, none, 5)") == "5");
  CHECK(ev("coalesce(missing)") == "null");
  CHECK(ev("lower(\"AbC\") + upper(device.os)") == R"("abcIOS")");
  CHECK(ev("len(name) + len(tags) + len(device)") == "7");
  CHECK(ev("contains(device.app_version, \".3.\")") == "true");
  CHECK(ev("starts_with(type, \"pur\") and ends_with(type, \"ase\")") == "true");
  CHECK(ev("matches(user_id, \"^u[0-9]+$\")") == "true");
  CHECK(ev("matches(missing, \"x\")") == "null");
  CHECK(ev("substr(name, 1)") == R"("oë")");
  CHECK(ev("substr(name, -1)") == R"("ë")");
  CHECK(ev("substr(name, 0, 2)") == R"("Zo")");
  CHECK(ev("substr(name, 9, 2)") == R"("")");
  CHECK(ev("str(qty) + str(flag)") == R"("3true")");
  CHECK(ev("number(text) * 2") == "25");
  CHECK(ev("number(\"x\")") == "null");
  CHECK(ev("abs(-2) + min(3, 1, missing) + max(4, 9)") == "12");
  CHECK(ev("round(2.5) + floor(2.7) + ceil(2.1)") == "8");
  CHECK(ev("round(amount / 7, 2)") == "17.21");
  CHECK(ev("sqrt(16) + pow(2, 10) + exp(0) + log(1)") == "1029");
  CHECK(ev("log(0)") == "null");
  CHECK(ev("sqrt(-1)") == "null");
  CHECK(ev("is_number(qty) and is_string(type) and is_bool(flag) and is_array(tags) and "
           "is_object(device) and is_time(ts) and not is_time(type)") == "true");
  CHECK(ev("lower(qty)") == "error: expr, column 1: argument 1 must be a string, got number");
}

TEST_CASE("expr: time") {
  Eval ev{kEvent};
  CHECK(ev("ts") == R"("2024-05-01T10:30:15.250Z")");
  CHECK(ev("hour(ts)") == "10");
  CHECK(ev("minute(ts)") == "30");
  CHECK(ev("dow(ts)") == "3");  // a Wednesday
  CHECK(ev("date(ts)") == R"("2024-05-01")");
  CHECK(ev("ts + 1h") == R"("2024-05-01T11:30:15.250Z")");
  CHECK(ev("ts - 1d") == R"("2024-04-30T10:30:15.250Z")");
  CHECK(ev("now() - ts") == "-1815.25");
  CHECK(ev("ts > \"2024-05-01T00:00:00Z\"") == "true");
  CHECK(ev("ts == time(\"2024-05-01T12:30:15.25+02:00\")") == "true");
  CHECK(ev("hour(\"2024-01-01T23:59:59Z\")") == "23");
  CHECK(ev("dow(time(0))") == "4");  // 1970-01-01 was a Thursday
  CHECK(ev("date(time(-1))") == R"("1969-12-31")");
  CHECK(ev("time(\"soon\")") == "null");
  CHECK(ev("ts > 3") == "error: expr, column 4: '>' cannot compare time and number");
  Eval bad{R"({"ts":"yesterday"})"};
  CHECK(bad("hour(ts)").starts_with("error: time field ts: "));
  Eval epoch{R"({"at":1714557600123})", ScopeOptions{"at", time::EpochUnit::kAuto}};
  CHECK(epoch("at") == R"("2024-05-01T10:00:00.123Z")");
}

TEST_CASE("expr: compile errors name the column") {
  Eval ev{kEvent};
  CHECK(ev("hour(ts") ==
        "compile error: expr: column 8: expected ',' or ')' in hour()\n  hour(ts\n         ^");
  CHECK(ev("1 +").starts_with("compile error: expr: column 4: unexpected end of expression"));
  CHECK(ev("amount = 3").starts_with("compile error: expr: column 8: '=' is not an operator"));
  CHECK(ev("nosuch(1)").starts_with("compile error: expr: column 1: unknown function 'nosuch'"));
  CHECK(
      ev("len(1, 2)").starts_with("compile error: expr: column 1: len() takes 1 argument, got 2"));
  CHECK(ev("\"a\" * 2") ==
        "compile error: expr: column 5: '*' needs numbers, got string and number\n  \"a\" * 2\n    "
        "  ^");
  CHECK(ev("matches(type, \"(\")")
            .starts_with("compile error: expr: column 15: invalid regular expression"));
  CHECK(ev("matches(type, type)")
            .starts_with("compile error: expr: column 15: matches() takes its pattern"));
  CHECK(ev("1 < 2 < 3").starts_with("compile error: expr: column 7: comparisons do not chain"));
  CHECK(ev("'open").starts_with("compile error: expr: column 1: unterminated string"));
  CHECK(ev("3x").starts_with("compile error: expr: column 1: invalid number or duration '3x'"));
  CHECK(ev("a..b").starts_with("compile error: expr: column 2: unexpected character '.'"));
  CHECK(ev("exists(1)").starts_with("compile error: expr: column 8: exists() takes a field path"));
  CHECK(ev("1 # 2").starts_with("compile error: expr: column 3: unexpected character '#'"));
}

TEST_CASE("expr: variables shadow fields; constants fold") {
  Scope scope;
  auto spend = scope.declare("amount");
  REQUIRE(spend);
  CHECK(!scope.declare("amount"));
  CHECK(!scope.declare("and"));
  CHECK(!scope.declare("9x"));
  auto e = Expr::compile("amount * 2 + qty", scope, "set");
  REQUIRE(e);
  CHECK(!e->is_constant());
  auto c = Expr::compile("lower(\"A\") + \"b\"", scope, "c");
  REQUIRE(c);
  CHECK(c->is_constant());
  Frame frame(scope);
  std::string line = R"({"amount":1,"qty":2})";
  line.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::parser parser;
  json::Event event(parser);
  event.reset(std::string_view(line.data(), 20), "t", 1);
  frame.reset(event);
  frame.set(*spend, Value::number(10));
  Value v;
  REQUIRE(e->eval(frame, v));
  CHECK(v.n == 22);
  REQUIRE(c->eval(frame, v));
  CHECK(v.s == "ab");
}

TEST_CASE("expr: escaped keys and strings, duplicate keys, bad JSON") {
  Eval ev{R"({"caf\u00e9":"d\"q","a":1,"a":2,"n":1e400})"};
  CHECK(ev("`café`") == R"("d\"q")");
  CHECK(ev("a") == "1");
  CHECK(ev("n") == "null");
  Eval broken{R"({"a":1,"b":[1,}"})"};
  CHECK(broken("b").starts_with("error: invalid JSON"));
  CHECK(broken("1 + 1") == "2");  // reads no field
}

TEST_CASE("expr: holds() accepts booleans only") {
  Scope scope;
  auto yes = Expr::compile("qty > 1", scope, "w");
  auto num = Expr::compile("qty", scope, "w");
  auto nul = Expr::compile("missing > 1", scope, "w");
  REQUIRE(yes);
  REQUIRE(num);
  REQUIRE(nul);
  Frame frame(scope);
  std::string line = R"({"qty":2})";
  line.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::parser parser;
  json::Event event(parser);
  event.reset(std::string_view(line.data(), 9), "t", 1);
  frame.reset(event);
  CHECK(yes->holds(frame));
  CHECK(!nul->holds(frame));
  CHECK(!frame.failed());
  CHECK(!num->holds(frame));
  CHECK(frame.failed());
  CHECK(frame.error() == "w: the result must be a boolean, got number");
}

}  // namespace
}  // namespace ev::expr

namespace ev::expr {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The frame's scanner against simdjson's DOM on every object of JSONTestSuite: the
// same value for every top-level member (the first of a name), and no crash on the
// malformed ones.
TEST_CASE("expr: fields read by the scanner match simdjson on JSONTestSuite") {
  const std::filesystem::path dir =
      std::filesystem::path(EV_SHARED_DIR) / "corpora/jsontestsuite/test_parsing";
  REQUIRE_MESSAGE(std::filesystem::is_directory(dir), dir.string());
  int compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".json")) continue;
    CAPTURE(name);
    const std::string text = read_file(entry.path());
    std::string padded = text + std::string(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::dom::parser dom;
    simdjson::dom::element root;
    const bool valid = !dom.parse(text.data(), text.size()).get(root);
    std::vector<std::pair<std::string, simdjson::dom::element>> members;
    simdjson::dom::object obj;
    if (valid && !root.get_object().get(obj)) {
      for (auto [k, v] : obj) {
        bool seen = false;
        for (auto& [k2, v2] : members) seen = seen || k2 == k;
        if (!seen) members.emplace_back(std::string(k), v);
      }
    }
    Scope scope(ScopeOptions{"no time field", time::EpochUnit::kAuto});
    std::vector<uint32_t> slots;
    for (auto& [k, v] : members) {
      std::string path;  // every character escaped: any key
      for (char c : k) (path += '\\') += c;
      auto parsed = json::FieldPath::parse(path.empty() ? "[\"\"]" : path);
      REQUIRE(parsed);
      slots.push_back(scope.field(*parsed));
    }
    if (members.empty()) slots.push_back(scope.field(*json::FieldPath::parse("a.b[1]")));
    Frame frame(scope);
    simdjson::ondemand::parser parser;
    json::Event event(parser);
    event.reset(std::string_view(padded.data(), text.size()), name, 1);
    frame.reset(event);
    Value v;
    const bool read = frame.field(slots[0], v);  // must not crash, whatever the input
    if (members.empty()) continue;
    REQUIRE_MESSAGE(read, frame.error());
    for (size_t i = 0; i < members.size(); ++i) {
      REQUIRE(frame.field(slots[i], v));
      const auto& e = members[i].second;
      std::string got, want;
      append_json(got, v);
      switch (e.type()) {
        case simdjson::dom::element_type::STRING:
          append_json(want, Value::string(std::string_view(e.get_string())));
          break;
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
          append_json(want, Value::number(double(e.get_double().value_unsafe())));
          break;
        case simdjson::dom::element_type::BOOL:
          append_json(want, Value::boolean(bool(e.get_bool().value_unsafe())));
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          want = "null";
          break;
        case simdjson::dom::element_type::ARRAY:
          want = got = (v.type == Type::kArray) ? "[array]" : got;
          break;
        case simdjson::dom::element_type::OBJECT:
          want = got = (v.type == Type::kObject) ? "{object}" : got;
          break;
      }
      CHECK_MESSAGE(got == want, members[i].first);
      ++compared;
    }
  }
  CHECK(compared >= 14);
}

TEST_CASE("expr: the scanner reads nested paths, escapes and odd spacing") {
  Eval ev(R"( { "a" : { "b" : [ 1 , { "c" : "x\ty" } , [ ] ] } , "d\u0061" : -0.5e1 ,)"
          R"( "s" : "\ud83d\ude00\/" , "n" : [ ] , "a" : 9 } )");
  CHECK(ev("a.b[1].c") == R"("x\ty")");
  CHECK(ev("a.b[0] + da") == "-4");
  CHECK(ev("s") == R"("😀/")");
  CHECK(ev("a.b[2]") == "[ ]");  // a container is its raw text
  CHECK(ev("len(n)") == "0");
  CHECK(ev("a.b[1].c + a.x") == "null");
  Eval bad_escape(R"({"a":"\x"})");
  CHECK(bad_escape("a").starts_with("error: invalid JSON"));
  Eval lone_surrogate(R"({"a":"\udc00"})");
  CHECK(lone_surrogate("a").starts_with("error: invalid JSON"));
  Eval bad_number(R"({"a":01})");
  CHECK(bad_number("a").starts_with("error: invalid JSON"));
  Eval unterminated(R"({"a":"abc})");
  CHECK(unterminated("a").starts_with("error: invalid JSON"));
  Eval missing_colon(R"({"a" 1})");
  CHECK(missing_colon("a").starts_with("error: invalid JSON"));
}

}  // namespace
}  // namespace ev::expr

namespace ev::expr {
namespace {

TEST_CASE("expr: min and max of times and strings, and their errors") {
  Eval ev(R"({"ts":"2024-05-01T10:00:00Z"})");
  CHECK(ev("max(ts, \"2025-01-01T00:00:00Z\")") == R"("2025-01-01T00:00:00.000Z")");
  CHECK(ev("is_time(min(\"2025-01-01T00:00:00Z\", ts))") == "true");
  CHECK(ev("max(\"a\", \"b\")") == R"("b")");
  CHECK(ev("max(1, \"a\")") ==
        "compile error: expr: column 1: max() cannot compare string and number\n"
        "  max(1, \"a\")\n  ^");
  CHECK(ev("amount * \"a\"")
            .starts_with("compile error: expr: column 8: '*' needs numbers, got string"));
  CHECK(ev("ts and 1 > 0") == "error: expr, column 4: 'and' needs booleans, got time");
  CHECK(ev("x or 3").starts_with("compile error: expr: column 3: 'or' needs booleans, got number"));
}

}  // namespace
}  // namespace ev::expr

namespace ev::expr {
namespace {

TEST_CASE("expr: a field and a path below it in one expression") {
  Eval ev(R"({"device":{"os":"ios","v":[1,2]},"s":"x","ts":{"a":1}})");
  CHECK(ev("[device, device.os, device.v, device.v[1]]") ==
        R"([{"os":"ios","v":[1,2]},"ios",[1,2],2])");
  CHECK(ev("[s, s.x]") == R"(["x",null])");
  CHECK(ev("ts.a") == "1");
  CHECK(ev("[ts.a, ts]").starts_with("error: time field ts: not a time"));
}

}  // namespace
}  // namespace ev::expr

namespace ev::expr {
namespace {

TEST_CASE("expr: the arena reuses its blocks across events, also for large values") {
  Arena arena;
  for (size_t i = 0; i < 200; ++i) {
    arena.reset();
    // A small value, then a large one growing by a little each event.
    std::string_view small = arena.copy("abc");
    char* big = arena.alloc(70'000 + i * 300);
    big[0] = 'x';
    CHECK(small == "abc");
  }
  // 64 KiB for the small values, 128 KiB for all the large ones: no block per size.
  CHECK(arena.capacity() == 64 * 1024 + 128 * 1024);
}

}  // namespace
}  // namespace ev::expr
