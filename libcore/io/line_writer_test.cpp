#include "libcore/io/line_writer.h"

#include <doctest/doctest.h>

#include <memory>

namespace {
struct Fixture {
  ev::io::MemorySink* sink;
  std::unique_ptr<ev::io::LineWriter> writer;
  explicit Fixture(size_t chunk) {
    auto s = std::make_unique<ev::io::MemorySink>();
    sink = s.get();
    writer = std::make_unique<ev::io::LineWriter>(std::move(s), chunk);
  }
};

class FailingSink final : public ev::io::ByteSink {
 public:
  explicit FailingSink(ev::ErrorKind kind) : kind_(kind) {}
  ev::Status write(std::string_view) override {
    ++writes;
    return ev::make_error(kind_, "boom", "out");
  }
  ev::Status flush() override { return {}; }
  ev::Status close() override { return {}; }
  const std::string& name() const override { return name_; }
  int writes = 0;

 private:
  ev::ErrorKind kind_;
  std::string name_ = "failing";
};
}  // namespace

TEST_CASE("line_writer: buffers lines until a chunk gathers") {
  Fixture f(64);
  REQUIRE(f.writer->write_line("{\"a\":1}"));
  CHECK(f.sink->data().empty());
  for (int i = 0; i < 10; ++i) REQUIRE(f.writer->write_line("{\"a\":1}"));
  CHECK(f.sink->writes() >= 1);
  CHECK((f.sink->data().size() + 1) % 8 == 0);  // whole lines; the last newline held back
  REQUIRE(f.writer->flush());
  CHECK(f.sink->data().size() == 11 * 8);
  CHECK(f.writer->lines() == 11);
}

TEST_CASE("line_writer: flush with nothing pending does not flush the sink") {
  Fixture f(1024);
  REQUIRE(f.writer->flush());
  CHECK(f.sink->flushes() == 0);
  REQUIRE(f.writer->write_line("x"));
  REQUIRE(f.writer->flush());
  CHECK(f.sink->flushes() == 1);
  REQUIRE(f.writer->idle());
  CHECK(f.sink->flushes() == 1);
}

TEST_CASE("line_writer: building a line in place") {
  Fixture f(1024);
  f.writer->buffer().append("{\"b\":");
  f.writer->buffer().append("2}");
  REQUIRE(f.writer->end_line());
  REQUIRE(f.writer->close());
  CHECK(f.sink->data() == "{\"b\":2}\n");
}

TEST_CASE("line_writer: a write error is sticky and the buffer does not grow") {
  auto s = std::make_unique<FailingSink>(ev::ErrorKind::kPipe);
  auto* raw = s.get();
  ev::io::LineWriter w(std::move(s), 16);
  auto st = w.write_line("0123456789abcdef");
  REQUIRE_FALSE(st);
  CHECK(st.error().kind == ev::ErrorKind::kPipe);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(w.write_line("0123456789abcdef"));
  CHECK(w.buffer().size() <= 17);
  CHECK(raw->writes == 1);
}

TEST_CASE("line_writer: the final newline can be left out, also after a chunk was drained") {
  for (size_t chunk : {size_t{8}, size_t{1024}}) {
    Fixture f(chunk);
    REQUIRE(f.writer->write_line("{\"a\":1}"));
    REQUIRE(f.writer->write_line("{\"b\":2}"));
    f.writer->omit_final_newline();
    REQUIRE(f.writer->close());
    CHECK(f.sink->data() == "{\"a\":1}\n{\"b\":2}");
  }
  Fixture g(8);
  REQUIRE(g.writer->write_line("{\"a\":1}"));
  g.writer->omit_final_newline();
  REQUIRE(g.writer->write_line("{\"b\":2}"));  // a later line cancels it
  REQUIRE(g.writer->close());
  CHECK(g.sink->data() == "{\"a\":1}\n{\"b\":2}\n");
}
