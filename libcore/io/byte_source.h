// Byte sources: where input bytes come from (stdin, files, .zst/.gz, a followed file).
//
// A ByteSource reads into a caller's buffer. `ready()` tells whether a read would
// return without blocking; the line reader uses it to flush output before it waits
// (the adaptive flush of DESIGN.md). Compressed input is recognized by the file name
// (.zst, .gz) or, for names without those suffixes and for stdin, by the magic bytes
// at the start of the stream; concatenated frames/members are read in sequence.
// A source owns its descriptor unless it wraps stdin. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`. Returns 0 at end of input, and also when a
  // stop was requested (SIGINT/SIGTERM) while waiting. Fails with kIo.
  virtual Result<size_t> read(char* buf, size_t n) = 0;
  // True when read() would not block (data, end of input or an error is ready).
  virtual bool ready() = 0;
  // Waits up to `timeout_ms` for ready(); returns it. Returns early (false) when a
  // signal arrives, so the caller can look at the stop flag.
  virtual bool wait_ready(int timeout_ms) {
    (void)timeout_ms;
    return ready();
  }
  // The name used in messages: the path, or "-" / "stdin".
  virtual const std::string& name() const = 0;
};

struct SourceOptions {
  bool follow = false;            // keep reading a growing file (tail -F)
  int follow_poll_ms = 100;       // how often a followed file is checked at its end
  bool sniff_compression = true;  // look at magic bytes when the name says nothing
};

// Opens "-" (stdin) or a path. Fails with kIo naming the path ("cannot open x: No such file").
Result<std::unique_ptr<ByteSource>> open_source(std::string_view path,
                                                const SourceOptions& options = {});

// Wraps an already-open descriptor (not closed on destruction when `own` is false).
std::unique_ptr<ByteSource> fd_source(int fd, std::string name, bool own);

// Wraps a source in a streaming decompressor.
std::unique_ptr<ByteSource> zstd_source(std::unique_ptr<ByteSource> inner);
std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> inner);

// A source over bytes in memory (tests, fused pipelines). `max_read` caps each read,
// to feed a reader in pieces as a pipe does.
std::unique_ptr<ByteSource> memory_source(std::string data, std::string name = "memory",
                                          size_t max_read = SIZE_MAX);

// Compression by file name: ".zst"/".zstd" or ".gz" (sources and sinks agree).
enum class Codec { kNone, kZstd, kGzip };
Codec codec_by_name(std::string_view path);

// If `fd` is a pipe, enlarge its buffer to 1 MiB (fewer context switches); ignores failure.
void enlarge_pipe(int fd);

}  // namespace ev::io
