// Kafka endpoints as URIs, and the librdkafka settings that go with them.
//
//   kafka://host:port[,host:port]/topic[,topic...][?param=value&...]
//
// Parameters (values may be %-encoded):
//   group=ID        consume as a member of consumer group ID (subscribe; cooperative
//                   rebalancing; offsets committed to the group)
//   from=WHERE      earliest | latest | committed | an RFC 3339 time |
//                   PARTITION:OFFSET,... (explicit start offsets)
//   until=WHERE     end (the partition ends as they are when the run starts) | an
//                   RFC 3339 time (messages before it): a bounded read, which ends
//                   when every partition has reached it
//   partition=N     source: read only partition N; sink: write every message to N
//   key=FIELD       sink: the message key is the value of field FIELD
//   time=FIELD      sink: the message timestamp is the event time in FIELD (default
//                   ts; "time=" leaves the timestamp to the producer)
// A missing host list is taken from EV_KAFKA_BROKERS ("kafka:///clicks").
// Settings (-X key=value, --kafka-config FILE) are passed to librdkafka as they are.
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libcore/base/status.h"

namespace ev::kafka {

inline constexpr std::string_view kScheme = "kafka://";

// True for names that start with "kafka://".
bool is_kafka_uri(std::string_view name);

enum class From { kDefault, kEarliest, kLatest, kCommitted, kTime, kOffsets };
enum class Until { kNone, kEnd, kTime };

struct Uri {
  std::string text;     // as given, for messages
  std::string brokers;  // "host:port,host:port"
  std::vector<std::string> topics;
  std::string group;
  From from = From::kDefault;
  int64_t from_time_ms = 0;
  std::vector<std::pair<int32_t, int64_t>> from_offsets;  // partition, offset
  Until until = Until::kNone;
  int64_t until_time_ms = 0;
  int32_t partition = -1;  // -1: all
  std::string key_field;
  std::string time_field = "ts";
};

// Parses `text`. `env_brokers` fills in a missing host list (EV_KAFKA_BROKERS).
// Fails with kUsage naming the URI and what is wrong.
Result<Uri> parse_uri(std::string_view text, std::string_view env_brokers);
// The same, with EV_KAFKA_BROKERS from the environment.
Result<Uri> parse_uri(std::string_view text);

// librdkafka settings in the order given; later ones win.
using Settings = std::vector<std::pair<std::string, std::string>>;

// Parses one "-X key=value". Fails with kUsage.
Result<std::pair<std::string, std::string>> parse_setting(std::string_view text);
// Reads a kcat-style properties file: "key=value" lines, '#' comments, blank lines.
// Fails with kUsage naming the file and line.
Status read_settings_file(const std::string& path, Settings& out);

// What every program passes to its Kafka endpoints.
struct KafkaOptions {
  Settings settings;          // -X and --kafka-config, in order
  bool exactly_once = false;  // --exactly-once: transactions Kafka in -> Kafka out
  int64_t commit_every_ms = 1000;
  int64_t flush_timeout_ms = 60000;  // bound on delivering what is queued at exit
};

}  // namespace ev::kafka
