// Emit: send events out. For stdout and files this is a byte-exact pass-through
// whose interest is the sink: compression by file name, atomic files (written as
// NAME.partial and renamed when complete) and rotation by size or age.
//
// make_emit_sink builds that sink from the options; the stage itself forwards
// events unchanged. A kafka:// output is the runner's Kafka producer, shared by every
// program. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "libcore/base/status.h"
#include "libcore/io/byte_sink.h"
#include "libcore/pipeline/stage.h"

namespace ev::stages {

struct EmitOptions {
  std::string output = "-";
  uint64_t rotate_bytes = 0;  // --rotate-size; 0: off
  int64_t rotate_ns = 0;      // --rotate-every; 0: off
  int zstd_level = 3;
  bool append = false;  // one file, appended to instead of NAME.partial (Kafka input:
                        // pipeline::reads_kafka)
};

Result<std::unique_ptr<pipeline::Stage>> make_emit(const EmitOptions& opt);

// The output sink for `opt`: stdout, one atomic file, or rotating atomic files; null
// for a kafka:// output, which the runner opens (RunOptions::output).
// Fails with kUsage (rotation of stdout, a rotation pattern without {seq}) or kIo.
Result<std::unique_ptr<io::ByteSink>> make_emit_sink(const EmitOptions& opt);

}  // namespace ev::stages
