#include "libcore/state/input_positions.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "libcore/base/diag.h"
#include "libcore/testing/temp_dir.h"

namespace ev::state {
namespace {

constexpr std::string_view kKind = "ev-test";

// The notes about skipped and resumed files are pinned by the end-to-end cases.
struct Quiet {
  Quiet() { diag::set_quiet(true); }
  ~Quiet() { diag::set_quiet(false); }
};

void save_to(const InputPositions& pos, const std::string& path) {
  auto w = SnapshotWriter::create(path, kKind);
  REQUIRE(w.has_value());
  pos.save(**w);
  REQUIRE((*w)->commit().has_value());
}

std::unique_ptr<SnapshotReader> open(const std::string& path) {
  auto r = SnapshotReader::open(path, kKind);
  REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
  return std::move(*r);
}

// A new InputPositions that loaded what `pos` saved.
std::unique_ptr<InputPositions> restart(const InputPositions& pos, const testing::TempDir& dir) {
  const std::string path = dir.at("s.state");
  save_to(pos, path);
  auto loaded = std::make_unique<InputPositions>(path);
  auto r = open(path);
  auto st = loaded->load(*r);
  REQUIRE_MESSAGE(st.has_value(), st.error().to_string());
  CHECK(r->remaining() == 0);
  return loaded;
}

uint64_t begin(InputPositions& pos, std::string_view source, bool resumable = true) {
  auto skip = pos.begin(source, resumable);
  REQUIRE(skip.has_value());
  return *skip;
}

TEST_CASE(
    "input positions: save writes the current file, its line, the finished files, then Kafka") {
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "a.jsonl");
  pos.set_line(3);
  pos.end("a.jsonl");
  begin(pos, "b.jsonl");
  pos.end("b.jsonl");
  begin(pos, "c.jsonl");
  pos.set_line(7);
  save_to(pos, dir.at("s.state"));
  auto r = open(dir.at("s.state"));
  CHECK(*r->bytes() == "c.jsonl");
  CHECK(*r->u64() == 7);
  CHECK(*r->u64() == 2);
  CHECK(*r->bytes() == "a.jsonl");
  CHECK(*r->bytes() == "b.jsonl");
  CHECK(*r->u64() == 0);  // no Kafka partitions
  CHECK(r->remaining() == 0);
}

TEST_CASE("input positions: Kafka partitions keep their last line handled, saved and loaded") {
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  CHECK_FALSE(pos.kafka("clicks", 0).has_value());
  pos.set_kafka("clicks", 0, 10, 1);
  pos.set_kafka("clicks", 1, 4, 1);
  pos.set_kafka("clicks", 0, 11, 2);  // a message of several lines, second line handled
  pos.set_kafka("views", 0, 99, 1);
  CHECK(pos.kafka("clicks", 0)->offset == 11);
  CHECK(pos.kafka("clicks", 0)->line == 2);
  CHECK(pos.kafka("clicks", 1)->offset == 4);
  CHECK_FALSE(pos.kafka("clicks", 2).has_value());
  save_to(pos, dir.at("s.state"));

  InputPositions back(dir.at("s.state"));
  auto r = open(dir.at("s.state"));
  REQUIRE(back.load(*r));
  CHECK(back.kafka("clicks", 0)->offset == 11);
  CHECK(back.kafka("clicks", 0)->line == 2);
  CHECK(back.kafka("clicks", 1)->offset == 4);
  CHECK(back.kafka("views", 0)->offset == 99);
  CHECK_FALSE(back.kafka("views", 1).has_value());
}

TEST_CASE("input positions: without a state path Kafka positions are not kept") {
  InputPositions pos("");
  pos.set_kafka("clicks", 0, 10, 1);
  CHECK_FALSE(pos.kafka("clicks", 0).has_value());
}

TEST_CASE("input positions: save and load round trip") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "a.jsonl");
  pos.end("a.jsonl");
  begin(pos, "b.jsonl");
  pos.set_line(42);
  auto loaded = restart(pos, dir);
  // A restart over the same inputs picks up where the checkpoint was.
  CHECK(begin(*loaded, "a.jsonl") == UINT64_MAX);
  CHECK(begin(*loaded, "b.jsonl") == 42);
  CHECK(begin(*loaded, "c.jsonl") == 0);
  // What it saves in turn says the same.
  loaded->set_line(5);
  auto again = restart(*loaded, dir);
  CHECK(begin(*again, "a.jsonl") == UINT64_MAX);
  CHECK(begin(*again, "c.jsonl") == 5);
  CHECK(begin(*again, "b.jsonl") == 0);
}

TEST_CASE("input positions: a file read to its end is skipped after a restart") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "a.jsonl");
  pos.set_line(1000);
  pos.end("a.jsonl");
  // No current file: its line does not survive end().
  auto r0 = restart(pos, dir);
  auto r = open(dir.at("s.state"));
  CHECK(*r->bytes() == "");
  CHECK(*r->u64() == 0);
  CHECK(begin(*r0, "a.jsonl") == UINT64_MAX);
  CHECK(begin(*r0, "a.jsonl") == UINT64_MAX);  // every time it is given
  CHECK(begin(*r0, "./a.jsonl") == 0);         // names are compared as given
}

TEST_CASE("input positions: the current file resumes after its last handled line, once") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "a.jsonl");
  pos.set_line(1);
  pos.set_line(2);
  pos.set_line(17);
  auto loaded = restart(pos, dir);
  CHECK(begin(*loaded, "a.jsonl") == 17);
  // Given a second time in the same run, it is read again from the start.
  CHECK(begin(*loaded, "a.jsonl") == 0);

  // Begun but no line handled yet: nothing to skip.
  InputPositions fresh(dir.at("s.state"));
  begin(fresh, "b.jsonl");
  auto none = restart(fresh, dir);
  CHECK(begin(*none, "b.jsonl") == 0);
}

TEST_CASE("input positions: standard input is never skipped nor resumed") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "-", false);
  pos.set_line(9);
  pos.end("-");
  begin(pos, "-", false);
  pos.set_line(4);
  auto loaded = restart(pos, dir);
  auto r = open(dir.at("s.state"));
  CHECK(*r->bytes() == "");
  CHECK(*r->u64() == 0);  // the line of a source that cannot resume is not kept
  CHECK(*r->u64() == 0);  // nor is it a finished file
  CHECK(begin(*loaded, "-", false) == 0);

  // Even a name that was read to its end as a file.
  InputPositions file(dir.at("s.state"));
  begin(file, "x");
  file.end("x");
  auto as_file = restart(file, dir);
  CHECK(begin(*as_file, "x", false) == 0);
}

TEST_CASE("input positions: without a state path nothing is remembered") {
  testing::TempDir dir;
  InputPositions pos("");
  begin(pos, "a.jsonl");
  pos.end("a.jsonl");
  CHECK(begin(pos, "a.jsonl") == 0);
  auto loaded = restart(pos, dir);
  CHECK(begin(*loaded, "a.jsonl") == 0);
}

TEST_CASE("input positions: at most 100,000 finished files, the oldest forgotten first") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  const uint64_t n = InputPositions::kMaxFiles + 2;
  for (uint64_t i = 0; i < n; ++i) {
    const std::string name = "f" + std::to_string(i);
    begin(pos, name);
    pos.end(name);
  }
  CHECK(begin(pos, "f0") == 0);  // forgotten in this run too
  pos.end("f0");                 // and now the newest again
  auto loaded = restart(pos, dir);
  auto r = open(dir.at("s.state"));
  CHECK(*r->bytes() == "");
  CHECK(*r->u64() == 0);
  CHECK(*r->u64() == InputPositions::kMaxFiles);
  CHECK(*r->bytes() == "f3");  // f1 and f2 went to make room for f0
  CHECK(begin(*loaded, "f1") == 0);
  CHECK(begin(*loaded, "f2") == 0);
  CHECK(begin(*loaded, "f3") == UINT64_MAX);
  CHECK(begin(*loaded, "f" + std::to_string(n - 1)) == UINT64_MAX);
  CHECK(begin(*loaded, "f0") == UINT64_MAX);
}

TEST_CASE("input positions: a corrupt count of files is a kState error") {
  testing::TempDir dir;
  const std::string path = dir.at("s.state");
  auto expect = [&](uint64_t n_files, int names, const char* words) {
    {
      auto w = SnapshotWriter::create(path, kKind);
      REQUIRE(w.has_value());
      (*w)->bytes("a.jsonl");
      (*w)->u64(3);
      (*w)->u64(n_files);
      for (int i = 0; i < names; ++i) (*w)->bytes("done.jsonl");
      REQUIRE((*w)->commit().has_value());
    }
    InputPositions pos(path);
    auto r = open(path);
    auto st = pos.load(*r);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().kind == ErrorKind::kState);
    CHECK_MESSAGE(st.error().to_string().find(words) != std::string::npos, st.error().to_string());
    CHECK(st.error().to_string().find(path) != std::string::npos);
  };
  expect(UINT64_MAX, 0, "more file names than bytes");
  expect(1000, 3, "more file names than bytes");
  expect(4, 3, "corrupt state");  // passes the bound, then the records end
}

TEST_CASE("input positions: a corrupt count of Kafka partitions is a kState error") {
  testing::TempDir dir;
  const std::string path = dir.at("s.state");
  {
    auto w = SnapshotWriter::create(path, kKind);
    REQUIRE(w.has_value());
    (*w)->bytes("");
    (*w)->u64(0);
    (*w)->u64(0);
    (*w)->u64(1u << 20);  // partitions
    (*w)->bytes("clicks");
    REQUIRE((*w)->commit().has_value());
  }
  InputPositions pos(path);
  auto r = open(path);
  auto st = pos.load(*r);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kState);
  CHECK(st.error().message.find("more partitions than bytes") != std::string::npos);
}

}  // namespace
TEST_CASE("input positions: a checkpoint before the resumed file is opened keeps its position") {
  Quiet quiet;
  testing::TempDir dir;
  InputPositions pos(dir.at("s.state"));
  begin(pos, "a.jsonl");
  pos.set_line(40);
  auto first = restart(pos, dir);
  // Stopped again before a.jsonl was reached (another file first, or at once).
  auto second = restart(*first, dir);
  CHECK(begin(*second, "a.jsonl") == 40);
}

}  // namespace ev::state
