#include "libcore/base/text.h"

#include <doctest/doctest.h>

#include <cstdint>

TEST_CASE("text: %-escapes decode, malformed ones are usage errors") {
  CHECK(*ev::text::percent_decode("a%2Cb%26c%41") == "a,b&cA");
  CHECK(*ev::text::percent_decode("plain") == "plain");
  CHECK(*ev::text::percent_decode("") == "");
  for (const char* bad : {"%", "a%4", "%zz", "%4g"}) {
    auto r = ev::text::percent_decode(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ev::ErrorKind::kUsage);
    CHECK(r.error().message == "bad %-escape");
  }
}

TEST_CASE("text: integers take the whole text, within range") {
  int n = 0;
  CHECK(ev::text::parse_int("6379", n));
  CHECK(n == 6379);
  CHECK_FALSE(ev::text::parse_int("", n));
  CHECK_FALSE(ev::text::parse_int("12x", n));
  CHECK_FALSE(ev::text::parse_int(" 1", n));
  uint8_t small = 0;
  CHECK_FALSE(ev::text::parse_int("256", small));
  int64_t neg = 0;
  CHECK(ev::text::parse_int("-5", neg));
  CHECK(neg == -5);
}
