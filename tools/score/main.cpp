// ev-score: computed fields, rules, models, per-key z-scores, segments and alerts
// over events, with the expression language of ev-expr(7).
#include "libcore/cli/main.h"

#include "libcore/cli/options.h"
#include "libcore/pipeline/runner.h"
#include "libcore/stages/score.h"

int main(int argc, char** argv) {
  ev::pipeline::RunOptions run;
  ev::stages::ScoreOptions opt;
  CLI::App app{
      "Score events: computed fields (--set), named rules (--rule, --rules), a linear or "
      "logistic model (--model), per-key streaming z-scores (--zscore), segments and "
      "alerts, written into each event. Expressions: ev-expr(7)."};
  ev::cli::describe(
      app, "ev-score",
      "  ev-score --set 'spend = coalesce(amount, 0)' --rule 'big: spend > 500' events.jsonl\n"
      "  ev-window --by user_id --tumble 1m --agg 'count, sum(amount) as revenue' \\\n"
      "    | ev-score --rule 'spike: count > 100' --zscore revenue --by user_id "
      "--half-life 1h --min-score 0 --model fraud.json\n"
      "  ev-score --segment 'whale: ltv > 1000' --segment 'active: sessions > 5' "
      "--default-segment casual\n"
      "  ev-score --model churn.json --as churn --alert 'churn > 0.8'\n");
  ev::cli::add_run_options(app, run);
  app.add_option("--set", opt.sets,
                 "a computed field 'name = EXPR', spliced into the event (repeatable, in "
                 "order; later expressions see the name)")
      ->allow_extra_args(false)
      ->type_name("'NAME = EXPR'");
  app.add_option("--rule", opt.rules,
                 "a named rule 'name: EXPR'; the names of the rules that hold are listed in "
                 "--flags-field (repeatable)")
      ->allow_extra_args(false)
      ->type_name("'NAME: EXPR'");
  app.add_option("--rules", opt.rule_files,
                 "rules from FILE: JSON Lines or a JSON array of {\"name\", \"when\", "
                 "\"weight\", \"severity\"} (repeatable)")
      ->allow_extra_args(false)
      ->type_name("FILE");
  app.add_option("--flags-field", opt.flags_field,
                 "the field listing the rules that hold (default flags)")
      ->type_name("NAME");
  app.add_option("--risk-field", opt.risk_field,
                 "the field with the sum of the weights of the rules that hold, written when "
                 "a rules file gives weights (default risk)")
      ->type_name("NAME");
  app.add_option("--severity-field", opt.severity_field,
                 "the field with the highest severity of the rules that hold, written when a "
                 "rules file gives severities (default severity)")
      ->type_name("NAME");
  app.add_option("--model", opt.model,
                 "a linear or logistic model as JSON (ev-score(1), MODEL FILE); writes the "
                 "score")
      ->type_name("FILE");
  app.add_option("--as", opt.score_field, "the model's output field (default score)")
      ->type_name("NAME");
  app.add_option("--zscore", opt.zscore,
                 "score FIELD against its per-key exponentially weighted mean and variance "
                 "in event time; writes FIELD_z (repeatable; needs --by and --half-life)")
      ->allow_extra_args(false)
      ->type_name("FIELD");
  app.add_option("--by", opt.by, "the key field of --zscore")->type_name("KEY");
  ev::cli::add_duration_option(app, "--half-life", opt.half_life,
                               "how fast --zscore forgets: a value's weight halves every DUR of "
                               "event time");
  app.add_option("--warmup", opt.warmup,
                 "events of a key before its z-score is written; until then null (default 10)");
  app.add_option("--max-keys", opt.max_keys,
                 "keys --zscore keeps per field; the least recently seen is evicted first "
                 "(default 1000000)");
  ev::cli::add_state_options(app, opt.state, opt.checkpoint_every, "--zscore's statistics");
  app.add_option("--segment", opt.segments,
                 "a segment 'label: EXPR'; the first that holds is written to "
                 "--segment-field (repeatable, in order)")
      ->allow_extra_args(false)
      ->type_name("'LABEL: EXPR'");
  app.add_option("--segment-field", opt.segment_field, "the segment's field (default segment)")
      ->type_name("NAME");
  app.add_option("--default-segment", opt.default_segment,
                 "the label when no --segment holds (default other)")
      ->type_name("LABEL");
  app.add_option("--alert", opt.alert,
                 "write only the events for which EXPR holds (it sees every field written "
                 "above); the others are dropped")
      ->type_name("EXPR");
  app.add_option("--min-score", opt.min_score,
                 "write only the events whose model score is at least X")
      ->type_name("X");
  app.add_option("--time-field", opt.time_field, "the event-time field (default ts)")
      ->type_name("FIELD");
  ev::cli::add_epoch_unit_option(app, "--time-unit", opt.time_unit,
                                 "unit of epoch-number times: s, ms, us, ns or auto (default, "
                                 "by magnitude)");
  return ev::cli::main(app, argc, argv, run, [&]() -> ev::Result<ev::cli::StageSetup> {
    run.time_field = opt.time_field;
    run.time_unit = opt.time_unit;
    opt.program = run.program;
    auto stage = ev::stages::make_score(opt);
    if (!stage) return std::unexpected(stage.error());
    return ev::cli::StageSetup{std::move(*stage), nullptr};
  });
}
