#include "libcore/validate/schema.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using ev::validate::Schema;
using ev::validate::SchemaOptions;
using ev::validate::Violation;

Schema compile(std::string_view text, SchemaOptions options = {}) {
  auto schema = Schema::compile_text(text, "", options);
  REQUIRE_MESSAGE(schema.has_value(), (schema ? std::string() : schema.error().to_string()));
  return std::move(*schema);
}

struct Outcome {
  bool valid;
  std::vector<Violation> violations;
};

Outcome check(const Schema& schema, const std::string& instance, size_t max_errors = 100) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(instance).get(e) == simdjson::SUCCESS);
  Outcome out;
  out.valid = schema.validate(e, out.violations, max_errors);
  return out;
}

bool valid(const Schema& schema, const std::string& instance) {
  return check(schema, instance).valid;
}

std::string schema_error(std::string_view text) {
  auto schema = Schema::compile_text(text, "", {});
  REQUIRE_FALSE(schema.has_value());
  CHECK(schema.error().kind == ev::ErrorKind::kUsage);
  return schema.error().to_string();
}

}  // namespace

TEST_CASE("schema: type, enum and const") {
  auto s = compile(R"({"type":["integer","string"]})");
  CHECK(valid(s, "1"));
  CHECK(valid(s, "1.0"));
  CHECK(valid(s, R"("x")"));
  CHECK_FALSE(valid(s, "1.5"));
  CHECK_FALSE(valid(s, "null"));
  auto num = compile(R"({"type":"number"})");
  CHECK(valid(num, "1"));
  CHECK(valid(num, "-1.5e3"));
  CHECK_FALSE(valid(num, R"("1")"));
  auto wrong = check(num, R"("1")");
  REQUIRE(wrong.violations.size() == 1);
  CHECK(wrong.violations[0].message == "expected number, got string");
  CHECK(check(s, "null").violations[0].message == "expected string or integer, got null");

  auto e = compile(R"({"enum":["ios","android",1,{"a":[1,2]}]})");
  CHECK(valid(e, R"("ios")"));
  CHECK(valid(e, "1.0"));
  CHECK(valid(e, R"({"a":[1.0,2]})"));
  auto got = check(e, R"("x")");
  CHECK_FALSE(got.valid);
  REQUIRE(got.violations.size() == 1);
  CHECK(got.violations[0].keyword == "enum");
  CHECK(got.violations[0].schema_path == "/enum");
  CHECK(got.violations[0].instance_path == "");
  CHECK(got.violations[0].message == R"(expected one of ["ios","android",1,{"a":[1,2]}], got "x")");

  auto c = compile(R"({"const":{"a":1,"b":[false,null]}})");
  CHECK(valid(c, R"({"b":[false,null],"a":1.0})"));
  CHECK_FALSE(valid(c, R"({"a":1})"));
  CHECK_FALSE(valid(c, R"({"a":1,"b":[false,null],"c":0})"));
}

TEST_CASE("schema: objects") {
  auto s = compile(R"({
    "type":"object",
    "required":["id","device"],
    "properties":{
      "id":{"type":"string","minLength":2},
      "device":{"type":"object","properties":{"os":{"enum":["ios","android"]}},
                "additionalProperties":false}
    },
    "patternProperties":{"^x-":{"type":"integer"}},
    "additionalProperties":{"type":"boolean"},
    "minProperties":1,"maxProperties":5,
    "propertyNames":{"maxLength":8},
    "dependentRequired":{"a":["b"]},
    "dependentSchemas":{"c":{"required":["d"]}}
  })");
  CHECK(valid(s, R"({"id":"ab","device":{"os":"ios"},"x-n":3,"flag":true})"));
  auto got = check(s, R"({"id":"a","device":{"os":"x","model":1},"x-n":"3","flag":1})");
  CHECK_FALSE(got.valid);
  std::vector<std::string> seen;
  for (const auto& v : got.violations) seen.push_back(v.instance_path + " " + v.keyword);
  CHECK(seen == std::vector<std::string>{"/id minLength", "/device/os enum",
                                         "/device/model additionalProperties", "/x-n type",
                                         "/flag type"});
  CHECK(got.violations[1].schema_path == "/properties/device/properties/os/enum");
  CHECK(got.violations[2].message == R"(property "model" is not allowed)");

  auto missing = check(s, R"({"a":1})");
  REQUIRE(missing.violations.size() >= 3);
  CHECK(missing.violations[0].keyword == "required");
  CHECK(missing.violations[0].message == R"(missing required property "id")");
  CHECK(missing.violations[1].message == R"(missing required property "device")");
  CHECK(missing.violations[2].keyword == "dependentRequired");

  CHECK_FALSE(valid(s, R"({"id":"ab","device":{},"c":true})"));
  CHECK(valid(s, R"({"id":"ab","device":{},"c":true,"d":true})"));
  auto names = check(s, R"({"id":"ab","device":{},"verylongname":true})");
  CHECK_FALSE(names.valid);
  REQUIRE(names.violations.size() == 1);
  CHECK(names.violations[0].keyword == "maxLength");
  CHECK(names.violations[0].instance_path == "/verylongname");
  CHECK(names.violations[0].schema_path == "/propertyNames/maxLength");
}

TEST_CASE("schema: numbers") {
  auto s = compile(R"({"minimum":1,"maximum":10,"multipleOf":0.5})");
  CHECK(valid(s, "1"));
  CHECK(valid(s, "9.5"));
  CHECK_FALSE(valid(s, "0.5"));
  CHECK_FALSE(valid(s, "10.5"));
  CHECK_FALSE(valid(s, "2.25"));
  auto got = check(s, "11.25");
  REQUIRE(got.violations.size() == 2);
  CHECK(got.violations[0].message == "expected <= 10, got 11.25");
  CHECK(got.violations[1].keyword == "multipleOf");
  auto x = compile(R"({"exclusiveMinimum":0,"exclusiveMaximum":1})");
  CHECK(valid(x, "0.5"));
  CHECK_FALSE(valid(x, "0"));
  CHECK_FALSE(valid(x, "1"));
  auto big = compile(R"({"multipleOf":3})");
  CHECK(valid(big, "18446744073709551615"));
  CHECK(valid(big, "-9"));
  CHECK_FALSE(valid(big, "-10"));
  CHECK(valid(compile(R"({"multipleOf":0.01})"), "0.07"));
  CHECK(valid(compile(R"({"maximum":5})"), R"("not a number")"));
}

TEST_CASE("schema: strings, patterns and formats") {
  auto s = compile(R"({"minLength":2,"maxLength":3,"pattern":"[a-z]\\d"})");
  CHECK(valid(s, R"("xa1")"));
  CHECK(valid(s, R"("éa1")"));  // 3 code points, 4 bytes
  CHECK_FALSE(valid(s, R"("a")"));
  CHECK_FALSE(valid(s, R"("aaaa1")"));
  auto got = check(s, R"("11")");
  REQUIRE(got.violations.size() == 1);
  CHECK(got.violations[0].keyword == "pattern");
  CHECK(valid(compile(R"({"pattern":"^\\p{Letter}+$"})"), R"("héllo")"));
  CHECK(valid(compile(R"({"pattern":"^\\u0041$"})"), R"("A")"));

  auto f = compile(R"({"format":"date-time"})");
  CHECK(valid(f, R"("2024-05-01T10:00:00Z")"));
  CHECK_FALSE(valid(f, R"("yesterday")"));
  CHECK(valid(f, "12"));
  SchemaOptions no_formats;
  no_formats.formats = false;
  auto off = compile(R"({"format":"date-time"})", no_formats);
  CHECK(valid(off, R"("yesterday")"));
  CHECK(valid(compile(R"({"format":"no-such-format"})"), R"("x")"));
}

TEST_CASE("schema: arrays") {
  auto s = compile(R"({"prefixItems":[{"type":"string"}],"items":{"type":"integer"},
                       "minItems":1,"maxItems":4,"uniqueItems":true,
                       "contains":{"const":7},"maxContains":1})");
  CHECK(valid(s, R"(["a",7,2])"));
  CHECK_FALSE(valid(s, R"([])"));
  CHECK_FALSE(valid(s, R"(["a",1,2])"));      // contains
  CHECK_FALSE(valid(s, R"(["a",7,7.0])"));    // unique, maxContains
  CHECK_FALSE(valid(s, R"(["a",7,1,2,3])"));  // maxItems
  auto got = check(s, R"([1,7,"x"])");
  std::vector<std::string> seen;
  for (const auto& v : got.violations) seen.push_back(v.instance_path + " " + v.keyword);
  CHECK(seen == std::vector<std::string>{"/0 type", "/2 type"});
  auto closed = compile(R"({"prefixItems":[true],"items":false})");
  auto extra = check(closed, "[1,2]");
  REQUIRE(extra.violations.size() == 1);
  CHECK(extra.violations[0].keyword == "items");
  CHECK(extra.violations[0].instance_path == "/1");
  auto u = compile(R"({"uniqueItems":true})");
  CHECK(valid(u, R"([{"a":1,"b":2},{"a":1,"b":3}])"));
  CHECK_FALSE(valid(u, R"([{"a":1,"b":2},{"b":2,"a":1}])"));
  CHECK(valid(compile(R"({"minContains":0,"contains":false})"), "[1]"));
}

TEST_CASE("schema: combinators and conditionals") {
  auto s = compile(R"({"anyOf":[{"type":"string"},{"minimum":3}],
                       "oneOf":[{"multipleOf":2},{"multipleOf":3}],
                       "not":{"const":9}})");
  CHECK(valid(s, "4"));
  CHECK_FALSE(valid(s, "6"));  // both oneOf branches
  CHECK_FALSE(valid(s, "9"));  // not
  CHECK_FALSE(valid(s, "1"));  // anyOf, oneOf
  auto got = check(s, "1");
  REQUIRE(got.violations.size() == 2);
  CHECK(got.violations[0].keyword == "anyOf");
  CHECK(got.violations[1].keyword == "oneOf");

  auto cond = compile(R"({"if":{"properties":{"kind":{"const":"a"}}},
                          "then":{"required":["x"]},"else":{"required":["y"]}})");
  CHECK(valid(cond, R"({"kind":"a","x":1})"));
  CHECK(valid(cond, R"({"kind":"b","y":1})"));
  auto then = check(cond, R"({"kind":"a","y":1})");
  CHECK_FALSE(then.valid);
  REQUIRE_FALSE(then.violations.empty());
  CHECK(then.violations[0].schema_path == "/then/required");

  CHECK(valid(compile("true"), "1"));
  auto never = check(compile("false"), "1");
  CHECK_FALSE(never.valid);
  REQUIRE(never.violations.size() == 1);
  CHECK(never.violations[0].schema_path == "");
  auto nested = check(compile(R"({"properties":{"a":false}})"), R"({"a":1})");
  REQUIRE(nested.violations.size() == 1);
  CHECK(nested.violations[0].schema_path == "/properties/a");
  CHECK(nested.violations[0].instance_path == "/a");
  CHECK(valid(compile(R"({"allOf":[{"minimum":1},true]})"), "1"));
}

TEST_CASE("schema: $ref, $defs, $anchor and recursion") {
  auto s = compile(R"({
    "$id":"https://example.com/root.json",
    "$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}},
                                                   "name":{"$ref":"#name"}}},
             "n":{"$anchor":"name","type":"string"},
             "a/b~c":{"const":1}},
    "properties":{"tree":{"$ref":"#/$defs/node"},"odd":{"$ref":"#/$defs/a~1b~0c"},
                  "pct":{"$ref":"#/$defs/a~1b%7Ec"}}
  })");
  CHECK(valid(s, R"({"tree":{"name":"r","kids":[{"name":"a","kids":[]}]},"odd":1,"pct":1})"));
  auto got = check(s, R"({"tree":{"kids":[{"name":5}]}})");
  CHECK_FALSE(got.valid);
  REQUIRE(got.violations.size() == 1);
  CHECK(got.violations[0].instance_path == "/tree/kids/0/name");
  CHECK(got.violations[0].schema_path == "/$defs/n/type");
  CHECK_FALSE(valid(s, R"({"odd":2})"));

  // An instance-independent loop is caught by the depth guard, not the stack.
  auto loop = compile(R"({"$ref":"#"})");
  CHECK_FALSE(valid(loop, "1"));
}

TEST_CASE("schema: references to other local files") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "ev_schema_test_dir";
  fs::create_directories(dir);
  std::ofstream(dir / "common.json") << R"({"$id":"https://example.com/common.json",
      "$defs":{"os":{"enum":["ios","android"]}}})";
  std::ofstream(dir / "main.json") << R"({"properties":{"os":{"$ref":"common.json#/$defs/os"},
      "id":{"$ref":"https://example.com/common.json#/$defs/os"}}})";
  auto s = Schema::compile_file((dir / "main.json").string(), SchemaOptions{});
  REQUIRE(s.has_value());
  CHECK(valid(*s, R"({"os":"ios","id":"android"})"));
  CHECK_FALSE(valid(*s, R"({"os":"x"})"));
  std::ofstream(dir / "dangling.json") << R"({"$ref":"missing.json"})";
  auto bad = Schema::compile_file((dir / "dangling.json").string(), SchemaOptions{});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("missing.json") != std::string::npos);
  auto none = Schema::compile_file((dir / "nope.json").string(), SchemaOptions{});
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().kind == ev::ErrorKind::kUsage);
  fs::path other = fs::temp_directory_path() / "ev_schema_test_other";
  fs::create_directories(other);
  std::ofstream(other / "main.json") << R"({"$ref":"https://example.com/common.json#/$defs/os"})";
  SchemaOptions with_dir;
  with_dir.schema_dir = dir.string();
  auto via_dir = Schema::compile_file((other / "main.json").string(), with_dir);
  REQUIRE(via_dir.has_value());
  CHECK(valid(*via_dir, R"("ios")"));
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST_CASE("schema: unevaluatedProperties and unevaluatedItems") {
  auto s = compile(R"({"properties":{"a":true},
                       "anyOf":[{"properties":{"b":true}},{"properties":{"c":true}}],
                       "if":{"properties":{"d":true},"required":["d"]},"then":{"properties":{"e":true}},
                       "unevaluatedProperties":false})");
  CHECK(valid(s, R"({"a":1,"b":2,"c":3})"));
  CHECK(valid(s, R"({"d":1,"e":2})"));
  auto got = check(s, R"({"a":1,"e":2})");
  CHECK_FALSE(got.valid);
  REQUIRE(got.violations.size() == 1);
  CHECK(got.violations[0].keyword == "unevaluatedProperties");
  CHECK(got.violations[0].instance_path == "/e");

  auto items = compile(R"({"prefixItems":[true],"allOf":[{"contains":{"const":"x"}}],
                           "unevaluatedItems":false})");
  CHECK(valid(items, R"([1,"x","x"])"));
  CHECK_FALSE(valid(items, R"([1,"x",2])"));
}

TEST_CASE("schema: max_errors bounds the list, not the verdict") {
  auto s = compile(R"({"items":{"type":"string"}})");
  std::string many = "[";
  for (int k = 0; k < 50; ++k) many += k ? ",1" : "1";
  many += "]";
  CHECK(check(s, many).violations.size() == 50);
  auto bounded = check(s, many, 3);
  CHECK_FALSE(bounded.valid);
  CHECK(bounded.violations.size() == 3);
  CHECK(bounded.violations[2].instance_path == "/2");
  auto none = check(s, many, 0);
  CHECK_FALSE(none.valid);
  CHECK(none.violations.empty());
  CHECK(check(s, R"(["a"])", 0).valid);
}

TEST_CASE("schema: malformed schemas are usage errors with the schema path") {
  CHECK(schema_error("{").find("not valid JSON") != std::string::npos);
  CHECK(schema_error(R"({"type":"strin"})").find("/type") != std::string::npos);
  CHECK(schema_error(R"({"properties":{"a":{"minLength":-1}}})").find("/properties/a/minLength") !=
        std::string::npos);
  CHECK(schema_error(R"j({"pattern":"(?=x)"})j").find("/pattern") != std::string::npos);
  CHECK(schema_error(R"({"$ref":"#/$defs/nope"})").find("/$ref") != std::string::npos);
  CHECK(schema_error(R"({"$ref":"#nope"})").find("nope") != std::string::npos);
  CHECK(schema_error(R"({"allOf":[]})").find("/allOf") != std::string::npos);
  CHECK(schema_error(R"({"items":1})").find("/items") != std::string::npos);
  CHECK(schema_error(R"({"required":[1]})").find("/required") != std::string::npos);
  CHECK(schema_error(R"({"multipleOf":0})").find("/multipleOf") != std::string::npos);
  CHECK(schema_error("1").find("schema") != std::string::npos);
  // Unknown keywords are ignored.
  CHECK(valid(compile(R"({"x-custom":{"type":5},"title":"t"})"), "1"));
}

TEST_CASE("schema: a repeated key in the schema is a usage error") {
  CHECK(schema_error(R"({"type":"string","type":"integer"})") ==
        "schema: schema /type: duplicate key");
  CHECK(schema_error(R"({"properties":{"a":{"minimum":5,"minimum":1}}})")
            .find("/properties/a/minimum: duplicate key") != std::string::npos);
}

TEST_CASE("schema: uniqueItems on long arrays finds the first equal pair by value") {
  Schema s = compile(R"({"uniqueItems":true})");
  std::string distinct = "[";
  for (int k = 0; k < 50000; ++k) distinct += (k ? "," : "") + std::to_string(k);
  CHECK(valid(s, distinct + "]"));
  // 7 (as 7.0) repeats at 40000, 10 at 45000: the first pair is (7, 40000).
  std::string dup = "[";
  for (int k = 0; k < 50000; ++k) {
    std::string item = k == 40000 ? "7.0" : k == 45000 ? "10" : std::to_string(k);
    dup += (k ? "," : "") + item;
  }
  auto out = check(s, dup + "]");
  CHECK_FALSE(out.valid);
  REQUIRE(out.violations.size() == 1);
  CHECK(out.violations[0].message == "items 7 and 40000 are equal");
  // Objects compare unordered, -0 equals 0, and distinct values that hash alike are kept.
  std::string objs = "[";
  for (int k = 0; k < 20; ++k) objs += "{\"a\":" + std::to_string(k) + ",\"b\":[1]},";
  CHECK_FALSE(valid(s, objs + "{\"b\":[1],\"a\":3}]"));
  CHECK(valid(s, objs + "{\"b\":[1],\"a\":30}]"));
  std::string zeros = "[";
  for (int k = 1; k <= 20; ++k) zeros += std::to_string(k) + ",";
  CHECK_FALSE(valid(s, zeros + "0,-0.0]"));
}

TEST_CASE("schema: a recursive schema accepts deep valid instances; a $ref loop is cut") {
  Schema tree = compile(R"({"$defs":{"t":{"type":"array","items":{"$ref":"#/$defs/t"}}},
                            "$ref":"#/$defs/t"})");
  std::string deep = std::string(600, '[') + std::string(600, ']');
  CHECK(valid(tree, deep));
  Schema loop = compile(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},
                            "$ref":"#/$defs/a"})");
  auto out = check(loop, "1");
  CHECK_FALSE(out.valid);
  REQUIRE_FALSE(out.violations.empty());
  CHECK(out.violations[0].keyword == "$ref");
}

TEST_CASE("schema: normalization plans coercions within range and defaults as JsonWriter writes") {
  Schema s = compile(R"({"properties":{
      "i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},
      "d":{"default":3.0},"e":{"default":{"x":[1,"y"]}},
      "t":{"$ref":"#/$defs/t"}},
    "$defs":{"t":{"type":"array","items":{"$ref":"#/$defs/t"},"default":[]}}})");
  auto plan = [&](const std::string& json, bool coerce, bool defaults) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    REQUIRE(parser.parse(json).get(e) == simdjson::SUCCESS);
    std::vector<ev::json::Edit> edits;
    s.plan_normalization(e, {.defaults = defaults, .coerce = coerce}, edits);
    std::string out;
    ev::json::apply_edits(out, json, edits);
    return out;
  };
  CHECK(plan(R"({"i":"12","n":"2.50","b":"true","d":1,"e":1,"t":[]})", true, false) ==
        R"({"i":12,"n":2.50,"b":true,"d":1,"e":1,"t":[]})");
  // Beyond 64-bit integers or doubles: left for the schema to judge.
  CHECK(plan(R"({"i":"99999999999999999999","n":"1e400"})", true, false) ==
        R"({"i":"99999999999999999999","n":"1e400"})");
  CHECK(plan(R"({"i":1})", false, true) == R"({"i":1,"d":3.0,"e":{"x":[1,"y"]},"t":[]})");
}
