#include "libcore/state/input_positions.h"

#include <utility>

#include "libcore/base/diag.h"

namespace ev::state {

InputPositions::InputPositions(std::string state_path) : state_path_(std::move(state_path)) {}

Result<uint64_t> InputPositions::begin(std::string_view source, bool resumable) {
  cur_source_.clear();
  cur_line_ = 0;
  if (!resumable) return 0;
  if (files_done_set_.contains(std::string(source))) {
    diag::note(std::string(source) + ": read to its end before the checkpoint in " + state_path_ +
               "; skipping it");
    return UINT64_MAX;
  }
  cur_source_ = source;
  if (!resume_source_.empty() && source == resume_source_) {
    diag::note(std::string(source) + ": resuming after line " + std::to_string(resume_line_) +
               " (checkpoint in " + state_path_ + ")");
    cur_line_ = resume_line_;
    resume_source_.clear();
    return cur_line_;
  }
  return 0;
}

void InputPositions::end(std::string_view source) {
  if (cur_source_.empty() || state_path_.empty()) return;
  std::string name(source);
  if (files_done_set_.insert(name).second) {
    files_done_.push_back(std::move(name));
    if (files_done_.size() > kMaxFiles) {
      files_done_set_.erase(files_done_.front());
      files_done_.pop_front();
    }
  }
  cur_source_.clear();
  cur_line_ = 0;
}

void InputPositions::save(SnapshotWriter& w) const {
  if (cur_source_.empty() && !resume_source_.empty()) {
    // A checkpoint before the resumed file is opened again keeps its position.
    w.bytes(resume_source_);
    w.u64(resume_line_);
  } else {
    w.bytes(cur_source_);
    w.u64(cur_source_.empty() ? 0 : cur_line_);
  }
  w.u64(files_done_.size());
  for (const auto& name : files_done_) w.bytes(name);
  w.u64(kafka_.size());
  for (const auto& e : kafka_) {
    w.bytes(e.topic);
    w.u64(static_cast<uint64_t>(e.partition));
    w.i64(e.pos.offset);
    w.u64(e.pos.line);
  }
}

void InputPositions::set_kafka(std::string_view topic, int32_t partition, int64_t offset,
                               uint64_t line) {
  if (state_path_.empty()) return;
  if (kafka_last_ >= kafka_.size() || kafka_[kafka_last_].partition != partition ||
      kafka_[kafka_last_].topic != topic) {
    size_t i = 0;
    while (i < kafka_.size() && (kafka_[i].partition != partition || kafka_[i].topic != topic)) {
      ++i;
    }
    if (i == kafka_.size()) {
      if (kafka_.size() >= kMaxPartitions) kafka_.pop_front();
      kafka_.push_back(KafkaEntry{std::string(topic), partition, {}});
      i = kafka_.size() - 1;
    }
    kafka_last_ = i;
  }
  kafka_[kafka_last_].pos = json::PartitionPosition{offset, line};
}

std::optional<json::PartitionPosition> InputPositions::kafka(std::string_view topic,
                                                             int32_t partition) const {
  for (const auto& e : kafka_) {
    if (e.partition == partition && e.topic == topic) return e.pos;
  }
  return std::nullopt;
}

Status InputPositions::load(SnapshotReader& r) {
  uint64_t n_files = 0;
  if (auto st = r.read(resume_source_, resume_line_, n_files); !st) return st;
  // Each name takes at least its 4-byte length.
  if (n_files > r.remaining() / 4) return r.corrupt("more file names than bytes");
  files_done_.clear();
  files_done_set_.clear();
  for (uint64_t i = 0; i < n_files; ++i) {
    auto name = r.bytes();
    if (!name) return std::unexpected(name.error());
    // A name twice (never written so) is kept once: forgetting it must forget it.
    if (files_done_set_.insert(*name).second) files_done_.push_back(std::move(*name));
  }
  uint64_t n_parts = 0;
  if (auto st = r.read(n_parts); !st) return st;
  // Each takes at least 28 bytes.
  if (n_parts > r.remaining() / 28) return r.corrupt("more partitions than bytes");
  kafka_.clear();
  kafka_last_ = 0;
  for (uint64_t i = 0; i < n_parts; ++i) {
    KafkaEntry e;
    uint64_t partition = 0;
    if (auto st = r.read(e.topic, partition, e.pos.offset, e.pos.line); !st) return st;
    if (partition > INT32_MAX || e.pos.offset < 0) return r.corrupt("bad Kafka position");
    e.partition = static_cast<int32_t>(partition);
    kafka_.push_back(std::move(e));
  }
  return {};
}

}  // namespace ev::state
