// InputPositions: how far a stateful stage has read its inputs, so that a restart
// from its checkpoint (--state) neither re-reads nor loses input.
//
// The stage forwards the runner's input callbacks (pipeline/stage.h) here and puts
// save()/load() in its snapshot, where they belong with the state they describe:
//   on_source_begin(source, resumable) -> return begin(source, resumable)
//   on_event / on_bad_line             -> set_line(line), for every line handled
//   on_source_end(source)              -> end(source)
// A restart that load()s the snapshot then has begin() tell the runner:
//   - a file read to its end before the checkpoint: skip it (UINT64_MAX);
//   - the file being read at the checkpoint: skip its lines up to and including the
//     last one handled, and go on after it;
//   - any other file: read it from the start (0).
// Files are known by their name as given. Standard input (resumable false) is never
// skipped or resumed: nothing says it is the same data again. The state still
// applies to it.
//
// Kafka input is tracked per partition instead: on_kafka_line records the offset and
// line of each line handled, and kafka() gives a restart where to resume (the
// runner seeks there rather than to the group's committed offset). One record per
// partition ever read, at most kMaxPartitions (the oldest dropped first).
//
// At most kMaxFiles finished files are remembered, the oldest forgotten first, so a
// long-running job over endlessly many files keeps a bounded snapshot; a forgotten
// file given again is read again. A checkpoint taken before the file being resumed
// is opened again (another file first, or a stop at once) keeps its position. Without a state path
// (the stage keeps no --state) nothing is remembered. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "libcore/base/status.h"
#include "libcore/json/event.h"
#include "libcore/state/snapshot.h"

namespace ev::state {

class InputPositions {
 public:
  static constexpr size_t kMaxFiles = 100000;
  static constexpr size_t kMaxPartitions = 100000;

  // `state_path` is the snapshot file, named in the notes printed on a restart.
  explicit InputPositions(std::string state_path);

  // Input `source` is opened: how many of its lines to skip (UINT64_MAX: all of it,
  // and a note says so). Never fails; the Result matches Stage::on_source_begin.
  Result<uint64_t> begin(std::string_view source, bool resumable);
  // The last line of the current source handled (its 1-based number).
  void set_line(uint64_t line) { cur_line_ = line; }
  // The current source was read to its end: a restart skips it.
  void end(std::string_view source);

  // Line `line` of the message at `offset` in a Kafka partition was handled.
  void set_kafka(std::string_view topic, int32_t partition, int64_t offset, uint64_t line);
  // Where a partition was read to, if known.
  std::optional<json::PartitionPosition> kafka(std::string_view topic, int32_t partition) const;

  // Records: the current source (bytes, empty when none), its last handled line
  // (u64, 0 when none), the number of finished files (u64), then their names (bytes),
  // oldest first; then the number of Kafka partitions (u64) and for each its topic
  // (bytes), partition (u64), offset (i64) and line (u64).
  void save(SnapshotWriter& w) const;
  // Reads what save() wrote; kState when it is corrupt.
  Status load(SnapshotReader& r);

 private:
  std::string state_path_;
  std::string cur_source_;              // the file being read (empty: none, or not resumable)
  uint64_t cur_line_ = 0;               // the last line of it handled
  std::deque<std::string> files_done_;  // oldest first, to forget in that order
  std::unordered_set<std::string> files_done_set_;
  std::string resume_source_;  // the file being read at the checkpoint, until begun
  uint64_t resume_line_ = 0;
  struct KafkaEntry {
    std::string topic;
    int32_t partition = 0;
    json::PartitionPosition pos;
  };
  std::deque<KafkaEntry> kafka_;  // oldest first
  size_t kafka_last_ = 0;         // index of the last one set
};

}  // namespace ev::state
