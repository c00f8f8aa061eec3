// Canonical JSON serialization for events that evkit creates (window results,
// error envelopes, --stats lines, generated events).
//
// The canonical style: no whitespace, keys in the order written, strings escaped
// minimally (`\"`, `\\`, `\b \f \n \r \t`, other control characters as `\u00XX`
// lowercase hex; everything else, including non-ASCII UTF-8 and `/`, verbatim),
// integers in decimal, doubles in the shortest form that round-trips (std::to_chars),
// non-finite doubles as null. JsonWriter appends to a caller-owned std::string so a
// hot loop can reuse one buffer without allocating. Not thread-safe; cheap to create.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ev::json {

// Appends `s` as a quoted JSON string. Requires: `s` is valid UTF-8 (invalid bytes
// are replaced by U+FFFD so the output is always valid JSON).
void append_json_string(std::string& out, std::string_view s);

// True if `s` is valid UTF-8 (simdjson's validator).
bool is_valid_utf8(std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Writes a key in an object; the next call writes its value.
  JsonWriter& key(std::string_view k);

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
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace ev::json
