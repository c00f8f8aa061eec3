// RunOptions: what every program shares on its command line (-i, -o, --on-error,
// --reject, --stats, --quiet, --max-line), as plain data.
//
// cli/options.h fills it from the command line; the runner consumes it. Defaults
// here equal the ones documented in ev(7).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "libcore/io/byte_source.h"
#include "libcore/io/line_reader.h"
#include "libcore/kafka/uri.h"
#include "libcore/time/timestamp.h"

namespace ev::pipeline {

enum class OnError { kDefault, kFail, kSkip, kReject };

struct RunOptions {
  std::string program = "ev";
  std::vector<std::string> inputs;  // empty: stdin
  std::string output = "-";
  OnError on_error = OnError::kDefault;  // reject with --reject, else skip
  std::string reject;                    // the dead-letter sink: a path ("-" is stdout)
  bool stats = false;
  bool quiet = false;
  size_t max_line = io::kDefaultMaxLine;
  io::SourceOptions source;   // --follow and its poll interval
  bool check_json = false;    // fully parse each line at the gate (ev-ingest --check-json)
  size_t max_warnings = 100;  // per-event warnings on stderr before they are summarized
  kafka::KafkaOptions kafka;  // -X, --kafka-config, --exactly-once, --commit-every
  // --where EXPR (ev-expr(7)): events for which it is not true are dropped before the
  // stage sees them. `ts` in it is the program's time field, read by its time unit.
  std::string where;
  std::string time_field = "ts";
  time::EpochUnit time_unit = time::EpochUnit::kAuto;
};

}  // namespace ev::pipeline
