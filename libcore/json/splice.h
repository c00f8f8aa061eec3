// Splicing new members into an event without re-serializing it.
//
// `members` is serialized JSON object content without braces ("\"_src\":{...}"),
// appended before the line's closing '}' so every byte of the original member list
// survives. When the event already has a top-level member with one of `keys`, that
// member is cut out first (the added value replaces it, as jq's `. + {...}` does), so
// the output never holds a duplicate key; detecting that costs one substring search
// per key, and the cut only happens on events that really have the key.
// Pure functions over caller-owned buffers; thread-safe.
#pragma once

#include <simdjson.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::json {

// Appends to `out` the event `raw` with `members` added. `keys` are the top-level
// keys that `members` defines. Requires: `raw` is followed by SIMDJSON_PADDING
// readable bytes (a line from LineReader). Fails with kData when `raw` is not a
// JSON object.
Status append_spliced(std::string& out, std::string_view raw, std::string_view members,
                      std::initializer_list<std::string_view> keys,
                      simdjson::ondemand::parser& parser);
Status append_spliced(std::string& out, std::string_view raw, std::string_view members,
                      std::span<const std::string_view> keys, simdjson::ondemand::parser& parser);

}  // namespace ev::json
