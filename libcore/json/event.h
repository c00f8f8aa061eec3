// Event: one input line and its lazily parsed On-Demand document.
//
// The runner fills an Event for each line; a stage reads fields by path without
// materializing the document. The raw line is the input bytes (no newline), which
// stay valid, followed by at least SIMDJSON_PADDING readable bytes, until the runner
// reads the next line. Each lookup rewinds the document, so lookups may come in any
// order; the simdjson value a lookup returns is valid until the next lookup or
// doc() call. One Event per runner; not thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/json/field_path.h"

namespace ev::json {

enum class Found { kYes, kMissing };

// Where an event read from Kafka came from (DESIGN.md, "Errors": envelopes and
// messages name the topic, partition and offset in place of a line).
struct KafkaOrigin {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;  // valid while the event is
  bool has_key = false;
  int64_t timestamp_ms = -1;  // -1: none
  uint64_t lines = 1;         // 1, or 2 when the message holds several lines
};

// How far a partition was read, as a stateful stage records it: the offset of the
// last message handled (or being handled) and how many of its lines were.
struct PartitionPosition {
  int64_t offset = -1;
  uint64_t line = 0;
};

// "topic[partition]@offset", and "#line" after it for a message of several lines.
std::string kafka_where(const KafkaOrigin& origin, uint64_t line);

// Describes a simdjson error for users: "invalid JSON: ...", "invalid UTF-8".
std::string describe(simdjson::error_code code);

class Event {
 public:
  explicit Event(simdjson::ondemand::parser& parser) : parser_(parser) {}

  // Points the event at a new line. Requires: `raw` is followed by SIMDJSON_PADDING
  // readable bytes.
  void reset(std::string_view raw, std::string_view source, uint64_t line) {
    raw_ = raw;
    source_ = source;
    line_ = line;
    parsed_ = false;
    touched_ = false;
    kafka_ = nullptr;
  }
  // Marks the event as read from Kafka (after reset); `origin` outlives the event.
  void set_kafka(const KafkaOrigin* origin) { kafka_ = origin; }
  const KafkaOrigin* kafka() const { return kafka_; }

  std::string_view raw() const { return raw_; }
  std::string_view source() const { return source_; }
  uint64_t line() const { return line_; }
  // "source:line", the location used in messages and envelopes.
  std::string where() const;

  // The document, iterated on first use and rewound on later calls. Fails with kData
  // when the line is not a JSON object.
  Result<simdjson::ondemand::document*> doc();

  // Looks up `path`. On kYes, `out` holds the value. A missing key, an index past the
  // end, or a path through a non-container is kMissing. Malformed JSON is kData.
  Result<Found> find(const FieldPath& path, simdjson::ondemand::value& out);

 private:
  Result<simdjson::ondemand::document*> iterate();  // parses once, no rewind

  simdjson::ondemand::parser& parser_;
  simdjson::ondemand::document doc_;
  std::string_view raw_;
  std::string_view source_;
  uint64_t line_ = 0;
  const KafkaOrigin* kafka_ = nullptr;
  bool parsed_ = false;
  bool touched_ = false;     // doc() handed the document out since the last rewind
  bool may_escape_ = false;  // the line holds a backslash: keys may be spelled escaped
};

// The member of `obj` named `key` (unescaped). Keys are compared as written first;
// when that misses and `may_escape` (the text holds a backslash), the object is
// walked again comparing unescaped keys. The first member with the name wins.
simdjson::error_code find_member(simdjson::ondemand::object& obj, std::string_view key,
                                 bool may_escape, simdjson::ondemand::value& out);

// Follows `path` from segment `from` inside `value` (used by find); `may_escape` as in
// find_member.
Result<Found> descend(simdjson::ondemand::value value, const FieldPath& path, size_t from,
                      simdjson::ondemand::value& out, bool may_escape = true);

// The raw JSON text of a value as it appears in the line (containers included).
// Consumes the value. Fails with kData on malformed JSON.
Result<std::string_view> raw_text(simdjson::ondemand::value value);

}  // namespace ev::json
