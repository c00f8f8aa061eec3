#include "libcore/cli/options.h"

#include "libcore/time/timestamp.h"

namespace ev::cli {

namespace {

// An option whose text is parsed by a libcore parser; a parse error becomes a CLI11
// validation error naming the option (exit 2 from cli::main).
template <class T, class Parse>
CLI::Option* add_parsed_option(CLI::App& app, const std::string& name, T& target,
                               const std::string& description, const char* type_name, Parse parse) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name, parse](const std::string& text) {
            auto v = parse(text);
            if (!v) throw CLI::ValidationError(name, v.error().message);
            target = static_cast<T>(*v);
          },
          description)
      ->type_name(type_name);
}

}  // namespace

void add_input_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option("-i,--input,inputs", run.inputs,
                 "input: '-' for stdin (the default), a file (.zst/.gz read transparently), a "
                 "quoted glob (repeatable, read in order), or alone a kafka://brokers/topics?... "
                 "URI (ev(7), KAFKA)")
      ->type_name("INPUT");
  add_parsed_option(app, "--max-line", run.max_line,
                    "longest accepted line; longer lines are bad events (default 16M)", "SIZE",
                    [](const std::string& text) -> Result<uint64_t> {
                      auto v = time::parse_size(text);
                      if (v && *v < 16) return usage_error("must be at least 16 bytes");
                      return v;
                    });
  app.add_option("--where", run.where,
                 "handle only events for which EXPR is true (ev-expr(7)); the others are "
                 "dropped, counted as 'filtered' in --stats")
      ->type_name("EXPR");
}

void add_output_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option("-o,--output", run.output,
                 "output: '-' for stdout (the default), a file (.zst/.gz compressed by name), "
                 "written as FILE.partial and renamed when the run succeeds (appended to when the "
                 "input is Kafka), or a kafka://brokers/topic?key=FIELD URI")
      ->type_name("OUTPUT");
}

void add_report_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option_function<std::string>(
         "--on-error",
         [&run](const std::string& v) {
           if (v == "fail")
             run.on_error = pipeline::OnError::kFail;
           else if (v == "skip")
             run.on_error = pipeline::OnError::kSkip;
           else if (v == "reject")
             run.on_error = pipeline::OnError::kReject;
           else
             throw CLI::ValidationError("--on-error",
                                        "must be fail, skip or reject, not '" + v + "'");
         },
         "bad events: fail (stop, exit 1), skip (count and warn), reject (to --reject); default "
         "reject with --reject, else skip")
      ->type_name("POLICY");
  app.add_option("--reject", run.reject,
                 "write bad events to SINK (a file, .zst/.gz by name, or a kafka:// URI) in an "
                 "envelope that keeps the original line")
      ->type_name("SINK");
  app.add_flag("--stats", run.stats, "print one JSON line of counts and rates to stderr at exit");
  app.add_flag("-q,--quiet", run.quiet, "no warnings on stderr (errors are still printed)");
}

void add_run_options(CLI::App& app, pipeline::RunOptions& run) {
  add_input_options(app, run);
  add_output_options(app, run);
  add_report_options(app, run);
  add_kafka_options(app, run);
}

void add_kafka_options(CLI::App& app, pipeline::RunOptions& run) {
  // Defined before -X: CLI11 runs callbacks in this order, so -X overrides the file.
  app.add_option_function<std::string>(
         "--kafka-config",
         [&run](const std::string& path) {
           if (auto st = kafka::read_settings_file(path, run.kafka.settings); !st) {
             throw CLI::ValidationError("--kafka-config", st.error().message);
           }
         },
         "librdkafka settings for kafka:// inputs and outputs from FILE (key=value lines, "
         "# comments), as kcat -F")
      ->type_name("FILE");
  app.add_option_function<std::vector<std::string>>(
         "-X",
         [&run](const std::vector<std::string>& items) {
           for (const auto& item : items) {
             auto kv = kafka::parse_setting(item);
             if (!kv) throw CLI::ValidationError("-X", kv.error().message);
             run.kafka.settings.push_back(std::move(*kv));
           }
         },
         "a librdkafka setting for kafka:// inputs and outputs (repeatable; wins over "
         "--kafka-config), as kcat -X")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  app.add_flag("--exactly-once", run.kafka.exactly_once,
               "Kafka input (group=) to Kafka output in transactions: each event's output is "
               "committed once, together with the input offsets");
  add_parsed_option(app, "--commit-every", run.kafka.commit_every_ms,
                    "Kafka input: commit processed offsets (or the transaction) this often "
                    "(default 1s)",
                    "DUR", [](const std::string& t) -> Result<int64_t> {
                      auto d = time::parse_duration(t);
                      if (!d) return std::unexpected(d.error());
                      if (*d < 1000000) return usage_error("must be at least 1ms");
                      return *d / 1000000;
                    });
}

CLI::Option* add_duration_option(CLI::App& app, const std::string& name, time::Duration& target,
                                 const std::string& description) {
  return add_parsed_option(app, name, target, description, "DUR",
                           [](const std::string& t) { return time::parse_duration(t); });
}

CLI::Option* add_size_option(CLI::App& app, const std::string& name, uint64_t& target,
                             const std::string& description) {
  return add_parsed_option(app, name, target, description, "SIZE",
                           [](const std::string& t) { return time::parse_size(t); });
}

CLI::Option* add_rate_option(CLI::App& app, const std::string& name, double& target,
                             const std::string& description) {
  return add_parsed_option(app, name, target, description, "N/s",
                           [](const std::string& t) { return time::parse_rate(t); });
}

CLI::Option* add_epoch_unit_option(CLI::App& app, const std::string& name, time::EpochUnit& target,
                                   const std::string& description) {
  return add_parsed_option(app, name, target, description, "UNIT",
                           [](const std::string& t) { return time::parse_epoch_unit(t); });
}

// RFC 3339, or an epoch number whose unit is taken from its magnitude.
CLI::Option* add_time_option(CLI::App& app, const std::string& name, int64_t& target,
                             const std::string& description) {
  return add_parsed_option(app, name, target, description, "TIME", [](const std::string& t) {
    return time::parse_time_text(t, time::EpochUnit::kAuto);
  });
}

void add_state_options(CLI::App& app, std::string& state, time::Duration& checkpoint_every,
                       const std::string& what) {
  auto* state_opt = app.add_option("--state", state,
                                   "snapshot " + what +
                                       " and input positions to PATH (atomically) and restore "
                                       "them at start")
                        ->type_name("PATH");
  add_duration_option(app, "--checkpoint-every", checkpoint_every,
                      "with --state: snapshot this often (default 10s), besides at exit and on "
                      "barrier lines")
      ->needs(state_opt);
}

}  // namespace ev::cli
