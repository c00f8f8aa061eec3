#include "libcore/gen/generate.h"

#include <cmath>

#include "libcore/base/stop.h"

namespace ev::gen {

Status check(const GenerateOptions& opt) {
  auto prob = [](double p, const char* name) -> Status {
    if (!(p >= 0.0 && p <= 1.0)) {
      return usage_error(std::string(name) + " must be a probability between 0 and 1");
    }
    return {};
  };
  if (auto st = prob(opt.events.duplicates, "--duplicates"); !st) return st;
  if (auto st = prob(opt.events.late, "--late"); !st) return st;
  if (auto st = prob(opt.events.malformed, "--malformed"); !st) return st;
  if (opt.events.duplicates + opt.events.late + opt.events.malformed > 1.0) {
    return usage_error("--duplicates + --late + --malformed must not exceed 1");
  }
  if (opt.events.users == 0) return usage_error("--users must be at least 1");
  if (opt.events.users > 100'000'000) return usage_error("--users must be at most 100000000");
  if (opt.events.max_late <= 0) return usage_error("--max-late must be positive");
  if (opt.events.interval <= 0) return usage_error("--interval must be positive");
  if (opt.rate < 0 || !std::isfinite(opt.rate)) return usage_error("--rate must be positive");
  if (opt.profiles && opt.rate > 0) return usage_error("--rate does not apply to --profiles");
  return {};
}

Status generate(const GenerateOptions& opt, io::LineWriter& out, time::Clock& clock) {
  if (auto st = check(opt); !st) return st;
  if (opt.profiles) {
    ProfileGenerator profiles(opt.events);
    while (!stop_requested() && profiles.next(out.buffer())) {
      if (auto st = out.end_line(); !st) return st;
    }
    return out.close();
  }
  Generator gen(opt.events);
  const int64_t start = clock.mono_ns();
  for (uint64_t i = 0; opt.count == 0 || i < opt.count; ++i) {
    if (stop_requested()) break;
    if (opt.rate > 0) {
      const int64_t due = time::paced_due(start, i, opt.rate);
      if (clock.mono_ns() < due) {
        if (auto st = out.flush(); !st) return st;
        clock.sleep_until_mono(due);
        if (stop_requested()) break;
      }
    }
    gen.next(out.buffer());
    if (auto st = out.end_line(); !st) return st;
  }
  return out.close();
}

}  // namespace ev::gen
