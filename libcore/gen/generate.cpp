#include "libcore/gen/generate.h"

#include <simdjson.h>

#include <cmath>
#include <memory>

#include "libcore/base/stop.h"
#include "libcore/expr/filter.h"
#include "libcore/json/event.h"

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
  if (!opt.where.empty()) {
    auto f = expr::Filter::compile(opt.where, {});
    if (!f) return std::unexpected(f.error());
  }
  if (opt.rate < 0 || !std::isfinite(opt.rate)) return usage_error("--rate must be positive");
  if (opt.profiles && opt.rate > 0) return usage_error("--rate does not apply to --profiles");
  return {};
}

namespace {

// --where over the line just appended to `buffer` (from `begin`): true to keep it.
class LineFilter {
 public:
  explicit LineFilter(std::unique_ptr<expr::Filter> filter) : filter_(std::move(filter)) {}
  // Whether to write the line; an expression that fails on a generated event is the
  // expression's fault (the data is ours): a usage error naming the line.
  Result<bool> keep(const std::string& buffer, size_t begin) {
    if (!filter_) return true;
    size_t end = buffer.size();
    if (end > begin && buffer[end - 1] == '\n') --end;
    padded_.assign(buffer, begin, end - begin);
    padded_.append(simdjson::SIMDJSON_PADDING, ' ');
    event_.reset(std::string_view(padded_.data(), end - begin), "ev-gen", ++line_);
    switch (filter_->test(event_)) {
      case expr::Filter::Verdict::kPass:
        return true;
      case expr::Filter::Verdict::kDrop:
        return false;
      case expr::Filter::Verdict::kError:
        break;
    }
    return usage_error(filter_->error() + " (generated line " + std::to_string(line_) + ")");
  }

 private:
  std::unique_ptr<expr::Filter> filter_;
  simdjson::ondemand::parser parser_;
  json::Event event_{parser_};
  std::string padded_;
  uint64_t line_ = 0;
};

}  // namespace

Status generate(const GenerateOptions& opt, io::LineWriter& out, time::Clock& clock) {
  if (auto st = check(opt); !st) return st;
  std::unique_ptr<expr::Filter> where;
  if (!opt.where.empty()) {
    auto f = expr::Filter::compile(opt.where, {}, &clock);
    if (!f) return std::unexpected(f.error());
    where = std::move(*f);
  }
  LineFilter filter(std::move(where));
  // Ends the line appended from `begin`, or takes it back when --where drops it.
  auto end_line = [&](size_t begin, bool filtered) -> Status {
    if (filtered) {
      auto keep = filter.keep(out.buffer(), begin);
      if (!keep) return std::unexpected(keep.error());
      if (!*keep) {
        out.buffer().resize(begin);
        return {};
      }
    }
    return out.end_line();
  };
  if (opt.profiles) {
    ProfileGenerator profiles(opt.events);
    for (;;) {
      const size_t begin = out.buffer().size();
      if (stop_requested() || !profiles.next(out.buffer())) break;
      if (auto st = end_line(begin, true); !st) return st;
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
    const size_t begin = out.buffer().size();
    // A line made bad on purpose (--malformed) is written whatever --where says.
    const LineKind kind = gen.next(out.buffer());
    if (auto st = end_line(begin, kind != LineKind::kMalformed); !st) return st;
  }
  return out.close();
}

}  // namespace ev::gen
