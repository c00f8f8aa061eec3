// Ingest: bring events in. Passes each event through byte for byte; optionally
// stamps where it came from and paces the stream.
//
// `meta` splices "_src":{"file":NAME,"line":N} into each event (replacing an
// existing top-level "_src"); for Kafka input "_kafka":{"topic","partition",
// "offset","key","ts"} instead (ts: the message timestamp in epoch ms). `rate` > 0 paces output to that many events per
// second of wall-clock time (a replay of a backfill at production speed): the
// stage flushes its output before it waits, so paced events leave immediately.
// The sources themselves (files, globs, .zst/.gz, --follow) are the runner's.
// State: none beyond the pacing counter. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "libcore/base/status.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/clock.h"

namespace ev::stages {

struct IngestOptions {
  bool meta = false;
  double rate = 0;  // events per second; 0: as fast as possible
};

// Fails with kUsage when rate is negative or not finite.
Result<std::unique_ptr<pipeline::Stage>> make_ingest(const IngestOptions& opt, time::Clock& clock);

}  // namespace ev::stages
