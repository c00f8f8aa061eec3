// Window: event-time windowed aggregation (ev-window).
//
// Windows: tumbling (--tumble S), hopping (--hop S/D) or per-key sessions (--session
// GAP: a session is [first event, last event + GAP), so events less than GAP apart
// share one and a gap of GAP or more starts a new one; a late event that bridges two
// sessions merges them, aggregates included). Groups: the values of --by fields (a
// missing field is a bad event; null is a value). Aggregates: window/aggregates.h.
//
// Time: the watermark is the largest event time seen minus --max-delay (or a larger
// one from a {"$ev":"watermark"} line). With Kafka input, partitions are read
// interleaved, so the event time that counts is the smallest of each assigned
// partition's largest (as Flink's per-partition watermarks); a partition read to
// its end or quiet for --idle does not hold it back. At most 4096 partitions are
// tracked, the oldest dropped first. A window fires when the watermark reaches its
// end. --allowed-lateness L keeps it L longer: an event for it updates the result,
// which is emitted again marked as an update. An event all of whose windows ended
// L or more before the watermark is late: written to --late (the line byte for
// byte) or counted and dropped, never merged. --max-future F rejects (--on-error) an
// event more than F ahead of the wall clock, so one bad clock cannot fire every window.
// --idle Q: once the input has been quiet for Q (checked about once a second), event
// time moves on with the wall clock from the last event, so a quiet stream's last
// windows still fire. The end of the input fires every open window.
//
// Output: one line per window and group, built canonically: window_start, window_end
// (RFC 3339 UTC, ms), the group fields, the aggregates, and — when a window can give
// more than one result (--emit every/update, or --allowed-lateness) — "final" (false
// on early results) and "update": true on each result after the first. Within one
// firing, lines are ordered by window, then by group values (null < false < true <
// numbers < strings < arrays/objects).
//
// Bounds: --max-groups (window-group pairs and sessions) and --max-memory. When
// either is passed, the window that ends first is fired early and the watermark
// raised to its end, so later events for it are late; --stats counts "forced".
//
// State (--state PATH): the open windows and the ones kept for lateness, their
// groups and aggregates, the watermark and how far each input file was read, written
// atomically every --checkpoint-every, on a barrier line, and at exit (not after a
// failure). A stopped run (SIGINT/SIGTERM) keeps open windows in the snapshot and
// the restart continues them; a finished run fires them, and a later run with the
// same state treats events for those windows as late. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"
#include "libcore/window/assigner.h"

namespace ev::stages {

enum class WindowKind { kTumble, kHop, kSession };
enum class EmitMode { kFinal, kEvery, kUpdate };

struct WindowOptions {
  std::string program = "ev-window";
  WindowKind kind = WindowKind::kTumble;
  window::WindowSpec spec;        // tumble/hop: size, slide, align, tz
  time::Duration gap = 0;         // session
  std::string by;                 // comma-separated field paths; empty: one global group
  std::vector<std::string> aggs;  // --agg values; empty: count
  bool exact = false;             // count_distinct exact, never HyperLogLog
  std::string time_field = "ts";
  time::EpochUnit time_unit = time::EpochUnit::kAuto;
  time::Duration max_delay = 0;
  time::Duration allowed_lateness = 0;
  std::optional<time::Duration> max_future;
  std::optional<time::Duration> idle;
  EmitMode emit = EmitMode::kFinal;
  time::Duration emit_every = 0;  // with kEvery
  std::string late;               // sink for late events, or empty (counted, dropped)
  uint64_t max_groups = 0;        // 0: no limit but memory
  uint64_t max_memory = 1ull << 30;
  std::string state;
  time::Duration checkpoint_every = 10 * time::kNsPerSec;
  bool events_on_stdout = true;  // --late - would mix with the results
  time::Clock* clock = nullptr;  // null: the system clock
};

// Checks the options (kUsage), restores --state (kState) and opens --late (kIo).
Result<std::unique_ptr<pipeline::Stage>> make_window(const WindowOptions& opt);

}  // namespace ev::stages
