// StageOutcome: what a stage's run through pipeline::run left behind, for stage tests.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "libcore/base/status.h"
#include "libcore/pipeline/run_report.h"
#include "libcore/pipeline/runner.h"

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

}  // namespace ev::testing
