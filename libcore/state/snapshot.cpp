#include "libcore/state/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "libcore/io/byte_sink.h"

namespace ev::state {
namespace {

constexpr char kMagic[8] = {'E', 'V', 'S', 'T', 'A', 'T', 'E', '\n'};
constexpr char kEnd[8] = {'E', 'V', 'E', 'N', 'D', '\0', '\0', '\0'};
constexpr size_t kTrailer = 24;
constexpr size_t kChunk = 1u << 20;

std::string errno_text(int e) { return std::strerror(e); }

void put_le(char* out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint64_t get_le(const char* in, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

bool pread_all(int fd, char* out, size_t n, uint64_t at) {
  while (n > 0) {
    ssize_t got = ::pread(fd, out, n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
    at += static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

// ---- writer ----

SnapshotWriter::SnapshotWriter(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), tmp_(path_ + ".tmp"), hash_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(hash_));
  buf_.reserve(kChunk + 64);
}

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::create(const std::string& path,
                                                               std::string_view kind) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot write state: " + errno_text(errno), tmp);
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(fd, path));
  w->raw(kMagic, sizeof kMagic);
  w->u32(kSnapshotFormat);
  w->bytes(kind);
  return w;
}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
  XXH3_freeState(static_cast<XXH3_state_t*>(hash_));
}

void SnapshotWriter::raw(const void* data, size_t n) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(hash_), data, n);
  length_ += n;
  buf_.append(static_cast<const char*>(data), n);
  if (buf_.size() >= kChunk) drain();
}

void SnapshotWriter::u32(uint32_t v) {
  char b[4];
  put_le(b, v, 4);
  raw(b, 4);
}

void SnapshotWriter::u64(uint64_t v) {
  char b[8];
  put_le(b, v, 8);
  raw(b, 8);
}

void SnapshotWriter::bytes(std::string_view b) {
  u32(static_cast<uint32_t>(b.size()));
  raw(b.data(), b.size());
}

void SnapshotWriter::drain() {
  const char* p = buf_.data();
  size_t n = buf_.size();
  while (n > 0 && errno_ == 0) {
    ssize_t put = ::write(fd_, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      errno_ = errno;
      break;
    }
    p += put;
    n -= static_cast<size_t>(put);
  }
  buf_.clear();
}

Status SnapshotWriter::commit() {
  const uint64_t digest = XXH3_64bits_digest(static_cast<XXH3_state_t*>(hash_));
  char trailer[kTrailer];
  std::memcpy(trailer, kEnd, 8);
  put_le(trailer + 8, length_, 8);
  put_le(trailer + 16, digest, 8);
  buf_.append(trailer, kTrailer);
  drain();
  if (errno_ == 0 && ::fsync(fd_) != 0) errno_ = errno;
  if (::close(fd_) != 0 && errno_ == 0) errno_ = errno;
  fd_ = -1;
  if (errno_ != 0) return io_error("cannot write state: " + errno_text(errno_), tmp_);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return io_error("cannot replace state: " + errno_text(errno), path_);
  }
  committed_ = true;
  io::sync_parent_dir(path_);  // the rename is durable once the directory is
  return {};
}

// ---- reader ----

SnapshotReader::SnapshotReader(int fd, std::string path, uint64_t pos, uint64_t end)
    : fd_(fd), path_(std::move(path)), pos_(pos), end_(end) {}

SnapshotReader::~SnapshotReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::unexpected<Error> SnapshotReader::corrupt(const std::string& what) const {
  return make_error(ErrorKind::kState, "corrupt state: " + what, path_);
}

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::open(const std::string& path,
                                                             std::string_view kind) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot read state: " + errno_text(errno), path);
  std::unique_ptr<SnapshotReader> r(new SnapshotReader(fd, path, 0, 0));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot read state: " + errno_text(errno), path);
  if (S_ISDIR(st.st_mode)) return io_error("is a directory", path);
  const auto size = static_cast<uint64_t>(st.st_size);
  char head[16];
  if (size < sizeof head || !pread_all(fd, head, sizeof head, 0) ||
      std::memcmp(head, kMagic, sizeof kMagic) != 0) {
    return make_error(ErrorKind::kState, "not an evkit state file", path);
  }
  const auto format = static_cast<uint32_t>(get_le(head + 8, 4));
  if (format != kSnapshotFormat) {
    return make_error(ErrorKind::kState,
                      "state format " + std::to_string(format) + ", but this version reads " +
                          std::to_string(kSnapshotFormat) + " (written by another evkit version?)",
                      path);
  }
  char trailer[kTrailer];
  if (size < sizeof head + kTrailer || !pread_all(fd, trailer, kTrailer, size - kTrailer) ||
      std::memcmp(trailer, kEnd, 8) != 0 || get_le(trailer + 8, 8) != size - kTrailer) {
    return r->corrupt("truncated or overwritten (no valid end marker)");
  }
  // Checksum everything before the trailer.
  XXH3_state_t* hash = XXH3_createState();
  XXH3_64bits_reset(hash);
  std::string chunk(kChunk, '\0');
  bool read_ok = true;
  for (uint64_t at = 0; at < size - kTrailer;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - kTrailer - at));
    if (!pread_all(fd, chunk.data(), n, at)) {
      read_ok = false;
      break;
    }
    XXH3_64bits_update(hash, chunk.data(), n);
    at += n;
  }
  const uint64_t digest = XXH3_64bits_digest(hash);
  XXH3_freeState(hash);
  if (!read_ok) return io_error("cannot read state: " + errno_text(errno), path);
  if (digest != get_le(trailer + 16, 8)) return r->corrupt("checksum mismatch");
  r->pos_ = 12;
  r->end_ = size - kTrailer;
  auto stored_kind = r->bytes(256);
  if (!stored_kind) return std::unexpected(stored_kind.error());
  if (*stored_kind != kind) {
    return make_error(ErrorKind::kState,
                      "state of " + *stored_kind + ", not of " + std::string(kind), path);
  }
  return r;
}

Status SnapshotReader::raw(void* data, size_t n) {
  auto* out = static_cast<char*>(data);
  while (n > 0) {
    if (buf_at_ == buf_.size()) {
      if (pos_ == end_) return corrupt("records end early");
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, end_ - pos_));
      buf_.resize(want);
      if (!pread_all(fd_, buf_.data(), want, pos_)) {
        return io_error("cannot read state: " + errno_text(errno), path_);
      }
      pos_ += want;
      buf_at_ = 0;
    }
    const size_t take = std::min(n, buf_.size() - buf_at_);
    std::memcpy(out, buf_.data() + buf_at_, take);
    buf_at_ += take;
    out += take;
    n -= take;
  }
  return {};
}

Result<uint32_t> SnapshotReader::u32() {
  char b[4];
  if (auto st = raw(b, 4); !st) return std::unexpected(st.error());
  return static_cast<uint32_t>(get_le(b, 4));
}

Result<uint64_t> SnapshotReader::u64() {
  char b[8];
  if (auto st = raw(b, 8); !st) return std::unexpected(st.error());
  return get_le(b, 8);
}

Result<int64_t> SnapshotReader::i64() {
  auto v = u64();
  if (!v) return std::unexpected(v.error());
  return static_cast<int64_t>(*v);
}

Result<std::string> SnapshotReader::bytes(size_t max) {
  auto n = u32();
  if (!n) return std::unexpected(n.error());
  if (*n > max || *n > remaining()) return corrupt("a record is longer than the file");
  std::string s(*n, '\0');
  if (auto st = raw(s.data(), s.size()); !st) return std::unexpected(st.error());
  return s;
}

bool snapshot_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::unique_ptr<SnapshotWriter>> create_stage_snapshot(const std::string& path,
                                                              std::string_view kind,
                                                              uint32_t version,
                                                              std::string_view fingerprint) {
  auto created = SnapshotWriter::create(path, kind);
  if (!created) return std::unexpected(created.error());
  (*created)->u32(version);
  (*created)->bytes(fingerprint);
  return created;
}

Result<std::unique_ptr<SnapshotReader>> open_stage_snapshot(const std::string& path,
                                                            std::string_view kind, uint32_t version,
                                                            std::string_view fingerprint) {
  if (!snapshot_exists(path)) return std::unique_ptr<SnapshotReader>();
  auto opened = SnapshotReader::open(path, kind);
  if (!opened) return std::unexpected(opened.error());
  uint32_t written_version = 0;
  std::string written_by;
  if (auto st = (*opened)->read(written_version); !st) return std::unexpected(st.error());
  if (written_version != version) {
    return make_error(ErrorKind::kState,
                      std::string(kind) + " state version " + std::to_string(written_version) +
                          ", but this version reads " + std::to_string(version),
                      path);
  }
  if (auto st = (*opened)->read(written_by); !st) return std::unexpected(st.error());
  if (written_by != fingerprint) {
    return make_error(ErrorKind::kState,
                      "written by a run with " + written_by + "; this run has " +
                          std::string(fingerprint) +
                          " (use the same options, or another --state file)",
                      path);
  }
  return opened;
}

}  // namespace ev::state
