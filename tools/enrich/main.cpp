// ev-enrich: joins events with lookup tables — files that reload, Kafka topics read as
// tables, Redis — splicing the matched rows' fields into each line.
#include "libcore/cli/main.h"

#include "libcore/base/diag.h"
#include "libcore/cli/options.h"
#include "libcore/stages/enrich.h"

int main(int argc, char** argv) {
  // Table options belong to the --table before them, which CLI11 cannot express: they
  // are taken out first and declared below only for --help.
  std::vector<ev::stages::EnrichTableOptions> tables;
  auto rest = ev::stages::take_table_options(argc, argv, tables);
  ev::pipeline::RunOptions run;
  ev::stages::EnrichOptions opt;
  std::vector<std::string> specs;
  std::string ignored;
  bool ignored_flag = false;
  CLI::App app{
      "Join events with lookup tables (JSON Lines/CSV/TSV files that reload, Kafka topics "
      "read as tables, Redis): the matched row's fields are spliced into each line."};
  ev::cli::describe(
      app, "ev-enrich",
      "  ev-enrich --table users.csv --on user_id --select tier,country --into user events.jsonl\n"
      "  ev-enrich --table users.jsonl --on user_id --reload --missing "
      "default='{\"tier\":\"free\"}' \\\n"
      "      --table products.tsv --on sku=product_id --prefix product_\n"
      "  ev-enrich --table kafka://k:9092/profiles --on user_id --wait-ready --into profile\n"
      "  ev-enrich --table 'redis://127.0.0.1:6379?key=user:{user_id}' --cache-ttl 30s\n");
  ev::cli::add_run_options(app, run);
  app.add_option("-t,--table", specs,
                 "a lookup table: a file (.jsonl, .csv, .tsv; .zst/.gz), kafka://HOST/TOPIC or "
                 "redis://HOST:PORT[/DB][?key=TEMPLATE&value=hash|json]; repeat for more tables")
      ->type_name("SPEC")
      ->allow_extra_args(false)
      ->required();
  app.add_option("--batch", opt.batch,
                 "Redis tables: events looked up per pipelined round trip (default 512)")
      ->type_name("N");
  auto* g = app.add_option_group("Table options", "each applies to the --table before it");
  g->add_option("--on", ignored,
                "the event's key field, and the table's when it is named differently "
                "(default: the message key for Kafka)")
      ->type_name("EVENT_FIELD[=TABLE_FIELD]");
  g->add_option("--select", ignored,
                "the table fields to add, in this order (default: all but the key field)")
      ->type_name("F1,F2,...");
  g->add_option("--into", ignored, "add the fields inside one object member NAME")
      ->type_name("NAME");
  g->add_option("--prefix", ignored, "add the fields at the top level as PREFIX + name")
      ->type_name("PREFIX");
  g->add_option("--missing", ignored,
                "when the table has no row for the key (or the key field is missing or null): "
                "keep (default: the event as is), drop, reject, or default=JSON (add the "
                "fields of this object)")
      ->type_name("POLICY");
  g->add_option("--format", ignored, "file format: jsonl, csv or tsv (default: by extension)")
      ->type_name("FORMAT");
  g->add_flag("--reload", ignored_flag,
              "reload the file when it changes (checked every second), building the new table "
              "aside; a file that fails to load keeps the old table");
  g->add_option("--reload-every", ignored, "check the file this often (implies --reload)")
      ->type_name("DUR");
  g->add_flag("--wait-ready", ignored_flag,
              "Kafka tables: hold events until the topic has been read to its end at start");
  g->add_option("--name", ignored,
                "the table's name in --stats and messages (default: the file's base name, the "
                "topic, redis)")
      ->type_name("NAME");
  g->add_option("--max-rows", ignored,
                "at most N rows: a bigger file fails to load; a Kafka table refuses new keys "
                "(counted)")
      ->type_name("N");
  g->add_option("--cache-size", ignored,
                "Redis: keys cached locally, hits and misses (default 100000; 0: no cache); "
                "least recently used are evicted")
      ->type_name("N");
  g->add_option("--cache-ttl", ignored, "Redis: how long a cached key is used (default 60s)")
      ->type_name("DUR");
  g->add_option("--retry-for", ignored,
                "Redis: after a lost connection, retry this long before the batch's events "
                "follow --on-error (default 10s)")
      ->type_name("DUR");
  if (!rest) {
    ev::diag::set_program("ev-enrich");
    ev::diag::error(rest.error().message);
    return 2;
  }
  int rest_argc = static_cast<int>(rest->size()) - 1;
  return ev::cli::main(app, rest_argc, rest->data(), run, [&]() -> ev::Result<ev::cli::StageSetup> {
    opt.tables = std::move(tables);
    opt.kafka = run.kafka;
    opt.fail_on_error = run.on_error == ev::pipeline::OnError::kFail;
    opt.pipeline = !run.kafka.exactly_once;
    auto stage = ev::stages::make_enrich(std::move(opt));
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
