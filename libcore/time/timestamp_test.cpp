#include "libcore/time/timestamp.h"

#include <doctest/doctest.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifndef EV_SHARED_DIR
#define EV_SHARED_DIR "../shared"
#endif

namespace ev::time {
namespace {

__extension__ typedef __int128 Int128;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// Seconds since the epoch for a civil UTC time, computed with std::chrono's
// calendar so the tests do not check the code against itself.
int64_t chrono_seconds(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{m} / day{d}};
  return date.time_since_epoch().count() * int64_t{86400} + hh * 3600 + mm * 60 + ss;
}

Timestamp parsed(std::string_view text) {
  auto r = parse_rfc3339(text);
  REQUIRE_MESSAGE(r.has_value(), text << ": " << r.error().message);
  return *r;
}

// The error message for `text`, which must be rejected as a data error.
std::string rejection(std::string_view text) {
  auto r = parse_rfc3339(text);
  REQUIRE_MESSAGE(!r.has_value(), text << " was accepted as " << *r);
  CHECK(r.error().kind == ErrorKind::kData);
  return r.error().message;
}

}  // namespace

TEST_CASE("timestamp: parses UTC and offset date-times") {
  CHECK(parsed("2024-05-01T10:00:00Z") == 1'714'557'600 * kNsPerSec);
  CHECK(parsed("2024-05-01T10:00:00Z") == chrono_seconds(2024, 5, 1, 10) * kNsPerSec);
  CHECK(parsed("2024-05-01T12:00:00+02:00") == parsed("2024-05-01T10:00:00Z"));
  CHECK(parsed("2024-05-01T05:30:00-04:30") == parsed("2024-05-01T10:00:00Z"));
  CHECK(parsed("2024-05-01T10:00:00-00:00") == parsed("2024-05-01T10:00:00Z"));
  CHECK(parsed("2024-05-01T00:30:00+23:59") == parsed("2024-04-30T00:31:00Z"));
  // An offset can carry the instant across a year boundary.
  CHECK(parsed("2024-12-31T23:00:00-02:00") == parsed("2025-01-01T01:00:00Z"));
}

TEST_CASE("timestamp: accepts lowercase t and z and a space separator") {
  const Timestamp want = parsed("1987-07-05T17:45:00Z");
  CHECK(parsed("1987-07-05t17:45:00z") == want);
  CHECK(parsed("1987-07-05 17:45:00Z") == want);
  CHECK(parsed("1987-07-05 17:45:00z") == want);
}

TEST_CASE("timestamp: keeps 1 to 9 fraction digits") {
  const Timestamp base = parsed("2024-05-01T10:00:00Z");
  CHECK(parsed("2024-05-01T10:00:00.1Z") == base + 100'000'000);
  CHECK(parsed("2024-05-01T10:00:00.123Z") == base + 123'000'000);
  CHECK(parsed("2024-05-01T10:00:00.000001Z") == base + 1'000);
  CHECK(parsed("2024-05-01T10:00:00.123456789Z") == base + 123'456'789);
  CHECK(parsed("2024-05-01T10:00:00.999999999+00:00") == base + 999'999'999);
  CHECK(parsed("2024-05-01t12:00:00.5+02:00") == base + 500'000'000);
}

TEST_CASE("timestamp: epoch zero and times before 1970") {
  CHECK(parsed("1970-01-01T00:00:00Z") == 0);
  CHECK(parsed("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parsed("1970-01-01T00:00:00.000000001Z") == 1);
  CHECK(parsed("1969-12-31T23:59:59.999999999Z") == -1);
  CHECK(parsed("1969-12-31T23:59:59Z") == -kNsPerSec);
  CHECK(parsed("1900-01-01T00:00:00Z") == -2'208'988'800 * kNsPerSec);
  CHECK(parsed("1700-03-01T12:34:56.5Z") ==
        chrono_seconds(1700, 3, 1, 12, 34, 56) * kNsPerSec + 500'000'000);
}

TEST_CASE("timestamp: leap years") {
  CHECK(parsed("2000-02-29T00:00:00Z") == chrono_seconds(2000, 2, 29) * kNsPerSec);
  CHECK(parsed("2024-02-29T15:15:15Z") == chrono_seconds(2024, 2, 29, 15, 15, 15) * kNsPerSec);
  CHECK(parsed("1904-02-29T00:00:00Z") == chrono_seconds(1904, 2, 29) * kNsPerSec);
  CHECK(rejection("1900-02-29T00:00:00Z") ==
        "invalid timestamp '1900-02-29T00:00:00Z': day 29 out of range for 1900-02");
  CHECK(rejection("2100-02-29T00:00:00Z").find("day 29 out of range") != std::string::npos);
  CHECK(rejection("2023-02-29T00:00:00Z").find("day 29 out of range") != std::string::npos);
  CHECK(rejection("2024-02-30T00:00:00Z").find("day 30 out of range") != std::string::npos);
  CHECK(rejection("2024-04-31T00:00:00Z").find("day 31 out of range") != std::string::npos);
  CHECK(parsed("2024-12-31T00:00:00Z") == chrono_seconds(2024, 12, 31) * kNsPerSec);
}

TEST_CASE("timestamp: the int64 nanosecond range is the limit") {
  CHECK(parsed("2262-04-11T23:47:16.854775807Z") == kMax);
  CHECK(parsed("2262-04-12T01:47:16.854775807+02:00") == kMax);
  CHECK(parsed("1677-09-21T00:12:43.145224192Z") == kMin);
  CHECK(parsed("1677-09-20T22:12:43.145224192-02:00") == kMin);
  for (auto text :
       {"2262-04-11T23:47:16.854775808Z", "2262-04-11T23:47:17Z", "1677-09-21T00:12:43.145224191Z",
        "1677-09-21T00:12:43Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "2262-04-11T23:47:16.854775807-00:01"}) {
    CAPTURE(text);
    CHECK(rejection(text).find("': out of range (timestamps must fall between") !=
          std::string::npos);
  }
}

TEST_CASE("timestamp: a leap second is read as the last nanosecond of its day") {
  const Timestamp last = parsed("2016-12-31T23:59:59.999999999Z");
  CHECK(parsed("2016-12-31T23:59:60Z") == last);
  CHECK(parsed("2016-12-31T23:59:60.5Z") == last);
  CHECK(parsed("2016-12-31T15:59:60-08:00") == last);
  CHECK(parsed("2017-01-01T05:29:60+05:30") == last);
  CHECK(parsed("1990-12-31T23:59:60Z") == parsed("1990-12-31T23:59:59.999999999Z"));
  CHECK(rejection("2016-12-31T12:00:60Z") ==
        "invalid timestamp '2016-12-31T12:00:60Z': second 60 (leap second) is only valid at "
        "23:59:60 UTC");
  CHECK(rejection("2016-12-31T23:59:60+01:00").find("leap second") != std::string::npos);
}

TEST_CASE("timestamp: rejects malformed input naming what is wrong") {
  struct Case {
    const char* text;
    const char* what;
  };
  const Case cases[] = {
      {"", "empty"},
      {"202", "expected a 4-digit year"},
      {"20x4-05-01T10:00:00Z", "expected a 4-digit year"},
      {"02024-05-01T10:00:00Z", "expected '-' after the year"},
      {"10000-01-01T00:00:00Z", "expected '-' after the year"},
      {"2024/05/01T10:00:00Z", "expected '-' after the year"},
      {"2024-5-01T10:00:00Z", "expected a 2-digit month"},
      {"2024-", "expected a 2-digit month"},
      {"2024-00-01T00:00:00Z", "month 0 out of range"},
      {"2024-13-01T00:00:00Z", "month 13 out of range"},
      {"2024-05+01T10:00:00Z", "expected '-' after the month"},
      {"2024-05-1T10:00:00Z", "expected a 2-digit day"},
      {"2024-05-00T10:00:00Z", "day 0 out of range for 2024-05"},
      {"2024-05-32T10:00:00Z", "day 32 out of range for 2024-05"},
      {"2024-05-01", "missing the time"},
      {"2024-05-0110:00:00Z", "expected 'T' or a space between date and time"},
      {"2024-05-01_10:00:00Z", "expected 'T' or a space between date and time"},
      {"2024-05-01T", "expected a 2-digit hour"},
      {"2024-05-01T1:00:00Z", "expected a 2-digit hour"},
      {"2024-05-01T24:00:00Z", "hour 24 out of range"},
      {"2024-05-01T10-00:00Z", "expected ':' after the hour"},
      {"2024-05-01T10:0:00Z", "expected a 2-digit minute"},
      {"2024-05-01T10:60:00Z", "minute 60 out of range"},
      {"2024-05-01T10:00Z", "expected ':' and seconds after the minute"},
      {"2024-05-01T10:00", "expected ':' and seconds after the minute"},
      {"2024-05-01T10:00:0Z", "expected 2-digit seconds"},
      {"2024-05-01T10:00:61Z", "second 61 out of range"},
      {"2024-05-01T10:00:00.Z", "expected digits after '.'"},
      {"2024-05-01T10:00:00.", "expected digits after '.'"},
      {"2024-05-01T10:00:00.1234567891Z", "more than 9 fraction digits"},
      {"2024-05-01T10:00:00", "missing the UTC offset"},
      {"2024-05-01T10:00:00.5", "missing the UTC offset"},
      {"2024-05-01T10:00:00+", "expected the offset as +hh:mm or -hh:mm"},
      {"2024-05-01T10:00:00+02", "expected the offset as +hh:mm or -hh:mm"},
      {"2024-05-01T10:00:00+0200", "expected the offset as +hh:mm or -hh:mm"},
      {"2024-05-01T10:00:00+02:0", "expected the offset as +hh:mm or -hh:mm"},
      {"2024-05-01T10:00:00-2:00", "expected the offset as +hh:mm or -hh:mm"},
      {"2024-05-01T10:00:00+24:00", "offset hour 24 out of range"},
      {"2024-05-01T10:00:00+12:60", "offset minute 60 out of range"},
      {"2024-05-01T10:00:00UTC", "expected 'Z' or +hh:mm after the time"},
      {"2024-05-01T10:00:00 Z", "expected 'Z' or +hh:mm after the time"},
      {"2024-05-01T10:00:00Zx", "unexpected 'x' after the offset"},
      {"2024-05-01T10:00:00Z ", "unexpected ' ' after the offset"},
      {"2024-05-01T10:00:00+02:00:00", "unexpected ':00' after the offset"},
      {" 2024-05-01T10:00:00Z", "expected a 4-digit year"},
      {"2024-05-01  10:00:00Z", "expected a 2-digit hour"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const std::string message = rejection(c.text);
    const std::string head = "invalid timestamp '" + std::string(c.text) + "': " + c.what;
    CHECK_MESSAGE(message.compare(0, head.size(), head) == 0, message);
  }
  // The echo is one bounded line, whatever the input.
  const std::string message = rejection("2024-05-01T10:00:00Z\n" + std::string(200, 'x'));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.size() < 200);
}

TEST_CASE("timestamp: parse_epoch_unit") {
  CHECK(parse_epoch_unit("s") == EpochUnit::kSeconds);
  CHECK(parse_epoch_unit("ms") == EpochUnit::kMillis);
  CHECK(parse_epoch_unit("us") == EpochUnit::kMicros);
  CHECK(parse_epoch_unit("ns") == EpochUnit::kNanos);
  CHECK(parse_epoch_unit("auto") == EpochUnit::kAuto);
  for (auto text : {"", "S", "sec", "millis", "µs", " s"}) {
    CAPTURE(text);
    auto r = parse_epoch_unit(text);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message.find("(use s, ms, us, ns or auto)") != std::string::npos);
  }
}

TEST_CASE("timestamp: from_epoch with integers is exact") {
  CHECK(from_epoch(int64_t{1'714'557'600}, EpochUnit::kSeconds) == 1'714'557'600 * kNsPerSec);
  CHECK(from_epoch(int64_t{1'714'557'600'123}, EpochUnit::kMillis) == 1'714'557'600'123'000'000);
  CHECK(from_epoch(int64_t{1'714'557'600'123'456}, EpochUnit::kMicros) ==
        1'714'557'600'123'456'000);
  CHECK(from_epoch(kMax, EpochUnit::kNanos) == kMax);
  CHECK(from_epoch(kMin, EpochUnit::kNanos) == kMin);
  CHECK(from_epoch(int64_t{-1}, EpochUnit::kSeconds) == -kNsPerSec);
  CHECK(from_epoch(int64_t{9'223'372'036}, EpochUnit::kSeconds) == 9'223'372'036 * kNsPerSec);
  CHECK(from_epoch(int64_t{-9'223'372'036}, EpochUnit::kSeconds) == -9'223'372'036 * kNsPerSec);
  for (auto [value, unit] :
       {std::pair{int64_t{9'223'372'037}, EpochUnit::kSeconds},
        std::pair{int64_t{-9'223'372'037}, EpochUnit::kSeconds},
        std::pair{int64_t{9'223'372'036'855}, EpochUnit::kMillis},
        std::pair{kMax, EpochUnit::kMicros}, std::pair{kMin, EpochUnit::kSeconds}}) {
    CAPTURE(value);
    auto r = from_epoch(value, unit);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kData);
    CHECK(r.error().message.find("out of range") != std::string::npos);
  }
}

TEST_CASE("timestamp: kAuto picks the unit by magnitude") {
  const auto a = EpochUnit::kAuto;
  CHECK(from_epoch(int64_t{0}, a) == 0);
  CHECK(from_epoch(int64_t{1'714'557'600}, a) == 1'714'557'600 * kNsPerSec);
  CHECK(from_epoch(int64_t{-1'000}, a) == -1'000 * kNsPerSec);
  // Just below 1e11 is seconds (and out of the int64 range), 1e11 is milliseconds.
  CHECK(!from_epoch(int64_t{99'999'999'999}, a).has_value());
  CHECK(from_epoch(int64_t{100'000'000'000}, a) == 100'000'000'000'000'000);
  CHECK(from_epoch(int64_t{-100'000'000'000}, a) == -100'000'000'000'000'000);
  CHECK(from_epoch(int64_t{9'223'372'036'854}, a) == 9'223'372'036'854'000'000);
  CHECK(!from_epoch(int64_t{99'999'999'999'999}, a).has_value());                 // ms, beyond 2262
  CHECK(from_epoch(int64_t{100'000'000'000'000}, a) == 100'000'000'000'000'000);  // us
  CHECK(from_epoch(int64_t{1'714'557'600'123'456}, a) == 1'714'557'600'123'456'000);
  CHECK(from_epoch(int64_t{100'000'000'000'000'000}, a) == 100'000'000'000'000'000);  // ns
  CHECK(from_epoch(kMin, a) == kMin);
  // The same thresholds for doubles and for number text.
  CHECK(from_epoch(1'714'557'600.5, a) == 1'714'557'600'500'000'000);
  CHECK(from_epoch(1e11, a) == 100'000'000'000'000'000);
  CHECK(from_epoch(1e14, a) == 100'000'000'000'000'000);
  CHECK(from_epoch(1e17, a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("1714557600123", a) == 1'714'557'600'123'000'000);
  CHECK(parse_epoch_text("99999999999.9", a).has_value() == false);
  CHECK(parse_epoch_text("100000000000", a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("1e11", a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("0.1e12", a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("9223372036854.5", a) == 9'223'372'036'854'500'000);
  CHECK(!parse_epoch_text("99999999999999.5", a).has_value());  // ms, beyond 2262
  CHECK(parse_epoch_text("1e14", a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("1e17", a) == 100'000'000'000'000'000);
  CHECK(parse_epoch_text("-1714557600.25", a) == -1'714'557'600'250'000'000);
}

TEST_CASE("timestamp: from_epoch with doubles keeps fractions to the nanosecond") {
  CHECK(from_epoch(0.0, EpochUnit::kSeconds) == 0);
  CHECK(from_epoch(-0.0, EpochUnit::kSeconds) == 0);
  CHECK(from_epoch(1.5, EpochUnit::kSeconds) == 1'500'000'000);
  CHECK(from_epoch(0.3, EpochUnit::kSeconds) == 300'000'000);
  CHECK(from_epoch(-1.25, EpochUnit::kSeconds) == -1'250'000'000);
  CHECK(from_epoch(1.000000001, EpochUnit::kSeconds) == 1'000'000'001);
  CHECK(from_epoch(1'714'557'600'123.0, EpochUnit::kMillis) == 1'714'557'600'123'000'000);
  CHECK(from_epoch(1.5, EpochUnit::kMillis) == 1'500'000);
  CHECK(from_epoch(2.5, EpochUnit::kMicros) == 2'500);
  CHECK(from_epoch(7.0, EpochUnit::kNanos) == 7);
  CHECK(from_epoch(9'223'372'036.0, EpochUnit::kSeconds) == 9'223'372'036'000'000'000);
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    auto r = from_epoch(bad, EpochUnit::kSeconds);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kData);
    CHECK(r.error().message.find("not a finite number") != std::string::npos);
  }
  for (double big : {9'223'372'037.0, -9'223'372'037.0, 1e300, -1e300, 0x1p63, -0x1p63 * 2}) {
    CAPTURE(big);
    auto r = from_epoch(big, EpochUnit::kSeconds);
    REQUIRE(!r.has_value());
    CHECK(r.error().message.find("out of range") != std::string::npos);
  }
  CHECK(!from_epoch(0x1p63, EpochUnit::kNanos).has_value());
  CHECK(from_epoch(-0x1p63, EpochUnit::kNanos) == kMin);
  CHECK(!from_epoch(-1e300, EpochUnit::kAuto).has_value());
}

TEST_CASE("timestamp: parse_epoch_text is exact") {
  const auto s = EpochUnit::kSeconds;
  CHECK(parse_epoch_text("0", s) == 0);
  CHECK(parse_epoch_text("-0", s) == 0);
  CHECK(parse_epoch_text("0.0e5", s) == 0);
  CHECK(parse_epoch_text("1714557600", s) == 1'714'557'600'000'000'000);
  CHECK(parse_epoch_text("1714557600.5", s) == 1'714'557'600'500'000'000);
  CHECK(parse_epoch_text("1714557600.123456789", s) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("1.714557600123456789e9", s) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("1714557600123456789E-9", s) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("17145576001234567.89e-7", s) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("0.000000001", s) == 1);
  CHECK(parse_epoch_text("-1.5", s) == -1'500'000'000);
  CHECK(parse_epoch_text("1714557600123", EpochUnit::kMillis) == 1'714'557'600'123'000'000);
  CHECK(parse_epoch_text("1714557600123.456789", EpochUnit::kMillis) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("1714557600123456", EpochUnit::kMicros) == 1'714'557'600'123'456'000);
  CHECK(parse_epoch_text("1714557600123456789", EpochUnit::kNanos) == 1'714'557'600'123'456'789);
  CHECK(parse_epoch_text("12e+2", EpochUnit::kNanos) == 1'200);
  // Digits below the nanosecond are floored, toward the earlier instant.
  CHECK(parse_epoch_text("0.0000000015", s) == 1);
  CHECK(parse_epoch_text("-0.0000000015", s) == -2);
  CHECK(parse_epoch_text("-0.0000000010", s) == -1);
  CHECK(parse_epoch_text("1e-100000000", s) == 0);
  CHECK(parse_epoch_text("-1e-100000000", s) == -1);
  CHECK(parse_epoch_text("0e99999999999999999999", s) == 0);
  CHECK(parse_epoch_text("0.00000000000000000000000001e26", EpochUnit::kNanos) == 1);
  // Both ends of the range, exactly.
  CHECK(parse_epoch_text("9223372036.854775807", s) == kMax);
  CHECK(parse_epoch_text("9223372036854775807", EpochUnit::kNanos) == kMax);
  CHECK(parse_epoch_text("-9223372036.854775808", s) == kMin);
  CHECK(parse_epoch_text("-9223372036854775808", EpochUnit::kNanos) == kMin);
  CHECK(parse_epoch_text("-9223372036854775807.5", EpochUnit::kNanos) == kMin);
  const auto ns = EpochUnit::kNanos;
  for (auto [text, unit] :
       {std::pair{"9223372036.854775808", s}, std::pair{"-9223372036.8547758081", s},
        std::pair{"9223372037", s}, std::pair{"9223372036854775808", ns}, std::pair{"1e19", ns},
        std::pair{"1e400", ns}, std::pair{"-1e400", ns},
        std::pair{"123456789012345678901234567890", ns}}) {
    CAPTURE(text);
    auto r = parse_epoch_text(text, unit);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kData);
    CHECK(r.error().message.find("out of range") != std::string::npos);
  }
  struct Case {
    const char* text;
    const char* what;
  };
  for (const Case& c :
       {Case{"", "expected digits"}, Case{"-", "expected digits"}, Case{"+1", "expected digits"},
        Case{" 1", "expected digits"}, Case{".5", "expected digits"}, Case{"01", "leading zero"},
        Case{"-00.5", "leading zero"}, Case{"1.", "expected digits after '.'"},
        Case{"1.e5", "expected digits after '.'"}, Case{"1e", "expected digits in the exponent"},
        Case{"1e+", "expected digits in the exponent"}, Case{"1x", "unexpected 'x'"},
        Case{"1 ", "unexpected ' '"}, Case{"1.5.5", "unexpected '.5'"},
        Case{"NaN", "expected digits"}, Case{"Infinity", "expected digits"}}) {
    CAPTURE(c.text);
    auto r = parse_epoch_text(c.text, s);
    REQUIRE(!r.has_value());
    CHECK(r.error().kind == ErrorKind::kData);
    CHECK(r.error().message ==
          "invalid epoch number '" + std::string(c.text) + "': " + std::string(c.what));
  }
}

TEST_CASE("timestamp: formats RFC 3339 with ms and ns") {
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(format_rfc3339_ms(1'714'557'600'123'456'789) == "2024-05-01T10:00:00.123Z");
  CHECK(format_rfc3339_ns(1'714'557'600'123'456'789) == "2024-05-01T10:00:00.123456789Z");
  // Before 1970 the fraction still counts forward inside its second.
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ns(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(format_rfc3339_ns(-kNsPerSec) == "1969-12-31T23:59:59.000000000Z");
  CHECK(format_rfc3339_ns(-kNsPerSec - 1) == "1969-12-31T23:59:58.999999999Z");
  CHECK(format_rfc3339_ms(-86'400 * kNsPerSec) == "1969-12-31T00:00:00.000Z");
  CHECK(format_rfc3339_ms(-2'208'988'800 * kNsPerSec) == "1900-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ns(951'782'400 * kNsPerSec) == "2000-02-29T00:00:00.000000000Z");
  CHECK(format_rfc3339_ns(kMax) == "2262-04-11T23:47:16.854775807Z");
  CHECK(format_rfc3339_ns(kMin) == "1677-09-21T00:12:43.145224192Z");
  CHECK(format_rfc3339_ms(kMax) == "2262-04-11T23:47:16.854Z");
  CHECK(format_rfc3339_ms(kMin) == "1677-09-21T00:12:43.145Z");

  std::string out = "ts=";
  append_rfc3339_ms(out, 1'714'557'600'123'456'789);
  append_rfc3339_ms(out, -1);
  CHECK(out == "ts=2024-05-01T10:00:00.123Z1969-12-31T23:59:59.999Z");
}

TEST_CASE("timestamp: format and parse round-trip across the whole range") {
  // A fixed-seed walk over int64, plus the edges.
  std::vector<Timestamp> values = {0, 1, -1, kMax, kMin, kMax - 1, kMin + 1};
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20'000; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    values.push_back(static_cast<Timestamp>(state));
  }
  for (Timestamp t : values) {
    const std::string text = format_rfc3339_ns(t);
    auto back = parse_rfc3339(text);
    REQUIRE_MESSAGE(back.has_value(), text);
    REQUIRE_MESSAGE(*back == t, text);
    const std::string ms = format_rfc3339_ms(t);
    REQUIRE(ms.size() == 24);
    REQUIRE(ms.compare(0, 23, text, 0, 23) == 0);
  }
}

TEST_CASE("timestamp: days_from_civil and civil_from_days agree with std::chrono") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 3, 1) == 11'017);
  CHECK(days_from_civil(1600, 1, 1) == -135'140);
  CHECK(days_from_civil(-1, 12, 31) == -719'529);
  for (int64_t days = -800'000; days <= 800'000; days += 37) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    const std::chrono::year_month_day want{std::chrono::sys_days{std::chrono::days{days}}};
    REQUIRE(y == static_cast<int>(want.year()));
    REQUIRE(m == static_cast<unsigned>(want.month()));
    REQUIRE(d == static_cast<unsigned>(want.day()));
    REQUIRE(days_from_civil(y, m, d) == days);
  }
}

// ---------------------------------------------------------------------------
// The toml-test corpus (toml-lang/toml-test, see shared/corpora/SOURCES.md).
//
// Each valid/*/*.toml has a .json companion giving every key's type and a
// normalized value. Of the types, only "datetime" (TOML's offset date-time) is an
// RFC 3339 date-time. "datetime-local", "date-local" and "time-local" have no
// offset and are not instants; they are skipped and counted, as are non-date
// values. Where TOML and RFC 3339 differ:
//  - TOML 1.1 lets seconds be omitted ("1979-05-27 07:32Z", valid/datetime/
//    no-seconds.toml); RFC 3339 requires them, so parse_rfc3339 rejects these.
//    They are skipped as "TOML-only" after checking that they are rejected.
//    (invalid/datetime/no-secs.toml is the TOML 1.0 view of the same form.)
//  - TOML allows years 0001 and 9999 (valid/datetime/edge.toml); they are valid
//    RFC 3339 but outside the int64 ns range, so the expectation for those is a
//    data error "out of range" - they count as checked.
// Every value in invalid/ must be rejected; those under invalid/datetime are
// date-time cases; those under invalid/local-* are local forms, checked too but
// counted apart, because without an offset parse_rfc3339 would reject them even
// if the rest were fine (local-datetime/time-no-leads.toml does carry a 'Z').
// ---------------------------------------------------------------------------
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The key = value pairs of a flat TOML document, comments dropped and quoted keys unquoted.
std::vector<std::pair<std::string, std::string>> toml_pairs(const std::string& doc) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream lines(doc);
  std::string line;
  while (std::getline(lines, line)) {
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#') continue;
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(l.substr(0, eq));
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"') {
      key = key.substr(1, key.size() - 2);
    }
    std::string_view value = l.substr(eq + 1);
    if (const size_t hash = value.find('#'); hash != std::string_view::npos) {
      value = value.substr(0, hash);
    }
    pairs.emplace_back(std::string(key), std::string(trim(value)));
  }
  return pairs;
}

struct Expected {
  std::string type;
  std::string value;
};

// key -> {type, value} from a toml-test JSON file, which is one flat object of
// {"type": ..., "value": ...} objects. Read as its sequence of string literals:
// key, then "type"/"value" each followed by its value, in either order.
std::vector<std::pair<std::string, Expected>> json_expectations(const std::string& doc) {
  std::vector<std::string> strings;
  for (size_t i = 0; i < doc.size(); ++i) {
    if (doc[i] != '"') continue;
    std::string str;
    for (++i; i < doc.size() && doc[i] != '"'; ++i) {
      if (doc[i] == '\\' && i + 1 < doc.size()) ++i;  // the corpus values need no unescaping
      str += doc[i];
    }
    strings.push_back(std::move(str));
  }
  std::vector<std::pair<std::string, Expected>> out;
  for (size_t i = 0; i + 4 < strings.size(); ++i) {
    const bool type_first = strings[i + 1] == "type" && strings[i + 3] == "value";
    const bool value_first = strings[i + 1] == "value" && strings[i + 3] == "type";
    if (!type_first && !value_first) continue;
    Expected e{strings[i + (type_first ? 2 : 4)], strings[i + (type_first ? 4 : 2)]};
    out.emplace_back(strings[i], std::move(e));
    i += 4;
  }
  return out;
}

int field(std::string_view s, size_t pos, size_t len) {
  int v = 0;
  std::from_chars(s.data() + pos, s.data() + pos + len, v);
  return v;
}

// The instant of toml-test's normalized "YYYY-MM-DDTHH:MM:SS[.fff](Z|±hh:mm)",
// as {seconds, nanoseconds}, computed with std::chrono rather than our parser.
std::pair<int64_t, int64_t> oracle_instant(std::string_view v) {
  int64_t secs = chrono_seconds(field(v, 0, 4), static_cast<unsigned>(field(v, 5, 2)),
                                static_cast<unsigned>(field(v, 8, 2)), field(v, 11, 2),
                                field(v, 14, 2), field(v, 17, 2));
  size_t pos = 19;
  int64_t ns = 0;
  if (v[pos] == '.') {
    int64_t scale = 100'000'000;
    for (++pos; pos < v.size() && v[pos] >= '0' && v[pos] <= '9'; ++pos, scale /= 10) {
      ns += (v[pos] - '0') * scale;
    }
  }
  if (v[pos] != 'Z') {
    const int offset = field(v, pos + 1, 2) * 3600 + field(v, pos + 4, 2) * 60;
    secs -= v[pos] == '-' ? -offset : offset;
  }
  return {secs, ns};
}

}  // namespace

TEST_CASE("timestamp: toml-test RFC 3339 corpus") {
  const std::filesystem::path root =
      std::filesystem::path(EV_SHARED_DIR) / "corpora/timestamps/toml-test/tests";
  REQUIRE_MESSAGE(std::filesystem::is_directory(root / "valid"), root.string());
  REQUIRE_MESSAGE(std::filesystem::is_directory(root / "invalid/datetime"), root.string());

  int valid_checked = 0, valid_out_of_range = 0, skipped_local = 0, skipped_not_date = 0;
  int skipped_toml_only = 0, invalid_checked = 0, invalid_local = 0;

  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "valid")) {
    if (entry.path().extension() != ".toml") continue;
    std::filesystem::path json_path = entry.path();
    json_path.replace_extension(".json");
    REQUIRE_MESSAGE(std::filesystem::exists(json_path), json_path.string());
    const auto pairs = toml_pairs(read_text(entry.path()));
    const auto expectations = json_expectations(read_text(json_path));
    REQUIRE(pairs.size() == expectations.size());
    for (const auto& [key, raw] : pairs) {
      CAPTURE(entry.path().string());
      CAPTURE(raw);
      const Expected* want = nullptr;
      for (const auto& [k, e] : expectations) {
        if (k == key) want = &e;
      }
      REQUIRE_MESSAGE(want != nullptr, key);
      if (want->type == "datetime-local" || want->type == "date-local" ||
          want->type == "time-local") {
        ++skipped_local;  // no offset: not an RFC 3339 date-time
        continue;
      }
      if (want->type != "datetime") {
        ++skipped_not_date;
        continue;
      }
      if (raw.size() < 17 || raw[16] != ':') {
        // TOML 1.1 short form without seconds; RFC 3339 requires them.
        CHECK_FALSE(parse_rfc3339(raw).has_value());
        ++skipped_toml_only;
        continue;
      }
      const auto [secs, ns] = oracle_instant(want->value);
      const Int128 instant = static_cast<Int128>(secs) * kNsPerSec + ns;
      auto got = parse_rfc3339(raw);
      if (instant < kMin || instant > kMax) {
        REQUIRE(!got.has_value());
        CHECK(got.error().message.find("out of range") != std::string::npos);
        ++valid_out_of_range;
      } else {
        REQUIRE_MESSAGE(got.has_value(), got.error().message);
        CHECK(*got == static_cast<Timestamp>(instant));
      }
      ++valid_checked;
    }
  }

  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "invalid")) {
    if (entry.path().extension() != ".toml") continue;
    const bool local = entry.path().parent_path().filename() != "datetime";
    for (const auto& [key, raw] : toml_pairs(read_text(entry.path()))) {
      CAPTURE(entry.path().string());
      CAPTURE(raw);
      auto got = parse_rfc3339(raw);
      REQUIRE(!got.has_value());
      CHECK(got.error().kind == ErrorKind::kData);
      ++(local ? invalid_local : invalid_checked);
    }
  }

  MESSAGE("toml-test: valid date-times checked: "
          << valid_checked << " (of which " << valid_out_of_range
          << " outside the int64 ns range, rejected as out of range)"
          << "; invalid date-times rejected: " << invalid_checked
          << "; invalid local forms rejected: " << invalid_local << "; skipped: " << skipped_local
          << " local date/time values, " << skipped_toml_only
          << " TOML-only date-times without seconds, " << skipped_not_date << " non-date values");
  CHECK(valid_checked >= 15);
  CHECK(valid_out_of_range >= 1);
  CHECK(invalid_checked >= 30);
  CHECK(skipped_local >= 1);
}

}  // namespace ev::time

TEST_CASE("timestamp: parse_time_text picks the form by shape and reports that form's error") {
  using ev::time::EpochUnit;
  using ev::time::parse_time_text;
  CHECK(*parse_time_text("2024-05-01T10:00:00Z", EpochUnit::kAuto) == 1714557600LL * 1'000'000'000);
  CHECK(*parse_time_text("1714557600", EpochUnit::kAuto) == 1714557600LL * 1'000'000'000);
  CHECK(*parse_time_text("-1.5", EpochUnit::kSeconds) == -1'500'000'000);
  auto far = parse_time_text("99999-01-01T00:00:00Z", EpochUnit::kAuto);
  REQUIRE_FALSE(far);
  CHECK(far.error().message.find("epoch") != std::string::npos);  // five digits: a number
  auto bad_date = parse_time_text("2024-13-01T00:00:00Z", EpochUnit::kAuto);
  REQUIRE_FALSE(bad_date);
  CHECK(bad_date.error().message.find("epoch") == std::string::npos);
  auto word = parse_time_text("soon", EpochUnit::kAuto);
  REQUIRE_FALSE(word);
  CHECK(word.error().message.find("epoch") == std::string::npos);
  CHECK_FALSE(parse_time_text("1e400", EpochUnit::kAuto));
}
