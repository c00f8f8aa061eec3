#include "libcore/time/clock.h"

#include <time.h>

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

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace ev::time
