#include "libcore/time/clock.h"

#include <time.h>

#include <limits>

#include "libcore/base/stop.h"

namespace ev::time {
namespace {
int64_t read(clockid_t id) {
  struct timespec ts {};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

int64_t SystemClock::now_ns() { return read(CLOCK_REALTIME); }
int64_t SystemClock::mono_ns() { return read(CLOCK_MONOTONIC); }

void SystemClock::sleep_until_mono(int64_t deadline) {
  struct timespec ts {
    static_cast<time_t>(deadline / 1'000'000'000), deadline % 1'000'000'000
  };
  while (!stop_requested()) {
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    if (r == 0) return;  // EINTR: loop and look at the stop flag
  }
}

int64_t paced_due(int64_t start, uint64_t index, double rate) {
  const double offset = static_cast<double>(index) * 1e9 / rate;
  const double room = static_cast<double>(std::numeric_limits<int64_t>::max() - start);
  if (!(offset < room)) return std::numeric_limits<int64_t>::max();
  return start + static_cast<int64_t>(offset);
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace ev::time
