// ev-gen: deterministic synthetic user-event streams for demos, tests and load.
#include "libcore/cli/main.h"

#include <algorithm>

#include "libcore/base/stop.h"
#include "libcore/cli/options.h"
#include "libcore/gen/generate.h"
#include "libcore/io/byte_sink.h"

int main(int argc, char** argv) {
  ev::gen::GenerateOptions opt;
  std::string output = "-";
  bool start_given = false;
  CLI::App app{
      "Generate realistic user-interaction events (page views, clicks, carts, "
      "purchases), the same for the same --seed."};
  ev::cli::describe(app, "ev-gen",
                    "  ev-gen --count 1000000 --seed 7 > events.jsonl\n"
                    "  ev-gen --count 0 --rate 200/s | ev-window --by user_id --tumble 10s\n"
                    "  ev-gen --count 100000 --duplicates 0.05 --late 0.05 --max-late 30s "
                    "--malformed 0.001\n"
                    "  ev-gen --profiles --users 1000 > users.jsonl\n");
  auto* count = app.add_option("-n,--count", opt.count,
                               "events to generate; 0: until stopped (default 1000)");
  app.add_option("--seed", opt.events.seed,
                 "PRNG seed: the same seed gives the same bytes (default 1)");
  auto* rate = ev::cli::add_rate_option(app, "--rate", opt.rate,
                                        "pace output to N events per second of wall-clock time");
  app.add_option("--users", opt.events.users,
                 "distinct users, with skewed activity (default 1000)");
  auto* duplicates =
      app.add_option("--duplicates", opt.events.duplicates,
                     "probability P that a line repeats a recent event byte for byte");
  auto* late = app.add_option("--late", opt.events.late,
                              "probability P that an event's ts lies up to --max-late in the past");
  auto* max_late = ev::cli::add_duration_option(app, "--max-late", opt.events.max_late,
                                                "how late a late event can be (default 1m)");
  auto* malformed =
      app.add_option("--malformed", opt.events.malformed,
                     "probability P that a line is a bad event (broken JSON, invalid UTF-8, ...)");
  ev::cli::add_time_option(app, "--start", opt.events.start,
                           "event time of the first event (default 2024-01-01T00:00:00Z; "
                           "with --rate, now)");
  auto* interval = ev::cli::add_duration_option(app, "--interval", opt.events.interval,
                                                "mean event-time gap between events (default "
                                                "10ms; with --rate, 1/rate)");
  // Profiles are a table, not a stream: the options that shape the stream are errors.
  app.add_flag("--profiles", opt.profiles,
               "write the users' profile rows instead of events: one per --users id, in order "
               "(user_id, tier, signup, age, lang, ltv)")
      ->excludes(count)
      ->excludes(rate)
      ->excludes(duplicates)
      ->excludes(late)
      ->excludes(max_late)
      ->excludes(malformed)
      ->excludes(interval);
  app.add_option("--where", opt.where,
                 "write only the generated lines for which EXPR is true (ev-expr(7)); --count "
                 "counts lines generated, not written")
      ->type_name("EXPR");
  app.add_option("-o,--output", output, "'-' for stdout (default) or a file (.zst/.gz by name)")
      ->type_name("OUTPUT");
  return ev::cli::run_program(app, argc, argv, "ev-gen", [&]() -> ev::Status {
    auto& clock = ev::time::SystemClock::instance();
    start_given = app.count("--start") > 0;
    if (opt.rate > 0 && !start_given) opt.events.start = clock.now_ns();
    if (opt.rate > 0 && app.count("--interval") == 0) {
      // 1/rate, within [1 ns, ~292 years]: an extreme --rate is not an --interval error.
      opt.events.interval = static_cast<int64_t>(std::clamp(1e9 / opt.rate, 1.0, 9.2e18));
    }
    if (auto st = ev::gen::check(opt); !st) return st;
    auto sink = ev::io::open_sink(output);
    if (!sink) return std::unexpected(sink.error());
    ev::io::LineWriter out(std::move(*sink));
    auto st = ev::gen::generate(opt, out, clock);
    // A stop is how an unbounded stream normally ends; a bounded one was cut short.
    if (st && opt.count == 0) ev::clear_stop();
    return st;
  });
}
