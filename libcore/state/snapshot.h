// Snapshot files: the --state of stateful programs (DESIGN.md, "State").
//
// Layout, all integers little-endian:
//   "EVSTATE\n"                      8 bytes, the magic
//   format version                   u32 (kSnapshotFormat)
//   kind                             u32 length + bytes ("ev-dedupe")
//   records                          the program's own, read back in the order written
//   "EVEND\0\0\0"                    8 bytes
//   length of everything above       u64
//   XXH3-64 of everything above      u64
// SnapshotWriter writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
// directory, so PATH is always either the previous snapshot or the new one, whole.
// SnapshotReader checks magic, version, kind, length and checksum before handing out
// a single record, so a corrupt, truncated or foreign file is a kState error naming
// the path, never a silently empty or half-read state. Both stream through a
// 1 MiB buffer (a snapshot of millions of keys is not held in memory twice).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "libcore/base/status.h"

namespace ev::state {

inline constexpr uint32_t kSnapshotFormat = 1;

class SnapshotWriter {
 public:
  // Creates PATH.tmp. Fails with kIo.
  static Result<std::unique_ptr<SnapshotWriter>> create(const std::string& path,
                                                        std::string_view kind);
  ~SnapshotWriter();  // removes PATH.tmp unless committed
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void bytes(std::string_view b);  // u32 length + bytes
  void raw(const void* data, size_t n);

  // Writes the trailer, fsyncs, renames over PATH. Fails with kIo (e.g. disk full);
  // PATH is then unchanged.
  Status commit();

 private:
  SnapshotWriter(int fd, std::string path);
  void drain();

  int fd_;
  std::string path_;
  std::string tmp_;
  std::string buf_;
  uint64_t length_ = 0;
  void* hash_;  // XXH3_state_t
  int errno_ = 0;
  bool committed_ = false;
};

class SnapshotReader {
 public:
  // Opens and verifies PATH: kState when it is not a whole, uncorrupted snapshot of
  // `kind` in a format this version reads; kIo when it cannot be read.
  static Result<std::unique_ptr<SnapshotReader>> open(const std::string& path,
                                                      std::string_view kind);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Each fails with kState when the records end first.
  Result<uint32_t> u32();
  Result<uint64_t> u64();
  Result<int64_t> i64();
  Result<std::string> bytes(size_t max = 1u << 30);
  Status raw(void* data, size_t n);
  // Reads one record into each of `out` in turn, as the writer wrote them: a
  // std::string with bytes(), a 4-byte integer or enum with u32(), any other integer
  // (int64_t written with i64, bool written as u64 0/1) with u64(). Stops at the
  // first failure and leaves the rest unchanged.
  template <class... T>
  Status read(T&... out);
  // Records left (bytes before the trailer).
  uint64_t remaining() const { return end_ - pos_ + (buf_.size() - buf_at_); }
  // A kState error about this file ("PATH: corrupt state: <what>").
  std::unexpected<Error> corrupt(const std::string& what) const;

 private:
  SnapshotReader(int fd, std::string path, uint64_t pos, uint64_t end);

  int fd_;
  std::string path_;
  uint64_t pos_;  // file offset of the first byte not yet in buf_
  uint64_t end_;  // file offset of the trailer
  std::string buf_;
  size_t buf_at_ = 0;
};

template <class... T>
Status SnapshotReader::read(T&... out) {
  Status st;
  [[maybe_unused]] auto one = [&](auto& v) {  // unused when T is empty
    if (!st) return;
    using V = std::remove_reference_t<decltype(v)>;
    if constexpr (std::is_same_v<V, std::string>) {
      auto x = bytes();
      if (x) {
        v = std::move(*x);
      } else {
        st = std::unexpected(x.error());
      }
    } else {
      static_assert(std::is_integral_v<V> || std::is_enum_v<V>, "a string, integer or enum");
      if constexpr (sizeof(V) == 4) {
        auto x = u32();
        if (x) {
          v = static_cast<V>(*x);
        } else {
          st = std::unexpected(x.error());
        }
      } else {
        auto x = u64();
        if (x) {
          v = static_cast<V>(*x);
        } else {
          st = std::unexpected(x.error());
        }
      }
    }
  };
  (one(out), ...);
  return st;
}

// Whether PATH exists (a first run starts empty; any other problem is for open()).
bool snapshot_exists(const std::string& path);

// A stage's snapshot starts with the stage's own format version (u32) and a
// fingerprint: the options its records depend on, as the user would write them
// ("--key id --within 1h"). create_stage_snapshot writes both; open_stage_snapshot
// opens PATH (null when it does not exist: a first run) and fails with kState naming
// the file when either differs, so a restart with other options is a clear error, not
// a misread state.
Result<std::unique_ptr<SnapshotWriter>> create_stage_snapshot(const std::string& path,
                                                              std::string_view kind,
                                                              uint32_t version,
                                                              std::string_view fingerprint);
Result<std::unique_ptr<SnapshotReader>> open_stage_snapshot(const std::string& path,
                                                            std::string_view kind, uint32_t version,
                                                            std::string_view fingerprint);

}  // namespace ev::state
