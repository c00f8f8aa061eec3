#include "libcore/gen/generate.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "libcore/gen/generator.h"
#include "libcore/io/byte_sink.h"
#include "libcore/io/line_writer.h"
#include "libcore/time/clock.h"

namespace ev::gen {
namespace {

struct Written {
  Status status;
  std::string data;
};

// Runs generate() into memory.
Written run_generate(const GenerateOptions& opt) {
  auto sink = std::make_unique<io::MemorySink>();
  io::MemorySink* memory = sink.get();
  io::LineWriter out(std::move(sink));
  time::ManualClock clock(0);
  Written w;
  w.status = generate(opt, out, clock);
  w.data = memory->data();
  return w;
}

struct Generated {
  LineKind kind;
  std::string text;
};

std::vector<Generated> first_lines(const GenOptions& opt, uint64_t count) {
  Generator gen(opt);
  std::vector<Generated> lines;
  for (uint64_t i = 0; i < count; ++i) {
    Generated g;
    g.kind = gen.next(g.text);
    lines.push_back(std::move(g));
  }
  return lines;
}

// Checks that `written` is the lines of `generated` for which `keep` holds, in order,
// naming the first few lines (and their kind) that were wrongly dropped or written.
template <class Keep>
void check_kept(const std::string& written, const std::vector<Generated>& generated, Keep keep) {
  size_t at = 0;
  uint64_t number = 0, wrong = 0;
  for (const Generated& g : generated) {
    ++number;
    const bool expected = keep(g);
    const bool was = written.compare(at, g.text.size() + 1, g.text + "\n") == 0;
    if (was) at += g.text.size() + 1;
    if (expected == was || ++wrong > 5) continue;
    CAPTURE(number);
    CAPTURE(g.text);
    CHECK_MESSAGE(false, (expected ? "dropped" : "written"), " a line of kind ",
                  static_cast<int>(g.kind));
  }
  CHECK(wrong == 0);
  CHECK(at == written.size());
}

bool is_purchase(const std::string& line) {
  return line.find("\"type\":\"purchase\"") != std::string::npos;
}

}  // namespace

TEST_CASE("generate: --where writes only the generated lines that match, unchanged") {
  GenerateOptions opt;
  opt.count = 2000;
  opt.where = "type == \"purchase\" and amount > 20";
  auto w = run_generate(opt);
  REQUIRE(w.status.has_value());
  // --count counts generated lines: the matches among the first 2000, in order.
  std::string expect;
  uint64_t matched = 0;
  for (const Generated& g : first_lines(opt.events, opt.count)) {
    const size_t at = g.text.find("\"amount\":");
    if (!is_purchase(g.text) || at == std::string::npos) continue;
    if (std::stod(g.text.substr(at + 9)) <= 20) continue;
    expect += g.text + "\n";
    ++matched;
  }
  CHECK(matched > 10);
  CHECK(matched < 100);
  CHECK(w.data == expect);
}

TEST_CASE("generate: without --where every generated line is written") {
  GenerateOptions opt;
  opt.count = 50;
  auto w = run_generate(opt);
  REQUIRE(w.status.has_value());
  std::string expect;
  for (const Generated& g : first_lines(opt.events, opt.count)) expect += g.text + "\n";
  CHECK(w.data == expect);
}

TEST_CASE("generate: --where on the time field") {
  GenerateOptions opt;
  opt.count = 1000;
  opt.events.duplicates = 0.2;
  // 10 ms a line on average: about the first half.
  opt.where = "ts < time(\"2024-01-01T00:00:05Z\")";
  auto w = run_generate(opt);
  REQUIRE(w.status.has_value());
  check_kept(w.data, first_lines(opt.events, opt.count), [](const Generated& g) {
    const size_t at = g.text.find("\"ts\":\"2024-01-01T00:00:0");
    return at != std::string::npos && g.text[at + 24] < '5';
  });
}

// generate.h: lines that are deliberately bad (--malformed) are written whatever the
// expression says, also when it does not reach the damage (an impossible ts or
// invalid UTF-8 when it reads only `type`, a line truncated after its fields).
TEST_CASE("generate: --where keeps every malformed line") {
  GenerateOptions opt;
  opt.count = 3000;
  opt.events.malformed = 0.2;
  opt.events.duplicates = 0.1;
  SUBCASE("an expression over type") {
    opt.where = "type == \"purchase\"";
    auto w = run_generate(opt);
    REQUIRE(w.status.has_value());
    check_kept(w.data, first_lines(opt.events, opt.count), [](const Generated& g) {
      return g.kind == LineKind::kMalformed || is_purchase(g.text);
    });
  }
  SUBCASE("an expression over ts: an impossible time is a runtime error") {
    opt.where = "ts < time(\"2024-01-01T00:00:05Z\")";
    auto w = run_generate(opt);
    REQUIRE(w.status.has_value());
    check_kept(w.data, first_lines(opt.events, opt.count), [](const Generated& g) {
      const size_t at = g.text.find("\"ts\":\"2024-01-01T00:00:0");
      const bool early = at != std::string::npos && g.text[at + 24] < '5';
      return g.kind == LineKind::kMalformed || early;
    });
  }
}

TEST_CASE("generate: --where filters --profiles rows") {
  GenerateOptions opt;
  opt.profiles = true;
  opt.events.users = 200;
  opt.where = "tier == \"pro\"";
  auto w = run_generate(opt);
  REQUIRE(w.status.has_value());
  GenerateOptions all = opt;
  all.where.clear();
  auto every = run_generate(all);
  REQUIRE(every.status.has_value());
  std::string expect;
  size_t start = 0;
  while (start < every.data.size()) {
    const size_t end = every.data.find('\n', start) + 1;
    const std::string line = every.data.substr(start, end - start);
    if (line.find("\"tier\":\"pro\"") != std::string::npos) expect += line;
    start = end;
  }
  CHECK_FALSE(expect.empty());
  CHECK(w.data == expect);
}

TEST_CASE("generate: a bad --where is a usage error with its column, nothing written") {
  GenerateOptions opt;
  opt.count = 10;
  opt.where = "type ==";
  auto w = run_generate(opt);
  REQUIRE_FALSE(w.status.has_value());
  CHECK(w.status.error().kind == ErrorKind::kUsage);
  CHECK(w.status.error().message.starts_with("--where: column 8: "));
  CHECK(w.data.empty());
  opt.where = "lower(1)";
  w = run_generate(opt);
  REQUIRE_FALSE(w.status.has_value());
  CHECK(w.status.error().kind == ErrorKind::kUsage);
}

}  // namespace ev::gen
