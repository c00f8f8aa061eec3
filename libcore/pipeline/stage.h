// Stage: the one interface every program's logic implements, and Emitter, what a
// stage writes to.
//
// The runner owns reading and writing; a stage only sees events, control lines and
// the end of input. The same stage object runs behind a pipe (the runner's output
// is a LineWriter) or fused in one process (the emitter feeds the next stage), so a
// stage never touches files, stdout or the wall clock (it gets a time::Clock&).
// A stage emits zero or more lines per event; bad events go to out.reject(), which
// applies --on-error. A Status error returned from a hook ends the run.
// One thread; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/json/event.h"
#include "libcore/pipeline/run_report.h"

namespace ev::pipeline {

class Emitter {
 public:
  virtual ~Emitter() = default;
  // Writes one event line (no newline) downstream; counted as out.
  virtual Status emit(std::string_view line) = 0;
  // Forwards a control line downstream; not counted as an event.
  virtual Status emit_control(std::string_view line) = 0;
  // Builds a line in place: append to line_buffer(), then end_line(). Nothing else may
  // be emitted in between.
  virtual std::string& line_buffer() = 0;
  virtual Status end_line() = 0;
  // A bad event: applies --on-error (fail ends the run with kData; skip counts and
  // warns; reject writes the envelope). `reason` is one line. `details` are extra
  // members for the envelope (JSON text without braces, e.g. "violations":[...]), or
  // empty.
  virtual Status reject(const json::Event& event, std::string_view reason,
                        std::string_view details) = 0;
  Status reject(const json::Event& event, std::string_view reason) {
    return reject(event, reason, {});
  }
  // Pushes buffered output downstream now (before a stage waits).
  virtual Status flush() = 0;
  // The run's counters, for stage-specific counts (dropped, extra).
  virtual RunReport& report() = 0;
  // The stage has written a snapshot holding everything before the current event
  // (a stage that holds_events() says so; Kafka input offsets up to here may then be
  // committed once the output is acknowledged).
  virtual void checkpointed() {}
};

// How a run ended, for Stage::on_end.
enum class Outcome {
  kComplete,  // all input was read and the run succeeded
  kStopped,   // a stop was requested (SIGINT/SIGTERM) and the run drained cleanly
  kFailed,    // an error ended the run (also a closed downstream pipe)
};

class Stage {
 public:
  virtual ~Stage() = default;
  // One event (not a control line).
  virtual Status on_event(json::Event& event, Emitter& out) = 0;
  // A control line, to be forwarded in order; stateful stages act on it first.
  virtual Status on_control(std::string_view line, Emitter& out) { return out.emit_control(line); }
  // The input has nothing ready; the runner flushes output after this returns.
  virtual Status on_idle(Emitter&) { return {}; }
  // The input ended: emit whatever is held back.
  virtual Status on_finish(Emitter&) { return {}; }
  // An error ended the run (--on-error fail, a full disk; not a closed pipe). By default
  // the same as on_finish; a stage whose held state is not a result (open windows) may
  // write nothing.
  virtual Status on_failure(Emitter& out) { return on_finish(out); }
  // A stop was requested before the input ended. By default the same as on_finish; a
  // stage with a state snapshot may keep what it holds for the next run instead.
  virtual Status on_stop(Emitter& out) { return on_finish(out); }
  // Called last, after the outputs are closed and `report` is complete (seconds too),
  // however the run ended: also after a failure, a stop request or a closed pipe. For
  // side outputs written at the end (ev-validate's reports, ev-dedupe's snapshot) and
  // counters known only then (added to `report` before --stats prints it); an error
  // here fails the run.
  virtual Status on_end(RunReport& /*report*/, Outcome /*outcome*/) { return {}; }
  // The runner opens input `source` (its name as given; "-" is standard input, which
  // `resumable` is false for). Returns how many of its lines were read by an earlier
  // run, which the runner then skips without counting them (UINT64_MAX: all of it,
  // and the input is not opened); a stage restoring a checkpoint resumes this way.
  // An error ends the run.
  virtual Result<uint64_t> on_source_begin(std::string_view /*source*/, bool /*resumable*/) {
    return 0;
  }
  // Input `source` was read to its end (not called when a run stops or fails midway).
  virtual void on_source_end(std::string_view /*source*/) {}
  // The runner rejected a line before the stage could see it (too long, NUL byte,
  // invalid UTF-8, not an object, invalid JSON under check_json); --on-error has been
  // applied already. For stages that report on bad input (ev-validate).
  virtual void on_bad_line(std::string_view /*source*/, uint64_t /*line*/,
                           std::string_view /*reason*/) {}
  // Called before on_bad_line and --on-error: a stage that holds events it would
  // write without waiting for more input (a short lookup pipeline, a batch) writes
  // them now, so that events and bad lines keep their order (and --on-error fail
  // names the first bad line).
  virtual Status before_bad_line(Emitter& /*out*/) { return {}; }

  // Kafka input (DESIGN.md, "Delivery"). True when events handed to the stage may
  // not be reflected in its output yet (open windows, held events): their input
  // offsets are then committed only at the stage's checkpoints and at the end.
  virtual bool holds_events() const { return false; }
  // True when the stage keeps a state snapshot (--state).
  virtual bool has_snapshot() const { return false; }
  // A Kafka partition was assigned to this process, taken away, or read to its
  // current end (caught up: nothing from it is pending). For per-partition event time.
  enum class PartitionChange { kAssigned, kRevoked, kCaughtUp };
  virtual void on_kafka_partition(std::string_view /*topic*/, int32_t /*partition*/,
                                  PartitionChange /*change*/) {}
  // Line `line` of a Kafka message has been handled (event, control or bad line).
  virtual void on_kafka_line(const json::KafkaOrigin& /*origin*/, uint64_t /*line*/) {}
  // A partition is assigned: where the stage's restored snapshot says it was read to,
  // if it knows; the runner resumes there rather than at the committed offset.
  virtual std::optional<json::PartitionPosition> kafka_resume(std::string_view /*topic*/,
                                                              int32_t /*partition*/) {
    return std::nullopt;
  }
};

}  // namespace ev::pipeline
