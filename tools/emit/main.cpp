// ev-emit: send events out: stdout, or files written atomically, compressed by name,
// rotated by size or age.
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/pipeline/runner.h"
#include "libcore/stages/emit.h"

int main(int argc, char** argv) {
  ev::pipeline::RunOptions run;
  ev::stages::EmitOptions opt;
  CLI::App app{
      "Write events to stdout or to files: compressed by name (.zst/.gz), finished "
      "atomically, rotated by size or age."};
  ev::cli::describe(app, "ev-emit",
                    "  ev-gen --count 1000000 | ev-emit -o events.jsonl.zst\n"
                    "  ev-ingest -f app.log | ev-emit -o 'out/ev-%Y%m%d-{seq}.jsonl.gz' "
                    "--rotate-size 100M --rotate-every 1h\n");
  ev::cli::add_input_options(app, run);
  ev::cli::add_report_options(app, run);
  ev::cli::add_kafka_options(app, run);
  app.add_option("-o,--output", opt.output,
                 "'-' for stdout (default), a file (.zst/.gz compress; written as NAME.partial "
                 "and renamed when complete; with rotation a pattern holding {seq} and strftime "
                 "%Y %m %d %H %M %S, UTC), or kafka://brokers/topic?key=FIELD (ev(7), KAFKA)")
      ->type_name("OUTPUT");
  ev::cli::add_size_option(app, "--rotate-size", opt.rotate_bytes,
                           "start a new file after SIZE bytes (uncompressed, whole lines)");
  ev::cli::add_duration_option(app, "--rotate-every", opt.rotate_ns,
                               "start a new file when the current one is DUR old");
  app.add_option("--zstd-level", opt.zstd_level, "zstd compression level, 1-19 (default 3)");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    run.output = opt.output;
    opt.append = ev::pipeline::reads_kafka(run);
    auto stage = ev::stages::make_emit(opt);
    if (!stage) return std::unexpected(stage.error());
    auto sink = ev::stages::make_emit_sink(opt);
    if (!sink) return std::unexpected(sink.error());
    return ev::cli::StageSetup{std::move(*stage), std::move(*sink)};
  });
}
