#include "libcore/cli/main.h"

#include <csignal>
#include <exception>
#include <new>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/pipeline/runner.h"

#ifndef EV_VERSION
#define EV_VERSION "0.0.0"
#endif

namespace ev::cli {
namespace {

// Parses; returns -1 to go on, or the exit status.
int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    diag::error(std::string(e.what()) + " (see --help)");
    return 2;
  }
  return -1;
}

int report_error(const Error& e) {
  if (e.kind == ErrorKind::kPipe) return 0;
  diag::error(e.to_string());
  return exit_code_for(e.kind);
}

template <class F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    diag::error("out of memory");
    return 3;
  } catch (const std::exception& e) {
    diag::error(std::string("internal error: ") + e.what());
    return 70;
  }
}

}  // namespace

std::string version_line(const std::string& program) { return program + " " EV_VERSION " (evkit)"; }

void describe(CLI::App& app, const std::string& program, const std::string& examples) {
  app.name(program);
  app.set_version_flag("--version", version_line(program));
  if (!examples.empty())
    app.footer("Examples:\n" + examples + "\nSee " + program + "(1) and ev(7).");
  app.get_formatter()->column_width(30);
}

int main(CLI::App& app, int argc, char** argv, pipeline::RunOptions& run,
         const StageFactory& factory) {
  return guarded([&]() -> int {
    run.program = app.get_name();
    diag::set_program(run.program);
    if (int code = parse(app, argc, argv); code >= 0) return code;
    diag::set_quiet(run.quiet);
    install_signal_handlers();
    // Before the factory, which may create output files.
    if (auto st = pipeline::check_options(run); !st) return report_error(st.error());

    auto setup = factory();
    if (!setup) return report_error(setup.error());

    pipeline::RunReport report;
    auto end = pipeline::run(run, *setup->stage, report, std::move(setup->output));
    if (run.stats) diag::raw_line(report.to_json(run.program));
    if (!end) return report_error(end.error());
    if (end->interrupted && !run.source.follow && !end->drained) return 128 + stop_signal();
    return 0;
  });
}

int run_program(CLI::App& app, int argc, char** argv, const std::string& program,
                const std::function<Status()>& body) {
  return guarded([&]() -> int {
    diag::set_program(program);
    if (int code = parse(app, argc, argv); code >= 0) return code;
    install_signal_handlers();
    auto st = body();
    if (!st) return report_error(st.error());
    if (stop_requested()) return 128 + stop_signal();  // interrupted before done
    return 0;
  });
}

}  // namespace ev::cli
