// Byte sinks: where output bytes go (stdout, files, .zst/.gz by file name,
// rotating files), behind one small interface.
//
// The line writer hands a sink whole lines only, so a sink may cut files between
// any two writes. A file sink opened with `atomic` writes to "<path>.partial" and
// renames it to <path> on close(), so a reader never sees a half-written file
// under its final name. Write errors come back as values: EPIPE as kPipe (the
// reader went away: a quiet end), anything else (ENOSPC, EIO) as kIo naming the
// path. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::io {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `data`. Requires: `data` ends at a line boundary.
  virtual Status write(std::string_view data) = 0;
  // Pushes buffered bytes (and compressor state) down so a reader sees them.
  virtual Status flush() = 0;
  // Finishes the stream (compressor trailer, fsync and rename for atomic files).
  // Idempotent. A sink destroyed without close() leaves an atomic file as .partial.
  virtual Status close() = 0;
  // Ends a failed run: finishes the stream but leaves an atomic file as .partial, so
  // output of a run that failed never looks complete. Default: close().
  virtual Status abandon() { return close(); }
  // Called when the program is idle (no input ready); time-based rotation uses it.
  virtual Status tick() { return {}; }
  virtual const std::string& name() const = 0;
};

struct SinkOptions {
  bool atomic = false;  // write <path>.partial, rename on close (regular files only:
                        // an existing device, pipe or symlink is written directly)
  bool append = false;  // open an existing file for appending (not with atomic)
  int zstd_level = 3;
  int gzip_level = 6;
};

// "-" is stdout (never closed; a pipe there is enlarged, see enlarge_pipe); any other path is
// created/truncated. ".zst"/".gz" suffixes compress. Fails with kIo naming the path.
Result<std::unique_ptr<ByteSink>> open_sink(std::string_view path, const SinkOptions& options = {});

// A side output (a report, an audit trail) may not go where the events go: fails with
// kUsage ("OPTION: standard output carries the events; ...") when `path` is "-", or
// /dev/stdout while the events are on standard output.
Status check_side_output(std::string_view path, std::string_view option, bool events_on_stdout);

// Makes a rename in the directory of `path` durable (fsync of the directory);
// best effort: a directory that cannot be opened is left alone.
void sync_parent_dir(const std::string& path);

// A sink collecting everything in memory (tests).
class MemorySink final : public ByteSink {
 public:
  Status write(std::string_view data) override {
    data_.append(data);
    ++writes_;
    return {};
  }
  Status flush() override {
    ++flushes_;
    return {};
  }
  Status close() override { return {}; }
  const std::string& name() const override { return name_; }
  const std::string& data() const { return data_; }
  int flushes() const { return flushes_; }
  int writes() const { return writes_; }

 private:
  std::string data_;
  std::string name_ = "memory";
  int flushes_ = 0;
  int writes_ = 0;
};

// Rotation of output files by size and/or age.
//
// `pattern` names each file: strftime conversions (%Y %m %d %H %M %S, UTC, at the
// time the file is opened) and "{seq}" (a counter from 0, six digits) are expanded;
// a pattern must hold "{seq}" so names never collide; a name that already exists (or
// its .partial) is skipped, so a restarted program does not replace its earlier
// files: the counter moves on to the next free name. A file is started lazily at the
// first write, so rotation never leaves empty files; missing directories in the
// expanded name are created. `max_bytes` counts uncompressed
// bytes; a file is closed after the line that reaches it (lines are never split).
// `max_age_ns` closes a file that has been open that long, checked on write and tick.
struct RotateOptions {
  std::string pattern;
  uint64_t max_bytes = 0;           // 0: no size limit
  int64_t max_age_ns = 0;           // 0: no age limit
  SinkOptions file;                 // each file is written atomically (.partial, rename)
  std::function<int64_t()> now_ns;  // wall clock in ns; empty: the system clock
};
Result<std::unique_ptr<ByteSink>> open_rotating_sink(const RotateOptions& options);

// Expands a rotation pattern (exposed for tests). `unix_seconds` is the open time.
std::string expand_pattern(std::string_view pattern, int64_t unix_seconds, uint64_t seq);

}  // namespace ev::io
