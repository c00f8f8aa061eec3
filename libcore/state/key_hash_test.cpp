#include "libcore/state/key_hash.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "libcore/json/canonical.h"

namespace ev::state {
namespace {

using Field = std::optional<std::string>;  // JSON text of a value; nullopt: missing

// Adds the JSON value `json` (any type) to `hasher`.
Status add_json(KeyHasher& hasher, const std::string& json) {
  // A root scalar cannot be handed out as an On-Demand value; wrap it in an array.
  simdjson::padded_string padded("[" + json + "]");
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (auto error = parser.iterate(padded).get(doc)) {
    return data_error(simdjson::error_message(error));
  }
  simdjson::ondemand::value value;
  if (auto error = doc.at(0).get(value)) return data_error(simdjson::error_message(error));
  return hasher.add(value);
}

uint64_t digest64(const std::vector<Field>& fields) {
  KeyHasher hasher;
  for (const auto& field : fields) {
    if (field) {
      auto status = add_json(hasher, *field);
      REQUIRE_MESSAGE(status.has_value(), status.error().message);
    } else {
      hasher.add_missing();
    }
  }
  return hasher.digest64();
}

Hash128 digest128(const std::vector<Field>& fields) {
  KeyHasher hasher;
  for (const auto& field : fields) {
    if (field) {
      REQUIRE(add_json(hasher, *field).has_value());
    } else {
      hasher.add_missing();
    }
  }
  return hasher.digest128();
}

// Both digests agree about equality of two keys.
bool same_key(const std::vector<Field>& a, const std::vector<Field>& b) {
  bool same64 = digest64(a) == digest64(b);
  bool same128 = digest128(a) == digest128(b);
  CHECK(same64 == same128);
  return same64 && same128;
}

// The documented byte layout of one field.
std::string field_bytes(char tag, std::string_view payload) {
  std::string out(1, tag);
  uint64_t n = payload.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out.append(payload);
  return out;
}

TEST_CASE("key_hash: a number and a string of the same text differ") {
  CHECK_FALSE(same_key({"1"}, {R"("1")"}));
  CHECK_FALSE(same_key({"true"}, {R"("true")"}));
  CHECK_FALSE(same_key({"null"}, {R"("null")"}));
  CHECK_FALSE(same_key({"[]"}, {"{}"}));
  CHECK_FALSE(same_key({"[]"}, {R"("[]")"}));
  CHECK_FALSE(same_key({R"({"a":1})"}, {R"("{\"a\":1}")"}));
}

TEST_CASE("key_hash: missing and null differ") {
  CHECK_FALSE(same_key({std::nullopt}, {"null"}));
  CHECK_FALSE(same_key({std::nullopt}, {R"("")"}));
  CHECK_FALSE(same_key({std::nullopt}, {}));  // a missing field is still a field
  CHECK(same_key({std::nullopt, "1"}, {std::nullopt, "1"}));
}

TEST_CASE("key_hash: strings compare unescaped") {
  CHECK(same_key({R"("\u0041")"}, {R"("A")"}));
  CHECK(same_key({R"("\/")"}, {R"("/")"}));
  CHECK(same_key({R"("\u00e9")"}, {"\"\xC3\xA9\""}));
  CHECK(same_key({R"({"\u0041":"\u0042"})"}, {R"({"A":"B"})"}));
  CHECK_FALSE(same_key({R"("a")"}, {R"("A")"}));
  CHECK_FALSE(same_key({R"("a")"}, {R"("a ")"}));
}

TEST_CASE("key_hash: object member order does not matter") {
  CHECK(same_key({R"({"a":1,"b":2})"}, {R"({"b":2,"a":1})"}));
  CHECK(same_key({R"({ "a" : [ 1 , { "y" : 1, "x" : 2 } ] })"}, {R"({"a":[1,{"x":2,"y":1}]})"}));
  CHECK_FALSE(same_key({"[1,2]"}, {"[2,1]"}));  // array order does
  CHECK_FALSE(same_key({R"({"a":1,"b":2})"}, {R"({"a":2,"b":1})"}));
}

TEST_CASE("key_hash: numbers compare by spelling") {
  CHECK_FALSE(same_key({"1"}, {"1.0"}));
  CHECK_FALSE(same_key({"1"}, {"1e0"}));
  CHECK_FALSE(same_key({"0"}, {"-0"}));
  CHECK(same_key({"1.50"}, {"1.50"}));
  CHECK(same_key({" 7 "}, {"7"}));  // whitespace around a token is not spelling
}

TEST_CASE("key_hash: field boundaries are part of the key") {
  CHECK_FALSE(same_key({R"("ab")", R"("c")"}, {R"("a")", R"("bc")"}));
  CHECK_FALSE(same_key({R"("a")", R"("")"}, {R"("a")"}));
  CHECK_FALSE(same_key({R"("")", R"("")"}, {R"("")"}));
  CHECK_FALSE(same_key({"1", "2"}, {"12"}));
  CHECK_FALSE(same_key({"1", "2"}, {"2", "1"}));
  CHECK_FALSE(same_key({R"("a")", std::nullopt}, {std::nullopt, R"("a")"}));
}

TEST_CASE("key_hash: equal keys give equal digests and reset starts over") {
  CHECK(same_key({R"("u1")", "42"}, {R"("u1")", "42"}));
  KeyHasher hasher;
  REQUIRE(add_json(hasher, R"("u1")").has_value());
  const uint64_t first = hasher.digest64();
  const Hash128 first128 = hasher.digest128();
  hasher.reset();
  REQUIRE(add_json(hasher, R"("u1")").has_value());
  CHECK(hasher.digest64() == first);
  CHECK(hasher.digest128() == first128);
  REQUIRE(add_json(hasher, R"("u1")").has_value());
  CHECK(hasher.digest64() != first);
  CHECK(hasher.digest64() == hasher.digest64());  // digests do not consume the key
}

TEST_CASE("key_hash: add_bytes uses the caller's tag") {
  KeyHasher raw;
  raw.add_bytes('x', "A");
  KeyHasher json;
  REQUIRE(add_json(json, R"("A")").has_value());
  CHECK(raw.digest64() != json.digest64());

  KeyHasher tagged;
  tagged.add_bytes(key_tag::kString, "A");  // the same bytes as the JSON string "A"
  CHECK(tagged.digest64() == json.digest64());

  KeyHasher other_tag;
  other_tag.add_bytes('y', "A");
  CHECK(other_tag.digest64() != raw.digest64());
}

TEST_CASE("key_hash: the byte layout is tag, 8-byte length, canonical bytes") {
  KeyHasher hasher;
  REQUIRE(add_json(hasher, R"("\u0041b")").has_value());
  REQUIRE(add_json(hasher, "1.0").has_value());
  hasher.add_missing();
  REQUIRE(add_json(hasher, "null").has_value());
  REQUIRE(add_json(hasher, "false").has_value());
  REQUIRE(add_json(hasher, R"({"b":[true],"a":"x\n"})").has_value());
  REQUIRE(add_json(hasher, "[ 1 , 2 ]").has_value());
  const std::string expected =
      field_bytes(key_tag::kString, "Ab") + field_bytes(key_tag::kNumber, "1.0") +
      field_bytes(key_tag::kMissing, "") + field_bytes(key_tag::kNull, "null") +
      field_bytes(key_tag::kBool, "false") +
      field_bytes(key_tag::kObject, R"({"a":"x\n","b":[true]})") +
      field_bytes(key_tag::kArray, "[1,2]");
  CHECK(hasher.digest64() == XXH3_64bits(expected.data(), expected.size()));
  XXH128_hash_t h = XXH3_128bits(expected.data(), expected.size());
  CHECK(hasher.digest128() == Hash128{h.low64, h.high64});
}

TEST_CASE("key_hash: digests are stable across versions") {
  // Pinned values: if these change, every stored dedupe set and partition moves.
  KeyHasher empty;
  CHECK(empty.digest64() == 0x2D06800538D394C2ULL);  // XXH3_64 of no bytes, seed 0

  KeyHasher hasher;
  REQUIRE(add_json(hasher, R"("user-1")").has_value());
  REQUIRE(add_json(hasher, "42").has_value());
  hasher.add_missing();
  CHECK(hasher.digest64() == 0x444005440EC2D112ULL);
  CHECK(hasher.digest128() == Hash128{0xFA6C033D0B698369ULL, 0xF758BB0C9BF71B60ULL});
}

TEST_CASE("key_hash: malformed values are data errors and leave the key unchanged") {
  for (const char* bad :
       {"01", "1.", "-", "tru", "nul", R"("\x")", "[1,]", R"({"a" 1})", R"("\ud800")"}) {
    CAPTURE(bad);
    KeyHasher hasher;
    REQUIRE(add_json(hasher, R"("k")").has_value());
    const uint64_t before = hasher.digest64();
    auto status = add_json(hasher, bad);
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error().kind == ErrorKind::kData);
    CHECK(hasher.digest64() == before);
  }
}

TEST_CASE("key_hash: nesting deeper than the canonical bound is an error") {
  const size_t depth = json::kMaxCanonicalDepth + 1;
  KeyHasher hasher;
  auto status = add_json(hasher, std::string(depth, '[') + std::string(depth, ']'));
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().kind == ErrorKind::kData);
  CHECK(add_json(hasher, std::string(depth - 1, '[') + std::string(depth - 1, ']')).has_value());
}

TEST_CASE("key_hash: fields read from an event") {
  auto event = simdjson::padded_string(
      std::string(R"({"user":"u\u0031","device":{"os":"ios","v":2},"n":3})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(event).get(doc));
  KeyHasher from_event;
  for (const char* name : {"user", "device", "missing"}) {
    simdjson::ondemand::value value;
    auto error = doc.find_field_unordered(name).get(value);
    if (error == simdjson::NO_SUCH_FIELD) {
      from_event.add_missing();
    } else {
      REQUIRE_FALSE(error);
      REQUIRE(from_event.add(value).has_value());
    }
  }
  CHECK(from_event.digest64() == digest64({R"("u1")", R"({"v":2,"os":"ios"})", std::nullopt}));
}

}  // namespace
}  // namespace ev::state
