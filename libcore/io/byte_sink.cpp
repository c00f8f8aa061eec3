#include "libcore/io/byte_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

#include "libcore/io/byte_source.h"

namespace ev::io {
namespace {

// A descriptor; stdout is never closed. Atomic files are renamed into place on close.
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, std::string name, bool own, std::string partial_path = {})
      : fd_(fd), name_(std::move(name)), own_(own), partial_(std::move(partial_path)) {}
  ~FdSink() override {
    if (own_ && fd_ >= 0) ::close(fd_);
  }

  Status write(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EPIPE) return make_error(ErrorKind::kPipe, "output closed", name_);
        return io_error(std::string("write error: ") + std::strerror(errno), name_);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return {};
  }

  Status flush() override { return {}; }

  Status abandon() override {
    if (!partial_.empty()) name_ = partial_;  // it stays under its .partial name
    partial_.clear();
    return close();
  }

  Status close() override {
    if (closed_) return {};
    closed_ = true;
    if (!partial_.empty()) {
      if (::fsync(fd_) != 0) {
        return io_error(std::string("fsync: ") + std::strerror(errno), partial_);
      }
    }
    if (own_ && fd_ >= 0) {
      int r = ::close(fd_);
      fd_ = -1;
      if (r != 0) return io_error(std::string("close: ") + std::strerror(errno), name_);
    }
    if (!partial_.empty()) {
      if (::rename(partial_.c_str(), name_.c_str()) != 0) {
        return io_error(std::string("rename: ") + std::strerror(errno), partial_);
      }
      sync_parent_dir(name_);  // the file was synced; now its new name
    }
    return {};
  }

  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  bool own_;
  std::string partial_;
  bool closed_ = false;
};

class ZstdSink final : public ByteSink {
 public:
  ZstdSink(std::unique_ptr<ByteSink> inner, int level)
      : inner_(std::move(inner)), out_(ZSTD_CStreamOutSize() * 4) {
    cctx_ = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }

  Status write(std::string_view data) override { return pump(data, ZSTD_e_continue); }
  Status flush() override {
    if (auto st = pump({}, ZSTD_e_flush); !st) return st;
    return inner_->flush();
  }
  Status close() override {
    if (closed_) return {};
    closed_ = true;
    if (auto st = pump({}, ZSTD_e_end); !st) return st;
    return inner_->close();
  }
  Status abandon() override {
    if (closed_) return {};
    closed_ = true;
    (void)pump({}, ZSTD_e_end);  // keep what there is decodable
    return inner_->abandon();
  }
  const std::string& name() const override { return inner_->name(); }

 private:
  Status pump(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) {
        return io_error(std::string("zstd: ") + ZSTD_getErrorName(left), inner_->name());
      }
      if (out.pos > 0) {
        if (auto st = inner_->write({out_.data(), out.pos}); !st) return st;
      }
      bool done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
      if (done) return {};
    }
  }

  std::unique_ptr<ByteSink> inner_;
  std::vector<char> out_;
  ZSTD_CCtx* cctx_;
  bool closed_ = false;
};

class GzipSink final : public ByteSink {
 public:
  GzipSink(std::unique_ptr<ByteSink> inner, int level)
      : inner_(std::move(inner)), out_(256 * 1024) {
    std::memset(&zs_, 0, sizeof zs_);
    deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  }
  ~GzipSink() override { deflateEnd(&zs_); }

  Status write(std::string_view data) override { return pump(data, Z_NO_FLUSH); }
  Status flush() override {
    if (auto st = pump({}, Z_SYNC_FLUSH); !st) return st;
    return inner_->flush();
  }
  Status close() override {
    if (closed_) return {};
    closed_ = true;
    if (auto st = pump({}, Z_FINISH); !st) return st;
    return inner_->close();
  }
  Status abandon() override {
    if (closed_) return {};
    closed_ = true;
    (void)pump({}, Z_FINISH);
    return inner_->abandon();
  }
  const std::string& name() const override { return inner_->name(); }

 private:
  Status pump(std::string_view data, int mode) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs_.avail_in = static_cast<uInt>(data.size());
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      int r = deflate(&zs_, mode);
      if (r == Z_STREAM_ERROR) return io_error("gzip: deflate failed", inner_->name());
      size_t produced = out_.size() - zs_.avail_out;
      if (produced > 0) {
        if (auto st = inner_->write({out_.data(), produced}); !st) return st;
      }
      if (mode == Z_FINISH ? r == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) {
        return {};
      }
    }
  }

  std::unique_ptr<ByteSink> inner_;
  std::vector<char> out_;
  z_stream zs_;
  bool closed_ = false;
};

int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RotatingSink final : public ByteSink {
 public:
  explicit RotatingSink(RotateOptions opt) : opt_(std::move(opt)), name_(opt_.pattern) {
    if (!opt_.now_ns) opt_.now_ns = system_now_ns;
    opt_.file.atomic = true;
  }
  ~RotatingSink() override = default;

  Status write(std::string_view data) override {
    while (!data.empty()) {
      if (auto st = rotate_if_due(); !st) return st;
      if (!current_) {
        if (auto st = open_next(); !st) return st;
      }
      std::string_view piece = data;
      if (opt_.max_bytes > 0) {
        // Take whole lines until the file reaches its size.
        size_t want = opt_.max_bytes > written_ ? opt_.max_bytes - written_ : 1;
        if (data.size() > want) {
          const char* nl = static_cast<const char*>(
              std::memchr(data.data() + want - 1, '\n', data.size() - (want - 1)));
          size_t cut = nl ? static_cast<size_t>(nl - data.data()) + 1 : data.size();
          piece = data.substr(0, cut);
        }
      }
      if (auto st = current_->write(piece); !st) return st;
      written_ += piece.size();
      data.remove_prefix(piece.size());
      if (opt_.max_bytes > 0 && written_ >= opt_.max_bytes) {
        if (auto st = finish_current(); !st) return st;
      }
    }
    return {};
  }

  Status flush() override { return current_ ? current_->flush() : Status{}; }
  Status close() override { return finish_current(); }
  Status abandon() override {
    if (!current_) return {};
    auto st = current_->abandon();
    current_.reset();
    return st;
  }
  Status tick() override { return rotate_if_due(); }
  const std::string& name() const override { return current_ ? current_->name() : name_; }

 private:
  Status rotate_if_due() {
    if (current_ && opt_.max_age_ns > 0 && opt_.now_ns() - opened_ns_ >= opt_.max_age_ns) {
      return finish_current();
    }
    return {};
  }
  Status open_next() {
    opened_ns_ = opt_.now_ns();
    // A name already taken (by an earlier run, or its .partial) is skipped, so a
    // restarted program never replaces files it wrote before.
    std::string path;
    std::error_code exists_ec;
    do {
      path = expand_pattern(opt_.pattern, opened_ns_ / 1'000'000'000, seq_++);
    } while (
        std::filesystem::exists(std::filesystem::symlink_status(path, exists_ec)) ||
        std::filesystem::exists(std::filesystem::symlink_status(path + ".partial", exists_ec)));
    // Patterns may name directories by date (out/%Y/%m/%d/...): create them.
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return io_error("cannot create directory: " + ec.message(), parent.string());
    auto sink = open_sink(path, opt_.file);
    if (!sink) return std::unexpected(sink.error());
    current_ = std::move(*sink);
    written_ = 0;
    return {};
  }
  Status finish_current() {
    if (!current_) return {};
    auto st = current_->close();
    current_.reset();
    return st;
  }

  RotateOptions opt_;
  std::string name_;
  std::unique_ptr<ByteSink> current_;
  uint64_t written_ = 0;
  uint64_t seq_ = 0;
  int64_t opened_ns_ = 0;
};

}  // namespace

std::string expand_pattern(std::string_view pattern, int64_t unix_seconds, uint64_t seq) {
  std::string out;
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{' && pattern.substr(i, 5) == "{seq}") {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(seq));
      out += buf;
      i += 4;
    } else if (c == '%' && i + 1 < pattern.size()) {
      char spec[3] = {'%', pattern[i + 1], 0};
      char buf[64];
      size_t n =
          pattern[i + 1] == '%' ? (buf[0] = '%', 1) : std::strftime(buf, sizeof buf, spec, &tm);
      out.append(buf, n);
      ++i;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::unique_ptr<ByteSink>> open_sink(std::string_view path, const SinkOptions& options) {
  std::unique_ptr<ByteSink> sink;
  if (path == "-" || path == "/dev/stdout") {
    sink = std::make_unique<FdSink>(1, "stdout", false);
    enlarge_pipe(1);
  } else {
    std::string final_path(path);
    // Only a regular file (or a new one) is replaced atomically: renaming over a
    // device, a pipe or a symlink (/dev/stderr) would replace it with a file.
    struct stat st;
    bool atomic = options.atomic &&
                  (::lstat(final_path.c_str(), &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode));
    std::string open_path = atomic ? final_path + ".partial" : final_path;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.append ? O_APPEND : O_TRUNC);
    int fd = ::open(open_path.c_str(), flags, 0644);
    if (fd < 0) return io_error(std::string("cannot create: ") + std::strerror(errno), open_path);
    sink = std::make_unique<FdSink>(fd, final_path, true, atomic ? open_path : "");
  }
  const Codec codec = codec_by_name(path);
  if (codec == Codec::kZstd) {
    return std::unique_ptr<ByteSink>(
        std::make_unique<ZstdSink>(std::move(sink), options.zstd_level));
  }
  if (codec == Codec::kGzip) {
    return std::unique_ptr<ByteSink>(
        std::make_unique<GzipSink>(std::move(sink), options.gzip_level));
  }
  return sink;
}

Result<std::unique_ptr<ByteSink>> open_rotating_sink(const RotateOptions& options) {
  if (options.pattern.find("{seq}") == std::string::npos) {
    return usage_error("a rotated output name needs {seq} in it, e.g. 'events-{seq}.jsonl.zst': " +
                       options.pattern);
  }
  return std::unique_ptr<ByteSink>(std::make_unique<RotatingSink>(options));
}

Status check_side_output(std::string_view path, std::string_view option,
                         bool events_on_stdout) {
  if (path == "-" || (events_on_stdout && path == "/dev/stdout")) {
    return usage_error(std::string(option) +
                       ": standard output carries the events; name a file (or /dev/stderr)");
  }
  return {};
}

void sync_parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace ev::io
