// StageOutcome: what a stage's run through pipeline::run left behind, for stage tests.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "libcore/base/diag.h"
#include "libcore/base/status.h"
#include "libcore/pipeline/run_report.h"
#include "libcore/pipeline/runner.h"
#include "libcore/pipeline/stage.h"
#include "libcore/testing/temp_dir.h"

namespace ev::testing {

struct StageOutcome {
  Result<pipeline::RunEnd> end = pipeline::RunEnd{};
  std::string out, rejects;
  pipeline::RunReport report;

  // A stage counter of the --stats line; fails the test when there is none.
  uint64_t extra(const std::string& name) const {
    for (const auto& [k, v] : report.extra) {
      if (k == name) return v;
    }
    FAIL("no counter " << name);
    return 0;
  }
};

// Runs `stage` (or reports the error that kept it from being built) over `ro`'s
// inputs as its program would, quietly, writing out.jsonl and rej.jsonl in `dir`,
// and fills `o` with the outcome and what was written.
inline void run_stage(StageOutcome& o, const TempDir& dir, pipeline::RunOptions ro,
                      Result<std::unique_ptr<pipeline::Stage>> stage) {
  ro.output = dir.at("out.jsonl");
  ro.reject = dir.at("rej.jsonl");
  ro.quiet = true;
  diag::set_quiet(true);
  if (!stage) {
    o.end = std::unexpected(stage.error());
    return;
  }
  o.end = pipeline::run(ro, **stage, o.report);
  o.out = dir.read("out.jsonl");
  o.rejects = dir.read("rej.jsonl");
}

}  // namespace ev::testing
