// RunReport: what a run did, counted once, printed by --stats as one JSON line.
//
//   {"program":"ev-ingest","in":1000,"out":998,"rejected":1,"skipped":1,"dropped":0,
//    "control":0,"bytes_in":314159,"seconds":0.012,"events_per_s":83333}
//
// in = out + dropped + rejected + skipped for a stage that emits one line per event
// (stages that create events, such as windows, document their own balance).
// Stages may add their own counters with `extra`. Plain data; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ev::pipeline {

struct RunReport {
  uint64_t in = 0;        // events read (control lines not included)
  uint64_t out = 0;       // events written
  uint64_t rejected = 0;  // bad events sent to the reject sink
  uint64_t skipped = 0;   // bad events counted and dropped (--on-error skip)
  uint64_t dropped = 0;   // good events a stage chose not to pass (e.g. duplicates)
  uint64_t control = 0;   // control lines forwarded
  uint64_t bytes_in = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, uint64_t>> extra;  // stage counters, in order

  void add_extra(std::string_view name, uint64_t value);
  // The --stats line (no newline).
  std::string to_json(std::string_view program) const;
};

}  // namespace ev::pipeline
