#include "libcore/io/line_writer.h"

namespace ev::io {

LineWriter::LineWriter(std::unique_ptr<ByteSink> sink, size_t chunk)
    : sink_(std::move(sink)), chunk_(chunk) {
  buf_.reserve(chunk_ + 64 * 1024);
}

LineWriter::~LineWriter() = default;

Status LineWriter::write_line(std::string_view line) {
  buf_.append(line);
  return end_line();
}

Status LineWriter::end_line() {
  buf_.push_back('\n');
  ++lines_;
  omit_final_newline_ = false;
  if (buf_.size() >= chunk_) return drain(true);
  return error_;
}

Status LineWriter::drain(bool hold_newline) {
  if (!error_) {
    buf_.clear();  // nothing more can be written; do not grow
    return error_;
  }
  if (buf_.empty()) return {};
  size_t n = buf_.size();
  const bool hold = hold_newline && n > 1 && buf_.back() == '\n';
  if (hold) --n;  // kept in the buffer: it goes out with the next write or flush
  bytes_ += n;
  error_ = sink_->write(std::string_view(buf_.data(), n));
  buf_.clear();
  if (hold) buf_.push_back('\n');
  dirty_ = true;
  return error_;
}

Status LineWriter::flush() {
  if (auto st = drain(false); !st) return st;
  if (!dirty_) return {};
  dirty_ = false;
  error_ = sink_->flush();
  return error_;
}

Status LineWriter::idle() {
  if (auto st = flush(); !st) return st;
  error_ = sink_->tick();
  return error_;
}

Status LineWriter::close() {
  if (closed_) return error_;
  closed_ = true;
  if (omit_final_newline_ && !buf_.empty() && buf_.back() == '\n') buf_.pop_back();
  if (auto st = drain(false); !st) return st;
  error_ = sink_->close();
  return error_;
}

Status LineWriter::abandon() {
  if (closed_) return error_;
  closed_ = true;
  Status drained = drain(false);
  Status st = sink_->abandon();
  return drained ? st : drained;
}

}  // namespace ev::io
