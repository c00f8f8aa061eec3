// LineReader: splits a ByteSource into lines, the unit of NDJSON.
//
// Reads in large chunks (1 MiB) into one buffer that grows up to the line bound and
// never shrinks. Each returned line excludes its '\n' and a trailing '\r' (CRLF), and
// is followed in memory by at least kLinePadding readable bytes, so simdjson can parse
// it in place. Empty and whitespace-only lines are skipped (but counted in line
// numbers, which are physical, 1-based). A last line without a newline is returned.
// A line longer than `max_line` bytes is not buffered whole: the reader returns its
// first kOversizePrefix bytes with `oversize` set and skips the rest, so memory stays
// bounded by max_line + 1 MiB. Before a read that would block (the source has
// nothing ready), `before_block` is called so the caller can flush its output.
// A UTF-8 byte order mark at the start of a source is skipped (editors on Windows
// write one; it is not part of the first event). Not thread-safe. Memory: one buffer
// of at most max_line + 2 MiB, kept across reset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/io/byte_source.h"

namespace ev::io {

inline constexpr size_t kLinePadding = 64;  // >= SIMDJSON_PADDING
inline constexpr size_t kDefaultMaxLine = 16u << 20;
inline constexpr size_t kOversizePrefix = 1024;

struct Line {
  std::string_view text;  // valid until the next call to next()
  uint64_t number = 0;    // physical line number, 1-based
  bool oversize = false;  // text is only a prefix; the line had `length` bytes
  uint64_t length = 0;
  uint64_t offset = 0;     // byte offset of the line's start in the (decompressed) input
  bool terminated = true;  // false for a last line without a newline
};

class LineReader {
 public:
  explicit LineReader(std::unique_ptr<ByteSource> source, size_t max_line = kDefaultMaxLine);

  // Starts over on another source (the next input), keeping the buffer: line numbers,
  // offsets and byte counts start again from zero.
  void reset(std::unique_ptr<ByteSource> source);

  // Called before a read that would block, and again every `idle_ms` while the input
  // stays quiet (so time-based work such as file rotation still happens). Not called
  // for regular files.
  void set_before_block(std::function<void()> hook, int idle_ms = 1000) {
    before_block_ = std::move(hook);
    idle_ms_ = idle_ms;
  }

  // Fetches the next non-empty line. Returns false at end of input. Fails with kIo.
  Result<bool> next(Line& line);

  const std::string& name() const { return source_->name(); }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Result<bool> fill();  // reads more; false at end of input

  std::unique_ptr<ByteSource> source_;
  size_t max_line_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // start of unconsumed data
  size_t end_ = 0;    // end of valid data
  size_t scan_ = 0;   // where the newline search resumes (all before it has no '\n')
  bool eof_ = false;
  bool stopped_ = false;  // the source ended because a stop was requested
  bool bom_checked_ = false;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t consumed_ = 0;  // offset of buf_[begin_] in the input
  std::function<void()> before_block_;
  int idle_ms_ = 1000;
};

}  // namespace ev::io
