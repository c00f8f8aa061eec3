#include "libcore/json/json_writer.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>

namespace ev::json {
namespace {

std::string json_str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// What simdjson reads back from `json` as a string, or "<error>".
std::string reparse_string(const std::string& json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return "<error>";
  std::string_view s;
  if (doc.get_string().get(s)) return "<error>";
  return std::string(s);
}

TEST_CASE("json_writer: plain strings are copied between quotes") {
  CHECK(json_str("") == R"("")");
  CHECK(json_str("a") == R"("a")");
  CHECK(json_str("hello world") == R"("hello world")");
  CHECK(json_str("a/b") == R"("a/b")");  // '/' is not escaped
  std::string long_ascii(1000, 'x');
  CHECK(json_str(long_ascii) == "\"" + long_ascii + "\"");
}

TEST_CASE("json_writer: escapes quotes, backslashes and control characters") {
  CHECK(json_str("\"") == R"("\"")");
  CHECK(json_str("\\") == R"("\\")");
  CHECK(json_str("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(json_str(std::string_view("\0", 1)) == R"("\u0000")");
  CHECK(json_str("\x01\x1f") == R"("\u0001\u001f")");
  CHECK(json_str("\x0b") == R"("\u000b")");
  CHECK(json_str("\x7f") == "\"\x7f\"");  // DEL is not a JSON control character
  CHECK(json_str(R"(say "hi"\)") == R"("say \"hi\"\\")");
}

TEST_CASE("json_writer: escapes at every position of the block scan") {
  // Place one special byte at each offset of a 20-byte string, across 8-byte blocks.
  for (size_t at = 0; at < 20; ++at) {
    for (char special : {'"', '\\', '\n', '\x01'}) {
      std::string s(20, 'a');
      s[at] = special;
      std::string out = json_str(s);
      CAPTURE(at);
      CAPTURE(out);
      CHECK(reparse_string(out) == s);
      CHECK(out.size() == s.size() + 2 + (special == '\x01' ? 5 : 1));
    }
  }
}

TEST_CASE("json_writer: every byte below 0x80 round-trips through simdjson") {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  std::string out = json_str(all);
  CHECK(reparse_string(out) == all);
}

TEST_CASE("json_writer: valid UTF-8 is copied verbatim") {
  CHECK(json_str("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
  CHECK(json_str("\xE2\x82\xAC 5") == "\"\xE2\x82\xAC 5\"");
  CHECK(json_str("\xF0\x9F\x98\x80") == "\"\xF0\x9F\x98\x80\"");
  // Escapes after non-ASCII text are still found.
  CHECK(json_str("\xC3\xA9\"\xC3\xA9\n12345678\"") == "\"\xC3\xA9\\\"\xC3\xA9\\n12345678\\\"\"");
  CHECK(json_str("\xEF\xBB\xBF") == "\"\xEF\xBB\xBF\"");  // a BOM is just a character
}

TEST_CASE("json_writer: invalid UTF-8 becomes U+FFFD") {
  const std::string r = "\xEF\xBF\xBD";
  CHECK(json_str("\xFF") == "\"" + r + "\"");
  CHECK(json_str("a\x80z") == "\"a" + r + "z\"");
  CHECK(json_str("\xC3") == "\"" + r + "\"");          // truncated 2-byte sequence
  CHECK(json_str("\xC3z") == "\"" + r + "z\"");        // lead byte without continuation
  CHECK(json_str("\xC0\xAF") == "\"" + r + r + "\"");  // overlong: each byte replaced
  CHECK(json_str("\xE2\x82") == "\"" + r + "\"");      // maximal subpart: one replacement
  CHECK(json_str("\xE2\x82z") == "\"" + r + "z\"");
  CHECK(json_str("\xED\xA0\x80") == "\"" + r + r + r + "\"");          // surrogate U+D800
  CHECK(json_str("\xF4\x90\x80\x80") == "\"" + r + r + r + r + "\"");  // above U+10FFFF
  CHECK(json_str("\xF0\x9F\x98") == "\"" + r + "\"");
  // Valid text and escapes around the bad byte are kept.
  CHECK(json_str("\xC3\xA9\xFF\"\n\xC3\xA9") == "\"\xC3\xA9" + r + "\\\"\\n\xC3\xA9\"");
  CHECK(json_str("12345678\xFF") == "\"12345678" + r + "\"");
  // The output is always valid UTF-8 and valid JSON.
  std::string junk;
  for (int c = 0; c < 256; ++c) junk.push_back(static_cast<char>(c));
  std::string out = json_str(junk);
  CHECK(is_valid_utf8(out));
  CHECK(reparse_string(out) != "<error>");
}

TEST_CASE("json_writer: random mixes of text, escapes and bad bytes") {
  // Pieces and their expected output; the invalid ones never combine with a neighbour.
  struct Piece {
    std::string_view in, out;
  };
  const Piece pieces[] = {
      {"a", "a"},
      {"xyz0123", "xyz0123"},
      {"\"", "\\\""},
      {"\\", "\\\\"},
      {"\n", "\\n"},
      {"\t", "\\t"},
      {std::string_view("\0", 1), "\\u0000"},
      {"\x1f", "\\u001f"},
      {"\x7f", "\x7f"},
      {"/", "/"},
      {"\xC3\xA9", "\xC3\xA9"},
      {"\xE2\x82\xAC", "\xE2\x82\xAC"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"\xFF", "\xEF\xBF\xBD"},
      {"\x80", "\xEF\xBF\xBD"},
      {"\xC0", "\xEF\xBF\xBD"},
      {"\xF5", "\xEF\xBF\xBD"},
  };
  const size_t count = std::size(pieces);
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string in, expected = "\"";
    // Mostly plain text with rare specials, like real data, and sometimes dense.
    const bool dense = round % 3 == 0;
    const size_t length = next() % 200;
    while (in.size() < length) {
      const Piece& piece = pieces[dense || next() % 8 == 0 ? next() % count : next() % 2];
      in += piece.in;
      expected += piece.out;
    }
    expected += "\"";
    std::string out = "~";
    append_json_string(out, in);
    CAPTURE(in);
    REQUIRE(out == "~" + expected);
    CHECK(is_valid_utf8(out));
    if (is_valid_utf8(in)) {
      CHECK(reparse_string(out.substr(1)) == in);
      std::string unchecked = "~";
      append_valid_json_string(unchecked, in);
      CHECK(unchecked == out);
    }
  }
}

TEST_CASE("json_writer: is_valid_utf8") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));
}

TEST_CASE("json_writer: appends to the existing buffer") {
  std::string out = "prefix:";
  append_json_string(out, "x");
  CHECK(out == R"(prefix:"x")");
  JsonWriter w(out);
  w.begin_object().key("a").value(1).end_object();
  CHECK(out == R"(prefix:"x"{"a":1})");
}

TEST_CASE("json_writer: growing the buffer keeps its size exact") {
  // Regression: libstdc++ 12 hands resize_and_overwrite's callback the new capacity,
  // not the requested size.
  for (size_t length : {0, 1, 14, 15, 16, 17, 31, 33, 100, 1000}) {
    for (const char* fill : {"x", "\n", "\xC3\xA9", "\xFF"}) {
      std::string piece;
      while (piece.size() < length) piece += fill;
      std::string out;  // small, so every append reallocates at first
      std::string expected;
      for (int i = 0; i < 5; ++i) {
        append_json_string(out, piece);
        std::string single;
        append_json_string(single, piece);
        expected += single;
        CAPTURE(length);
        REQUIRE(out == expected);
      }
    }
  }
}

TEST_CASE("json_writer: objects and arrays with commas") {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .key("s")
      .value("x")
      .key("i")
      .value(int64_t{-5})
      .key("u")
      .value(uint64_t{18446744073709551615ULL})
      .key("n")
      .value(7)
      .key("t")
      .value(true)
      .key("f")
      .value(false)
      .key("z")
      .null()
      .key("arr")
      .begin_array()
      .value(1)
      .begin_array()
      .end_array()
      .begin_object()
      .end_object()
      .value("y")
      .end_array()
      .key("obj")
      .begin_object()
      .key("k")
      .begin_object()
      .key("deep")
      .value(0)
      .end_object()
      .end_object()
      .key("last")
      .raw(R"({"r":[1,2]})")
      .end_object();
  CHECK(out == R"({"s":"x","i":-5,"u":18446744073709551615,"n":7,"t":true,"f":false,"z":null,)"
               R"("arr":[1,[],{},"y"],"obj":{"k":{"deep":0}},"last":{"r":[1,2]}})");
  CHECK(is_valid_utf8(out));
}

TEST_CASE("json_writer: empty containers and top-level values") {
  std::string out;
  JsonWriter(out).begin_object().end_object();
  CHECK(out == "{}");
  out.clear();
  JsonWriter(out).begin_array().end_array();
  CHECK(out == "[]");
  out.clear();
  JsonWriter(out).value("top");
  CHECK(out == R"("top")");
  out.clear();
  JsonWriter(out).raw("[1]");
  CHECK(out == "[1]");
}

TEST_CASE("json_writer: one writer can write successive lines into a reused buffer") {
  std::string out;
  JsonWriter w(out);
  for (int i = 0; i < 3; ++i) {
    out.clear();
    w.begin_object().key("i").value(i).end_object();
    CHECK(out == "{\"i\":" + std::to_string(i) + "}");
  }
  out.clear();
  w.value(1);
  w.value(2);  // top-level values get no separator
  CHECK(out == "12");
}

TEST_CASE("json_writer: escapes keys") {
  std::string out;
  JsonWriter(out).begin_object().key("a\"b\n").value("c\\").end_object();
  CHECK(out == R"({"a\"b\n":"c\\"})");
}

TEST_CASE("json_writer: deep nesting") {
  std::string out;
  JsonWriter w(out);
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    w.begin_array().value(i);
    expected += (i == 0 ? "[" : ",[") + std::to_string(i);
  }
  for (int i = 0; i < 100; ++i) {
    w.end_array();
    expected += "]";
    if (i < 99) {
      w.value(-i);
      expected += "," + std::to_string(-i);
    }
  }
  CHECK(out == expected);
  CHECK(out.starts_with("[0,[1,[2,"));
  CHECK(out.ends_with("-96],-97],-98]"));
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(out);
  simdjson::ondemand::document doc;
  REQUIRE_FALSE(parser.iterate(padded).get(doc));
  std::string_view raw;
  CHECK_FALSE(doc.raw_json().get(raw));
}

TEST_CASE("json_writer: integers") {
  std::string out;
  JsonWriter w(out);
  w.begin_array()
      .value(int64_t{0})
      .value(std::numeric_limits<int64_t>::min())
      .value(std::numeric_limits<int64_t>::max())
      .value(uint64_t{0})
      .value(-1)
      .end_array();
  CHECK(out == "[0,-9223372036854775808,9223372036854775807,0,-1]");
}

std::string double_text(double v) {
  std::string out;
  JsonWriter(out).value(v);
  return out;
}

TEST_CASE("json_writer: doubles are shortest round-trip and stay doubles") {
  CHECK(double_text(3.0) == "3.0");
  CHECK(double_text(0.0) == "0.0");
  CHECK(double_text(-0.0) == "-0.0");
  CHECK(double_text(-2.0) == "-2.0");
  CHECK(double_text(0.5) == "0.5");
  CHECK(double_text(0.1) == "0.1");
  CHECK(double_text(1.0 / 3.0) == "0.3333333333333333");
  CHECK(double_text(1e21) == "1e+21");
  CHECK(double_text(1e-7) == "1e-07");
  CHECK(double_text(123456789.0) == "123456789.0");
  CHECK(double_text(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(double_text(std::numeric_limits<double>::denorm_min()) == "5e-324");
  // Every output parses back to the same double.
  for (double v : {0.1, 2.5e-300, 1e300, 123.456, -7.0, 9007199254740993.0, 1e16, 1e15}) {
    std::string text = double_text(v);
    CAPTURE(text);
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    REQUIRE_FALSE(parser.iterate(padded).get(doc));
    double back = 0;
    REQUIRE_FALSE(doc.get_double().get(back));
    CHECK(back == v);
  }
}

TEST_CASE("json_writer: non-finite doubles are null") {
  CHECK(double_text(std::numeric_limits<double>::infinity()) == "null");
  CHECK(double_text(-std::numeric_limits<double>::infinity()) == "null");
  CHECK(double_text(std::nan("")) == "null");
  std::string out;
  JsonWriter(out).begin_array().value(std::nan("")).value(1.5).end_array();
  CHECK(out == "[null,1.5]");
}

}  // namespace
}  // namespace ev::json

TEST_CASE("json_writer: decode_json_string unescapes and says where a literal is broken") {
  auto decode = [](std::string_view text) {
    std::string out;
    size_t pos = 0;
    auto what = ev::json::decode_json_string(text, pos, out);
    return what.empty() ? out + "|" + std::to_string(pos)
                        : std::string(what) + "@" + std::to_string(pos);
  };
  CHECK(decode(R"("a\"b\\c\/\n\u00e9\ud83d\ude00"x)") == "a\"b\\c/\n\xC3\xA9\xF0\x9F\x98\x80|31");
  CHECK(decode(R"("abc)") == "unterminated string@0");
  CHECK(decode(R"("a\q")") == "invalid escape@2");
  CHECK(decode(R"("\u12")") == "invalid \\u escape@1");
  CHECK(decode(R"("\ud800")") == "unpaired surrogate@1");
  CHECK(decode("\"a\tb\"") == "control character in string@2");
}
