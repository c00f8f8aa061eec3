// ev-score: turns events into decisions with expressions (ev-expr(7)): computed
// fields, named rules, a linear or logistic model, per-key streaming z-scores,
// segments, and an alert filter.
//
// Per event, in this order, each step seeing the names the earlier ones defined:
//   1. --set 'name = EXPR', in order (a later one sees the earlier ones);
//   2. --zscore FIELD --by KEY: FIELD's z-score against the key's exponentially
//      weighted mean and variance in event time (score/ewma.h), as FIELD_z (dots in
//      FIELD become '_'); null while the key warms up, and when FIELD or KEY is null;
//   3. --model FILE: the score (--as, default "score");
//   4. --rule 'name: EXPR' and --rules FILE: the names of the rules that hold, in
//      order, as an array (--flags-field, default "flags"); when the rules file gives
//      weights, their sum over the rules that hold ("risk"); when it gives severities,
//      the highest that holds ("severity", null when none);
//   5. --segment 'label: EXPR': the first label whose expression holds, else
//      --default-segment (field "segment");
//   6. --alert EXPR / --min-score X: only events for which they hold are written.
// The fields are spliced into the line (a member of the same name is replaced);
// with nothing to add the line passes byte for byte. An expression that fails on an
// event (a type error, an unreadable time) makes it a bad event (--on-error).
//
// Model file (JSON): {"type": "logistic"|"linear", "intercept": b, "features": [...]}
// where a feature is {"expr": E, "weight": w, "mean": m, "std": s, "default": d}
// (mean/std optional: standardization; default: the value when E is null, else a
// null feature adds nothing) or {"expr": E, "categories": {"text": w, ...},
// "other": w} (one-hot: E's text picks the weight). Booleans count as 1 and 0.
// score = b + sum(w * (x - m) / s); logistic: 1 / (1 + exp(-score)).
//
// Rules file: JSON Lines or one JSON array of {"name": N, "when": E, "weight": w,
// "severity": "low"|"medium"|"high"|"critical"}.
//
// Memory: the compiled expressions, plus per --zscore field at most --max-keys keys
// (score/ewma.h: 70-140 bytes a key), the least recently seen evicted first.
// State (--state PATH): the z-score statistics and how far each input was read, as
// ev-dedupe's (pipeline/stateful_stage.h). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"

namespace ev::stages {

struct ScoreOptions {
  std::string program = "ev-score";
  std::vector<std::string> sets;        // "name = EXPR"
  std::vector<std::string> rules;       // "name: EXPR"
  std::vector<std::string> rule_files;  // --rules FILE
  std::string flags_field = "flags";
  std::string risk_field = "risk";
  std::string severity_field = "severity";
  std::string model;  // --model FILE
  std::string score_field = "score";
  std::vector<std::string> zscore;  // fields (paths or --set names)
  std::string by;                   // the key's field path
  time::Duration half_life = 0;
  uint64_t warmup = 10;
  uint64_t max_keys = 1'000'000;
  std::vector<std::string> segments;  // "label: EXPR"
  std::string segment_field = "segment";
  std::string default_segment = "other";
  std::string alert;
  std::optional<double> min_score;
  std::string time_field = "ts";
  time::EpochUnit time_unit = time::EpochUnit::kAuto;
  std::string state;
  time::Duration checkpoint_every = 10 * time::kNsPerSec;
  time::Clock* clock = nullptr;  // null: the system clock (now(), checkpoints)
};

// Fails with kUsage on bad options, expressions (with their column), model or rules
// files; kState on an unreadable snapshot.
Result<std::unique_ptr<pipeline::Stage>> make_score(const ScoreOptions& opt);

}  // namespace ev::stages
