// cli::main: the shared driver of every program, and the only place that decides
// exit statuses (ev(7), EXIT STATUS).
//
// It parses the command line (--help and --version exit 0; any other parse error
// prints one line and exits 2), installs the signal handlers, builds the stage with
// the tool's factory (a kUsage error exits 2), runs it, prints --stats, and maps the
// outcome: 0 done (or the reader closed the pipe), 1 a data check failed, 2 usage,
// 3 I/O/Kafka/state failure, 70 internal error, 128+signal when bounded input was
// interrupted (a followed file or Kafka drains cleanly and exits 0).
// Exceptions (CLI11's, std::bad_alloc) are caught here and nowhere else.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "libcore/base/status.h"
#include "libcore/io/byte_sink.h"
#include "libcore/pipeline/run_options.h"
#include "libcore/pipeline/stage.h"

namespace ev::cli {

struct StageSetup {
  std::unique_ptr<pipeline::Stage> stage;
  std::unique_ptr<io::ByteSink> output;  // null: run.output
};
using StageFactory = std::function<Result<StageSetup>()>;

// The version line: "ev-ingest 0.1.0 (evkit)".
std::string version_line(const std::string& program);

// Sets the program name, --version and the examples footer of `app`.
void describe(CLI::App& app, const std::string& program, const std::string& examples);

int main(CLI::App& app, int argc, char** argv, pipeline::RunOptions& run,
         const StageFactory& factory);

// For programs that do not run the line pipeline (ev-gen, ev): parses the command
// line like main() and runs `body`, mapping its Status to an exit code; a stop
// request still pending when `body` returns exits 128+signal (the body clears it
// when stopping was its normal end).
int run_program(CLI::App& app, int argc, char** argv, const std::string& program,
                const std::function<Status()>& body);

}  // namespace ev::cli
