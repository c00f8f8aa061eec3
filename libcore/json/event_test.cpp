#include "libcore/json/event.h"

#include <doctest/doctest.h>

#include <string>

using ev::json::Event;
using ev::json::FieldPath;
using ev::json::Found;

namespace {
struct Padded {
  std::string buf;
  std::string_view view;
  explicit Padded(std::string_view s) : buf(std::string(s) + std::string(64, ' ')) {
    view = std::string_view(buf.data(), s.size());
  }
};

std::string lookup(Event& ev, std::string_view path) {
  auto p = FieldPath::parse(path);
  REQUIRE(p.has_value());
  simdjson::ondemand::value v;
  auto f = ev.find(*p, v);
  if (!f) return "error: " + f.error().message;
  if (*f == Found::kMissing) return "missing";
  auto raw = ev::json::raw_text(v);
  REQUIRE(raw.has_value());
  return std::string(*raw);
}
}  // namespace

TEST_CASE("event: finds fields by path in any order") {
  simdjson::ondemand::parser parser;
  Event ev(parser);
  Padded line(
      R"({"user_id":"u1","device":{"os":"ios","v":[1,2]},"items":[{"sku":"A"},{"sku":"B"}],"n":1.50})");
  ev.reset(line.view, "in.jsonl", 4);
  CHECK(lookup(ev, "device.os") == "\"ios\"");
  CHECK(lookup(ev, "user_id") == "\"u1\"");
  CHECK(lookup(ev, "items[1].sku") == "\"B\"");
  CHECK(lookup(ev, "device") == R"({"os":"ios","v":[1,2]})");
  CHECK(lookup(ev, "n") == "1.50");
  CHECK(lookup(ev, "device.v[0]") == "1");
  CHECK(ev.where() == "in.jsonl:4");
}

TEST_CASE("event: missing fields") {
  simdjson::ondemand::parser parser;
  Event ev(parser);
  Padded line(R"({"a":{"b":1},"arr":[1],"s":"x"})");
  ev.reset(line.view, "-", 1);
  CHECK(lookup(ev, "nope") == "missing");
  CHECK(lookup(ev, "a.c") == "missing");
  CHECK(lookup(ev, "arr[5]") == "missing");
  CHECK(lookup(ev, "s.x") == "missing");  // through a string
  CHECK(lookup(ev, "a.b") == "1");        // still usable after misses
}

TEST_CASE("event: keys written with escapes are found by their unescaped name") {
  simdjson::ondemand::parser parser;
  Event ev(parser);
  Padded line(R"({"x":0,"caf\u00e9":1,"a\"b":{"c\\d":3},"\u0075ser":"u"})");
  ev.reset(line.view, "-", 1);
  CHECK(lookup(ev, "[\"caf\u00e9\"]") == "1");
  CHECK(lookup(ev, "[\"a\\\"b\"][\"c\\\\d\"]") == "3");
  CHECK(lookup(ev, "user") == "\"u\"");
  CHECK(lookup(ev, "x") == "0");
  CHECK(lookup(ev, "nope") == "missing");
}

TEST_CASE("event: not an object and malformed JSON are data errors with a location") {
  simdjson::ondemand::parser parser;
  Event ev(parser);
  Padded arr("[1,2]");
  ev.reset(arr.view, "f", 2);
  auto d = ev.doc();
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().kind == ev::ErrorKind::kData);
  CHECK(d.error().where == "f:2");
  Padded bad(R"({"a":"unterminated})");
  ev.reset(bad.view, "f", 3);
  CHECK(lookup(ev, "a").rfind("error: ", 0) == 0);
}

TEST_CASE("event: lookups in any order, after nested ones, after doc(), and repeated") {
  simdjson::ondemand::parser parser;
  Event ev(parser);
  Padded line(R"({"a":1,"n":{"x":{"y":2},"z":3},"b":"s","arr":[{"k":1},{"k":2}],"c":true})");
  ev.reset(line.view, "-", 1);
  CHECK(lookup(ev, "c") == "true");
  CHECK(lookup(ev, "a") == "1");
  CHECK(lookup(ev, "n.x.y") == "2");
  CHECK(lookup(ev, "b") == "\"s\"");
  CHECK(lookup(ev, "n.z") == "3");
  CHECK(lookup(ev, "arr[1].k") == "2");
  CHECK(lookup(ev, "missing") == "missing");
  CHECK(lookup(ev, "arr[0].k") == "1");
  CHECK(lookup(ev, "a") == "1");
  CHECK(lookup(ev, "a") == "1");
  auto d = ev.doc();
  REQUIRE(d.has_value());
  simdjson::ondemand::object obj;
  REQUIRE((*d)->get_object().get(obj) == simdjson::SUCCESS);
  for (auto f : obj) (void)f;  // iterate the whole document
  CHECK(lookup(ev, "n.x") == R"({"y":2})");
  CHECK(lookup(ev, "a") == "1");
}
