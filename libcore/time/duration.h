// Durations on the command line: "250ms", "10s", "5m", "2h", "1d", "1h30m", "1.5s".
//
// A duration is a sequence of <number><unit> terms, units ns, us (or µs), ms, s,
// m, h, d (d = 24 h, no calendar). A bare "0" is zero. Result in int64 ns; negative
// or overflowing values are rejected. Also sizes ("64K", "1MiB", "100M", "2G") for
// byte limits and rates ("1000/s", "50/m"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::time {

using Duration = int64_t;  // nanoseconds

// Terms may come in any order and repeat (they add up, as in Go's
// time.ParseDuration); a term's number is digits with an optional ".digits", and
// parts below 1 ns are truncated. No sign, no spaces, units case-sensitive.
// Fails with kUsage: "invalid duration '1x': unknown unit 'x' (use ns, us, ms, s, m, h, d)".
Result<Duration> parse_duration(std::string_view text);

// "1h30m", "250ms", "0s": the exact spelling with the largest units, each non-zero
// unit once from d down to ns ("1s500ms", "1d2h", 1500 ns is "1us500ns"), used in
// messages and output. Negative values get a leading '-'. For d >= 0,
// parse_duration(format_duration(d)) == d.
std::string format_duration(Duration d);

// Byte sizes: plain bytes, K/M/G/T (powers of 1024; "KiB"/"KB"/"k" accepted alike).
// The suffix is case-insensitive; "B" alone means bytes. A fraction is allowed
// ("1.5K" is 1536) and a part-byte is dropped. Fails with kUsage, also on overflow.
Result<uint64_t> parse_size(std::string_view text);

// Events per second from "1000/s", "50/m", "3600/h", "86400/d", or a bare "1000"
// (per second). Fails with kUsage unless the rate is positive and finite.
Result<double> parse_rate(std::string_view text);

}  // namespace ev::time
