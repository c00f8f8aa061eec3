// The runner: reads every input line by line, checks each line, hands events and
// control lines to a stage, and writes what the stage emits.
//
// Per line, before the stage sees it, the runner rejects (per --on-error) lines
// longer than --max-line, lines holding a NUL byte, lines that are not valid UTF-8,
// and lines that are not shaped like a JSON object ('{' ... '}'); with
// `check_json` it also fully parses each line (simdjson) so that malformed JSON is
// caught at the gate rather than by a later stage. Control lines (which pass the
// same NUL/UTF-8/shape checks; a line failing them is a bad event) go to
// Stage::on_control in order. After a failure the output is abandoned (an atomic
// file stays NAME.partial); the dead letters are kept. Output is flushed whenever the input has
// nothing ready, and at the end. Inputs are read one after another, in order.
// Memory: one line buffer per input (bounded by --max-line) plus the output buffers.
// One runner per thread.
#pragma once

#include <memory>

#include "libcore/base/status.h"
#include "libcore/io/byte_sink.h"
#include "libcore/pipeline/run_options.h"
#include "libcore/pipeline/run_report.h"
#include "libcore/pipeline/stage.h"

namespace ev::pipeline {

struct RunEnd {
  bool interrupted = false;  // a stop was requested (SIGINT/SIGTERM) before the input ended
  bool drained = false;      // ... of an unbounded input (Kafka without until=): a clean end
};

// Runs `stage` over `opt.inputs` to `opt.output` (or `output` when given, e.g. a
// rotating sink). Fills `report`. Fails with the error that ended the run: kUsage
// (bad input name), kIo (open/read/write), kData (--on-error fail met a bad event),
// kPipe (downstream closed: the caller should end quietly and successfully).
Result<RunEnd> run(const RunOptions& opt, Stage& stage, RunReport& report,
                   std::unique_ptr<io::ByteSink> output = nullptr);

// True when the run reads Kafka (its one input is a kafka:// URI). Its file outputs
// are then appended to rather than written as NAME.partial: input offsets are
// committed once lines are in the file, so a restart must find them there.
bool reads_kafka(const RunOptions& opt);

// The checks of `opt` that need no file (--on-error reject without --reject): run()
// makes them first, and a program's driver before it opens its own sinks.
Status check_options(const RunOptions& opt);

// Checks one line as the runner does; returns the reason it is bad, or empty.
// `utf8` false skips the UTF-8 check, for callers that parse the line fully anyway
// (simdjson's parse reports invalid UTF-8 with the same reason).
std::string_view check_line(std::string_view line, bool utf8 = true);

}  // namespace ev::pipeline
