#include "libcore/window/assigner.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <algorithm>

namespace ev::window {

struct Assigner::Zone {
  absl::TimeZone tz;
};

namespace {

using i128 = __int128;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t clamp64(i128 v) {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : static_cast<int64_t>(v);
}

// The windows holding `t` on a clock where `t` reads as it is, oldest first; times
// near the ends of the int64 range saturate instead of wrapping.
template <class Emit>
void starts_of(int64_t t, const WindowSpec& spec, Emit&& emit) {
  i128 shifted = static_cast<i128>(t) - spec.align;
  i128 q = shifted / spec.slide;
  if (shifted % spec.slide != 0 && shifted < 0) --q;
  const i128 last = q * spec.slide + spec.align;
  i128 first = last;
  while (first - spec.slide > static_cast<i128>(t) - spec.size) first -= spec.slide;
  for (i128 s = first; s <= last; s += spec.slide) emit(clamp64(s), clamp64(s + spec.size));
}

const absl::CivilSecond kEpoch(1970, 1, 1, 0, 0, 0);

// Local wall-clock ns since 1970-01-01T00:00 (as if that clock were UTC).
int64_t to_local(int64_t t, const absl::TimeZone& tz) {
  const absl::Time at = absl::FromUnixNanos(t);
  return t + static_cast<int64_t>(tz.At(at).offset) * 1'000'000'000;
}

int64_t to_absolute(int64_t local, const absl::TimeZone& tz) {
  const int64_t secs = floor_div(local, 1'000'000'000);
  const int64_t sub = local - secs * 1'000'000'000;
  const absl::TimeZone::TimeInfo info = tz.At(kEpoch + secs);
  // A skipped wall time starts when the clock jumps; a repeated one at its first pass.
  const absl::Time at = info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
  return absl::ToUnixNanos(at) + sub;
}

}  // namespace

Result<WindowSpec> parse_hop(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return usage_error("--hop: expected SIZE/SLIDE, e.g. 10m/1m; got '" + std::string(text) + "'");
  }
  auto size = time::parse_duration(text.substr(0, slash));
  if (!size) return usage_error("--hop: size: " + size.error().message);
  auto slide = time::parse_duration(text.substr(slash + 1));
  if (!slide) return usage_error("--hop: slide: " + slide.error().message);
  WindowSpec spec;
  spec.size = *size;
  spec.slide = *slide;
  return spec;
}

Result<Assigner> Assigner::make(const WindowSpec& spec) {
  if (spec.size <= 0) return usage_error("the window size must be positive");
  if (spec.slide <= 0) return usage_error("the window slide must be positive");
  if (spec.slide > spec.size) {
    return usage_error("the slide (" + time::format_duration(spec.slide) +
                       ") cannot be longer than the window (" + time::format_duration(spec.size) +
                       "): events between windows would belong to none");
  }
  if (spec.align <= -spec.slide || spec.align >= spec.slide) {
    return usage_error("--align must be shorter than the " +
                       std::string(spec.slide == spec.size ? "window" : "slide") + " (" +
                       time::format_duration(spec.slide) + ")");
  }
  std::shared_ptr<const Zone> zone;
  if (!spec.tz.empty() && spec.tz != "UTC") {
    auto z = std::make_shared<Zone>();
    if (!absl::LoadTimeZone(spec.tz, &z->tz)) {
      return usage_error("--tz: unknown time zone '" + spec.tz +
                         "' (an IANA name such as Europe/Berlin, from /usr/share/zoneinfo)");
    }
    zone = std::move(z);
  }
  return Assigner(spec, std::move(zone));
}

void Assigner::windows_of(int64_t t, std::vector<Span>& out) const {
  out.clear();
  if (!zone_) {
    starts_of(t, spec_, [&](int64_t s, int64_t e) { out.push_back({s, e}); });
    return;
  }
  if (t >= cache_lo_ && t < cache_hi_) {
    out = cache_;
    return;
  }
  // Civil boundaries map to instants (the first pass of a repeated hour, the jump of a
  // skipped one), and the windows are the spans between them that hold `t`: near a
  // DST change these tile time without overlapping, however the wall clock reads.
  const absl::TimeZone& tz = zone_->tz;
  const int64_t local = to_local(t, tz);
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  std::vector<Span>& found = cache_;
  found.clear();
  // Two slides beyond either side of the candidates cover an offset change of up to
  // two slides (DST moves by an hour or less).
  const i128 last =
      static_cast<i128>(floor_div(local - spec_.align, spec_.slide)) * spec_.slide + spec_.align;
  for (i128 c = last + 2 * static_cast<i128>(spec_.slide);
       c > last - spec_.size - 2 * static_cast<i128>(spec_.slide); c -= spec_.slide) {
    const int64_t start = to_absolute(clamp64(c), tz);
    const int64_t end = to_absolute(clamp64(c + spec_.size), tz);
    if (start <= t && t < end) {
      found.push_back({start, end});
      lo = std::max(lo, start);
      hi = std::min(hi, end);
    } else if (start > t) {
      hi = std::min(hi, start);
    } else {
      lo = std::max(lo, end);
    }
  }
  std::reverse(found.begin(), found.end());
  cache_lo_ = lo;
  cache_hi_ = hi;
  out = found;
}

}  // namespace ev::window
