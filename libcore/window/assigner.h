// Window assignment: which tumbling or hopping windows an event time falls in.
//
// A window is [start, end) in event time (ns UTC). Tumbling windows of size S start
// at every multiple of S; hopping windows of size S and slide D start at every
// multiple of D, so each time lies in about S/D windows. --align A shifts all starts
// by A (1d windows with --align 6h run 06:00 to 06:00). With a time zone, starts are
// computed on the zone's wall clock (civil time) and converted back, so 1d windows
// begin at local midnight and last 23 or 25 hours across a DST change; a start that
// falls into a DST gap is the moment the clock jumps, and one in a repeated hour its
// first occurrence; an instant belongs to the windows whose converted bounds hold it,
// so near a DST change windows tile time without overlapping. Session windows are
// per key and live in the window stage. Not thread-safe (a zone's windows are cached).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/time/duration.h"

namespace ev::window {

struct Span {
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const Span&) const = default;
};

struct WindowSpec {
  time::Duration size = 0;   // the window length
  time::Duration slide = 0;  // the distance between starts (size for tumbling)
  time::Duration align = 0;  // offset of the starts
  std::string tz;            // IANA zone ("Europe/Berlin"); empty: UTC
};

// "10m/1m" into size and slide. Fails with kUsage naming the problem.
Result<WindowSpec> parse_hop(std::string_view text);

class Assigner {
 public:
  // Checks the spec (positive size and slide, slide <= size, |align| < slide, a
  // known zone); fails with kUsage.
  static Result<Assigner> make(const WindowSpec& spec);

  // The windows holding `t`, oldest first, into `out` (cleared first).
  void windows_of(int64_t t, std::vector<Span>& out) const;
  const WindowSpec& spec() const { return spec_; }

 private:
  struct Zone;
  Assigner(WindowSpec spec, std::shared_ptr<const Zone> zone)
      : spec_(std::move(spec)), zone_(std::move(zone)) {}
  WindowSpec spec_;
  std::shared_ptr<const Zone> zone_;  // null: UTC
  // With a zone: the windows of the last time asked for, valid for [cache_lo_, cache_hi_).
  mutable std::vector<Span> cache_;
  mutable int64_t cache_lo_ = 0, cache_hi_ = 0;
};

}  // namespace ev::window
