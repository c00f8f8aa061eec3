#include "libcore/json/field_path.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ev::json {
namespace {

PathSegment key(std::string k) { return PathSegment{PathSegment::Kind::kKey, std::move(k), 0}; }
PathSegment index(size_t i) { return PathSegment{PathSegment::Kind::kIndex, {}, i}; }

std::vector<PathSegment> segments_of(std::string_view text) {
  auto path = FieldPath::parse(text);
  REQUIRE_MESSAGE(path.has_value(), path.error().message);
  return path->segments();
}

std::string error_of(std::string_view text) {
  auto path = FieldPath::parse(text);
  REQUIRE_FALSE(path.has_value());
  CHECK(path.error().kind == ErrorKind::kUsage);
  return path.error().message;
}

TEST_CASE("field_path: a single key is simple") {
  auto path = FieldPath::parse("user_id");
  REQUIRE(path.has_value());
  CHECK(path->segments() == std::vector{key("user_id")});
  CHECK(path->is_simple());
  CHECK(path->text() == "user_id");
  CHECK(path->leaf_name() == "user_id");
}

TEST_CASE("field_path: dotted keys and indexes") {
  CHECK(segments_of("device.os") == std::vector{key("device"), key("os")});
  CHECK(segments_of("items[0].sku") == std::vector{key("items"), index(0), key("sku")});
  CHECK(segments_of("a.b[2][0]") == std::vector{key("a"), key("b"), index(2), index(0)});
  CHECK(segments_of("a[10]") == std::vector{key("a"), index(10)});
  CHECK(segments_of("[3]") == std::vector{index(3)});
  CHECK(segments_of("a[007]") == std::vector{key("a"), index(7)});
  CHECK(segments_of("a[18446744073709551615]") ==
        std::vector{key("a"), index(18446744073709551615ULL)});

  auto path = FieldPath::parse("device.os");
  REQUIRE(path.has_value());
  CHECK_FALSE(path->is_simple());
  CHECK(path->leaf_name() == "os");
}

TEST_CASE("field_path: leaf name is the last key") {
  auto items = FieldPath::parse("items[0]");
  REQUIRE(items.has_value());
  CHECK(items->leaf_name() == "items");
  auto only_index = FieldPath::parse("[0]");
  REQUIRE(only_index.has_value());
  CHECK(only_index->leaf_name().empty());
  CHECK_FALSE(only_index->is_simple());
}

TEST_CASE("field_path: a leading dot is ignored") {
  CHECK(segments_of(".user_id") == std::vector{key("user_id")});
  CHECK(segments_of(".a.b") == std::vector{key("a"), key("b")});
  CHECK(segments_of(".[0]") == std::vector{index(0)});
  auto path = FieldPath::parse(".user_id");
  REQUIRE(path.has_value());
  CHECK(path->text() == ".user_id");
  CHECK(path->is_simple());
}

TEST_CASE("field_path: backslash escapes") {
  CHECK(segments_of(R"(a\.b)") == std::vector{key("a.b")});
  CHECK(segments_of(R"(a\.b.c)") == std::vector{key("a.b"), key("c")});
  CHECK(segments_of(R"(a\[0\])") == std::vector{key("a[0]")});
  CHECK(segments_of(R"(a\\b)") == std::vector{key(R"(a\b)")});
  CHECK(segments_of(R"(a\,b)") == std::vector{key("a,b")});
  CHECK(segments_of(R"(\.)") == std::vector{key(".")});
}

TEST_CASE("field_path: quoted bracket keys") {
  CHECK(segments_of(R"(["a.b"].c)") == std::vector{key("a.b"), key("c")});
  CHECK(segments_of(R"(x["a.b"])") == std::vector{key("x"), key("a.b")});
  CHECK(segments_of(R"(["a[0]"][1])") == std::vector{key("a[0]"), index(1)});
  CHECK(segments_of(R"(["q\"uote"])") == std::vector{key("q\"uote")});
  CHECK(segments_of(R"(["back\\slash"])") == std::vector{key(R"(back\slash)")});
  CHECK(segments_of(R"(["\n\t\r\b\f\/"])") == std::vector{key("\n\t\r\b\f/")});
  CHECK(segments_of(R"(["\u0041"])") == std::vector{key("A")});
  CHECK(segments_of(R"(["\u00e9"])") == std::vector{key("\xC3\xA9")});
  CHECK(segments_of(R"(["\u20AC"])") == std::vector{key("\xE2\x82\xAC")});
  CHECK(segments_of(R"(["\ud83d\ude00"])") == std::vector{key("\xF0\x9F\x98\x80")});
  CHECK(segments_of("[\"caf\xC3\xA9\"]") == std::vector{key("caf\xC3\xA9")});
  // The empty key can only be written quoted.
  CHECK(segments_of(R"([""])") == std::vector{key("")});
  auto path = FieldPath::parse(R"(["a.b"])");
  REQUIRE(path.has_value());
  CHECK(path->is_simple());
  CHECK(path->leaf_name() == "a.b");
}

TEST_CASE("field_path: errors name the path and the offset") {
  CHECK(error_of("a..b") == "invalid field path 'a..b': empty key at offset 2");
  CHECK(error_of("") == "invalid field path '': empty path");
  CHECK(error_of(".") == "invalid field path '.': empty key at offset 1");
  CHECK(error_of("..a") == "invalid field path '..a': empty key at offset 1");
  CHECK(error_of("a.") == "invalid field path 'a.': empty key at offset 2");
  CHECK(error_of("a.[0]") == "invalid field path 'a.[0]': empty key at offset 2");
  CHECK(error_of("a[") == "invalid field path 'a[': unterminated bracket at offset 1");
  CHECK(error_of("a[0") == "invalid field path 'a[0': unterminated bracket at offset 1");
  CHECK(error_of("a[x]") == "invalid field path 'a[x]': index is not a number at offset 2");
  CHECK(error_of("a[1x]") == "invalid field path 'a[1x]': index is not a number at offset 2");
  CHECK(error_of("a[ 1]") == "invalid field path 'a[ 1]': index is not a number at offset 2");
  CHECK(error_of("a[-1]") == "invalid field path 'a[-1]': negative index at offset 2");
  CHECK(error_of("a[]") == "invalid field path 'a[]': empty index at offset 2");
  CHECK(error_of("a[99999999999999999999]") ==
        "invalid field path 'a[99999999999999999999]': index out of range at offset 2");
  CHECK(error_of("a]") == "invalid field path 'a]': unexpected ']' at offset 1");
  CHECK(error_of("a[0]b") ==
        "invalid field path 'a[0]b': expected '.' or '[' before 'b' at offset 4");
  CHECK(error_of(R"(a\)") == R"(invalid field path 'a\': dangling backslash at offset 1)");
  CHECK(error_of(R"(["a)") == R"(invalid field path '["a': unterminated string at offset 1)");
  CHECK(error_of(R"(["a")") == R"(invalid field path '["a"': unterminated bracket at offset 0)");
  CHECK(error_of(R"(["a"x])") ==
        R"(invalid field path '["a"x]': unterminated bracket at offset 0)");
  CHECK(error_of(R"(["a\q"])") == R"(invalid field path '["a\q"]': invalid escape at offset 3)");
  CHECK(error_of(R"(["\u12"])") ==
        R"(invalid field path '["\u12"]': invalid \u escape at offset 2)");
  CHECK(error_of(R"(["\ud800"])") ==
        R"(invalid field path '["\ud800"]': unpaired surrogate at offset 2)");
  CHECK(error_of(R"(["\udc00"])") ==
        R"(invalid field path '["\udc00"]': unpaired surrogate at offset 2)");
  CHECK(error_of(R"(["\ud800\u0041"])") ==
        R"(invalid field path '["\ud800\u0041"]': unpaired surrogate at offset 2)");
  CHECK(error_of("[\"a\tb\"]") ==
        "invalid field path '[\"a\tb\"]': control character in string at offset 3");
}

std::vector<std::string> texts_of(std::string_view list) {
  auto paths = parse_field_path_list(list);
  REQUIRE_MESSAGE(paths.has_value(), paths.error().message);
  std::vector<std::string> texts;
  for (const auto& p : *paths) texts.push_back(p.text());
  return texts;
}

TEST_CASE("field_path: list splits on top-level commas") {
  using V = std::vector<std::string>;
  CHECK(texts_of("user_id") == V{"user_id"});
  CHECK(texts_of("user_id,device.os") == V{"user_id", "device.os"});
  CHECK(texts_of(" user_id , device.os ") == V{"user_id", "device.os"});
  CHECK(texts_of("a,\tb") == V{"a", "b"});
  CHECK(texts_of(R"(["a,b"],c)") == V{R"(["a,b"])", "c"});
  CHECK(texts_of(R"(["a\",b"],c)") == V{R"(["a\",b"])", "c"});
  CHECK(texts_of(R"(["a]b,c"],d)") == V{R"(["a]b,c"])", "d"});
  CHECK(texts_of(R"(a\,b,c)") == V{R"(a\,b)", "c"});
  CHECK(texts_of("a[0],b[1]") == V{"a[0]", "b[1]"});

  auto paths = parse_field_path_list(R"(a\,b, ["x,y"].z)");
  REQUIRE(paths.has_value());
  REQUIRE(paths->size() == 2);
  CHECK((*paths)[0].segments() == std::vector{key("a,b")});
  CHECK((*paths)[1].segments() == std::vector{key("x,y"), key("z")});
}

TEST_CASE("field_path: list keeps an escaped trailing space") {
  auto paths = parse_field_path_list(R"(a\ , b)");
  REQUIRE(paths.has_value());
  REQUIRE(paths->size() == 2);
  CHECK((*paths)[0].segments() == std::vector{key("a ")});
  CHECK((*paths)[1].segments() == std::vector{key("b")});
}

TEST_CASE("field_path: list rejects empty items and bad paths") {
  for (std::string_view bad : {"", " ", "a,", ",a", "a,,b", "a, ,b", "a,b..c", "a[0"}) {
    CAPTURE(bad);
    auto paths = parse_field_path_list(bad);
    REQUIRE_FALSE(paths.has_value());
    CHECK(paths.error().kind == ErrorKind::kUsage);
  }
  auto paths = parse_field_path_list("a,b..c");
  REQUIRE_FALSE(paths.has_value());
  CHECK(paths.error().message == "invalid field path 'b..c': empty key at offset 2");
}

}  // namespace
}  // namespace ev::json
