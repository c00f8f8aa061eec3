// StatefulStage: the --state half of a stateful stage (DESIGN.md, "State"), so every
// stateful program checkpoints the same way: how far each input was read (for a
// restart), a snapshot every --checkpoint-every (the clock is read once per
// kClockEvery events), on a barrier line (the stage calls checkpoint()), and at the
// end of a run that did not fail (after a failure the last checkpoint stands: it is
// consistent with what was written before it, which the run's end is not known to be).
//
// Kafka input: the snapshot holds each partition's position, and a restart resumes
// there; after each checkpoint the runner may commit the offsets it covers.
// A stage derives from it, calls before_event() first in on_event, writes its records
// in write_state() (including positions().save()) and reads them back when it starts.
// Without a state path nothing is written and positions are not remembered.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/json/event.h"
#include "libcore/pipeline/stage.h"
#include "libcore/state/input_positions.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"

namespace ev::pipeline {

class StatefulStage : public Stage {
 public:
  static constexpr uint64_t kClockEvery = 1024;  // events between clock reads

  Result<uint64_t> on_source_begin(std::string_view source, bool resumable) override {
    return positions_.begin(source, resumable);
  }
  void on_source_end(std::string_view source) override { positions_.end(source); }
  void on_bad_line(std::string_view, uint64_t line, std::string_view) override {
    positions_.set_line(line);
  }
  void on_kafka_line(const json::KafkaOrigin& origin, uint64_t line) override {
    positions_.set_kafka(origin.topic, origin.partition, origin.offset, line);
  }
  std::optional<json::PartitionPosition> kafka_resume(std::string_view topic,
                                                      int32_t partition) override;
  bool has_snapshot() const override { return has_state(); }
  // Control lines, forwarded in order after acting on them: a barrier takes a
  // checkpoint (holding everything before it); a watermark line goes to
  // on_watermark (a malformed one is ignored with a warning).
  Status on_control(std::string_view line, Emitter& out) override;

 protected:
  StatefulStage(std::string state_path, time::Duration checkpoint_every, time::Clock& clock);

  bool has_state() const { return !state_path_.empty(); }
  const std::string& state_path() const { return state_path_; }
  state::InputPositions& positions() { return positions_; }
  const state::InputPositions& positions() const { return positions_; }

  // First thing in on_event: a periodic checkpoint when one is due (holding the events
  // before this one), then this event's line is the last one handled.
  Status before_event(const json::Event& event, Emitter& out);
  // A snapshot now: everything emitted (and side outputs) is flushed first, so no
  // snapshot assumes output that a crash could lose.
  Status checkpoint(Emitter& out);
  // A snapshot if --checkpoint-every has passed since the last (for on_idle).
  Status maybe_checkpoint(Emitter& out);
  // For on_end, after the side outputs are closed: the final snapshot unless the run
  // failed, and the "checkpoints" counter.
  Status end_state(RunReport& report, Outcome outcome);

  // The whole snapshot, written atomically (state/snapshot.h).
  virtual Status write_state() = 0;
  // Pushes side outputs (--duplicates, --late) to their sinks before a checkpoint.
  virtual Status flush_side_outputs() { return {}; }
  // A watermark line's time `t` (ns); the stage moves its event time on if `t` is
  // ahead of it. Default: ignored.
  virtual Status on_watermark(int64_t /*t*/, Emitter& /*out*/) { return {}; }

 private:
  std::string state_path_;
  time::Duration every_;
  time::Clock& clock_;
  state::InputPositions positions_;
  uint64_t since_clock_ = 0;
  int64_t next_checkpoint_ = 0;
  uint64_t checkpoints_ = 0;
};

}  // namespace ev::pipeline
