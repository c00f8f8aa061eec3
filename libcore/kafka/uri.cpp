#include "libcore/kafka/uri.h"

#include <charconv>
#include <cstdlib>
#include <fstream>

#include "libcore/base/text.h"
#include "libcore/time/timestamp.h"

namespace ev::kafka {
namespace {

using text::parse_int;
using text::percent_decode;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t b = 0;
  for (;;) {
    size_t e = s.find(sep, b);
    parts.push_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) return parts;
    b = e + 1;
  }
}

Result<int64_t> parse_time_ms(std::string_view v) {
  auto t = time::parse_rfc3339(v);
  if (!t) return std::unexpected(t.error());
  return *t / 1000000;
}

// Checks one param; fills `uri`.
Status apply_param(Uri& uri, std::string_view name, const std::string& value) {
  if (name == "group") {
    if (value.empty()) return usage_error("group= needs a group id");
    uri.group = value;
  } else if (name == "from") {
    if (value == "earliest" || value == "beginning") {
      uri.from = From::kEarliest;
    } else if (value == "latest" || value == "end") {
      uri.from = From::kLatest;
    } else if (value == "committed") {
      uri.from = From::kCommitted;
    } else if (value.find(':') != std::string::npos &&
               value.find_first_not_of("0123456789:,") == std::string::npos) {
      uri.from = From::kOffsets;
      for (auto part : split(value, ',')) {
        size_t colon = part.find(':');
        int32_t p = 0;
        int64_t o = 0;
        if (colon == std::string_view::npos || !parse_int(part.substr(0, colon), p) || p < 0 ||
            !parse_int(part.substr(colon + 1), o) || o < 0) {
          return usage_error("from=: '" + std::string(part) + "' is not PARTITION:OFFSET");
        }
        uri.from_offsets.emplace_back(p, o);
      }
    } else {
      auto t = parse_time_ms(value);
      if (!t) {
        return usage_error(
            "from= must be earliest, latest, committed, an RFC 3339 time or "
            "PARTITION:OFFSET,..., not '" +
            value + "'");
      }
      uri.from = From::kTime;
      uri.from_time_ms = *t;
    }
  } else if (name == "until") {
    if (value == "end") {
      uri.until = Until::kEnd;
    } else {
      auto t = parse_time_ms(value);
      if (!t) return usage_error("until= must be end or an RFC 3339 time, not '" + value + "'");
      uri.until = Until::kTime;
      uri.until_time_ms = *t;
    }
  } else if (name == "partition") {
    if (!parse_int(std::string_view(value), uri.partition) || uri.partition < 0) {
      return usage_error("partition= must be a partition number, not '" + value + "'");
    }
  } else if (name == "key") {
    if (value.empty()) return usage_error("key= needs a field path");
    uri.key_field = value;
  } else if (name == "time") {
    uri.time_field = value;
  } else {
    return usage_error("unknown parameter '" + std::string(name) +
                       "' (group, from, until, partition, key, time)");
  }
  return {};
}

}  // namespace

bool is_kafka_uri(std::string_view name) { return name.starts_with(kScheme); }

Result<Uri> parse_uri(std::string_view text, std::string_view env_brokers) {
  auto fail = [&](const Error& e) { return usage_error(std::string(text) + ": " + e.message); };
  if (!is_kafka_uri(text)) return usage_error(std::string(text) + ": not a kafka:// URI");
  Uri uri;
  uri.text = std::string(text);
  std::string_view rest = text.substr(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return fail({ErrorKind::kUsage, "needs a topic: kafka://host:port/topic", {}});
  }
  uri.brokers = std::string(rest.substr(0, slash));
  if (uri.brokers.empty()) uri.brokers = std::string(env_brokers);
  if (uri.brokers.empty()) {
    return fail({ErrorKind::kUsage,
                 "no brokers: name them (kafka://host:port/topic) or set "
                 "EV_KAFKA_BROKERS",
                 {}});
  }
  for (auto b : split(uri.brokers, ',')) {
    if (b.empty() || b.find(':') == std::string_view::npos) {
      return fail({ErrorKind::kUsage, "broker '" + std::string(b) + "' is not host:port", {}});
    }
  }
  for (auto t : split(rest.substr(slash + 1), ',')) {
    auto topic = percent_decode(t);
    if (!topic) return fail(topic.error());
    if (topic->empty()) return fail({ErrorKind::kUsage, "empty topic name", {}});
    uri.topics.push_back(std::move(*topic));
  }
  if (!query.empty()) {
    for (auto kv : split(query, '&')) {
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) {
        return fail({ErrorKind::kUsage, "parameter '" + std::string(kv) + "' has no value", {}});
      }
      auto value = percent_decode(kv.substr(eq + 1));
      if (!value) return fail(value.error());
      if (auto st = apply_param(uri, kv.substr(0, eq), *value); !st) return fail(st.error());
    }
  }
  if (uri.from == From::kCommitted && uri.group.empty()) {
    return fail({ErrorKind::kUsage, "from=committed needs group=", {}});
  }
  if (uri.from == From::kOffsets && uri.topics.size() > 1) {
    return fail({ErrorKind::kUsage, "from=PARTITION:OFFSET needs a single topic", {}});
  }
  if (uri.from == From::kOffsets && !uri.group.empty()) {
    return fail({ErrorKind::kUsage,
                 "from=PARTITION:OFFSET assigns partitions itself: not with group=",
                 {}});
  }
  if (uri.partition >= 0 && !uri.group.empty()) {
    return fail({ErrorKind::kUsage, "partition= reads one partition itself: not with group=", {}});
  }
  return uri;
}

Result<Uri> parse_uri(std::string_view text) {
  const char* env = std::getenv("EV_KAFKA_BROKERS");
  return parse_uri(text, env ? env : "");
}

Result<std::pair<std::string, std::string>> parse_setting(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return usage_error("-X: '" + std::string(text) + "' is not key=value");
  }
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Status read_settings_file(const std::string& path, Settings& out) {
  std::ifstream in(path);
  if (!in) return usage_error("--kafka-config: cannot read " + path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    auto kv = parse_setting(std::string_view(line).substr(b, e - b + 1));
    if (!kv) {
      return usage_error("--kafka-config: " + path + ":" + std::to_string(n) + ": '" + line +
                         "' is not key=value");
    }
    out.push_back(std::move(*kv));
  }
  return {};
}

}  // namespace ev::kafka
