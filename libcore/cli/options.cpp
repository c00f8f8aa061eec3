#include "libcore/cli/options.h"

#include "libcore/time/timestamp.h"

namespace ev::cli {

void add_input_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option("-i,--input,inputs", run.inputs,
                 "input: '-' for stdin (the default), a file (.zst/.gz read transparently) or a "
                 "quoted glob; repeatable, read in order")
      ->type_name("INPUT");
  app.add_option_function<std::string>(
         "--max-line",
         [&run](const std::string& text) {
           auto v = time::parse_size(text);
           if (!v) throw CLI::ValidationError("--max-line", v.error().message);
           if (*v < 16) throw CLI::ValidationError("--max-line", "must be at least 16 bytes");
           run.max_line = static_cast<size_t>(*v);
         },
         "longest accepted line; longer lines are bad events (default 16M)")
      ->type_name("SIZE");
}

void add_output_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option("-o,--output", run.output,
                 "output: '-' for stdout (the default) or a file (.zst/.gz compressed by name)")
      ->type_name("OUTPUT");
}

void add_report_options(CLI::App& app, pipeline::RunOptions& run) {
  app.add_option_function<std::string>(
         "--on-error",
         [&run](const std::string& v) {
           if (v == "fail") run.on_error = pipeline::OnError::kFail;
           else if (v == "skip") run.on_error = pipeline::OnError::kSkip;
           else if (v == "reject") run.on_error = pipeline::OnError::kReject;
           else throw CLI::ValidationError("--on-error", "must be fail, skip or reject, not '" + v + "'");
         },
         "bad events: fail (stop, exit 1), skip (count and warn), reject (to --reject); default "
         "reject with --reject, else skip")
      ->type_name("POLICY");
  app.add_option("--reject", run.reject,
                 "write bad events to SINK (a file, .zst/.gz by name) in an envelope that keeps "
                 "the original line")
      ->type_name("SINK");
  app.add_flag("--stats", run.stats, "print one JSON line of counts and rates to stderr at exit");
  app.add_flag("-q,--quiet", run.quiet, "no warnings on stderr (errors are still printed)");
}

void add_run_options(CLI::App& app, pipeline::RunOptions& run) {
  add_input_options(app, run);
  add_output_options(app, run);
  add_report_options(app, run);
}

CLI::Option* add_duration_option(CLI::App& app, const std::string& name, time::Duration& target,
                                 const std::string& description) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& text) {
            auto v = time::parse_duration(text);
            if (!v) throw CLI::ValidationError(name, v.error().message);
            target = *v;
          },
          description)
      ->type_name("DUR");
}

CLI::Option* add_size_option(CLI::App& app, const std::string& name, uint64_t& target,
                             const std::string& description) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& text) {
            auto v = time::parse_size(text);
            if (!v) throw CLI::ValidationError(name, v.error().message);
            target = *v;
          },
          description)
      ->type_name("SIZE");
}

CLI::Option* add_rate_option(CLI::App& app, const std::string& name, double& target,
                             const std::string& description) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& text) {
            auto v = time::parse_rate(text);
            if (!v) throw CLI::ValidationError(name, v.error().message);
            target = *v;
          },
          description)
      ->type_name("N/s");
}

CLI::Option* add_time_option(CLI::App& app, const std::string& name, int64_t& target,
                             const std::string& description) {
  return app
      .add_option_function<std::string>(
          name,
          [&target, name](const std::string& text) {
            auto v = time::parse_rfc3339(text);
            if (!v) {
              auto e = time::parse_epoch_text(text, time::EpochUnit::kAuto);
              if (!e) throw CLI::ValidationError(name, v.error().message);
              v = e;
            }
            target = *v;
          },
          description)
      ->type_name("TIME");
}

}  // namespace ev::cli
