// The dead-letter envelope: how a rejected event is written to the --reject sink.
//
//   {"error":"invalid JSON: unclosed string","program":"ev-ingest",
//    "source":"clicks.jsonl","line":12,"raw":"{\"user_id\":\"u1"}
//
// "raw" holds the original line; decoding the JSON string gives it back byte for
// byte. A line that is not valid UTF-8 cannot be a JSON string, so it is carried as
// "raw_base64" instead. An oversize line carries its first 1 KiB (less a character
// the cut splits) and
// "raw_truncated":true with "length". Kafka input adds "topic", "partition",
// "offset" in place of "line" ("line" too for a message of several lines). A stage may add members
// of its own after "error" (ev-validate's "violations"). Canonical JSON (json_writer.h). Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/json/event.h"

namespace ev::pipeline {

struct RejectInfo {
  std::string_view reason;
  std::string_view program;
  std::string_view source;
  uint64_t line = 0;
  std::string_view raw;
  bool truncated = false;         // raw is a prefix of a longer line
  uint64_t length = 0;            // full length when truncated
  std::string_view details = {};  // extra members after "error" (JSON, no braces), or empty
  const json::KafkaOrigin* kafka = nullptr;  // read from Kafka: topic/partition/offset
};

// Appends the envelope (no newline) to `out`.
void append_envelope(std::string& out, const RejectInfo& info);

// Standard base64 (RFC 4648, with padding), for raw_base64.
void append_base64(std::string& out, std::string_view bytes);

}  // namespace ev::pipeline
