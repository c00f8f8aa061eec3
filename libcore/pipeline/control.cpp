#include "libcore/pipeline/control.h"

#include <simdjson.h>

#include "libcore/json/event.h"
#include "libcore/json/event_time.h"
#include "libcore/json/json_writer.h"
#include "libcore/time/timestamp.h"

namespace ev::pipeline {
namespace {
constexpr std::string_view kPrefix = "{\"$ev\"";

size_t skip_blank(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}
}  // namespace

bool is_control_line(std::string_view line) {
  size_t i = skip_blank(line, 0);
  return line.compare(i, kPrefix.size(), kPrefix) == 0;
}

std::string_view control_kind(std::string_view line) {
  size_t i = skip_blank(line, 0);
  if (line.compare(i, kPrefix.size(), kPrefix) != 0) return {};
  i = skip_blank(line, i + kPrefix.size());
  if (i >= line.size() || line[i] != ':') return {};
  i = skip_blank(line, i + 1);
  if (i >= line.size() || line[i] != '"') return {};
  size_t end = line.find('"', i + 1);
  if (end == std::string_view::npos) return {};
  std::string_view kind = line.substr(i + 1, end - i - 1);
  if (kind.find('\\') != std::string_view::npos) return {};
  return kind;
}

Result<int64_t> watermark_time(std::string_view line) {
  // Rare (one per watermark, not per event): a parser of its own is fine.
  simdjson::padded_string padded(line);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  simdjson::ondemand::value t;
  auto err = parser.iterate(padded).get(doc);
  if (!err) err = doc.get_object().get(obj);
  if (!err) err = obj.find_field_unordered("t").get(t);
  if (err == simdjson::NO_SUCH_FIELD) return data_error("watermark line without \"t\"");
  if (err) return data_error("watermark line: " + json::describe(err));
  auto time = json::time_of(t, time::EpochUnit::kAuto);
  if (!time) return data_error("watermark line: \"t\" is not a time: " + time.error().message);
  return time;
}

std::string make_watermark_line(int64_t t_ns) {
  std::string out;
  json::JsonWriter w(out);
  w.begin_object().key("$ev").value("watermark").key("t").value(time::format_rfc3339_ms(t_ns));
  w.end_object();
  return out;
}

std::string make_barrier_line(uint64_t id) {
  std::string out;
  json::JsonWriter w(out);
  w.begin_object().key("$ev").value("barrier").key("id").value(id).end_object();
  return out;
}

}  // namespace ev::pipeline
