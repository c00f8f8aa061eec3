// The shared command line: adds the options every program takes to a CLI11 app,
// and typed options (durations, sizes, rates) that parse with libcore's parsers.
//
// The only code besides cli/main.cpp that includes CLI11. Parse failures of typed
// options are CLI11 validation errors, reported by cli::main as usage errors
// (exit 2) naming the option.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "libcore/pipeline/run_options.h"
#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"

namespace ev::cli {

// -i/--input (and positional inputs), -o/--output, --on-error, --reject, --stats,
// -q/--quiet, --max-line, and the Kafka options.
void add_run_options(CLI::App& app, pipeline::RunOptions& run);
// Only the input-side options (for programs such as ev-gen that read nothing, this is
// not called; for programs that do not write events, add_output_options is skipped).
void add_input_options(CLI::App& app, pipeline::RunOptions& run);
void add_output_options(CLI::App& app, pipeline::RunOptions& run);
void add_report_options(CLI::App& app, pipeline::RunOptions& run);
// Kafka endpoints' settings: --kafka-config FILE, -X KEY=VALUE (after the file, so
// they win), --exactly-once, --commit-every DUR. Part of add_run_options.
void add_kafka_options(CLI::App& app, pipeline::RunOptions& run);

// A duration ("250ms", "1h30m") into `target` (ns).
CLI::Option* add_duration_option(CLI::App& app, const std::string& name, time::Duration& target,
                                 const std::string& description);
// A byte size ("64K", "16M") into `target`.
CLI::Option* add_size_option(CLI::App& app, const std::string& name, uint64_t& target,
                             const std::string& description);
// A rate ("1000/s", "50/m", "1000") into `target` (events per second).
CLI::Option* add_rate_option(CLI::App& app, const std::string& name, double& target,
                             const std::string& description);
// An epoch unit ("s", "ms", "us", "ns", "auto") into `target`.
CLI::Option* add_epoch_unit_option(CLI::App& app, const std::string& name, time::EpochUnit& target,
                                   const std::string& description);
// --state PATH and --checkpoint-every DUR (which needs --state) of a stateful program;
// `what` says what the snapshot holds ("keys", "open windows").
void add_state_options(CLI::App& app, std::string& state, time::Duration& checkpoint_every,
                       const std::string& what);
// A time ("2024-05-01T00:00:00Z", or epoch seconds) into `target` (ns).
CLI::Option* add_time_option(CLI::App& app, const std::string& name, int64_t& target,
                             const std::string& description);

}  // namespace ev::cli
