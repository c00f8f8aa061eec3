#include "libcore/state/snapshot.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "libcore/testing/temp_dir.h"

namespace ev::state {
namespace {

std::string temp_path(const char* name) {
  return "/tmp/ev_snapshot_test_" + std::to_string(::getpid()) + "_" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

void write_sample(const std::string& path, uint64_t n) {
  auto w = SnapshotWriter::create(path, "ev-test");
  REQUIRE(w.has_value());
  (*w)->u32(7);
  (*w)->i64(-5);
  (*w)->bytes("hello");
  for (uint64_t i = 0; i < n; ++i) (*w)->u64(i * 3);
  REQUIRE((*w)->commit().has_value());
}

TEST_CASE("snapshot: records come back in order, across buffer refills") {
  const std::string path = temp_path("roundtrip");
  write_sample(path, 300000);  // 2.4 MB: several 1 MiB chunks
  CHECK_FALSE(snapshot_exists(path + ".tmp"));
  auto r = SnapshotReader::open(path, "ev-test");
  REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
  CHECK(*(*r)->u32() == 7);
  CHECK(*(*r)->i64() == -5);
  CHECK(*(*r)->bytes() == "hello");
  bool all = true;
  for (uint64_t i = 0; i < 300000; ++i) all = all && *(*r)->u64() == i * 3;
  CHECK(all);
  CHECK((*r)->remaining() == 0);
  auto past = (*r)->u32();
  REQUIRE_FALSE(past.has_value());
  CHECK(past.error().kind == ErrorKind::kState);
  std::remove(path.c_str());
}

TEST_CASE("snapshot: read() fills each output with the record its type was written as") {
  enum class Mode : uint32_t { kA, kB, kC };
  testing::TempDir dir;
  const std::string path = dir.at("s.state");
  {
    auto w = SnapshotWriter::create(path, "ev-test");
    REQUIRE(w.has_value());
    (*w)->u32(7);
    (*w)->i64(-5);
    (*w)->bytes("hello");
    (*w)->u64(1);  // a bool
    (*w)->u32(2);  // an enum
    (*w)->u64(UINT64_MAX);
    (*w)->bytes("");
    REQUIRE((*w)->commit().has_value());
  }
  auto r = SnapshotReader::open(path, "ev-test");
  REQUIRE(r.has_value());
  uint32_t a = 0;
  int64_t b = 0;
  std::string c;
  bool d = false;
  Mode e = Mode::kA;
  uint64_t f = 0;
  std::string g = "unchanged";
  auto st = (*r)->read(a, b, c, d, e, f);
  REQUIRE_MESSAGE(st.has_value(), st.error().to_string());
  CHECK(a == 7);
  CHECK(b == -5);
  CHECK(c == "hello");
  CHECK(d);
  CHECK(e == Mode::kC);
  CHECK(f == UINT64_MAX);
  // The records end before the outputs: an error, and the rest left as they were.
  uint64_t h = 99;
  st = (*r)->read(g, h);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kState);
  CHECK(st.error().to_string().find("records end early") != std::string::npos);
  CHECK(g == "");
  CHECK(h == 99);
  CHECK((*r)->read().has_value());  // nothing to read is no error
}

TEST_CASE("snapshot: corrupt, truncated, foreign and other-kind files are kState errors") {
  const std::string path = temp_path("bad");
  write_sample(path, 1000);
  const std::string good = slurp(path);
  auto expect = [&](const std::string& data, const std::string& kind, const char* words) {
    spit(path, data);
    auto r = SnapshotReader::open(path, kind);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kState);
    CHECK_MESSAGE(r.error().to_string().find(words) != std::string::npos, r.error().to_string());
    CHECK(r.error().to_string().find(path) != std::string::npos);
  };
  std::string flipped = good;
  flipped[100] ^= 0x01;
  expect(flipped, "ev-test", "checksum mismatch");
  expect(good.substr(0, good.size() - 1), "ev-test", "truncated");
  expect(good.substr(0, 10), "ev-test", "not an evkit state file");
  expect("", "ev-test", "not an evkit state file");
  expect("{\"a\":1}\n", "ev-test", "not an evkit state file");
  expect(good, "ev-window", "state of ev-test, not of ev-window");
  std::string newer = good;
  newer[8] = 9;
  expect(newer, "ev-test", "state format 9");
  std::remove(path.c_str());
}

TEST_CASE("snapshot: an uncommitted writer leaves the old file in place") {
  const std::string path = temp_path("keep");
  write_sample(path, 10);
  const std::string before = slurp(path);
  {
    auto w = SnapshotWriter::create(path, "ev-test");
    REQUIRE(w.has_value());
    (*w)->u64(1);
  }  // destroyed without commit
  CHECK(slurp(path) == before);
  CHECK_FALSE(snapshot_exists(path + ".tmp"));
  std::remove(path.c_str());
}

TEST_CASE("snapshot: a state file that cannot be created is an I/O error naming it") {
  auto w = SnapshotWriter::create("/nonexistent-dir/state", "ev-test");
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().kind == ErrorKind::kIo);
  CHECK(w.error().to_string().find("/nonexistent-dir/state.tmp") != std::string::npos);
}

}  // namespace
}  // namespace ev::state
