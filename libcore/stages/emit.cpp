#include "libcore/stages/emit.h"

#include "libcore/kafka/uri.h"

namespace ev::stages {
namespace {

class Emit final : public pipeline::Stage {
 public:
  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    return out.emit(event.raw());
  }
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_emit(const EmitOptions& opt) {
  if (opt.zstd_level < 1 || opt.zstd_level > 19) {
    return usage_error("--zstd-level must be between 1 and 19");
  }
  return std::unique_ptr<pipeline::Stage>(std::make_unique<Emit>());
}

Result<std::unique_ptr<io::ByteSink>> make_emit_sink(const EmitOptions& opt) {
  const bool rotating = opt.rotate_bytes > 0 || opt.rotate_ns > 0;
  if (opt.rotate_ns < 0) return usage_error("--rotate-every must be positive");
  if (kafka::is_kafka_uri(opt.output)) {
    if (rotating) return usage_error("--rotate-size/--rotate-every are for files, not Kafka");
    return std::unique_ptr<io::ByteSink>();  // the runner opens Kafka outputs
  }
  if (opt.output == "-") {
    if (rotating) return usage_error("--rotate-size/--rotate-every need -o with a file name");
    return io::open_sink("-");
  }
  io::SinkOptions file;
  file.atomic = true;
  file.zstd_level = opt.zstd_level;
  if (!rotating) {
    file.atomic = !opt.append;
    file.append = opt.append;
    return io::open_sink(opt.output, file);
  }
  io::RotateOptions ro;
  ro.pattern = opt.output;
  ro.max_bytes = opt.rotate_bytes;
  ro.max_age_ns = opt.rotate_ns;
  ro.file = file;
  return io::open_rotating_sink(ro);
}

}  // namespace ev::stages
