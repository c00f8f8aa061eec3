#include "libcore/time/duration.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "libcore/time/clock.h"

namespace ev::time {
namespace {

constexpr Duration kSec = 1'000'000'000;
constexpr Duration kMin = 60 * kSec;
constexpr Duration kHour = 60 * kMin;
constexpr Duration kDay = 24 * kHour;
constexpr Duration kMax = std::numeric_limits<Duration>::max();

Duration parsed(std::string_view text) {
  auto r = parse_duration(text);
  REQUIRE_MESSAGE(r.has_value(), text << ": " << r.error().message);
  return *r;
}

// The error message for `text`, which must be rejected as a usage error.
std::string rejection(std::string_view text) {
  auto r = parse_duration(text);
  REQUIRE_MESSAGE(!r.has_value(), text << " was accepted as " << *r);
  CHECK(r.error().kind == ErrorKind::kUsage);
  return r.error().message;
}

}  // namespace

TEST_CASE("duration: parses each unit") {
  CHECK(parsed("7ns") == 7);
  CHECK(parsed("7us") == 7'000);
  CHECK(parsed("7\xC2\xB5s") == 7'000);  // U+00B5 MICRO SIGN
  CHECK(parsed("7\xCE\xBCs") == 7'000);  // U+03BC GREEK SMALL LETTER MU
  CHECK(parsed("250ms") == 250'000'000);
  CHECK(parsed("10s") == 10 * kSec);
  CHECK(parsed("5m") == 5 * kMin);
  CHECK(parsed("2h") == 2 * kHour);
  CHECK(parsed("1d") == kDay);
  CHECK(parsed("0010s") == 10 * kSec);
}

TEST_CASE("duration: composite and fractional terms") {
  CHECK(parsed("1h30m") == 90 * kMin);
  CHECK(parsed("1d2h3m4s5ms6us7ns") == kDay + 2 * kHour + 3 * kMin + 4 * kSec + 5'006'007);
  CHECK(parsed("1s500ms") == 1'500'000'000);
  CHECK(parsed("30m1h") == 90 * kMin);  // any order, as Go's time.ParseDuration
  CHECK(parsed("1.5s") == 1'500'000'000);
  CHECK(parsed("1.5h") == 90 * kMin);
  CHECK(parsed("0.5d") == 12 * kHour);
  CHECK(parsed("2.25m") == 135 * kSec);
  CHECK(parsed("0.001ms") == 1'000);
  CHECK(parsed("1.000000001s") == 1'000'000'001);
  CHECK(parsed("1.5ms250us") == 1'750'000);
  // Below a nanosecond the value is truncated.
  CHECK(parsed("1.0000000009s") == kSec);
  CHECK(parsed("0.5ns") == 0);
  CHECK(parsed("0.99999999999999999999999999999d") == kDay - 1);
}

TEST_CASE("duration: zero") {
  CHECK(parsed("0") == 0);
  CHECK(parsed("0s") == 0);
  CHECK(parsed("0h0m") == 0);
  CHECK(parsed("0.0ms") == 0);
}

TEST_CASE("duration: the int64 nanosecond range is the limit") {
  CHECK(parsed("9223372036854775807ns") == kMax);
  CHECK(parsed("106751d23h47m16s854ms775us807ns") == kMax);
  CHECK(parsed("9223372036.854775807s") == kMax);
  for (auto text : {"9223372036854775808ns", "106752d", "9223372037s", "106751d106751d",
                    "106751d23h47m16s854ms775us808ns", "99999999999999999999999s"}) {
    CAPTURE(text);
    CHECK(rejection(text) ==
          "invalid duration '" + std::string(text) + "': too large (the limit is about 106751d)");
  }
}

TEST_CASE("duration: rejects malformed input naming what is wrong") {
  CHECK(rejection("1x") == "invalid duration '1x': unknown unit 'x' (use ns, us, ms, s, m, h, d)");
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "invalid duration '': empty"},
      {"-1s", "invalid duration '-1s': negative durations are not allowed"},
      {"10", "invalid duration '10': missing unit after '10' (use ns, us, ms, s, m, h, d)"},
      {"1h30", "invalid duration '1h30': missing unit after '30' (use ns, us, ms, s, m, h, d)"},
      {"1.5", "invalid duration '1.5': missing unit after '1.5' (use ns, us, ms, s, m, h, d)"},
      {"00", "invalid duration '00': missing unit after '00' (use ns, us, ms, s, m, h, d)"},
      {"1.5.5s",
       "invalid duration '1.5.5s': missing unit after '1.5' (use ns, us, ms, s, m, h, d)"},
      {"s", "invalid duration 's': expected a number at 's'"},
      {"+1s", "invalid duration '+1s': expected a number at '+1s'"},
      {" 1s", "invalid duration ' 1s': expected a number at ' 1s'"},
      {".5s", "invalid duration '.5s': expected a number at '.5s'"},
      {"1.s", "invalid duration '1.s': expected digits after '.'"},
      {"1h.5m", "invalid duration '1h.5m': expected a number at '.5m'"},
      {"1 s", "invalid duration '1 s': unknown unit ' s' (use ns, us, ms, s, m, h, d)"},
      {"1s ", "invalid duration '1s ': unknown unit 's ' (use ns, us, ms, s, m, h, d)"},
      {"1S", "invalid duration '1S': unknown unit 'S' (use ns, us, ms, s, m, h, d)"},
      {"1sec", "invalid duration '1sec': unknown unit 'sec' (use ns, us, ms, s, m, h, d)"},
      {"1y", "invalid duration '1y': unknown unit 'y' (use ns, us, ms, s, m, h, d)"},
      {"5m-1s", "invalid duration '5m-1s': unknown unit 'm-' (use ns, us, ms, s, m, h, d)"},
      {"1\xC2s", "invalid duration '1\xC2s': unknown unit '\xC2s' (use ns, us, ms, s, m, h, d)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(rejection(c.text) == c.message);
  }
  CHECK(rejection("1s\n2s").find('\n') == std::string::npos);
}

TEST_CASE("duration: format_duration uses the largest exact units") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(1) == "1ns");
  CHECK(format_duration(1'500) == "1us500ns");
  CHECK(format_duration(250'000'000) == "250ms");
  CHECK(format_duration(1'500'000'000) == "1s500ms");
  CHECK(format_duration(10 * kSec) == "10s");
  CHECK(format_duration(5 * kMin) == "5m");
  CHECK(format_duration(5'400 * kSec) == "1h30m");
  CHECK(format_duration(2 * kHour) == "2h");
  CHECK(format_duration(26 * kHour) == "1d2h");
  CHECK(format_duration(kDay + kSec) == "1d1s");
  CHECK(format_duration(36 * kHour) == "1d12h");
  CHECK(format_duration(kMax) == "106751d23h47m16s854ms775us807ns");
  CHECK(format_duration(-90 * kMin) == "-1h30m");
  CHECK(format_duration(std::numeric_limits<Duration>::min()) ==
        "-106751d23h47m16s854ms775us808ns");
}

TEST_CASE("duration: format and parse round-trip") {
  uint64_t state = 12345;
  for (int i = 0; i < 2'000; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    const auto d = static_cast<Duration>(state >> (1 + i % 63));  // all magnitudes, >= 0
    CAPTURE(d);
    REQUIRE(parse_duration(format_duration(d)) == d);
  }
  for (Duration d : {Duration{0}, Duration{1}, kSec, kMin, kHour, kDay, kMax}) {
    CHECK(parse_duration(format_duration(d)) == d);
  }
}

TEST_CASE("duration: parse_size") {
  CHECK(parse_size("0") == 0u);
  CHECK(parse_size("100") == 100u);
  CHECK(parse_size("100B") == 100u);
  CHECK(parse_size("64K") == 65'536u);
  CHECK(parse_size("64k") == 65'536u);
  CHECK(parse_size("64KB") == 65'536u);
  CHECK(parse_size("64KiB") == 65'536u);
  CHECK(parse_size("64kib") == 65'536u);
  CHECK(parse_size("1MiB") == 1'048'576u);
  CHECK(parse_size("100M") == 104'857'600u);
  CHECK(parse_size("2G") == 2'147'483'648u);
  CHECK(parse_size("2gb") == 2'147'483'648u);
  CHECK(parse_size("1T") == 1'099'511'627'776u);
  CHECK(parse_size("1.5K") == 1'536u);
  CHECK(parse_size("0.5M") == 524'288u);
  CHECK(parse_size("1.0001K") == 1'024u);  // the fraction of a byte is dropped
  CHECK(parse_size("18446744073709551615") == std::numeric_limits<uint64_t>::max());
  CHECK(parse_size("16777215T") == 18'446'742'974'197'923'840u);

  struct Case {
    const char* text;
    const char* what;
  };
  for (const Case& c : {
           Case{"", "empty"},
           Case{"K", "expected a number at 'K'"},
           Case{"-1K", "expected a number at '-1K'"},
           Case{"1.K", "expected digits after '.'"},
           Case{"12X", "unknown suffix 'X' (use K, M, G or T, optionally with B or iB)"},
           Case{"1P", "unknown suffix 'P' (use K, M, G or T, optionally with B or iB)"},
           Case{"1 K", "unknown suffix ' K' (use K, M, G or T, optionally with B or iB)"},
           Case{"1KiBs", "unknown suffix 'KiBs' (use K, M, G or T, optionally with B or iB)"},
           Case{"1Ki", "unknown suffix 'Ki' (use K, M, G or T, optionally with B or iB)"},
           Case{"18446744073709551616", "too large"},
           Case{"16777216T", "too large"},
       }) {
    CAPTURE(c.text);
    auto r = parse_size(c.text);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message == "invalid size '" + std::string(c.text) + "': " + c.what);
  }
}

TEST_CASE("duration: parse_rate") {
  CHECK(parse_rate("1000") == 1000.0);
  CHECK(parse_rate("1000/s") == 1000.0);
  CHECK(*parse_rate("50/m") == doctest::Approx(50.0 / 60));
  CHECK(parse_rate("3600/h") == 1.0);
  CHECK(parse_rate("86400/d") == 1.0);
  CHECK(parse_rate("0.5/s") == 0.5);
  CHECK(parse_rate("1e3") == 1000.0);

  struct Case {
    const char* text;
    const char* what;
  };
  for (const Case& c : {
           Case{"", "empty"},
           Case{"0", "must be positive"},
           Case{"0/s", "must be positive"},
           Case{"-5/s", "must be positive"},
           Case{"inf", "not a finite number"},
           Case{"nan/s", "not a finite number"},
           Case{"1e999", "out of range"},
           Case{"1000/ms", "unknown unit 'ms' (use /s, /m, /h or /d)"},
           Case{"1000/", "unknown unit '' (use /s, /m, /h or /d)"},
           Case{"/s", "expected a number, optionally followed by /s, /m, /h or /d"},
           Case{"fast", "expected a number, optionally followed by /s, /m, /h or /d"},
           Case{"+5", "expected a number, optionally followed by /s, /m, /h or /d"},
           Case{"5 /s", "expected a number, optionally followed by /s, /m, /h or /d"},
           Case{"1,5", "expected a number, optionally followed by /s, /m, /h or /d"},
       }) {
    CAPTURE(c.text);
    auto r = parse_rate(c.text);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message == "invalid rate '" + std::string(c.text) + "': " + c.what);
  }
}

}  // namespace ev::time

TEST_CASE("clock: paced_due spaces items by 1/rate and saturates for very slow rates") {
  CHECK(ev::time::paced_due(100, 0, 10) == 100);
  CHECK(ev::time::paced_due(100, 3, 10) == 100 + 300'000'000);
  CHECK(ev::time::paced_due(5, 2, 1e-10) == std::numeric_limits<int64_t>::max());
  CHECK(ev::time::paced_due(0, 1, 2e9) == 0);  // faster than 1 ns: due at once
}
