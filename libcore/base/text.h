// Small text parsers shared by the URI and option parsers (kafka://, redis://,
// table options). Pure functions; thread-safe.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

#include "libcore/base/status.h"

namespace ev::text {

// Decodes %XX escapes (any other byte stays as it is). Fails with kUsage
// ("bad %-escape") on a '%' not followed by two hex digits.
Result<std::string> percent_decode(std::string_view s);

// Parses all of `s` as a decimal integer into `out`; false when `s` is empty, holds
// anything else, or is out of T's range.
template <class T>
bool parse_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace ev::text
