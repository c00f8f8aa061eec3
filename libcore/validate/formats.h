// JSON Schema "format" assertions (draft 2020-12 format-assertion vocabulary) for the
// formats evkit checks: date-time, date, time, duration, email, hostname, ipv4, ipv6,
// uri, uuid. Unknown formats are not asserted (they pass), as the specification asks.
//
// Each check follows the RFC the specification names, as syntax only (no lookups):
// - date-time, date, time: RFC 3339 section 5.6 ABNF. Any year 0000-9999 with real
//   month lengths (Feb 29 only in leap years); "T" and "Z" in either case; the
//   offset is required; any number of fraction digits. A leap second :60 is valid
//   only where the time, moved to UTC by its offset, is 23:59:60 ("15:59:60-08:00").
//   No range limit (unlike ev::time::parse_rfc3339).
// - duration: RFC 3339 appendix A: "P1Y2M3DT4H5M6S" with consecutive units in order
//   (P1Y2M, PT1H, P1DT12H; not P1Y2D, PT1H2S), or weeks alone ("P2W"); integers
//   only, upper-case designators.
// - email: RFC 5321 Mailbox: dot-atom or quoted-string local part; the domain is a
//   host name (as below) or an address literal "[1.2.3.4]" / "[IPv6:::1]".
// - hostname: RFC 1123: labels of letters, digits and '-', 1-63 characters, no
//   leading or trailing '-', at most 253 characters, no trailing root dot.
// - ipv4: RFC 2673 dotted-quad, octets 0-255 without leading zeros.
// - ipv6: RFC 4291 section 2.2, with at most one "::" and an optional embedded
//   dotted-quad; no zone index or prefix length.
// - uri: RFC 3986 URI (absolute, with scheme; query and fragment allowed); ASCII
//   only, "%" must start a two-hex-digit escape.
// - uuid: RFC 4122 8-4-4-4-12 hex digits, either case, any version.
// Pure functions, no allocation, O(length of value); thread-safe.
#pragma once

#include <string_view>

namespace ev::validate {

using FormatCheck = bool (*)(std::string_view value);

// The checker of `format`, one of those listed above; null for any other format.
FormatCheck find_format(std::string_view format);

// True if `format` is one of the formats listed above.
bool is_known_format(std::string_view format);

// True if `value` is valid for `format` (always true for unknown formats).
bool check_format(std::string_view format, std::string_view value);

}  // namespace ev::validate
