#include "libcore/stages/ingest.h"

#include <cmath>

#include "libcore/json/json_writer.h"
#include "libcore/json/splice.h"
#include "libcore/pipeline/envelope.h"

namespace ev::stages {
namespace {

class Ingest final : public pipeline::Stage {
 public:
  Ingest(const IngestOptions& opt, time::Clock& clock) : opt_(opt), clock_(clock) {}

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    if (opt_.rate > 0) {
      if (auto st = pace(out); !st) return st;
    }
    if (!opt_.meta) return out.emit(event.raw());
    if (const json::KafkaOrigin* k = event.kafka()) return splice_kafka(event, *k, out);
    if (event.source() != source_) {
      source_ = std::string(event.source());
      source_json_.clear();
      json::append_json_string(source_json_, source_);
    }
    members_.assign("\"_src\":{\"file\":");
    members_.append(source_json_);
    members_.append(",\"line\":");
    members_.append(std::to_string(event.line()));
    members_.push_back('}');
    std::string& buf = out.line_buffer();
    size_t mark = buf.size();
    auto st = json::append_spliced(buf, event.raw(), members_, {"_src"}, parser_);
    if (!st) {
      buf.resize(mark);
      return out.reject(event, st.error().message);
    }
    return out.end_line();
  }

 private:
  // "_kafka":{"topic":T,"partition":P,"offset":O,"key":K,"ts":MS}: key null when the
  // message has none (or is not UTF-8: then "key_base64"), ts the message timestamp
  // in epoch milliseconds (null when it has none).
  Status splice_kafka(json::Event& event, const json::KafkaOrigin& k, pipeline::Emitter& out) {
    members_.assign("\"_kafka\":");
    json::JsonWriter w(members_);
    w.begin_object();
    w.key("topic").value(k.topic);
    w.key("partition").value(static_cast<int64_t>(k.partition));
    w.key("offset").value(k.offset);
    if (!k.has_key) {
      w.key("key").null();
    } else if (json::is_valid_utf8(k.key)) {
      w.key("key").value(k.key);
    } else {
      std::string b64 = "\"";
      pipeline::append_base64(b64, k.key);
      b64.push_back('"');
      w.key("key_base64").raw(b64);
    }
    if (k.timestamp_ms >= 0) {
      w.key("ts").value(k.timestamp_ms);
    } else {
      w.key("ts").null();
    }
    w.end_object();
    std::string& buf = out.line_buffer();
    size_t mark = buf.size();
    auto st = json::append_spliced(buf, event.raw(), members_, {"_kafka"}, parser_);
    if (!st) {
      buf.resize(mark);
      return out.reject(event, st.error().message);
    }
    return out.end_line();
  }

  Status pace(pipeline::Emitter& out) {
    int64_t now = clock_.mono_ns();
    if (count_ == 0) start_ = now;
    const int64_t due = time::paced_due(start_, count_, opt_.rate);
    ++count_;
    if (now < due) {
      if (auto st = out.flush(); !st) return st;
      clock_.sleep_until_mono(due);
    }
    return {};
  }

  IngestOptions opt_;
  time::Clock& clock_;
  int64_t start_ = 0;
  uint64_t count_ = 0;
  std::string source_;
  std::string source_json_;
  std::string members_;
  simdjson::ondemand::parser parser_;
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_ingest(const IngestOptions& opt, time::Clock& clock) {
  if (opt.rate < 0 || !std::isfinite(opt.rate)) return usage_error("--rate must be positive");
  return std::unique_ptr<pipeline::Stage>(std::make_unique<Ingest>(opt, clock));
}

}  // namespace ev::stages
