#include "libcore/json/splice.h"

#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

namespace {
std::string splice(std::string_view raw, std::string_view members,
                   std::initializer_list<std::string_view> keys = {"_src"}) {
  std::string padded = std::string(raw) + std::string(64, ' ');
  simdjson::ondemand::parser parser;
  std::string out;
  auto st = ev::json::append_spliced(out, std::string_view(padded.data(), raw.size()), members,
                                     keys, parser);
  if (!st) return "error: " + st.error().message;
  return out;
}
}  // namespace

TEST_CASE("splice: appends before the closing brace, keeping the rest byte for byte") {
  CHECK(splice(R"({"a": 1.0,  "b":[ 1 ]})", R"("_src":1)") == R"({"a": 1.0,  "b":[ 1 ],"_src":1})");
  CHECK(splice(R"({"a":1} )", R"("_src":1)") == R"({"a":1,"_src":1} )");
  CHECK(splice(R"({"a":1 })", R"("_src":1)") == R"({"a":1,"_src":1 })");
}

TEST_CASE("splice: empty objects get no comma") {
  CHECK(splice("{}", R"("_src":1)") == R"({"_src":1})");
  CHECK(splice("{  }", R"("_src":1)") == R"({"_src":1  })");
}

TEST_CASE("splice: an existing member of the same key is replaced, never duplicated") {
  CHECK(splice(R"({"_src":{"x":[1,{"y":2}]},"a":1})", R"("_src":2)") == R"({"a":1,"_src":2})");
  CHECK(splice(R"({"a":1,"_src":"old"})", R"("_src":2)") == R"({"a":1,"_src":2})");
  CHECK(splice(R"({"a":1, "_src" : "old" ,"b":2})", R"("_src":2)") == R"({"a":1, "b":2,"_src":2})");
  CHECK(splice(R"({"_src":0})", R"("_src":2)") == R"({"_src":2})");
  // The key text inside a value is not a member: left alone.
  CHECK(splice(R"({"a":"_src","b":["_src"]})", R"("_src":2)") ==
        R"({"a":"_src","b":["_src"],"_src":2})");
  // Nested members of the same name are not top-level: left alone.
  CHECK(splice(R"({"n":{"_src":1}})", R"("_src":2)") == R"({"n":{"_src":1},"_src":2})");
}

TEST_CASE("splice: several replaced members, wherever they stand, leave valid JSON") {
  // Two at the end: the comma before the first of them goes too.
  CHECK(splice(R"({"a":1,"x":2,"y":3})", R"("x":5,"y":6)", {"x", "y"}) ==
        R"({"a":1,"x":5,"y":6})");
  CHECK(splice(R"({"a":1 , "x":2 , "y":3 })", R"("x":5,"y":6)", {"x", "y"}) ==
        R"({"a":1,"x":5,"y":6   })");
  CHECK(splice(R"({"x":2,"y":3,"a":1})", R"("x":5,"y":6)", {"x", "y"}) ==
        R"({"a":1,"x":5,"y":6})");
  CHECK(splice(R"({"x":2,"a":1,"y":3})", R"("x":5,"y":6)", {"x", "y"}) ==
        R"({"a":1,"x":5,"y":6})");
  CHECK(splice(R"({"x":2,"y":3})", R"("x":5,"y":6)", {"x", "y"}) == R"({"x":5,"y":6})");
  CHECK(splice(R"({"a":1,"x":2,"b":2,"y":3,"z":4})", R"("x":5,"y":6,"z":7)", {"x", "y", "z"}) ==
        R"({"a":1,"b":2,"x":5,"y":6,"z":7})");
}

TEST_CASE("splice: not an object") {
  CHECK(splice("[1]", "\"x\":1").rfind("error", 0) == 0);
  CHECK(splice("", "\"x\":1").rfind("error", 0) == 0);
}

TEST_CASE("splice: a member whose key is spelled with escapes is replaced too") {
  CHECK(splice(R"({"a":1,"\u005fsrc":2})", R"("_src":3)") == R"({"a":1,"_src":3})");
  CHECK(splice(R"({"a":"x\ny"})", R"("_src":3)") == R"({"a":"x\ny","_src":3})");
}

TEST_CASE("splice: the key check finds keys anywhere in long lines, for many keys at once") {
  // Lines long enough for the vector scan, with the key at every offset: the member is
  // cut wherever it sits, and a key spelled only inside a string value cuts nothing.
  const std::vector<std::string_view> keys = {"tier", "a",  "signup", "age", "lang", "ltv",
                                              "x1",   "x2", "x3",     "x4",  "x5",   "x6",
                                              "x7",   "x8", "x9",     "y1",  "y2",   "y3"};
  simdjson::ondemand::parser parser;
  for (size_t pad = 0; pad < 80; ++pad) {
    const std::string filler(pad, 'q');
    for (size_t use : {size_t{5}, keys.size()}) {
      std::span<const std::string_view> some(keys.data(), use);
      std::string line = R"({"f":")" + filler + R"(","lang":"de","g":"tier ltv"})";
      std::string padded = line + std::string(64, ' ');
      std::string out;
      REQUIRE(ev::json::append_spliced(out, std::string_view(padded.data(), line.size()),
                                       R"("lang":"en")", some, parser));
      CHECK(out == R"({"f":")" + filler + R"(","g":"tier ltv","lang":"en"})");
      line = R"({"f":")" + filler + R"(","s":"\"tier\""})";
      padded = line + std::string(64, ' ');
      out.clear();
      REQUIRE(ev::json::append_spliced(out, std::string_view(padded.data(), line.size()),
                                       R"("tier":1)", some, parser));
      CHECK(out == R"({"f":")" + filler + R"(","s":"\"tier\"","tier":1})");
    }
  }
}
