#include "libcore/stages/ingest.h"

#include <cmath>

#include "libcore/json/json_writer.h"
#include "libcore/json/splice.h"

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
