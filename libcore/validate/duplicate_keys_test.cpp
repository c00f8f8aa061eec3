#include "libcore/validate/duplicate_keys.h"

#include <doctest/doctest.h>

#include <string>

namespace {

std::string dup(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(json).get(e) == simdjson::SUCCESS);
  std::string pointer;
  return ev::validate::find_duplicate_key(e, pointer) ? pointer : "none";
}

}  // namespace

TEST_CASE("duplicate keys: found at any depth, after unescaping, in small and large objects") {
  CHECK(dup(R"({"a":1,"b":2})") == "none");
  CHECK(dup(R"({"a":1,"b":2,"a":3})") == "/a");
  CHECK(dup(R"({"a":1,"\u0061":2})") == "/a");
  CHECK(dup(R"({"d":{"os":"x","os":"y"}})") == "/d/os");
  CHECK(dup(R"({"l":[1,{"k":1},{"k":1,"k":2}]})") == "/l/2/k");
  CHECK(dup(R"({"":1,"":2})") == "/");
  CHECK(dup(R"({"a/b":{"x":1,"x":1}})") == "/a~1b/x");
  std::string big = "{";
  for (int k = 0; k < 100; ++k) big += "\"k" + std::to_string(k) + "\":" + std::to_string(k) + ",";
  CHECK(dup(big + "\"z\":0}") == "none");
  CHECK(dup(big + "\"k57\":0}") == "/k57");
  CHECK(dup("[1,2,3]") == "none");
}
