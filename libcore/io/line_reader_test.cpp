#include "libcore/io/line_reader.h"

#include <doctest/doctest.h>

#include <csignal>
#include <string>
#include <vector>

#include "libcore/base/stop.h"

namespace {

using ev::io::Line;
using ev::io::LineReader;

struct Got {
  std::string text;
  uint64_t number;
  bool oversize;
  uint64_t length;
};

std::vector<Got> read_all(std::string data, size_t max_line = ev::io::kDefaultMaxLine) {
  LineReader reader(ev::io::memory_source(std::move(data)), max_line);
  std::vector<Got> out;
  Line line;
  for (;;) {
    auto more = reader.next(line);
    REQUIRE(more.has_value());
    if (!*more) break;
    // The padding promise: kLinePadding bytes after the line are readable.
    volatile char last = line.text.data()[line.text.size() + ev::io::kLinePadding - 1];
    (void)last;
    out.push_back({std::string(line.text), line.number, line.oversize, line.length});
  }
  return out;
}

}  // namespace

TEST_CASE("line_reader: splits lines and numbers them physically") {
  auto got = read_all("{\"a\":1}\n\n{\"b\":2}\n   \n{\"c\":3}\n");
  REQUIRE(got.size() == 3);
  CHECK(got[0].text == "{\"a\":1}");
  CHECK(got[0].number == 1);
  CHECK(got[1].text == "{\"b\":2}");
  CHECK(got[1].number == 3);
  CHECK(got[2].number == 5);
}

TEST_CASE("line_reader: strips CR of CRLF and keeps a last line without newline") {
  auto got = read_all("{\"a\":1}\r\n{\"b\":2}");
  REQUIRE(got.size() == 2);
  CHECK(got[0].text == "{\"a\":1}");
  CHECK(got[1].text == "{\"b\":2}");
}

TEST_CASE("line_reader: empty input and input of only newlines") {
  CHECK(read_all("").empty());
  CHECK(read_all("\n\n\r\n").empty());
}

TEST_CASE("line_reader: lines longer than the read chunk are returned whole") {
  std::string big(3u << 20, 'x');
  auto got = read_all("{\"a\":1}\n" + big + "\n{\"b\":2}\n");
  REQUIRE(got.size() == 3);
  CHECK(got[1].text.size() == big.size());
  CHECK(got[2].text == "{\"b\":2}");
  CHECK(got[2].number == 3);
}

TEST_CASE("line_reader: a line over max_line is reported as oversize, the rest goes on") {
  std::string big(5000, 'y');
  auto got = read_all("{\"a\":1}\n" + big + "\n{\"b\":2}\n", 2000);
  REQUIRE(got.size() == 3);
  CHECK_FALSE(got[0].oversize);
  CHECK(got[1].oversize);
  CHECK(got[1].length == 5000);
  CHECK(got[1].text == std::string(ev::io::kOversizePrefix, 'y'));
  CHECK(got[1].number == 2);
  CHECK(got[2].text == "{\"b\":2}");
  CHECK(got[2].number == 3);
}

TEST_CASE("line_reader: an oversize line spanning many reads is skipped in bounded memory") {
  std::string big(6u << 20, 'z');
  auto got = read_all(big + "\n{\"b\":2}", 1u << 20);
  REQUIRE(got.size() == 2);
  CHECK(got[0].oversize);
  CHECK(got[0].length == big.size());
  CHECK(got[1].text == "{\"b\":2}");
}

TEST_CASE("line_reader: an oversize last line without newline") {
  auto got = read_all(std::string(3000, 'q'), 100);
  REQUIRE(got.size() == 1);
  CHECK(got[0].oversize);
  CHECK(got[0].length == 3000);
}

TEST_CASE("line_reader: NUL bytes and invalid UTF-8 are passed up as bytes, not errors") {
  std::string data = std::string("{\"a\":\"x\0y\"}\n", 12) + "{\"b\":\"\xff\"}\n";
  auto got = read_all(data);
  REQUIRE(got.size() == 2);
  CHECK(got[0].text.size() == 11);
  CHECK(got[1].text == "{\"b\":\"\xff\"}");
}

TEST_CASE("line_reader: calls the before-block hook only when the source is not ready") {
  LineReader reader(ev::io::memory_source("{}\n{}\n"));
  int calls = 0;
  reader.set_before_block([&] { ++calls; });
  Line line;
  while (*reader.next(line)) {
  }
  CHECK(calls == 0);  // memory is always ready
}

TEST_CASE("line_reader: an oversize line arriving in pieces keeps only its own bytes") {
  // --max-line below the 1 KiB prefix: the prefix is what was buffered, never more.
  std::string long_line = "{\"a\":\"" + std::string(30, 'x') + "\"}";
  LineReader reader(ev::io::memory_source(long_line + "\n{\"b\":2}\n", "pipe", 7), 16);
  Line line;
  REQUIRE(*reader.next(line));
  CHECK(line.oversize);
  CHECK(line.length == long_line.size());
  CHECK(line.text.size() <= long_line.size());
  CHECK(long_line.starts_with(line.text));
  REQUIRE(*reader.next(line));
  CHECK(line.text == "{\"b\":2}");
  CHECK(line.number == 2);
  CHECK_FALSE(*reader.next(line));
}

TEST_CASE("line_reader: a UTF-8 byte order mark at the start is not part of the first line") {
  auto got = read_all("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"b\":2}\n");
  REQUIRE(got.size() == 2);
  CHECK(got[0].text == "{\"a\":1}");
  CHECK(got[1].text == "\xEF\xBB\xBF{\"b\":2}");  // only at the start of the input
  // Also when the mark arrives one byte at a time.
  LineReader reader(ev::io::memory_source("\xEF\xBB\xBF{}\n", "pipe", 1));
  Line line;
  REQUIRE(*reader.next(line));
  CHECK(line.text == "{}");
  CHECK(line.offset == 3);
  // A short input that is no mark is left alone.
  auto tiny = read_all("{}");
  REQUIRE(tiny.size() == 1);
  CHECK(tiny[0].text == "{}");
}

TEST_CASE("line_reader: reset starts on the next input with fresh numbers") {
  LineReader reader(ev::io::memory_source("{\"a\":1}\n{\"a\":2}"), 64);
  Line line;
  REQUIRE(*reader.next(line));
  REQUIRE(*reader.next(line));
  CHECK(line.number == 2);
  CHECK_FALSE(*reader.next(line));
  reader.reset(ev::io::memory_source("\xEF\xBB\xBF{\"b\":1}\n", "second"));
  REQUIRE(*reader.next(line));
  CHECK(line.text == "{\"b\":1}");
  CHECK(line.number == 1);
  CHECK(reader.name() == "second");
  CHECK(reader.bytes_read() == 11);
  CHECK_FALSE(*reader.next(line));
}

TEST_CASE("line_reader: input cut short by a stop request has no last line") {
  LineReader reader(ev::io::memory_source("a\nhalf a li"), ev::io::kDefaultMaxLine);
  Line line;
  auto first = reader.next(line);
  REQUIRE(first.has_value());
  REQUIRE(*first);
  CHECK(line.text == "a");
  ev::request_stop(SIGTERM);
  auto rest = reader.next(line);
  ev::clear_stop();
  REQUIRE(rest.has_value());
  CHECK_FALSE(*rest);  // "half a li" is not a line: the next run reads it whole
}
