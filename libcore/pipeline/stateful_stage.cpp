#include "libcore/pipeline/stateful_stage.h"

#include "libcore/base/diag.h"
#include "libcore/pipeline/control.h"

namespace ev::pipeline {

StatefulStage::StatefulStage(std::string state_path, time::Duration checkpoint_every,
                             time::Clock& clock)
    : state_path_(std::move(state_path)),
      every_(checkpoint_every),
      clock_(clock),
      positions_(state_path_),
      next_checkpoint_(clock.mono_ns() + checkpoint_every) {}

std::optional<json::PartitionPosition> StatefulStage::kafka_resume(std::string_view topic,
                                                                   int32_t partition) {
  auto pos = positions_.kafka(topic, partition);
  if (pos) {
    diag::note(std::string(topic) + "[" + std::to_string(partition) + "]: resuming after offset " +
               std::to_string(pos->offset) +
               (pos->line > 1 ? " line " + std::to_string(pos->line) : std::string()) +
               " (checkpoint in " + state_path_ + ")");
  }
  return pos;
}

Status StatefulStage::on_control(std::string_view line, Emitter& out) {
  const std::string_view kind = control_kind(line);
  if (kind == "watermark") {
    auto t = watermark_time(line);
    if (!t) {
      diag::warning("ignoring a watermark line: " + t.error().message);
    } else if (auto st = on_watermark(*t, out); !st) {
      return st;
    }
  } else if (kind == "barrier") {
    if (auto st = checkpoint(out); !st) return st;
  }
  return out.emit_control(line);
}

Status StatefulStage::before_event(const json::Event& event, Emitter& out) {
  if (has_state() && ++since_clock_ >= kClockEvery) {
    since_clock_ = 0;
    if (auto st = maybe_checkpoint(out); !st) return st;
  }
  positions_.set_line(event.line());
  return {};
}

Status StatefulStage::checkpoint(Emitter& out) {
  if (!has_state()) return {};
  if (auto st = out.flush(); !st) return st;
  if (auto st = flush_side_outputs(); !st) return st;
  if (auto st = write_state(); !st) return st;
  ++checkpoints_;
  out.checkpointed();
  next_checkpoint_ = clock_.mono_ns() + every_;
  return {};
}

Status StatefulStage::maybe_checkpoint(Emitter& out) {
  if (!has_state() || clock_.mono_ns() < next_checkpoint_) return {};
  return checkpoint(out);
}

Status StatefulStage::end_state(RunReport& report, Outcome outcome) {
  if (!has_state()) return {};
  Status written;
  if (outcome != Outcome::kFailed) {
    written = write_state();
    if (written) ++checkpoints_;
  }
  report.add_extra("checkpoints", checkpoints_);
  return written;
}

}  // namespace ev::pipeline
