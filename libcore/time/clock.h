// Clock: the only way stages read or wait for wall-clock time.
//
// Stages receive a Clock& so tests drive time with ManualClock (libcore/testing).
// SystemClock::sleep_until returns early when a stop is requested (SIGINT/SIGTERM).
// Thread-safe (no state).
#pragma once

#include <cstdint>

namespace ev::time {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch (CLOCK_REALTIME).
  virtual int64_t now_ns() = 0;
  // Monotonic nanoseconds, for measuring intervals and pacing.
  virtual int64_t mono_ns() = 0;
  // Sleeps until mono_ns() >= deadline, or a stop is requested.
  virtual void sleep_until_mono(int64_t deadline) = 0;
};

// When item `index` (0-based) of a stream paced to `rate` items per second is due on
// the monotonic clock, counting from `start`. Saturates at INT64_MAX (never, in
// practice) instead of overflowing when the rate is very slow. Requires rate > 0.
int64_t paced_due(int64_t start, uint64_t index, double rate);

class SystemClock final : public Clock {
 public:
  int64_t now_ns() override;
  int64_t mono_ns() override;
  void sleep_until_mono(int64_t deadline) override;
  static SystemClock& instance();
};

// A clock that moves only when told to (tests). sleep_until_mono jumps to the deadline.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ns = 0) : now_(start_ns) {}
  int64_t now_ns() override { return now_; }
  int64_t mono_ns() override { return now_; }
  void sleep_until_mono(int64_t deadline) override {
    ++sleeps_;
    if (deadline > now_) now_ = deadline;
  }
  void advance(int64_t ns) { now_ += ns; }
  int sleeps() const { return sleeps_; }

 private:
  int64_t now_;
  int sleeps_ = 0;
};

}  // namespace ev::time
