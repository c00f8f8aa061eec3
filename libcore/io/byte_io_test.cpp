#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libcore/io/byte_sink.h"
#include "libcore/io/byte_source.h"
#include "libcore/io/glob.h"
#include "libcore/io/line_reader.h"
#include "libcore/testing/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using ev::testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_through_source(const std::string& path) {
  auto src = ev::io::open_source(path);
  REQUIRE(src.has_value());
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = (*src)->read(buf, sizeof buf);
    REQUIRE(n.has_value());
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

std::string sample_lines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "{\"i\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxxxxxxxx\"}\n";
  return s;
}

void write_with_sink(const std::string& path, const std::string& data, ev::io::SinkOptions o = {}) {
  auto sink = ev::io::open_sink(path, o);
  REQUIRE(sink.has_value());
  REQUIRE((*sink)->write(data));
  REQUIRE((*sink)->close());
}

}  // namespace

TEST_CASE("byte_io: zstd and gzip round trip by file name") {
  TempDir dir;
  std::string data = sample_lines(50000);
  for (const char* name : {"a.jsonl.zst", "a.jsonl.gz", "a.jsonl"}) {
    auto path = (dir.path / name).string();
    write_with_sink(path, data);
    CHECK(read_through_source(path) == data);
  }
  // Compressed files really are compressed.
  CHECK(fs::file_size(dir.path / "a.jsonl.zst") < data.size() / 4);
  CHECK(fs::file_size(dir.path / "a.jsonl.gz") < data.size() / 4);
}

TEST_CASE("byte_io: compression is recognized by magic bytes when the name says nothing") {
  TempDir dir;
  std::string data = sample_lines(1000);
  write_with_sink((dir.path / "x.zst").string(), data);
  write_with_sink((dir.path / "x.gz").string(), data);
  fs::rename(dir.path / "x.zst", dir.path / "plain1");
  fs::rename(dir.path / "x.gz", dir.path / "plain2");
  CHECK(read_through_source((dir.path / "plain1").string()) == data);
  CHECK(read_through_source((dir.path / "plain2").string()) == data);
}

TEST_CASE("byte_io: concatenated gzip members and zstd frames are read in sequence") {
  TempDir dir;
  std::string a = sample_lines(10), b = sample_lines(20);
  for (const char* ext : {".gz", ".zst"}) {
    auto pa = (dir.path / (std::string("a") + ext)).string();
    auto pb = (dir.path / (std::string("b") + ext)).string();
    write_with_sink(pa, a);
    write_with_sink(pb, b);
    auto both = (dir.path / (std::string("both") + ext)).string();
    std::ofstream(both, std::ios::binary) << slurp(pa) << slurp(pb);
    CHECK(read_through_source(both) == a + b);
  }
}

TEST_CASE("byte_io: truncated compressed input is an I/O error, not a silent end") {
  TempDir dir;
  std::string data = sample_lines(20000);
  for (const char* name : {"t.zst", "t.gz"}) {
    auto path = (dir.path / name).string();
    write_with_sink(path, data);
    fs::resize_file(path, fs::file_size(path) / 2);
    auto src = ev::io::open_source(path);
    REQUIRE(src.has_value());
    char buf[65536];
    ev::Result<size_t> n = 1;
    while (n && *n > 0) n = (*src)->read(buf, sizeof buf);
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error().kind == ev::ErrorKind::kIo);
    CHECK(n.error().where == path);
  }
}

TEST_CASE("byte_io: a missing file and a directory are clear errors") {
  auto missing = ev::io::open_source("/nonexistent/x.jsonl");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().where == "/nonexistent/x.jsonl");
  CHECK(missing.error().message.find("No such file") != std::string::npos);
  auto dir = ev::io::open_source("/tmp");
  REQUIRE_FALSE(dir.has_value());
}

TEST_CASE("byte_io: an atomic file appears under its name only when closed") {
  TempDir dir;
  auto path = (dir.path / "out.jsonl").string();
  ev::io::SinkOptions o;
  o.atomic = true;
  auto sink = ev::io::open_sink(path, o);
  REQUIRE(sink.has_value());
  REQUIRE((*sink)->write("{}\n"));
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::exists(path + ".partial"));
  REQUIRE((*sink)->close());
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  CHECK(slurp(path) == "{}\n");
}

TEST_CASE("byte_io: atomic writes go straight to a symlink or device, never replace it") {
  TempDir dir;
  auto target = (dir.path / "target.txt").string();
  auto link = (dir.path / "link.txt").string();
  fs::create_symlink(target, link);
  ev::io::SinkOptions o;
  o.atomic = true;
  auto sink = ev::io::open_sink(link, o);
  REQUIRE(sink.has_value());
  REQUIRE((*sink)->write("x\n"));
  CHECK_FALSE(fs::exists(link + ".partial"));
  REQUIRE((*sink)->close());
  CHECK(fs::is_symlink(link));
  CHECK(slurp(target) == "x\n");
  auto null = ev::io::open_sink("/dev/null", o);
  REQUIRE(null.has_value());
  REQUIRE((*null)->close());
  CHECK(fs::is_character_file("/dev/null"));
}

TEST_CASE("byte_io: writing to /dev/full is an I/O error naming the file") {
  auto sink = ev::io::open_sink("/dev/full");
  REQUIRE(sink.has_value());
  auto st = (*sink)->write("{}\n");
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == ev::ErrorKind::kIo);
  CHECK(st.error().message.find("No space") != std::string::npos);
}

TEST_CASE("byte_io: rotation by size never splits a line and numbers files") {
  TempDir dir;
  int64_t now = 1714557600LL * 1'000'000'000;
  ev::io::RotateOptions ro;
  ro.pattern = (dir.path / "part-%Y%m%d-{seq}.jsonl").string();
  ro.max_bytes = 100;
  ro.now_ns = [&] { return now; };
  auto sink = ev::io::open_rotating_sink(ro);
  REQUIRE(sink.has_value());
  std::string data = sample_lines(30);  // 30 lines of 34-35 bytes
  REQUIRE((*sink)->write(data));
  REQUIRE((*sink)->close());
  std::string joined;
  std::vector<std::string> parts;
  for (int seq = 0;; ++seq) {
    char name[64];
    std::snprintf(name, sizeof name, "part-20240501-%06d.jsonl", seq);
    auto p = dir.path / name;
    if (!fs::exists(p)) break;
    parts.push_back(slurp(p));
    joined += parts.back();
  }
  int files = static_cast<int>(parts.size());
  for (int i = 0; i < files; ++i) {
    CHECK(parts[i].back() == '\n');
    if (i + 1 < files) CHECK(parts[i].size() >= 100);  // the last one holds the rest
    CHECK(parts[i].size() < 100 + 36);
  }
  CHECK(files >= 9);
  CHECK(joined == data);
}

TEST_CASE("byte_io: rotation never replaces files an earlier run wrote") {
  TempDir dir;
  ev::io::RotateOptions ro;
  ro.pattern = (dir.path / "r-{seq}.jsonl").string();
  ro.max_bytes = 1;  // one line per file
  for (const char* run : {"{\"run\":1}\n", "{\"run\":2}\n"}) {
    auto sink = ev::io::open_rotating_sink(ro);
    REQUIRE(sink.has_value());
    REQUIRE((*sink)->write(run));
    REQUIRE((*sink)->close());
  }
  std::ofstream(dir.path / "r-000002.jsonl.partial") << "left by a crash\n";
  auto sink = ev::io::open_rotating_sink(ro);
  REQUIRE((*sink)->write("{\"run\":3}\n"));
  REQUIRE((*sink)->close());
  CHECK(slurp(dir.path / "r-000000.jsonl") == "{\"run\":1}\n");
  CHECK(slurp(dir.path / "r-000001.jsonl") == "{\"run\":2}\n");
  CHECK(slurp(dir.path / "r-000002.jsonl.partial") == "left by a crash\n");
  CHECK(slurp(dir.path / "r-000003.jsonl") == "{\"run\":3}\n");
}

TEST_CASE("byte_io: rotation by age closes the file on tick") {
  TempDir dir;
  int64_t now = 0;
  ev::io::RotateOptions ro;
  ro.pattern = (dir.path / "f-{seq}.jsonl").string();
  ro.max_age_ns = 1'000'000'000;
  ro.now_ns = [&] { return now; };
  auto sink = ev::io::open_rotating_sink(ro);
  REQUIRE(sink.has_value());
  REQUIRE((*sink)->write("{\"a\":1}\n"));
  CHECK(fs::exists(dir.path / "f-000000.jsonl.partial"));
  now += 2'000'000'000;
  REQUIRE((*sink)->tick());
  CHECK(fs::exists(dir.path / "f-000000.jsonl"));
  REQUIRE((*sink)->tick());  // no data: no new, empty file
  CHECK_FALSE(fs::exists(dir.path / "f-000001.jsonl.partial"));
  REQUIRE((*sink)->write("{\"a\":2}\n"));
  REQUIRE((*sink)->close());
  CHECK(slurp(dir.path / "f-000001.jsonl") == "{\"a\":2}\n");
}

TEST_CASE("byte_io: a rotation pattern needs {seq}") {
  ev::io::RotateOptions ro;
  ro.pattern = "out-%Y.jsonl";
  ro.max_bytes = 10;
  auto sink = ev::io::open_rotating_sink(ro);
  REQUIRE_FALSE(sink.has_value());
  CHECK(sink.error().kind == ev::ErrorKind::kUsage);
}

TEST_CASE("byte_io: expand_pattern") {
  CHECK(ev::io::expand_pattern("a-%Y-%m-%dT%H%M%S-{seq}.gz", 1714557600, 7) ==
        "a-2024-05-01T100000-000007.gz");
  CHECK(ev::io::expand_pattern("100%%-{seq}", 0, 0) == "100%-000000");
}

TEST_CASE("byte_io: globs expand sorted; a glob matching nothing is a usage error") {
  TempDir dir;
  for (const char* n : {"b.jsonl", "a.jsonl", "c.txt"}) std::ofstream(dir.path / n) << "{}\n";
  auto got = ev::io::expand_inputs({(dir.path / "*.jsonl").string()});
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0] == (dir.path / "a.jsonl").string());
  auto none = ev::io::expand_inputs({(dir.path / "*.csv").string()});
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().kind == ev::ErrorKind::kUsage);
  auto empty = ev::io::expand_inputs({});
  REQUIRE(empty.has_value());
  CHECK((*empty)[0] == "-");
}
