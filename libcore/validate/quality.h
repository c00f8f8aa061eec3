// Data-quality accounting for ev-validate: what --report FILE, --junit FILE and
// --max-invalid are computed from.
//
// Every invalid event is recorded once with its category ("schema", "json",
// "duplicate_key", "time", "line") and, for schema failures, its violations (as many as
// --max-errors-per-event kept). Counts by keyword and by instance path count
// violations, not events. Bounds: at most kMaxPaths distinct instance paths (later ones
// are counted under "(other)"), the first `max_examples` invalid events kept whole
// for the JSON report and the first kMaxJunitCases for JUnit; memory is therefore
// bounded whatever the input size. Plain data; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/json/json_writer.h"
#include "libcore/validate/schema.h"

namespace ev::validate {

// Writes `vs` as a JSON array of {"instance_path","keyword","schema_path","message"}
// objects: the form of the dead-letter envelope and the report's examples.
void write_violations(json::JsonWriter& w, const std::vector<Violation>& vs);

// --max-invalid: a count ("100") or a share of the events ("0.5%").
struct InvalidLimit {
  bool percent = false;
  double value = 0;
  std::string text;  // as the user wrote it

  // Fails with kUsage on anything but a non-negative integer or a percentage in [0, 100].
  static Result<InvalidLimit> parse(std::string_view text);
  bool exceeded(uint64_t invalid, uint64_t events) const;
};

class QualityReport {
 public:
  static constexpr size_t kMaxPaths = 1000;
  static constexpr size_t kMaxJunitCases = 1000;

  QualityReport(std::string program, std::string schema, size_t max_examples)
      : program_(std::move(program)), schema_(std::move(schema)), max_examples_(max_examples) {}

  // One invalid event. `violations` may be null (not a schema failure).
  void add_invalid(std::string_view category, std::string_view source, uint64_t line,
                   std::string_view reason, const std::vector<Violation>* violations);

  uint64_t invalid() const { return invalid_; }

  // The --report document (one JSON object and a newline) after `events` events, of
  // which `normalized` were changed; `limit` (optional) and whether it was exceeded;
  // "complete":false when the run stopped before the end of its input.
  std::string to_json(uint64_t events, uint64_t normalized, const InvalidLimit* limit,
                      bool complete = true) const;
  // The --junit document: one test suite named after the program and schema; one
  // failed test case per invalid event (the first kMaxJunitCases, then one case
  // counting the rest) and one passing case for the valid events; with a limit, a case
  // "max-invalid" that fails when it was exceeded; when the run stopped before the end
  // of its input, a failed case "incomplete run". `seconds` is the run time.
  std::string to_junit(uint64_t events, double seconds, const InvalidLimit* limit,
                       bool complete = true) const;
  // "37 of 1000 events invalid (3.70%)".
  std::string summary(uint64_t events) const;

 private:
  struct Example {
    std::string category;
    std::string source;
    uint64_t line = 0;
    std::string reason;
    std::vector<Violation> violations;
  };

  std::string program_;
  std::string schema_;
  size_t max_examples_;
  uint64_t invalid_ = 0;
  std::map<std::string, uint64_t, std::less<>> by_category_;
  std::map<std::string, uint64_t, std::less<>> by_keyword_;
  std::map<std::string, uint64_t, std::less<>> by_path_;
  uint64_t other_paths_ = 0;
  std::vector<Example> examples_;  // the first max(max_examples, kMaxJunitCases)
};

}  // namespace ev::validate
