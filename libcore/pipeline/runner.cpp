#include "libcore/pipeline/runner.h"

#include <simdjson.h>

#include <cstring>
#include <optional>
#include <string>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/io/glob.h"
#include "libcore/io/line_reader.h"
#include "libcore/io/line_writer.h"
#include "libcore/json/canonical.h"
#include "libcore/pipeline/control.h"
#include "libcore/pipeline/envelope.h"
#include "libcore/time/clock.h"

namespace ev::pipeline {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t'; }

// A closed dead-letter sink is not a reader that went away: bad events would be lost,
// so it is an I/O error, never the quiet end a closed main output is.
Status dead_letters(Status st) {
  if (!st && st.error().kind == ErrorKind::kPipe) {
    return io_error("dead-letter sink closed: bad events would be lost", st.error().where);
  }
  return st;
}

class RunnerEmitter final : public Emitter {
 public:
  RunnerEmitter(const RunOptions& opt, RunReport& report, io::LineWriter& out,
                io::LineWriter* rejects, Stage& stage)
      : opt_(opt), report_(report), out_(out), rejects_(rejects), stage_(stage) {
    policy_ = opt.on_error;
    if (policy_ == OnError::kDefault) policy_ = rejects ? OnError::kReject : OnError::kSkip;
  }

  Status emit(std::string_view line) override {
    ++report_.out;
    return out_.write_line(line);
  }
  Status emit_control(std::string_view line) override { return out_.write_line(line); }
  std::string& line_buffer() override { return out_.buffer(); }
  Status end_line() override {
    ++report_.out;
    return out_.end_line();
  }
  Status reject(const json::Event& event, std::string_view reason,
                std::string_view details) override {
    return apply_policy(event.raw(), event.source(), event.line(), reason, details, false, 0);
  }
  Status flush() override {
    if (rejects_) {
      if (auto st = dead_letters(rejects_->flush()); !st) return st;
    }
    return out_.flush();
  }
  RunReport& report() override { return report_; }

  // A line the runner itself found bad: the stage hears of it, then --on-error.
  Status bad_line(std::string_view raw, std::string_view source, uint64_t line,
                  std::string_view reason, bool truncated, uint64_t length) {
    stage_.on_bad_line(source, line, reason);
    return apply_policy(raw, source, line, reason, {}, truncated, length);
  }

  Status apply_policy(std::string_view raw, std::string_view source, uint64_t line,
                      std::string_view reason, std::string_view details, bool truncated,
                      uint64_t length) {
    switch (policy_) {
      case OnError::kFail:
        return data_error(std::string(reason), std::string(source) + ":" + std::to_string(line));
      case OnError::kReject: {
        ++report_.rejected;
        RejectInfo info{reason, opt_.program, source, line, raw, truncated, length, details};
        append_envelope(rejects_->buffer(), info);
        return dead_letters(rejects_->end_line());
      }
      case OnError::kSkip:
      case OnError::kDefault:
        ++report_.skipped;
        warn(source, line, reason);
        return {};
    }
    return {};
  }

  void warn(std::string_view source, uint64_t line, std::string_view reason) {
    if (warnings_ < opt_.max_warnings) {
      diag::warning(std::string(source) + ":" + std::to_string(line) + ": " + std::string(reason) +
                    " (skipped)");
    } else if (warnings_ == opt_.max_warnings) {
      diag::warning("further bad events are skipped without a warning; --stats counts them");
    }
    ++warnings_;
  }

 private:
  const RunOptions& opt_;
  RunReport& report_;
  io::LineWriter& out_;
  io::LineWriter* rejects_;
  Stage& stage_;
  OnError policy_;
  uint64_t warnings_ = 0;
};

// Closes the outputs; after a failure the main output is abandoned (an atomic file
// stays .partial) while the dead letters, complete as far as they go, are kept.
Status close_both(io::LineWriter& out, io::LineWriter* rejects, bool failed) {
  Status st = failed ? out.abandon() : out.close();
  if (rejects) {
    Status rs = dead_letters(rejects->close());
    if (st && !rs) st = rs;
  }
  return st;
}

}  // namespace

Status check_options(const RunOptions& opt) {
  if (opt.reject.empty() && opt.on_error == OnError::kReject) {
    return usage_error("--on-error reject needs --reject SINK");
  }
  return {};
}

std::string_view check_line(std::string_view line, bool utf8) {
  if (std::memchr(line.data(), 0, line.size()) != nullptr) return "NUL byte in line";
  if (utf8 && !simdjson::validate_utf8(line.data(), line.size())) return "invalid UTF-8";
  size_t b = 0, e = line.size();
  while (b < e && is_ws(line[b])) ++b;
  while (e > b && is_ws(line[e - 1])) --e;
  if (e - b < 2 || line[b] != '{' || line[e - 1] != '}') return "not a JSON object";
  return {};
}

Result<RunEnd> run(const RunOptions& opt, Stage& stage, RunReport& report,
                   std::unique_ptr<io::ByteSink> output) {
  auto& clock = time::SystemClock::instance();
  const int64_t started = clock.mono_ns();

  auto inputs = io::expand_inputs(opt.inputs);
  if (!inputs) return std::unexpected(inputs.error());
  if (opt.source.follow && inputs->size() > 1) {
    return usage_error("--follow follows one file; run one ev-ingest per file");
  }

  if (auto st = check_options(opt); !st) return std::unexpected(st.error());
  // Output and dead-letter sinks. A file output is written as NAME.partial and
  // renamed when the run succeeds, so a run that fails (a missing input, a bad
  // event under --on-error fail) leaves an existing NAME as it was, and reading and
  // writing the same file works.
  if (!output) {
    io::SinkOptions so;
    so.atomic = true;
    auto sink = io::open_sink(opt.output, so);
    if (!sink) return std::unexpected(sink.error());
    output = std::move(*sink);
  }
  io::LineWriter out(std::move(output));
  std::unique_ptr<io::LineWriter> rejects;
  if (!opt.reject.empty()) {
    auto sink = io::open_sink(opt.reject);
    if (!sink) return std::unexpected(sink.error());
    rejects = std::make_unique<io::LineWriter>(std::move(*sink), 64 * 1024);
  }
  RunnerEmitter emitter(opt, report, out, rejects.get(), stage);

  simdjson::ondemand::parser parser;
  simdjson::dom::parser dom_parser;
  std::string scratch;
  json::Event event(parser);
  RunEnd end;
  Status failure;
  bool last_unterminated = false;

  auto idle = [&]() -> Status {
    if (auto st = stage.on_idle(emitter); !st) return st;
    if (rejects) {
      if (auto st = dead_letters(rejects->idle()); !st) return st;
    }
    return out.idle();
  };

  // One reader for all inputs: its buffer (2 MiB and more) is allocated once, not per
  // file, which matters for a backfill over many small files.
  std::optional<io::LineReader> reader_slot;
  Status idle_status;
  for (const auto& name : *inputs) {
    if (stop_requested()) break;
    const bool resumable = name != "-" && name != "/dev/stdin" && !opt.source.follow;
    auto resume = stage.on_source_begin(name, resumable);
    if (!resume) {
      failure = std::unexpected(resume.error());
      break;
    }
    if (*resume == UINT64_MAX) continue;
    const uint64_t skip_lines = resumable ? *resume : 0;
    auto src = io::open_source(name, opt.source);
    if (!src) {
      failure = std::unexpected(src.error());
      break;
    }
    if (!reader_slot) {
      reader_slot.emplace(std::move(*src), opt.max_line);
      reader_slot->set_before_block([&] {
        if (idle_status) idle_status = idle();
      });
    } else {
      reader_slot->reset(std::move(*src));
    }
    io::LineReader& reader = *reader_slot;
    const std::string& source_name = reader.name();
    io::Line line;
    last_unterminated = false;
    bool ended = false;
    for (;;) {
      auto more = reader.next(line);
      if (!more) {
        failure = std::unexpected(more.error());
        break;
      }
      if (!idle_status) {
        failure = idle_status;
        break;
      }
      if (!*more) {
        // Stopped while reading: the input is not known to be at its end.
        if (stop_requested()) break;
        ended = true;
        if (line.number < skip_lines) {
          failure = make_error(ErrorKind::kState,
                               "has " + std::to_string(line.number) + " lines, but " +
                                   std::to_string(skip_lines) +
                                   " were read before the checkpoint being resumed (was it "
                                   "changed or replaced?)",
                               source_name);
        }
        break;
      }
      if (line.number <= skip_lines) continue;  // read by the run being resumed
      Status st;
      const uint64_t lines_before = out.lines();
      if (is_control_line(line.text) && !line.oversize && check_line(line.text).empty()) {
        ++report.control;
        st = stage.on_control(line.text, emitter);
      } else {
        ++report.in;
        std::string_view bad;
        if (line.oversize) {
          std::string reason = "line too long: " + std::to_string(line.length) +
                               " bytes (--max-line " + std::to_string(opt.max_line) + ")";
          st = emitter.bad_line(line.text, source_name, line.number, reason, true, line.length);
        } else if (!(bad = check_line(line.text, !opt.check_json)).empty()) {
          // (With --check-json the parse below validates UTF-8 itself: not twice.)
          st = emitter.bad_line(line.text, source_name, line.number, bad, false, 0);
        } else if (opt.check_json) {
          simdjson::dom::element element;
          auto err = dom_parser.parse(line.text.data(), line.text.size(), false).get(element);
          if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
            // The DOM converts numbers and fails on valid ones beyond 64 bits or a
            // double (1e400); check the syntax alone instead, keeping numbers as text.
            event.reset(line.text, source_name, line.number);
            auto doc = event.doc();
            if (doc && json::append_canonical(**doc, scratch)) err = simdjson::SUCCESS;
            scratch.clear();
          }
          if (err) {
            st = emitter.bad_line(line.text, source_name, line.number, json::describe(err), false,
                                  0);
          } else {
            event.reset(line.text, source_name, line.number);
            st = stage.on_event(event, emitter);
          }
        } else {
          event.reset(line.text, source_name, line.number);
          st = stage.on_event(event, emitter);
        }
      }
      if (!st) {
        failure = st;
        break;
      }
      // A last line without a newline that went out as one line stays without one.
      last_unterminated = !line.terminated && out.lines() == lines_before + 1;
      if (stop_requested()) break;
    }
    report.bytes_in += reader.bytes_read();
    if (!failure) break;
    if (ended) stage.on_source_end(name);
  }

  if (stop_requested()) end.interrupted = true;
  // Finish: the stage emits what it holds, then everything is flushed and closed.
  if (failure || failure.error().kind != ErrorKind::kPipe) {
    const uint64_t lines_before = out.lines();
    Status fin = !failure          ? stage.on_failure(emitter)
                 : end.interrupted ? stage.on_stop(emitter)
                                   : stage.on_finish(emitter);
    if (failure && !fin) failure = fin;
    if (last_unterminated && out.lines() == lines_before) out.omit_final_newline();
  }
  Status closed =
      close_both(out, rejects.get(), !failure && failure.error().kind != ErrorKind::kPipe);
  if (failure && !closed) failure = closed;
  report.seconds = static_cast<double>(clock.mono_ns() - started) / 1e9;
  // Last, whatever ended the run (a closed pipe too): the stage's side outputs.
  const Outcome outcome = !failure          ? Outcome::kFailed
                          : end.interrupted ? Outcome::kStopped
                                            : Outcome::kComplete;
  Status ended = stage.on_end(report, outcome);
  if (failure && !ended) failure = ended;
  if (!failure) return std::unexpected(failure.error());
  return end;
}

}  // namespace ev::pipeline
