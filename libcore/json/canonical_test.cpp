#include "libcore/json/canonical.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef EV_SHARED_DIR
#define EV_SHARED_DIR "../shared"
#endif

namespace ev::json {
namespace {

// Canonical text of a whole document, or "<error: message>".
std::string canon(const std::string& json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (auto error = parser.iterate(padded).get(doc)) {
    return std::string("<error: ") + simdjson::error_message(error) + ">";
  }
  std::string out;
  auto status = append_canonical(doc, out);
  if (!status) {
    CHECK(status.error().kind == ErrorKind::kData);
    CHECK(out.empty());  // nothing half-written is left behind
    return "<error: " + status.error().message + ">";
  }
  return out;
}

bool is_error(const std::string& result) { return result.starts_with("<error"); }

TEST_CASE("canonical: scalars at the root") {
  CHECK(canon("1") == "1");
  CHECK(canon("  -12.50e+3  ") == "-12.50e+3");
  CHECK(canon(R"("A")") == R"("A")");
  CHECK(canon(R"("\u0041")") == R"("A")");
  CHECK(canon("true") == "true");
  CHECK(canon("false") == "false");
  CHECK(canon("null") == "null");
  CHECK(canon(" null \n") == "null");
}

TEST_CASE("canonical: removes whitespace and keeps number spelling") {
  CHECK(canon(R"( { "a" : [ 1 , 2.0 , 1e0 , -0 , 1E+2 ] } )") == R"({"a":[1,2.0,1e0,-0,1E+2]})");
  CHECK(canon("[1,1.0,1e0]") == "[1,1.0,1e0]");
  CHECK(canon("[100000000000000000000000000000]") == "[100000000000000000000000000000]");
  CHECK(canon("[1e999,-1e-999]") == "[1e999,-1e-999]");
  CHECK(canon("[\t1\t,\r\n2\n]") == "[1,2]");
}

TEST_CASE("canonical: sorts object members by key, recursively") {
  CHECK(canon(R"({"b":2,"a":1})") == R"({"a":1,"b":2})");
  CHECK(canon(R"({"a":1,"b":2})") == R"({"a":1,"b":2})");
  CHECK(canon(R"({"z":{"y":1,"x":[{"d":4,"c":3}]},"a":null})") ==
        R"({"a":null,"z":{"x":[{"c":3,"d":4}],"y":1}})");
  CHECK(canon(R"({"b":{"d":1,"c":2},"a":{"f":3,"e":4}})") ==
        R"({"a":{"e":4,"f":3},"b":{"c":2,"d":1}})");
  CHECK(canon(R"({"aa":1,"a":2,"":3,"b":4})") == R"({"":3,"a":2,"aa":1,"b":4})");
  CHECK(canon("{}") == "{}");
  CHECK(canon("[]") == "[]");
  CHECK(canon(R"({"a":{},"b":[]})") == R"({"a":{},"b":[]})");
}

TEST_CASE("canonical: keys sort bytewise on the unescaped key") {
  // "\u0062" is "b"; it sorts and prints as b.
  CHECK(canon(R"({"\u0062":1,"a":2})") == R"({"a":2,"b":1})");
  // Bytes >= 0x80 sort after ASCII (unsigned comparison).
  CHECK(canon("{\"\xC3\xA9\":1,\"z\":2,\"A\":3}") == "{\"A\":3,\"z\":2,\"\xC3\xA9\":1}");
  // Uppercase before lowercase.
  CHECK(canon(R"({"b":1,"B":2})") == R"({"B":2,"b":1})");
}

TEST_CASE("canonical: duplicate keys are all kept in input order") {
  CHECK(canon(R"({"b":1,"a":2,"b":0,"a":1})") == R"({"a":2,"a":1,"b":1,"b":0})");
  CHECK(canon(R"({"a":"x","a":"y"})") == R"({"a":"x","a":"y"})");
  CHECK(canon(R"({"a":[1],"\u0061":[0]})") == R"({"a":[1],"a":[0]})");
}

TEST_CASE("canonical: strings are unescaped and re-escaped minimally") {
  CHECK(canon(R"(["\u0041","A"])") == R"(["A","A"])");
  CHECK(canon(R"(["\/"])") == R"(["/"])");
  CHECK(canon(R"(["\u00e9","é"])") == R"(["é","é"])");
  CHECK(canon(R"(["\ud83d\ude00"])") == "[\"\xF0\x9F\x98\x80\"]");
  CHECK(canon(R"(["\u0000\u001F\u007f"])") == "[\"\\u0000\\u001f\x7f\"]");
  CHECK(canon(R"(["\b\f\n\r\t\"\\"])") == R"(["\b\f\n\r\t\"\\"])");
  CHECK(canon(R"({"k\u0022":"v"})") == R"({"k\"":"v"})");
}

TEST_CASE("canonical: equal values in different spellings give equal text") {
  CHECK(canon(R"({ "id" : "\u0041", "tags" : { "y" : 2 , "x" : 1 } })") ==
        canon(R"({"tags":{"x":1,"y":2},"id":"A"})"));
  CHECK(canon(R"({"n":1})") != canon(R"({"n":1.0})"));
  CHECK(canon(R"({"n":1})") != canon(R"({"n":"1"})"));
}

TEST_CASE("canonical: appends a value from inside a document") {
  auto json =
      simdjson::padded_string(std::string(R"({"x":7,"v":{"b":[true,null],"a":"s"},"w":1})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(json).get(doc));
  simdjson::ondemand::value v;
  REQUIRE_FALSE(doc["v"].get(v));
  std::string out = "prefix|";
  REQUIRE(append_canonical(v, out).has_value());
  CHECK(out == R"(prefix|{"a":"s","b":[true,null]})");
  // The document can still be read after the value.
  int64_t w = 0;
  REQUIRE_FALSE(doc["w"].get(w));
  CHECK(w == 1);
}

TEST_CASE("canonical: numbers inside a document keep the parent readable") {
  auto json = simdjson::padded_string(std::string(R"({"a":1.50 ,"b":"x"})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(json).get(doc));
  simdjson::ondemand::value v;
  REQUIRE_FALSE(doc["a"].get(v));
  std::string out;
  REQUIRE(append_canonical(v, out).has_value());
  CHECK(out == "1.50");
  std::string_view b;
  REQUIRE_FALSE(doc["b"].get(b));
  CHECK(b == "x");
}

TEST_CASE("canonical: string_bytes gives the unescaped bytes of a string") {
  auto json = simdjson::padded_string(
      std::string(R"({"plain":"u-123" ,"esc":"a\u0041\n","empty":"","utf":"é","n":1})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(json).get(doc));
  auto bytes_of = [&](const char* name) -> std::string {
    simdjson::ondemand::value v;
    REQUIRE_FALSE(doc[name].get(v));
    auto bytes = string_bytes(v);
    REQUIRE(bytes.has_value());
    return std::string(*bytes);
  };
  CHECK(bytes_of("plain") == "u-123");
  CHECK(bytes_of("esc") == "aA\n");
  CHECK(bytes_of("empty") == "");
  CHECK(bytes_of("utf") == "é");
  int64_t n = 0;
  REQUIRE_FALSE(doc["n"].get(n));  // the document is still readable
  CHECK(n == 1);
}

TEST_CASE("canonical: string_bytes rejects a malformed escape") {
  for (const char* text : {R"({"s":"\ud800"})", R"({"s":"\q"})", R"({"s":"\u12"})"}) {
    CAPTURE(text);
    auto json = simdjson::padded_string(std::string(text));
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    REQUIRE_FALSE(parser.iterate(json).get(doc));
    simdjson::ondemand::value v;
    REQUIRE_FALSE(doc["s"].get(v));
    auto bytes = string_bytes(v);
    REQUIRE_FALSE(bytes.has_value());
    CHECK(bytes.error().kind == ErrorKind::kData);
  }
}

TEST_CASE("canonical: plain and escaped keys and strings mix") {
  CHECK(canon(R"({"b\n":"x\ty","b":"plain","a\u00e9":"\u00e9","a":"é"})") ==
        R"({"a":"é","aé":"é","b":"plain","b\n":"x\ty"})");
  CHECK(canon(R"({"k":"a\"b","j":"\\"})") == R"({"j":"\\","k":"a\"b"})");
  CHECK(canon(R"(["", "\"", " "])") == R"(["","\""," "])");
}

TEST_CASE("canonical: a malformed value inside a document is a data error") {
  auto json = simdjson::padded_string(std::string(R"({"v":[1,01],"w":2})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(json).get(doc));
  simdjson::ondemand::value v;
  REQUIRE_FALSE(doc["v"].get(v));
  std::string out = "keep";
  auto status = append_canonical(v, out);
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().kind == ErrorKind::kData);
  CHECK(out == "keep");  // the output is rolled back
}

TEST_CASE("canonical: malformed documents are data errors") {
  for (const char* bad : {
           "",
           " ",
           "[1,]",
           "[,1]",
           "{\"a\":1,}",
           "{\"a\" 1}",
           "{\"a\":}",
           "{a:1}",
           "[01]",
           "[1.]",
           "[.5]",
           "[-]",
           "[+1]",
           "[1e]",
           "[1e+]",
           "[0x10]",
           "[tru]",
           "[nul]",
           "[True]",
           "[\"a\" \"b\"]",
           "[1 2]",
           "{} {}",
           "[1]x",
           "1 2",
           "\"a\" \"b\"",
           "[1",
           "{\"a\":1",
           "[1]]",
           "{}}",
           "[\"\\ud800\"]",
           "[\"\\x\"]",
           "[\"\\u12\"]",
           "nul",
           "truex",
           "[NaN]",
           "[Infinity]",
           "{\"a\":1 \"b\":2}",
           "[\"a\",]",
           "\"abc",
       }) {
    CAPTURE(bad);
    CHECK(is_error(canon(bad)));
  }
}

TEST_CASE("canonical: invalid UTF-8 in the input is an error") {
  CHECK(is_error(canon("[\"\xFF\"]")));
  CHECK(is_error(canon("{\"\xC3\":1}")));
}

TEST_CASE("canonical: depth is bounded") {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']');
  };
  CHECK(canon(nested(kMaxCanonicalDepth)) == nested(kMaxCanonicalDepth));
  std::string too_deep = canon(nested(kMaxCanonicalDepth + 1));
  CHECK(is_error(too_deep));
  CHECK(too_deep.find("deeper than 256") != std::string::npos);

  std::string objects;
  for (int i = 0; i < kMaxCanonicalDepth + 1; ++i) objects += R"({"a":)";
  objects += "1";
  objects += std::string(static_cast<size_t>(kMaxCanonicalDepth + 1), '}');
  CHECK(is_error(canon(objects)));
}

TEST_CASE("canonical: large objects sort correctly") {
  std::string json = "{";
  std::string expected = "{";
  for (int i = 999; i >= 0; --i) {
    json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + (i ? "," : "");
  }
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("k" + std::to_string(i));
  std::sort(keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size(); ++i) {
    expected += (i ? ",\"" : "\"") + keys[i] + "\":" + keys[i].substr(1);
  }
  json += "}";
  expected += "}";
  CHECK(canon(json) == expected);
}

TEST_CASE("canonical: output is canonical input (idempotent)") {
  for (const char* json : {
           R"({"b":[{"y":"\u00e9","x":1e3}],"a":{"c":null,"b":true}})",
           R"([{"\n":1,"\t":2}, "\\", -0.0])",
       }) {
    std::string once = canon(json);
    REQUIRE_FALSE(is_error(once));
    CHECK(canon(once) == once);
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_CASE("canonical: JSONTestSuite corpus") {
  const std::filesystem::path dir =
      std::filesystem::path(EV_SHARED_DIR) / "corpora/jsontestsuite/test_parsing";
  REQUIRE_MESSAGE(std::filesystem::is_directory(dir), dir.string());
  int accepted = 0, rejected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".json")) continue;
    CAPTURE(name);
    std::string text = read_file(entry.path());
    std::string result = canon(text);  // must not crash, whatever the input
    if (name.starts_with("y_")) {
      // Every valid document canonicalizes, to text that is its own canonical form.
      CHECK_MESSAGE(!is_error(result), result);
      CHECK(canon(result) == result);
      ++accepted;
    } else if (name.starts_with("n_")) {
      // simdjson 3.0.1 On-Demand rejects every one of these once the whole value is
      // read; a lazily accepted file would be listed here.
      CHECK_MESSAGE(is_error(result), "accepted: ", result);
      ++rejected;
    }
  }
  CHECK(accepted >= 90);
  CHECK(rejected >= 180);
}

}  // namespace
}  // namespace ev::json
