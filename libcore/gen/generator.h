// Deterministic synthetic user-interaction events, the data of demos, tests and
// benchmarks (ev-gen).
//
// Given the same options (and seed), the same sequence of lines is produced on every
// run and machine: a small fast PRNG (xoshiro256**) and hand-written formatting, no
// locale, no wall clock (unless options.start is unset and pacing is real-time; the
// caller then passes the start time). Each event is one line of JSON with event_id,
// user_id, session_id, type, ts, page, amount (purchases only), country and
// device{os, app_version}. On request some lines are exact duplicates of a recent
// event, have an event time up to max_late in the past ("late"), or are malformed
// (truncated JSON, not an object, invalid UTF-8, a NUL byte, a bad time).
// Memory is bounded: the duplicate pool keeps the last 1024 events.
// Not thread-safe; one Generator per thread.
#pragma once

#include <cstdint>
#include <string>

#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"

namespace ev::gen {

struct GenOptions {
  uint64_t seed = 1;
  uint64_t users = 1000;    // distinct user ids; activity is skewed (a few heavy users)
  double duplicates = 0.0;  // probability that a line repeats a recent event byte for byte
  double late = 0.0;        // probability that an event's ts is moved back by up to max_late
  time::Duration max_late = 60 * time::kNsPerSec;
  double malformed = 0.0;   // probability that a line is a bad event
  time::Timestamp start = 1704067200 * time::kNsPerSec;  // 2024-01-01T00:00:00Z
  time::Duration interval = 10'000'000;  // mean event-time gap between events (10ms)
};

// What the last generated line was, for tests and statistics.
enum class LineKind { kNormal, kDuplicate, kLate, kMalformed };

class Generator {
 public:
  explicit Generator(const GenOptions& options);

  // Appends the next line (without a newline) to `out` and returns its kind.
  LineKind next(std::string& out);

  // Event time of the most recent non-late event: time advances monotonically.
  time::Timestamp now() const { return clock_; }

 private:
  // (implementation state: PRNG, clock, per-user sessions, duplicate ring)
  GenOptions opt_;
  time::Timestamp clock_;
  uint64_t s_[4];
  uint64_t seq_ = 0;
  std::string ring_[1024];
  uint64_t ring_count_ = 0;
};

}  // namespace ev::gen
