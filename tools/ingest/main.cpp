// ev-ingest: bring events in from stdin, files, globs and .zst/.gz; follow a growing
// file; stamp where each event came from; replay at a rate.
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/stages/ingest.h"

int main(int argc, char** argv) {
  ev::pipeline::RunOptions run;
  ev::stages::IngestOptions opt;
  CLI::App app{
      "Read events from files, globs, stdin or compressed files; pass them on byte for "
      "byte, checked, optionally stamped with their origin and paced."};
  ev::cli::describe(app, "ev-ingest",
                    "  ev-ingest 'logs/*.jsonl.gz' | ev-emit -o all.jsonl.zst\n"
                    "  ev-ingest --follow app.log --meta | ev-validate --schema s.json\n"
                    "  ev-ingest --rate 500/s backfill.jsonl.zst | ev-window --tumble 1m\n");
  ev::cli::add_run_options(app, run);
  app.add_flag(
      "-f,--follow", run.source.follow,
      "keep reading the (one) input file as it grows, across rotation and truncation (tail -F)");
  app.add_flag("--meta", opt.meta,
               "add \"_src\":{\"file\",\"line\"} to each event, or for Kafka input "
               "\"_kafka\":{\"topic\",\"partition\",\"offset\",\"key\",\"ts\"} (implies "
               "--check-json: an event that is changed must be valid JSON)");
  ev::cli::add_rate_option(app, "--rate", opt.rate,
                           "pace output to N events per second (e.g. 1000/s, 50/m)");
  app.add_flag("--check-json", run.check_json,
               "fully parse every line, so malformed JSON is a bad event here (slower)");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    if (opt.meta) run.check_json = true;
    auto stage = ev::stages::make_ingest(opt, ev::time::SystemClock::instance());
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
