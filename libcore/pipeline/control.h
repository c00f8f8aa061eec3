// Control lines: time and checkpoints travelling in-band through a pipe.
//
// A control line is a JSON object whose first key is "$ev", e.g.
// {"$ev":"watermark","t":"2024-05-01T10:00:00.000Z"} or {"$ev":"barrier","id":7}.
// It is recognized by its prefix before any parsing (optional spaces/tabs, then
// `{"$ev"`), is never counted as an event, and every program forwards it in order
// after the events before it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::pipeline {

// True if `line` is a control line.
bool is_control_line(std::string_view line);

// The kind of a control line ("watermark", "barrier"), or empty when the "$ev"
// value is not a plain string.
std::string_view control_kind(std::string_view line);

// The time of a watermark line ({"$ev":"watermark","t":...}, "t" an RFC 3339 string or
// an epoch number). Fails with kData when the line has no valid "t".
Result<int64_t> watermark_time(std::string_view line);

// Canonical control lines.
std::string make_watermark_line(int64_t t_ns);
std::string make_barrier_line(uint64_t id);

}  // namespace ev::pipeline
