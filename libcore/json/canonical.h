// Canonical form of a JSON value, for keys and for equality that ignores spelling.
//
// Objects: members sorted by key (bytewise on the unescaped key; duplicate keys all
// kept, in input order among equals); arrays in order; strings unescaped and
// re-escaped canonically (so "\u0041" and "A" are equal); numbers as the text of
// their token (so 1, 1.0 and 1e0 are DIFFERENT — documented in ev(7)); true, false,
// null. No whitespace. Nesting is bounded by kMaxCanonicalDepth containers (deeper is a
// data error). Strings need no UTF-8 repair: simdjson rejects invalid UTF-8 at iterate().
// Uses per-thread scratch buffers, so a warm thread does not allocate beyond `out`.
// Not thread-safe per value; pure otherwise.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::json {

inline constexpr int kMaxCanonicalDepth = 256;

// Appends the canonical JSON of `value` to `out`. Consumes the value (On-Demand is
// forward-only; scalars may be left for On-Demand to skip, which it does when the
// parent moves on). Fails with kData on malformed JSON or excessive depth; `out` is
// then as it was.
Status append_canonical(simdjson::ondemand::value value, std::string& out);

// The unescaped bytes of a string value. A string without escapes is returned as a view
// into the input, without consuming the value; otherwise it is unescaped (and consumed)
// into the parser's string buffer. Valid until the parser's next document. Fails with
// kData if `value` is not a well-formed string. Requires: `value` is a string
// (value.type() == json_type::string).
Result<std::string_view> string_bytes(simdjson::ondemand::value& value);

// The JSON number grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: syntax
// only, any magnitude. `integral` (if given) is set when there is neither a fraction
// nor an exponent.
bool is_json_number(std::string_view text, bool* integral = nullptr);

// Canonical JSON of a whole document (an event line). `doc` must be freshly iterated.
// Anything after the value (`{} {}`, `[1]x`) is a data error.
Status append_canonical(simdjson::ondemand::document& doc, std::string& out);

}  // namespace ev::json
