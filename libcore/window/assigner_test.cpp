#include "libcore/window/assigner.h"

#include <doctest/doctest.h>

#include <vector>

#include "libcore/time/timestamp.h"

using ev::window::Assigner;
using ev::window::Span;
using ev::window::WindowSpec;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;

int64_t at(const char* rfc3339) { return *ev::time::parse_rfc3339(rfc3339); }

std::vector<Span> windows(const WindowSpec& spec, int64_t t) {
  auto a = Assigner::make(spec);
  REQUIRE(a.has_value());
  std::vector<Span> out;
  a->windows_of(t, out);
  return out;
}

}  // namespace

TEST_CASE("assigner: tumbling windows hold their start and not their end") {
  WindowSpec spec{kMin, kMin, 0, ""};
  CHECK(windows(spec, 0) == std::vector<Span>{{0, kMin}});
  CHECK(windows(spec, kMin - 1) == std::vector<Span>{{0, kMin}});
  CHECK(windows(spec, kMin) == std::vector<Span>{{kMin, 2 * kMin}});
  // Before 1970 the floor still goes down.
  CHECK(windows(spec, -1) == std::vector<Span>{{-kMin, 0}});
}

TEST_CASE("assigner: hopping windows, oldest first, size/slide of them") {
  WindowSpec spec{10 * kMin, kMin, 0, ""};
  auto w = windows(spec, 30 * kMin + 5 * kSec);
  REQUIRE(w.size() == 10);
  CHECK(w.front() == Span{21 * kMin, 31 * kMin});
  CHECK(w.back() == Span{30 * kMin, 40 * kMin});
  // A slide that does not divide the size: 25s windows every 10s hold a time 2 or 3 times.
  WindowSpec odd{25 * kSec, 10 * kSec, 0, ""};
  CHECK(windows(odd, 0).size() == 3);
  CHECK(windows(odd, 5 * kSec).size() == 2);
  for (int64_t t = -100 * kSec; t < 100 * kSec; t += 3 * kSec) {
    for (const auto& s : windows(odd, t)) {
      CHECK(s.start <= t);
      CHECK(t < s.end);
    }
  }
}

TEST_CASE("assigner: --align shifts the starts") {
  WindowSpec spec{24 * kHour, 24 * kHour, 6 * kHour, ""};
  CHECK(windows(spec, at("2024-05-01T05:59:59Z")) ==
        std::vector<Span>{{at("2024-04-30T06:00:00Z"), at("2024-05-01T06:00:00Z")}});
  CHECK(windows(spec, at("2024-05-01T06:00:00Z")) ==
        std::vector<Span>{{at("2024-05-01T06:00:00Z"), at("2024-05-02T06:00:00Z")}});
}

TEST_CASE("assigner: days in a time zone start at local midnight, 23 or 25 hours long") {
  WindowSpec spec{24 * kHour, 24 * kHour, 0, "Europe/Berlin"};
  // 2024-03-31: clocks go from 02:00 CET to 03:00 CEST.
  CHECK(windows(spec, at("2024-03-31T12:00:00Z")) ==
        std::vector<Span>{{at("2024-03-30T23:00:00Z"), at("2024-03-31T22:00:00Z")}});
  // 2024-10-27: from 03:00 CEST back to 02:00 CET.
  CHECK(windows(spec, at("2024-10-27T12:00:00Z")) ==
        std::vector<Span>{{at("2024-10-26T22:00:00Z"), at("2024-10-27T23:00:00Z")}});
  // Local midnight belongs to the new day.
  CHECK(windows(spec, at("2024-05-01T22:00:00Z")).front().start == at("2024-05-01T22:00:00Z"));
  // An hour that does not exist locally starts when the clock jumps.
  WindowSpec hours{kHour, kHour, 0, "Europe/Berlin"};
  CHECK(windows(hours, at("2024-03-31T01:30:00Z")) ==
        std::vector<Span>{{at("2024-03-31T01:00:00Z"), at("2024-03-31T02:00:00Z")}});
}

TEST_CASE("assigner: times at the ends of the range saturate instead of wrapping") {
  WindowSpec spec{kHour, kHour, 0, ""};
  auto hi = windows(spec, INT64_MAX - 1);
  REQUIRE(hi.size() == 1);
  CHECK(hi[0].start <= INT64_MAX - 1);
  CHECK(hi[0].end == INT64_MAX);
  auto lo = windows(spec, INT64_MIN + 1);
  REQUIRE(lo.size() == 1);
  CHECK(lo[0].start == INT64_MIN);
}

TEST_CASE("assigner: bad specs are usage errors") {
  CHECK_FALSE(Assigner::make({0, 0, 0, ""}).has_value());
  CHECK_FALSE(Assigner::make({kMin, 2 * kMin, 0, ""}).has_value());
  CHECK_FALSE(Assigner::make({kMin, kMin, kMin, ""}).has_value());
  auto bad_zone = Assigner::make({kMin, kMin, 0, "Mars/Olympus"});
  REQUIRE_FALSE(bad_zone.has_value());
  CHECK(bad_zone.error().kind == ev::ErrorKind::kUsage);
  CHECK(bad_zone.error().message.find("Mars/Olympus") != std::string::npos);
  auto hop = ev::window::parse_hop("10m/1m");
  REQUIRE(hop.has_value());
  CHECK(hop->size == 10 * kMin);
  CHECK(hop->slide == kMin);
  CHECK_FALSE(ev::window::parse_hop("10m").has_value());
  CHECK_FALSE(ev::window::parse_hop("10m/x").has_value());
}
