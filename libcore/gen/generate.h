// The ev-gen driver: writes `count` generated lines to a LineWriter, optionally
// paced to `rate` lines per second of wall-clock time (flushing before each wait,
// so a paced stream is visible downstream at once); with `profiles`, the user table
// instead (one row per user, see ProfileGenerator). Stops early, cleanly, on
// SIGINT/SIGTERM. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "libcore/base/status.h"
#include "libcore/gen/generator.h"
#include "libcore/io/line_writer.h"
#include "libcore/time/clock.h"

namespace ev::gen {

struct GenerateOptions {
  GenOptions events;
  uint64_t count = 1000;  // 0: unbounded (until stopped or the reader goes away)
  double rate = 0;        // lines per second; 0: as fast as possible
  bool profiles = false;  // write events.users profile rows; count is not used
  // --where EXPR: of the lines generated (count of them), only those for which it is
  // true are written; lines that are deliberately bad (--malformed) are written. An
  // expression that fails on a generated event (a type error) is a usage error.
  std::string where;
};

// Fails with kUsage on out-of-range options (probabilities outside [0,1], users 0,
// a negative rate, a rate with profiles), kIo on write errors, kPipe when the reader
// closed the pipe.
Status generate(const GenerateOptions& opt, io::LineWriter& out, time::Clock& clock);

// Checks options without generating (used before opening the output).
Status check(const GenerateOptions& opt);

}  // namespace ev::gen
