#include "libcore/pipeline/run_report.h"

#include "libcore/json/json_writer.h"

namespace ev::pipeline {

void RunReport::add_extra(std::string_view name, uint64_t value) {
  for (auto& [k, v] : extra) {
    if (k == name) {
      v = value;
      return;
    }
  }
  extra.emplace_back(std::string(name), value);
}

std::string RunReport::to_json(std::string_view program) const {
  std::string line;
  json::JsonWriter w(line);
  w.begin_object();
  w.key("program").value(program);
  w.key("in").value(in);
  w.key("out").value(out);
  w.key("rejected").value(rejected);
  w.key("skipped").value(skipped);
  w.key("dropped").value(dropped);
  w.key("control").value(control);
  for (const auto& [k, v] : extra) w.key(k).value(v);
  w.key("bytes_in").value(bytes_in);
  w.key("seconds").value(static_cast<double>(static_cast<int64_t>(seconds * 1e6)) / 1e6);
  double rate = seconds > 0 ? static_cast<double>(in) / seconds : 0.0;
  w.key("events_per_s").value(static_cast<uint64_t>(rate));
  w.end_object();
  return line;
}

}  // namespace ev::pipeline
