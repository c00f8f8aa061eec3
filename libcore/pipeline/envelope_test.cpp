#include "libcore/pipeline/envelope.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>

using ev::pipeline::append_envelope;
using ev::pipeline::RejectInfo;

TEST_CASE("envelope: keeps the raw line so that decoding gives it back byte for byte") {
  std::string raw = "{\"a\":\"q\\\"uote\", \"tab\":\"\t\", \"nul\":\"x";
  raw.push_back('\0');
  raw += "\"}";
  std::string out;
  append_envelope(out, RejectInfo{"NUL byte in line", "ev-ingest", "in.jsonl", 12, raw});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(out).get(doc) == simdjson::SUCCESS);
  std::string_view got;
  REQUIRE(doc["raw"].get(got) == simdjson::SUCCESS);
  CHECK(got == raw);
  CHECK(std::string_view(doc["error"]) == "NUL byte in line");
  CHECK(std::string_view(doc["program"]) == "ev-ingest");
  CHECK(std::string_view(doc["source"]) == "in.jsonl");
  CHECK(uint64_t(doc["line"]) == 12);
}

TEST_CASE("envelope: the canonical shape") {
  std::string out;
  append_envelope(out, RejectInfo{"not a JSON object", "ev-ingest", "-", 3, "[1]"});
  CHECK(out ==
        R"({"error":"not a JSON object","program":"ev-ingest","source":"-","line":3,"raw":"[1]"})");
}

TEST_CASE("envelope: invalid UTF-8 travels as raw_base64") {
  std::string out;
  append_envelope(out, RejectInfo{"invalid UTF-8", "ev-x", "f", 1, "{\"a\":\"\xff\"}"});
  CHECK(out.find("\"raw_base64\":\"eyJhIjoi/yJ9\"") != std::string::npos);
  CHECK(out.find("\"raw\":") == std::string::npos);
}

TEST_CASE("envelope: truncated lines say so") {
  std::string out;
  RejectInfo info{"line too long", "ev-x", "f", 9, "{\"aaaa", true, 99999};
  append_envelope(out, info);
  CHECK(out.find("\"raw_truncated\":true,\"length\":99999") != std::string::npos);
}

TEST_CASE("envelope: base64") {
  auto b64 = [](std::string_view s) {
    std::string o;
    ev::pipeline::append_base64(o, s);
    return o;
  };
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foo") == "Zm9v");
  CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE(
    "envelope: a truncated prefix stays valid JSON, and keeps raw when only the cut split a "
    "character") {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  // Invalid UTF-8 and truncated: base64, then the truncation members, all valid JSON.
  std::string bad = "{\"a\":\"\xffxxxx";
  std::string out;
  append_envelope(out, RejectInfo{"line too long", "ev-x", "f", 3, bad, true, 5000});
  REQUIRE(parser.parse(out).get(doc) == simdjson::SUCCESS);
  CHECK(doc["raw_truncated"].get_bool().value());
  CHECK(doc["length"].get_uint64().value() == 5000);
  CHECK(doc["raw_base64"].error() == simdjson::SUCCESS);
  // Valid text cut inside a two-byte character: the half character is dropped.
  std::string cut = "{\"a\":\"\xC3\xA9\xC3";
  out.clear();
  append_envelope(out, RejectInfo{"line too long", "ev-x", "f", 4, cut, true, 5000});
  REQUIRE(parser.parse(out).get(doc) == simdjson::SUCCESS);
  CHECK(std::string(doc["raw"].get_string().value()) == cut.substr(0, cut.size() - 1));
}
