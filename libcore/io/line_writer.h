// LineWriter: the buffered, line-oriented output of every program.
//
// Lines are appended to one buffer and handed to the sink in chunks of whole lines
// once `chunk` bytes (1 MiB) have gathered: one write(2) per MiB under load. The
// caller flushes when its input has nothing more ready, and at exit (the adaptive
// flush of DESIGN.md), so a quiet real-time stream never sits in the buffer and a
// bulk file is not written line by line. Memory: one buffer of chunk + longest line.
// A failed write is sticky: every later call returns the same error. A chunk's final
// newline is held back until the next write or flush, so that the very last newline
// of a run can still be left out (omit_final_newline).
// Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/io/byte_sink.h"

namespace ev::io {

class LineWriter {
 public:
  explicit LineWriter(std::unique_ptr<ByteSink> sink, size_t chunk = 1u << 20);
  ~LineWriter();

  // Appends `line` and a '\n'.
  Status write_line(std::string_view line);

  // For building a line in place: append to buffer(), then call end_line().
  std::string& buffer() { return buf_; }
  Status end_line();

  // Writes out everything buffered and flushes the sink (and its compressor).
  Status flush();
  // Flushes if anything is pending; also lets time-based sinks rotate.
  Status idle();
  // Flushes and closes the sink. Idempotent.
  Status close();
  // Writes what is buffered and abandons the sink (see ByteSink::abandon). Idempotent.
  Status abandon();

  // Makes close() leave out the newline after the last line, so a pass-through of
  // input whose last line has no newline is byte-exact. Any later end_line() cancels it.
  void omit_final_newline() { omit_final_newline_ = true; }

  ByteSink& sink() { return *sink_; }
  uint64_t lines() const { return lines_; }
  uint64_t bytes() const { return bytes_; }

 private:
  Status drain(bool hold_newline);  // writes buf_ to the sink without flushing it

  std::unique_ptr<ByteSink> sink_;
  size_t chunk_;
  std::string buf_;
  Status error_;
  uint64_t lines_ = 0;
  uint64_t bytes_ = 0;
  bool dirty_ = false;  // bytes were written to the sink since its last flush
  bool closed_ = false;
  bool omit_final_newline_ = false;
};

}  // namespace ev::io
