// Aggregates: the --agg list of ev-window, and the per-group state it updates.
//
// Grammar: a comma-separated list of `FN`, `FN(FIELD)` or `FN(FIELD, ARG)`, each
// optionally followed by `as NAME`:
//   count                 events in the group
//   count(F)              events where F is present and not null
//   sum(F) avg(F) min(F) max(F)
//   count_distinct(F)     distinct values of F (window/sketch.h: exact up to 512,
//                         then HyperLogLog, 1.6% standard error; exact with --exact)
//   p50(F) p90(F) p95(F) p99(F) percentile(F, Q)   (0 <= Q <= 1; 1% relative error)
//   first(F) last(F)      the value at the earliest / latest event time (ties: the
//                         first / last to arrive)
//   top(F, K)             the K most frequent values, [{"value":…,"count":n},…]
// Default names: count, count_F, sum_F, avg_F, …, p99_F, p99.9_F for percentile(F,
// 0.999), count_distinct_F, first_F, last_F, top_F (F as written).
//
// Values: a missing or null field is ignored by its aggregates, as SQL ignores NULL
// (sum, avg, min, max, first, last of no values are null). sum, avg, min, max and
// percentiles need numbers: any other value makes the event bad (--on-error), and a
// bad event changes no aggregate. Sums are compensated (Neumaier), so their result
// does not depend on the order of the events beyond the last bits; a sum, min or max
// of integers is written as an integer while it is below 2^53. count_distinct, top,
// first and last take any JSON value, compared canonically (json/canonical.h).
//
// State: a row per group (and window), in an arena that reuses freed rows, so a warm
// run does not allocate per event unless an aggregate grows (a sketch, top's counters,
// first/last values). Fields shared by several aggregates are read once per event.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/state/snapshot.h"
#include "libcore/window/sketch.h"

namespace ev::window {

enum class AggFn {
  kCount,
  kCountField,
  kSum,
  kAvg,
  kMin,
  kMax,
  kCountDistinct,
  kQuantile,
  kFirst,
  kLast,
  kTop
};

struct AggSpec {
  AggFn fn = AggFn::kCount;
  std::string field;  // as written; empty for count
  double q = 0;       // percentile
  size_t k = 0;       // top
  std::string name;   // the output member
};

// Parses one --agg value. Fails with kUsage naming the item.
Result<std::vector<AggSpec>> parse_aggregates(std::string_view text);
// The list as one canonical string ("count, sum(amount) as revenue"): a state file
// records it, and a restart must use the same.
std::string describe_aggregates(const std::vector<AggSpec>& specs);

class Aggregates {
 public:
  // Fails with kUsage on a bad field path or two aggregates with one name.
  static Result<std::unique_ptr<Aggregates>> make(std::vector<AggSpec> specs, bool exact);
  ~Aggregates();
  Aggregates(const Aggregates&) = delete;
  Aggregates& operator=(const Aggregates&) = delete;

  const std::vector<AggSpec>& specs() const { return specs_; }

  // Reads the fields of `event` that the aggregates need. Fails with kData (the
  // reason for --on-error) when a value does not suit its aggregate.
  Status extract(json::Event& event);

  // A fresh row (all aggregates empty).
  uint32_t new_row();
  void free_row(uint32_t row);
  // Adds the last extracted event, at event time `t`, to `row`. Returns how much the
  // row's memory grew (bytes, may be 0).
  int64_t add(uint32_t row, int64_t t);
  // Folds `src` into `dst` and frees `src`. Returns the change of memory.
  int64_t merge(uint32_t dst, uint32_t src);
  // Writes the members "name":value of every aggregate, in --agg order.
  void write(uint32_t row, json::JsonWriter& w) const;
  // Bytes a row holds: the fixed part plus what its sketches and values hold.
  size_t row_bytes(uint32_t row) const;
  size_t fixed_row_bytes() const;

  void save(uint32_t row, state::SnapshotWriter& w) const;
  // A new row read from `r`; fails with the reader's kState error.
  Result<uint32_t> load(state::SnapshotReader& r);

 private:
  struct Field;
  struct Value;
  struct FirstLast;
  Aggregates() = default;
  Status plan(bool exact);

  std::vector<AggSpec> specs_;
  std::vector<std::string> spec_keys_;  // "\"name\":" per spec
  std::vector<int> spec_fields_;        // the field of each spec (-1: count)
  std::vector<Field> fields_;
  std::vector<Value> values_;  // the last extracted event, per field
  bool exact_ = false;
  size_t num_width_ = 1;  // doubles per row: the event count, then 7 per numeric field
  size_t n_sketch_ = 0, n_distinct_ = 0, n_top_ = 0, n_first_ = 0;
  std::vector<double> num_;
  std::vector<std::unique_ptr<QuantileSketch>> sketch_;
  std::vector<std::unique_ptr<DistinctCounter>> distinct_;
  std::vector<std::unique_ptr<TopK>> top_;
  std::vector<std::unique_ptr<FirstLast>> first_;
  std::vector<size_t> top_capacity_;  // per top() state
  std::vector<uint32_t> free_;
  uint32_t rows_ = 0;
};

}  // namespace ev::window
