#include "libcore/io/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "libcore/base/stop.h"

namespace ev::io {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// A plain descriptor. Keeps a small push-back area so magic-byte sniffing can peek.
class FdSource final : public ByteSource {
 public:
  FdSource(int fd, std::string name, bool own) : fd_(fd), name_(std::move(name)), own_(own) {}
  ~FdSource() override {
    if (own_ && fd_ >= 0) ::close(fd_);
  }

  Result<size_t> read(char* buf, size_t n) override {
    if (pushback_pos_ < pushback_.size()) {
      size_t k = std::min(n, pushback_.size() - pushback_pos_);
      std::memcpy(buf, pushback_.data() + pushback_pos_, k);
      pushback_pos_ += k;
      return k;
    }
    return read_fd(buf, n);
  }

  Result<size_t> read_fd(char* buf, size_t n) {
    if (stop_requested()) return 0;
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) {
        if (stop_requested()) return 0;
        continue;
      }
      if (errno == EAGAIN) {  // a non-blocking stdin: wait for it
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0 && errno == EINTR && stop_requested()) return 0;
        continue;
      }
      return io_error("read error: " + errno_text(errno), name_);
    }
  }

  bool ready() override {
    if (pushback_pos_ < pushback_.size()) return true;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 0);
    return r != 0;  // data, EOF (POLLHUP) or an error are all "ready"
  }

  bool wait_ready(int timeout_ms) override {
    if (pushback_pos_ < pushback_.size()) return true;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    return r > 0 || (r < 0 && errno != EINTR);
  }

  const std::string& name() const override { return name_; }

  // Reads up to `n` bytes for sniffing and pushes them back.
  Result<std::string_view> peek(size_t n) {
    pushback_.resize(n);
    size_t have = 0;
    while (have < n) {
      auto got = read_fd(pushback_.data() + have, n - have);
      if (!got) return std::unexpected(got.error());
      if (*got == 0) break;
      have += *got;
      // Only zstd (28 B5 ..) and gzip (1F 8B) magic need more than one byte: do not
      // wait for more input on a quiet stream that cannot be compressed.
      unsigned char first = static_cast<unsigned char>(pushback_[0]);
      if (first != 0x28 && first != 0x1F) break;
    }
    pushback_.resize(have);
    pushback_pos_ = 0;
    return std::string_view(pushback_);
  }

  int fd() const { return fd_; }

 private:
  int fd_;
  std::string name_;
  bool own_;
  std::string pushback_;
  size_t pushback_pos_ = 0;
};

// A file that keeps growing, like `tail -F`: at its end, waits for more data; when
// the path is replaced (rotation) it drains the old file and reopens the path; when
// the file shrinks (truncation) it starts again from the beginning.
class FollowSource final : public ByteSource {
 public:
  FollowSource(int fd, std::string path, int poll_ms)
      : fd_(fd), name_(std::move(path)), poll_ms_(poll_ms) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) ino_ = st.st_ino;
  }
  ~FollowSource() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<size_t> read(char* buf, size_t n) override {
    for (;;) {
      if (stop_requested()) return 0;
      if (fd_ >= 0) {
        ssize_t got = ::read(fd_, buf, n);
        if (got > 0) {
          offset_ += static_cast<uint64_t>(got);
          return static_cast<size_t>(got);
        }
        if (got < 0 && errno != EINTR) return io_error("read error: " + errno_text(errno), name_);
        if (got < 0) continue;
        // At the end: truncated in place?
        struct stat st {};
        if (::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) < offset_) {
          ::lseek(fd_, 0, SEEK_SET);
          offset_ = 0;
          continue;
        }
      }
      // Replaced by a new file at the same path (rotation), or appeared after a removal?
      struct stat path_st {};
      if (::stat(name_.c_str(), &path_st) == 0 && (fd_ < 0 || path_st.st_ino != ino_)) {
        int nfd = ::open(name_.c_str(), O_RDONLY | O_CLOEXEC);
        if (nfd >= 0) {
          if (fd_ >= 0) ::close(fd_);
          fd_ = nfd;
          ino_ = path_st.st_ino;
          offset_ = 0;
          continue;
        }
      }
      struct timespec ts {
        poll_ms_ / 1000, (poll_ms_ % 1000) * 1'000'000L
      };
      ::nanosleep(&ts, nullptr);  // EINTR on a signal: the loop checks the stop flag
    }
  }

  // Ready when the file grew or shrank, or the path now names another file.
  bool ready() override {
    struct stat st {};
    if (fd_ >= 0 && (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) != offset_)) {
      return true;
    }
    struct stat path_st {};
    return ::stat(name_.c_str(), &path_st) == 0 && (fd_ < 0 || path_st.st_ino != ino_);
  }

  bool wait_ready(int timeout_ms) override {
    for (int waited = 0; waited < timeout_ms; waited += poll_ms_) {
      if (ready()) return true;
      struct timespec ts {
        poll_ms_ / 1000, (poll_ms_ % 1000) * 1'000'000L
      };
      if (::nanosleep(&ts, nullptr) != 0) return false;  // a signal
    }
    return ready();
  }

  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  int poll_ms_;
  ino_t ino_ = 0;
  uint64_t offset_ = 0;
};

constexpr size_t kCompressedChunk = 256 * 1024;

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), name_(inner_->name()), in_(kCompressedChunk) {
    dctx_ = ZSTD_createDCtx();
  }
  ~ZstdSource() override { ZSTD_freeDCtx(dctx_); }

  Result<size_t> read(char* buf, size_t n) override {
    for (;;) {
      if (in_pos_ < in_len_) {
        ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
        ZSTD_outBuffer out{buf, n, 0};
        size_t r = ZSTD_decompressStream(dctx_, &out, &in);
        in_pos_ = in.pos;
        if (ZSTD_isError(r)) {
          return io_error(std::string("zstd: ") + ZSTD_getErrorName(r), name_);
        }
        frame_open_ = r != 0;
        if (out.pos > 0) return out.pos;
        if (in_pos_ < in_len_) continue;
      }
      auto got = inner_->read(in_.data(), in_.size());
      if (!got) return got;
      if (*got == 0) {
        if (frame_open_ && !stop_requested()) return io_error("zstd: truncated input", name_);
        return 0;
      }
      in_len_ = *got;
      in_pos_ = 0;
    }
  }

  bool ready() override { return in_pos_ < in_len_ || inner_->ready(); }
  bool wait_ready(int timeout_ms) override {
    return in_pos_ < in_len_ || inner_->wait_ready(timeout_ms);
  }
  const std::string& name() const override { return name_; }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::string name_;
  std::vector<char> in_;
  size_t in_len_ = 0, in_pos_ = 0;
  bool frame_open_ = false;
  ZSTD_DCtx* dctx_;
};

class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), name_(inner_->name()), in_(kCompressedChunk) {
    std::memset(&zs_, 0, sizeof zs_);
    inflateInit2(&zs_, 15 + 32);  // gzip or zlib header, detected
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  Result<size_t> read(char* buf, size_t n) override {
    for (;;) {
      if (zs_.avail_in > 0) {
        if (member_done_) {  // another gzip member follows (as `cat a.gz b.gz` makes)
          inflateReset(&zs_);
          member_done_ = false;
        }
        zs_.next_out = reinterpret_cast<Bytef*>(buf);
        zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
        int r = inflate(&zs_, Z_NO_FLUSH);
        size_t produced = static_cast<size_t>(reinterpret_cast<char*>(zs_.next_out) - buf);
        if (r == Z_STREAM_END) {
          member_done_ = true;
        } else if (r != Z_OK && r != Z_BUF_ERROR) {
          return io_error(std::string("gzip: ") + (zs_.msg ? zs_.msg : "corrupt input"), name_);
        }
        if (produced > 0) return produced;
        if (zs_.avail_in > 0 && !member_done_) continue;
      }
      auto got = inner_->read(in_.data(), in_.size());
      if (!got) return got;
      if (*got == 0) {
        if (!member_done_ && started_ && !stop_requested()) {
          return io_error("gzip: truncated input", name_);
        }
        return 0;
      }
      started_ = true;
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
      zs_.avail_in = static_cast<uInt>(*got);
    }
  }

  bool ready() override { return zs_.avail_in > 0 || inner_->ready(); }
  bool wait_ready(int timeout_ms) override {
    return zs_.avail_in > 0 || inner_->wait_ready(timeout_ms);
  }
  const std::string& name() const override { return name_; }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::string name_;
  std::vector<char> in_;
  z_stream zs_;
  bool member_done_ = false;
  bool started_ = false;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string data, std::string name, size_t max_read)
      : data_(std::move(data)), name_(std::move(name)), max_read_(max_read) {}
  Result<size_t> read(char* buf, size_t n) override {
    size_t k = std::min<size_t>({n, max_read_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  bool ready() override { return true; }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
  size_t max_read_;
  size_t pos_ = 0;
};

Codec codec_by_magic(std::string_view head) {
  if (head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x28 &&
      static_cast<unsigned char>(head[1]) == 0xB5 && static_cast<unsigned char>(head[2]) == 0x2F &&
      static_cast<unsigned char>(head[3]) == 0xFD) {
    return Codec::kZstd;
  }
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1F &&
      static_cast<unsigned char>(head[1]) == 0x8B) {
    return Codec::kGzip;
  }
  return Codec::kNone;
}

std::unique_ptr<ByteSource> wrap(std::unique_ptr<ByteSource> src, Codec codec) {
  switch (codec) {
    case Codec::kZstd:
      return zstd_source(std::move(src));
    case Codec::kGzip:
      return gzip_source(std::move(src));
    case Codec::kNone:
      break;
  }
  return src;
}

}  // namespace

Codec codec_by_name(std::string_view path) {
  if (path.ends_with(".zst") || path.ends_with(".zstd")) return Codec::kZstd;
  if (path.ends_with(".gz")) return Codec::kGzip;
  return Codec::kNone;
}

void enlarge_pipe(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    (void)::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
  }
}

std::unique_ptr<ByteSource> fd_source(int fd, std::string name, bool own) {
  return std::make_unique<FdSource>(fd, std::move(name), own);
}
std::unique_ptr<ByteSource> zstd_source(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<ZstdSource>(std::move(inner));
}
std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<GzipSource>(std::move(inner));
}
std::unique_ptr<ByteSource> memory_source(std::string data, std::string name, size_t max_read) {
  return std::make_unique<MemorySource>(std::move(data), std::move(name), max_read);
}

Result<std::unique_ptr<ByteSource>> open_source(std::string_view path,
                                                const SourceOptions& options) {
  const bool is_stdin = path == "-" || path == "/dev/stdin";
  if (options.follow) {
    if (is_stdin) return usage_error("--follow needs a file, not stdin");
    if (codec_by_name(path) != Codec::kNone) {
      return usage_error("--follow cannot follow a compressed file: " + std::string(path));
    }
    std::string p(path);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open: " + errno_text(errno), p);
    return std::unique_ptr<ByteSource>(
        std::make_unique<FollowSource>(fd, std::move(p), options.follow_poll_ms));
  }
  std::unique_ptr<FdSource> src;
  if (is_stdin) {
    enlarge_pipe(0);
    src = std::make_unique<FdSource>(0, "stdin", false);
  } else {
    std::string p(path);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("cannot open: " + errno_text(errno), p);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return io_error("is a directory", p);
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    src = std::make_unique<FdSource>(fd, std::move(p), true);
  }
  Codec codec = is_stdin ? Codec::kNone : codec_by_name(path);
  if (codec == Codec::kNone && options.sniff_compression) {
    auto head = src->peek(4);
    if (!head) return std::unexpected(head.error());
    codec = codec_by_magic(*head);
  }
  return wrap(std::move(src), codec);
}

}  // namespace ev::io
