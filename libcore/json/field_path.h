// Field paths: how every program names a field of an event.
//
// Syntax: `user_id`, `device.os`, `items[0].sku`, `a.b[2][0]`. Keys holding dots,
// brackets or backslashes are written with a backslash escape (`a\.b` is the key
// "a.b"; a backslash makes any following character literal) or quoted in brackets
// (`["a.b"].c`, JSON string escapes inside the quotes; `[""]` is the empty key, the one
// way to name it). A leading `.` is allowed and ignored (`.user_id`, `.[0]`, as jq
// spells it). An empty path, an empty key (`a..b`, `a.`, `a.[0]`), a non-numeric,
// negative or out-of-range index (`a[x]`, `a[-1]`, `a[]`, `a[ 1]`), an unescaped `]`
// in a key, an unterminated bracket or string, or a bad JSON escape is a usage error.
// Immutable after parse; thread-safe to share.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"

namespace ev::json {

struct PathSegment {
  enum class Kind { kKey, kIndex };
  Kind kind = Kind::kKey;
  std::string key;   // unescaped key, for kKey
  size_t index = 0;  // for kIndex
  bool operator==(const PathSegment&) const = default;
};

class FieldPath {
 public:
  // Fails with kUsage: "invalid field path 'a..b': empty key at offset 2".
  static Result<FieldPath> parse(std::string_view text);

  const std::vector<PathSegment>& segments() const { return segments_; }
  // The text as the user wrote it, for messages.
  const std::string& text() const { return text_; }
  // True for a single key segment (the common, fastest case).
  bool is_simple() const {
    return segments_.size() == 1 && segments_[0].kind == PathSegment::Kind::kKey;
  }
  // The key of the last key segment, used as the output name ("device.os" -> "os").
  std::string_view leaf_name() const;

 private:
  std::vector<PathSegment> segments_;
  std::string text_;
};

// Parses a comma-separated list ("user_id,device.os"), as --key and --by take it.
// Commas inside brackets/quotes or escaped as `\,` do not split. Spaces and tabs
// around each item are trimmed (an escaped trailing space, `a\ `, is kept); each
// FieldPath's text() is the trimmed item. An empty item (`a,,b`, a trailing comma,
// an empty list) is a usage error, as is any item that fails FieldPath::parse.
Result<std::vector<FieldPath>> parse_field_path_list(std::string_view text);

}  // namespace ev::json
