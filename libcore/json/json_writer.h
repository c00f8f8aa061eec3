// Canonical JSON serialization for events that evkit creates (window results,
// error envelopes, --stats lines, generated events).
//
// The canonical style: no whitespace, keys in the order written, strings escaped
// minimally (`\"`, `\\`, `\b \f \n \r \t`, other control characters as `\u00XX`
// lowercase hex; everything else, including non-ASCII UTF-8 and `/`, verbatim),
// integers in decimal, doubles in the shortest form that round-trips (std::to_chars),
// non-finite doubles as null. A double that prints without '.' or exponent gets ".0"
// appended (3.0 is written "3.0", -0.0 "-0.0", 1e21 "1e+21") so it reads back as a
// double. JsonWriter appends to a caller-owned std::string so a hot loop can reuse one
// buffer without allocating. Not thread-safe; cheap to create.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ev::json {

// Appends `s` as a quoted JSON string. `s` should be valid UTF-8; each maximal ill-formed
// subsequence is replaced by U+FFFD (EF BF BD), so the output is always valid JSON.
// Allocation-free when `out` has capacity; the common case (no escapes) is a block scan.
void append_json_string(std::string& out, std::string_view s);

// As append_json_string, without checking UTF-8: for strings already validated, such
// as those simdjson hands out. Requires: `s` is valid UTF-8.
void append_valid_json_string(std::string& out, std::string_view s);

// Decodes the JSON string literal whose opening quote is at text[pos]: appends its
// value to `out` and moves `pos` past the closing quote. On malformed input returns
// what is wrong ("unterminated string", "control character in string", "invalid
// escape", "invalid \\u escape", "unpaired surrogate") and sets `pos` to where it is
// (the opening quote, the character, the backslash); returns empty on success.
std::string_view decode_json_string(std::string_view text, size_t& pos, std::string& out);

// Appends the UTF-8 encoding of code point `cp` (< 0x110000, not a surrogate).
void append_utf8(std::string& out, uint32_t cp);

// True if `s` is valid UTF-8 (simdjson's validator).
bool is_valid_utf8(std::string_view s);

// Writes one value (usually an object) at a time; commas are inserted between members
// and elements. Top-level values get no separator: a caller writing NDJSON adds '\n'.
// Requires: calls are well nested and key() precedes every value inside an object.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  // Continues an object whose '{' and first members the caller wrote itself.
  struct InObject {};
  JsonWriter(std::string& out, InObject) : out_(out), depth_(1), need_comma_(true) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Writes a key in an object; the next call writes its value.
  JsonWriter& key(std::string_view k);
  // Writes a key given as JSON already, with its colon ("\"name\":"), as made by
  // key_json(): for keys written on every line of a hot loop.
  JsonWriter& key_json(std::string_view quoted_key_colon);
  static std::string key_json_of(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);
  JsonWriter& null();
  // Inserts already-serialized JSON (e.g. a value copied from an input line) verbatim.
  JsonWriter& raw(std::string_view json);

  std::string& out() { return out_; }

 private:
  void comma();
  template <class Int>
  JsonWriter& integer(Int v);
  std::string& out_;
  // A value that ends inside a container needs a comma before the next one; after a
  // container closes, its parent (if any) always does, so no stack of flags is needed.
  int depth_ = 0;
  bool need_comma_ = false;
};

}  // namespace ev::json
