#include "libcore/json/edit.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using ev::json::Edit;
using ev::json::Location;
using ev::json::Step;

namespace {

Location at(std::initializer_list<Step> steps) { return Location(steps); }
Step key(std::string k) { return {std::move(k), 0, false}; }
Step idx(size_t i) { return {{}, i, true}; }

std::string span_text(std::string_view doc, const Location& loc) {
  auto s = ev::json::locate(doc, loc);
  if (!s) return "<none>";
  return std::string(doc.substr(s->first, s->second - s->first));
}

std::string edited(std::string_view doc, const std::vector<Edit>& edits,
                   size_t* applied = nullptr) {
  std::string out;
  size_t n = ev::json::apply_edits(out, doc, edits);
  if (applied != nullptr) *applied = n;
  return out;
}

}  // namespace

TEST_CASE("edit: locate finds values by key and index, skipping nested strings and brackets") {
  std::string doc = R"( { "a" : "x}\"]" , "b":{"c":[1, {"d": true} ,3]},"e":-1.5e3 } )";
  CHECK(span_text(doc, {}) == doc.substr(1, doc.size() - 2));
  CHECK(span_text(doc, at({key("a")})) == R"("x}\"]")");
  CHECK(span_text(doc, at({key("b"), key("c"), idx(1), key("d")})) == "true");
  CHECK(span_text(doc, at({key("b"), key("c"), idx(2)})) == "3");
  CHECK(span_text(doc, at({key("e")})) == "-1.5e3");
  CHECK(span_text(doc, at({key("b"), key("c"), idx(3)})) == "<none>");
  CHECK(span_text(doc, at({key("zz")})) == "<none>");
  CHECK(span_text(doc, at({key("a"), key("x")})) == "<none>");  // not an object
  CHECK(span_text(doc, at({idx(0)})) == "<none>");
  CHECK(span_text("[]", at({idx(0)})) == "<none>");
}

TEST_CASE("edit: keys with escapes are compared unescaped; the first duplicate wins") {
  CHECK(span_text(R"({"\u0061b":1})", at({key("ab")})) == "1");
  CHECK(span_text(R"({"a\"b":1})", at({key("a\"b")})) == "1");
  CHECK(span_text(R"({"\ud83d\ude00":2})", at({key("\xF0\x9F\x98\x80")})) == "2");
  CHECK(span_text(R"({"k":1,"k":2})", at({key("k")})) == "1");
}

TEST_CASE("edit: replacements and added members keep every other byte") {
  std::string doc = R"({"n": "12" ,"d":{ },"e":{"x":1 } ,"s":"t"})";
  std::vector<Edit> edits = {
      {Edit::kReplace, at({key("n")}), {}, "12"},
      {Edit::kAddMember, at({key("d")}), "k", "true"},
      {Edit::kAddMember, at({key("d")}), "k2", "null"},
      {Edit::kAddMember, at({key("e")}), "y", "[1]"},
      {Edit::kAddMember, at({}), "top", "\"v\""},
  };
  size_t applied = 0;
  CHECK(edited(doc, edits, &applied) ==
        R"({"n": 12 ,"d":{"k":true,"k2":null },"e":{"x":1,"y":[1] } ,"s":"t","top":"v"})");
  CHECK(applied == 5);
}

TEST_CASE(
    "edit: skipped edits: missing location, existing key, non-object, inside a replaced value") {
  std::string doc = R"({"a":{"b":1},"c":2})";
  size_t applied = 9;
  CHECK(edited(doc,
               {{Edit::kReplace, at({key("zz")}), {}, "1"},
                {Edit::kAddMember, at({key("a")}), "b", "5"},
                {Edit::kAddMember, at({key("c")}), "x", "5"},
                {Edit::kAddMember, at({}), "n", "1"},
                {Edit::kAddMember, at({}), "n", "2"}},
               &applied) == R"({"a":{"b":1},"c":2,"n":1})");
  CHECK(applied == 1);
  CHECK(edited(doc,
               {{Edit::kReplace, at({key("a")}), {}, "0"},
                {Edit::kReplace, at({key("a"), key("b")}), {}, "9"}},
               &applied) == R"({"a":0,"c":2})");
  CHECK(applied == 1);
}

TEST_CASE("edit: to_pointer escapes ~ and /") {
  CHECK(ev::json::to_pointer({}) == "");
  CHECK(ev::json::to_pointer(at({key("a/b"), idx(3), key("m~n")})) == "/a~1b/3/m~0n");
}
