// ev-dedupe: exact deduplication by key over an event-time horizon, in bounded memory,
// with state that survives restarts.
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/stages/dedupe.h"

int main(int argc, char** argv) {
  ev::pipeline::RunOptions run;
  ev::stages::DedupeOptions opt;
  ev::time::Duration within = 0;
  std::string keep = "first", late = "pass";
  CLI::App app{
      "Drop repeated events: the first event of each key passes byte for byte, repeats within "
      "the horizon are dropped (or kept last); bounded memory, restartable state."};
  ev::cli::describe(
      app, "ev-dedupe",
      "  ev-dedupe --key event_id --within 1h events.jsonl > unique.jsonl\n"
      "  ev-ingest -f app.log | ev-dedupe --key event_id --within 10m --max-delay 30s \\\n"
      "      --state dedupe.state --duplicates dups.jsonl | ev-emit -o kafka://k:9092/clean\n"
      "  ev-dedupe --key user_id,type --within 5m --keep last --stats day.jsonl.zst\n");
  ev::cli::add_run_options(app, run);
  app.add_option("-k,--key", opt.key,
                 "comma-separated fields that identify an event (default: the whole event, "
                 "compared canonically: key order and whitespace do not matter)")
      ->type_name("FIELDS");
  app.add_option("--hash", opt.hash_bits,
                 "key digest bits: 128 (default) or 64 (less memory; collisions become likely "
                 "past about 100 million live keys)")
      ->check(CLI::IsMember({64, 128}))
      ->type_name("BITS");
  auto* within_opt = ev::cli::add_duration_option(
      app, "--within", within,
      "the horizon: a key is forgotten once the watermark passes its last sighting plus DUR "
      "(default: remembered until evicted)");
  app.add_flag("--processing-time", opt.processing_time,
               "measure --within on the wall clock instead of event time")
      ->needs(within_opt);
  app.add_option("--time-field", opt.time_field, "the event-time field (default ts)")
      ->type_name("FIELD")
      ->needs(within_opt);
  ev::cli::add_epoch_unit_option(app, "--time-unit", opt.time_unit,
                                 "unit of epoch-number times: s, ms, us, ns or auto (default, "
                                 "by magnitude)")
      ->needs(within_opt);
  ev::cli::add_duration_option(app, "--max-delay", opt.max_delay,
                               "how far events may arrive out of order: the watermark is the "
                               "latest event time minus DUR (default 0)")
      ->needs(within_opt);
  app.add_option("--late", late,
                 "events older than the horizon before the watermark, whose key may be "
                 "forgotten: pass (default), drop, or reject (needs --reject)")
      ->check(CLI::IsMember({"pass", "drop", "reject"}))
      ->needs(within_opt)
      ->type_name("POLICY");
  app.add_option("--keep", keep,
                 "first (default): pass the first event of a key at once; last: hold the newest "
                 "until the key's horizon closes (or the input ends)")
      ->check(CLI::IsMember({"first", "last"}))
      ->type_name("WHICH");
  app.add_option("--max-keys", opt.max_keys,
                 "remember at most N keys; beyond, the keys nearest expiry are evicted "
                 "(counted in --stats)")
      ->type_name("N");
  ev::cli::add_size_option(app, "--max-memory", opt.max_memory,
                           "memory for keys (and held events) (default 1G); beyond, the keys "
                           "nearest expiry are evicted");
  app.add_option("--duplicates", opt.duplicates,
                 "write each dropped repeat here, with its key (an audit trail)")
      ->type_name("SINK");
  ev::cli::add_state_options(app, opt.state, opt.checkpoint_every, "keys");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    run.time_field = opt.time_field;
    run.time_unit = opt.time_unit;
    if (within_opt->count() > 0) opt.within = within;
    opt.keep = keep == "last" ? ev::stages::Keep::kLast : ev::stages::Keep::kFirst;
    opt.late = late == "drop"     ? ev::stages::Late::kDrop
               : late == "reject" ? ev::stages::Late::kReject
                                  : ev::stages::Late::kPass;
    if (opt.late == ev::stages::Late::kReject && run.reject.empty()) {
      return ev::usage_error("--late reject needs --reject SINK");
    }
    opt.program = run.program;
    opt.events_on_stdout = run.output == "-";
    auto stage = ev::stages::make_dedupe(opt);
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
