#include "libcore/pipeline/control.h"

#include <doctest/doctest.h>

using ev::pipeline::control_kind;
using ev::pipeline::is_control_line;

TEST_CASE("control: recognized by prefix") {
  CHECK(is_control_line(R"({"$ev":"watermark","t":"2024-05-01T10:00:00.000Z"})"));
  CHECK(is_control_line(R"(  {"$ev":"barrier","id":7})"));
  CHECK_FALSE(is_control_line(R"({"user":"$ev"})"));
  CHECK_FALSE(is_control_line(R"({"a":1,"$ev":"barrier"})"));
  CHECK_FALSE(is_control_line(R"({ "$ev":"barrier"})"));  // the prefix is exact
  CHECK_FALSE(is_control_line(""));
  CHECK_FALSE(is_control_line("{"));
}

TEST_CASE("control: kind") {
  CHECK(control_kind(R"({"$ev":"watermark","t":1})") == "watermark");
  CHECK(control_kind(R"({"$ev" : "barrier","id":1})") == "barrier");
  CHECK(control_kind(R"({"$ev":7})").empty());
  CHECK(control_kind(R"({"$ev":"unterminated)").empty());
  CHECK(control_kind(R"({"x":1})").empty());
}

TEST_CASE("control: canonical lines") {
  CHECK(ev::pipeline::make_watermark_line(1714557600123000000) ==
        R"({"$ev":"watermark","t":"2024-05-01T10:00:00.123Z"})");
  CHECK(ev::pipeline::make_barrier_line(7) == R"({"$ev":"barrier","id":7})");
  CHECK(is_control_line(ev::pipeline::make_barrier_line(1)));
}

TEST_CASE("control: the time of a watermark line") {
  using ev::pipeline::watermark_time;
  auto t = watermark_time(ev::pipeline::make_watermark_line(1714557600123000000));
  REQUIRE(t.has_value());
  CHECK(*t == 1714557600123000000);
  CHECK(*watermark_time(R"({"$ev":"watermark","t":1714557600123})") == 1714557600123000000);
  CHECK_FALSE(watermark_time(R"({"$ev":"watermark"})").has_value());
  CHECK_FALSE(watermark_time(R"({"$ev":"watermark","t":"soon"})").has_value());
  CHECK_FALSE(watermark_time(R"({"$ev":"watermark","t":)").has_value());
}
