// Validate: the data-quality gate. Checks each event against a compiled JSON Schema
// (validate/schema.h); valid events pass byte for byte, invalid ones go to
// --on-error with every violation listed in the dead-letter envelope:
//
//   {"error":"schema: /type: expected one of [...], got \"x\" [enum] (+1 more)",
//    "violations":[{"instance_path":"/type","keyword":"enum","schema_path":
//    "/properties/type/enum","message":"..."},...],"program":"ev-validate",...}
//
// Each event is parsed fully (simdjson DOM): malformed JSON, invalid UTF-8 and
// numbers out of range (beyond 64-bit integers or doubles) are bad events
// ("json"), as is an object with a repeated key ("duplicate_key", see
// validate/duplicate_keys.h) unless allow_duplicate_keys: then each occurrence is
// checked against its property's schema, and keywords that look a key up (required,
// dependentRequired) see it present. Bad lines the runner catches first (too long,
// NUL, not an object) count as "line".
//
// Normalization (opt-in): --coerce and --apply-defaults (Schema::plan_normalization)
// and --normalize-time FIELD (RFC 3339 UTC with milliseconds, or epoch ms) are
// spliced into the line as text edits (json/edit.h), and the edited event is what is
// validated and written; an event no option changes still passes byte for byte. A
// time field that is present but not a time is a bad event ("time"); a missing one is
// left to the schema's "required".
//
// At the end of the input the stage fails with kData (exit 1, the output abandoned)
// when --max-invalid is exceeded, with a one-line summary. Then, however the run
// ended (also after --on-error fail, a signal or a closed pipe), it writes --report
// and --junit (validate/quality.h), marked incomplete when not all input was read. State: the
// quality counters, bounded (see quality.h). Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "libcore/base/status.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/timestamp.h"
#include "libcore/validate/quality.h"
#include "libcore/validate/schema.h"

namespace ev::stages {

struct ValidateOptions {
  std::string program = "ev-validate";
  std::string schema;  // the schema file
  validate::SchemaOptions schema_options;
  size_t max_errors = 100;            // violations listed per event
  bool allow_duplicate_keys = false;  // else an object with a repeated key is a bad event
  validate::NormalizeOptions normalize;
  std::optional<std::string> normalize_time;           // a field path
  std::string time_out = "rfc3339";                    // or "epoch-ms"
  time::EpochUnit time_unit = time::EpochUnit::kAuto;  // epoch numbers in normalize_time
  std::string report;                                  // --report FILE, or empty
  std::string junit;                                   // --junit FILE, or empty
  std::string max_invalid;                             // "N" or "P%", or empty
  bool events_on_stdout = true;                        // the events go to stdout: a report may not
  size_t report_examples = 10;
};

// Compiles the schema and creates the report files (as NAME.partial, so a path that
// cannot be written fails before any input is read). Fails with kUsage on a schema
// error (naming the file and the schema path), a bad field path, --max-invalid or
// max_errors == 0, or a report to standard output where the events go; with kIo when
// a report file cannot be created.
Result<std::unique_ptr<pipeline::Stage>> make_validate(const ValidateOptions& opt);

}  // namespace ev::stages
