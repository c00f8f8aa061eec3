// ev-window: event-time windowed aggregation with watermarks, allowed lateness and a
// side output for late events.
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/stages/window.h"

// `--emit every 1m` is two words on the command line; CLI11 takes one value per option,
// so the pair becomes `--emit=every 1m` before parsing (a lone `--emit every` is left
// for the usage error).
std::vector<char*> join_emit_every(int argc, char** argv, std::vector<std::string>& joined) {
  std::vector<char*> args(argv, argv + argc);
  joined.reserve(static_cast<size_t>(argc));
  for (size_t i = 1; i + 1 < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool split =
        (a == "--emit" && i + 2 < args.size() && std::string_view(args[i + 1]) == "every") ||
        a == "--emit=every";
    if (!split) continue;
    const size_t dur = a == "--emit" ? i + 2 : i + 1;
    joined.push_back("--emit=every " + std::string(args[dur]));
    args[i] = joined.back().data();
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
               args.begin() + static_cast<std::ptrdiff_t>(dur) + 1);
  }
  args.push_back(nullptr);
  return args;
}

int main(int argc, char** argv) {
  std::vector<std::string> joined;
  std::vector<char*> args = join_emit_every(argc, argv, joined);
  argc = static_cast<int>(args.size()) - 1;
  argv = args.data();
  ev::pipeline::RunOptions run;
  ev::stages::WindowOptions opt;
  ev::time::Duration tumble = 0, gap = 0, lateness = 0, max_future = 0, idle = 0;
  std::string hop;
  std::string emit = "final";
  CLI::App app{
      "Aggregate events over event-time windows (tumbling, hopping, sessions) per group: "
      "counts, sums, averages, percentiles, distinct counts, top values; with watermarks, "
      "allowed lateness and a side output for late events."};
  ev::cli::describe(
      app, "ev-window",
      "  ev-window --by user_id --tumble 1m --agg 'count, sum(amount) as revenue' events.jsonl\n"
      "  ev-window --by country --tumble 1h --max-delay 30s --agg 'sum(amount), p95(amount)' \\\n"
      "      --late late.jsonl\n"
      "  ev-window --by user_id --session 30m --agg 'count, first(page), last(page)'\n"
      "  ev-window --tumble 1d --tz Europe/Berlin --agg 'count_distinct(user_id) as dau'\n"
      "  ev-gen --count 0 --rate 200/s | ev-window --tumble 10s --idle 5s --emit every 2s\n");
  ev::cli::add_run_options(app, run);
  auto* tumble_opt = ev::cli::add_duration_option(app, "--tumble", tumble,
                                                  "tumbling windows of DUR, back to back");
  auto* hop_opt = app.add_option("--hop", hop,
                                 "hopping windows of SIZE starting every SLIDE, e.g. 10m/1m "
                                 "(each event counts in SIZE/SLIDE windows)")
                      ->type_name("SIZE/SLIDE");
  auto* session_opt = ev::cli::add_duration_option(
      app, "--session", gap,
      "per-key sessions: a gap of DUR or more between events starts a new one");
  tumble_opt->excludes(hop_opt)->excludes(session_opt);
  hop_opt->excludes(session_opt);
  ev::cli::add_duration_option(app, "--align", opt.spec.align,
                               "shift window starts by DUR (1d windows with --align 6h run "
                               "06:00 to 06:00)");
  app.add_option("--tz", opt.spec.tz,
                 "align windows to this time zone's wall clock (IANA name, e.g. "
                 "Europe/Berlin; default UTC)")
      ->type_name("ZONE");
  app.add_option("--by", opt.by, "comma-separated group fields (default: one group for all)")
      ->type_name("FIELDS");
  app.add_option("--agg", opt.aggs,
                 "aggregates, e.g. 'count, sum(amount) as revenue, p95(latency)': count, "
                 "count(F), sum, avg, min, max, count_distinct, p50, p90, p95, p99, "
                 "percentile(F, Q), first, last, top(F, K) (default count; repeatable)")
      ->allow_extra_args(false)
      ->type_name("LIST");
  app.add_flag("--exact", opt.exact,
               "count_distinct stays exact however many values (default: HyperLogLog past 512)");
  app.add_option("--time-field", opt.time_field, "the event-time field (default ts)")
      ->type_name("FIELD");
  ev::cli::add_epoch_unit_option(app, "--time-unit", opt.time_unit,
                                 "unit of epoch-number times: s, ms, us, ns or auto (default, "
                                 "by magnitude)");
  ev::cli::add_duration_option(app, "--max-delay", opt.max_delay,
                               "how far events may arrive out of order: the watermark is the "
                               "latest event time minus DUR (default 0)");
  ev::cli::add_duration_option(app, "--allowed-lateness", lateness,
                               "keep fired windows DUR longer; later events update them and "
                               "the result is emitted again, marked as an update (default 0)");
  app.add_option("--late", opt.late,
                 "write events too late for any window here, byte for byte (default: count "
                 "and drop them)")
      ->type_name("SINK");
  auto* idle_opt = ev::cli::add_duration_option(
      app, "--idle", idle,
      "when the input is quiet for DUR, move event time on with the wall clock so the last "
      "windows fire");
  auto* future_opt = ev::cli::add_duration_option(
      app, "--max-future", max_future,
      "reject (--on-error) events more than DUR ahead of the wall clock");
  app.add_option("--emit", emit,
                 "final (default): a result when a window closes; update: on every change "
                 "too; every DUR: early partial results each DUR of event time")
      ->type_name("MODE");
  app.add_option("--max-groups", opt.max_groups,
                 "hold at most N window-group pairs (or sessions); beyond, the window that "
                 "ends first fires early")
      ->type_name("N");
  ev::cli::add_size_option(app, "--max-memory", opt.max_memory,
                           "memory for window state (default 1G); beyond, the window that "
                           "ends first fires early");
  ev::cli::add_state_options(app, opt.state, opt.checkpoint_every, "open windows");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    run.time_field = opt.time_field;
    run.time_unit = opt.time_unit;
    if (tumble_opt->count() > 0) {
      opt.kind = ev::stages::WindowKind::kTumble;
      opt.spec.size = opt.spec.slide = tumble;
    } else if (hop_opt->count() > 0) {
      auto spec = ev::window::parse_hop(hop);
      if (!spec) return std::unexpected(spec.error());
      opt.kind = ev::stages::WindowKind::kHop;
      opt.spec.size = spec->size;
      opt.spec.slide = spec->slide;
    } else if (session_opt->count() > 0) {
      opt.kind = ev::stages::WindowKind::kSession;
      opt.gap = gap;
    } else {
      return ev::usage_error(
          "a window is required: --tumble DUR, --hop SIZE/SLIDE or --session GAP");
    }
    if (emit.starts_with("every")) {
      std::string_view dur = std::string_view(emit).substr(5);
      while (!dur.empty() && (dur[0] == ' ' || dur[0] == ':' || dur[0] == '='))
        dur.remove_prefix(1);
      if (dur.empty())
        return ev::usage_error("--emit every needs a duration, e.g. --emit every 1m");
      auto parsed = ev::time::parse_duration(dur);
      if (!parsed) return ev::usage_error("--emit every: " + parsed.error().message);
      opt.emit = ev::stages::EmitMode::kEvery;
      opt.emit_every = *parsed;
    } else if (emit == "final" || emit == "update") {
      opt.emit = emit == "final" ? ev::stages::EmitMode::kFinal : ev::stages::EmitMode::kUpdate;
    } else {
      return ev::usage_error("--emit: final, update or every DUR; got '" + emit + "'");
    }
    opt.allowed_lateness = lateness;
    if (idle_opt->count() > 0) opt.idle = idle;
    if (future_opt->count() > 0) opt.max_future = max_future;
    opt.program = run.program;
    opt.events_on_stdout = run.output == "-";
    auto stage = ev::stages::make_window(opt);
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
