// ev-validate: the data-quality gate: JSON Schema 2020-12 validation, normalization,
// dead letters and CI reports.
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/stages/validate.h"

int main(int argc, char** argv) {
  ev::pipeline::RunOptions run;
  ev::stages::ValidateOptions opt;
  CLI::App app{
      "Validate events against a JSON Schema (draft 2020-12): valid events pass byte for "
      "byte, invalid ones go to --on-error/--reject with every violation listed; optional "
      "normalization; data-quality reports for CI."};
  ev::cli::describe(
      app, "ev-validate",
      "  ev-validate --schema event.schema.json --max-invalid 0.1% --report dq.json \\\n"
      "      --junit dq.xml 'data/*.jsonl.zst' > /dev/null\n"
      "  ev-ingest -f app.log | ev-validate --schema s.json --reject bad.jsonl | ev-emit -o "
      "ok.zst\n"
      "  ev-validate --schema s.json --coerce --apply-defaults --normalize-time ts in.jsonl\n");
  ev::cli::add_run_options(app, run);
  app.add_option("-s,--schema", opt.schema, "the JSON Schema (draft 2020-12) file")
      ->required()
      ->type_name("FILE");
  app.add_option("--schema-dir", opt.schema_options.schema_dir,
                 "directory of other schema files (*.json) that $ref may name, by $id or file "
                 "name")
      ->type_name("DIR");
  app.add_flag_callback(
      "--no-format", [&opt] { opt.schema_options.formats = false; },
      "do not assert \"format\" (date-time, email, ...); by default they are checked");
  app.add_option("--max-errors-per-event", opt.max_errors,
                 "list at most N violations per invalid event (default 100)")
      ->type_name("N");
  app.add_flag("--allow-duplicate-keys", opt.allow_duplicate_keys,
               "accept objects with a repeated key (each value is checked against the schema); "
               "by default such an event is bad, since parsers disagree on which value wins");
  app.add_flag("--apply-defaults", opt.normalize.defaults,
               "add missing properties that have a schema \"default\"");
  app.add_flag("--coerce", opt.normalize.coerce,
               "turn numeric strings into numbers and \"true\"/\"false\" into booleans where "
               "the schema's type asks for them");
  auto* normalize_time =
      app.add_option("--normalize-time", opt.normalize_time,
                     "rewrite this field (RFC 3339 with any offset, or an epoch number) as RFC "
                     "3339 UTC with milliseconds")
          ->type_name("FIELD");
  app.add_option("--time-out", opt.time_out, "with --normalize-time: rfc3339 (default) or epoch-ms")
      ->check(CLI::IsMember({"rfc3339", "epoch-ms"}))
      ->needs(normalize_time)
      ->type_name("FORMAT");
  ev::cli::add_epoch_unit_option(app, "--time-unit", opt.time_unit,
                                 "with --normalize-time: unit of epoch numbers: s, ms, us, ns or "
                                 "auto (default, by magnitude)")
      ->needs(normalize_time);
  app.add_option("--report", opt.report,
                 "write a data-quality report (JSON: totals, counts by category, keyword and "
                 "instance path, first examples) at the end")
      ->type_name("FILE");
  app.add_option("--junit", opt.junit, "write a JUnit XML report at the end, for CI systems")
      ->type_name("FILE");
  app.add_option("--max-invalid", opt.max_invalid,
                 "exit 1 with a one-line summary when more than N events (or P% of the "
                 "events) are invalid")
      ->type_name("N|P%");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    run.time_unit = opt.time_unit;
    opt.program = run.program;
    opt.events_on_stdout = run.output == "-";
    auto stage = ev::stages::make_validate(opt);
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
