// Event time: parsing RFC 3339 strings and epoch numbers to int64 nanoseconds UTC,
// and formatting them back.
//
// The internal representation is `Timestamp` = nanoseconds since 1970-01-01T00:00:00Z
// in an int64, which covers 1677-09-21 to 2262-04-11; times outside that range are
// a data error ("out of range"), never a wrap-around. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::time {

using Timestamp = int64_t;  // ns since the Unix epoch, UTC
inline constexpr Timestamp kNsPerSec = 1'000'000'000;

// How a JSON number in a time field is read.
enum class EpochUnit { kAuto, kSeconds, kMillis, kMicros, kNanos };

// Parses "s", "ms", "us", "ns" or "auto". Fails with kUsage otherwise.
Result<EpochUnit> parse_epoch_unit(std::string_view text);

// RFC 3339 date-time: "2024-05-01T10:00:00Z", "2024-05-01t10:00:00.123456789+02:00".
// 'T'/'t' or a single space between date and time; 'Z'/'z' or ±hh:mm offset
// (required); 1 to 9 fraction digits (more than 9 are rejected); leap second :60
// is accepted only as the last second of a UTC day and read as :59.999999999.
// Fails with kData naming what is wrong.
Result<Timestamp> parse_rfc3339(std::string_view text);

// An epoch number in `unit`. `kAuto` picks the unit by magnitude of |value|:
// < 1e11 seconds, < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds
// (so seconds cover years up to 5138 and ms up to 5138 too). Fractions are kept
// down to the nanosecond. Fails with kData when the result is out of range.
// A double holds ~16 significant digits, so the double overload rounds its exact
// binary value to the nearest nanosecond (0.3 s gives 300000000 ns); NaN and
// infinities fail with kData. The int64 overload is exact.
Result<Timestamp> from_epoch(double value, EpochUnit unit);
Result<Timestamp> from_epoch(int64_t value, EpochUnit unit);

// Parses a JSON number token's text exactly (no double rounding for integers),
// e.g. "1714557600123" or "1714557600.5". Strict JSON number syntax: optional '-',
// no leading zeros or '+', optional fraction and exponent ("1.7145576e9"). kAuto
// compares the exact decimal magnitude. Digits below the nanosecond are floored
// (toward the earlier instant, as formatting does). Fails with kData on bad
// syntax or when the result is out of range.
Result<Timestamp> parse_epoch_text(std::string_view number_text, EpochUnit unit);

// A time written as text: an epoch number (parse_epoch_text) when it starts with a
// digit or '-' but not like a date (four digits and '-'), else RFC 3339. Choosing by shape first
// means a failure reports what is wrong with the form the user meant ("2300-01-01T00:00:00Z" is out
// of range, not "a bad epoch number").
Result<Timestamp> parse_time_text(std::string_view text, EpochUnit unit);

// "2024-05-01T10:00:00.123Z": RFC 3339 UTC with exactly three fraction digits.
std::string format_rfc3339_ms(Timestamp t);
// Appends the same 24 characters to `out` without allocating beyond its growth.
void append_rfc3339_ms(std::string& out, Timestamp t);
// With all nine fraction digits: "2024-05-01T10:00:00.123456789Z".
std::string format_rfc3339_ns(Timestamp t);

// Days since 1970-01-01 for a proleptic Gregorian date, and back (Howard Hinnant's
// algorithms). Exposed for the generator and window alignment. Exact for negative
// days and years (floor division). Requires: 1 <= m <= 12, 1 <= d <= 31, and
// |y|, |days| well below 2^60.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

}  // namespace ev::time
