#include "libcore/pipeline/runner.h"

#include <simdjson.h>

#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/expr/filter.h"
#include "libcore/io/glob.h"
#include "libcore/io/line_reader.h"
#include "libcore/io/line_writer.h"
#include "libcore/json/canonical.h"
#include "libcore/kafka/consumer.h"
#include "libcore/kafka/producer.h"
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
    return apply_policy(event.raw(), event.source(), event.line(), reason, details, false, 0,
                        event.kafka());
  }
  void checkpointed() override {
    if (on_checkpoint) on_checkpoint();
  }
  std::function<void()> on_checkpoint;
  Status flush() override {
    if (rejects_) {
      if (auto st = dead_letters(rejects_->flush()); !st) return st;
    }
    return out_.flush();
  }
  RunReport& report() override { return report_; }

  // A line the runner itself found bad: the stage hears of it, then --on-error.
  Status bad_line(std::string_view raw, std::string_view source, uint64_t line,
                  std::string_view reason, bool truncated, uint64_t length,
                  const json::KafkaOrigin* kafka = nullptr) {
    if (auto st = stage_.before_bad_line(*this); !st) return st;
    stage_.on_bad_line(source, line, reason);
    return apply_policy(raw, source, line, reason, {}, truncated, length, kafka);
  }

  Status apply_policy(std::string_view raw, std::string_view source, uint64_t line,
                      std::string_view reason, std::string_view details, bool truncated,
                      uint64_t length, const json::KafkaOrigin* kafka) {
    switch (policy_) {
      case OnError::kFail:
        return data_error(std::string(reason), where(source, line, kafka));
      case OnError::kReject: {
        ++report_.rejected;
        RejectInfo info{reason, opt_.program, source, line, raw, truncated, length, details, kafka};
        append_envelope(rejects_->buffer(), info);
        return dead_letters(rejects_->end_line());
      }
      case OnError::kSkip:
      case OnError::kDefault:
        ++report_.skipped;
        warn(where(source, line, kafka), reason);
        return {};
    }
    return {};
  }

  static std::string where(std::string_view source, uint64_t line, const json::KafkaOrigin* kafka) {
    if (kafka) return json::kafka_where(*kafka, line);
    return std::string(source) + ":" + std::to_string(line);
  }

  void warn(const std::string& where, std::string_view reason) {
    if (warnings_ < opt_.max_warnings) {
      diag::warning(where + ": " + std::string(reason) + " (skipped)");
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

// The Kafka side of a run (DESIGN.md, "Delivery"): which input offsets may be
// committed. A commit point is taken every --commit-every (for a stage that holds
// events: at its checkpoints only) and records the input offsets processed and how
// many lines each output had then; the newest point whose lines are all acknowledged
// (written, or delivered by Kafka) is committed. With --exactly-once the output
// producer commits the offsets in its transaction instead.
class KafkaCommits {
 public:
  static constexpr size_t kMaxPoints = 64;  // older points are dropped: newer cover them

  KafkaCommits(kafka::Consumer& consumer, io::LineWriter& out, io::LineWriter* rejects)
      : consumer_(consumer), out_(out), rejects_(rejects) {
    out_producer_ = dynamic_cast<kafka::Producer*>(&out.sink());
    if (rejects) reject_producer_ = dynamic_cast<kafka::Producer*>(&rejects->sink());
  }

  kafka::Producer* transactional() const {
    return out_producer_ && out_producer_->transactional() ? out_producer_ : nullptr;
  }

  void record_point() {
    points_.push_back(
        Point{consumer_.processed_offsets(), out_.lines(), rejects_ ? rejects_->lines() : 0});
    if (points_.size() > kMaxPoints) points_.pop_front();
  }

  // Commits the newest point whose output is acknowledged. `wait` makes the outputs
  // deliver everything first (bounded) and the commit synchronous.
  Status commit_acked(bool wait) {
    if (auto st = out_.flush(); !st) return st;
    if (rejects_) {
      if (auto st = dead_letters(rejects_->flush()); !st) return st;
    }
    if (wait) {
      if (out_producer_) {
        if (auto st = out_producer_->wait_acked(); !st) return st;
      }
      if (reject_producer_) {
        if (auto st = reject_producer_->wait_acked(); !st) return st;
      }
    }
    const uint64_t out_acked = out_producer_ ? out_producer_->acked_lines() : out_.lines();
    const uint64_t rej_acked =
        reject_producer_ ? reject_producer_->acked_lines() : (rejects_ ? rejects_->lines() : 0);
    for (size_t i = points_.size(); i-- > 0;) {
      if (points_[i].out <= out_acked && points_[i].rejects <= rej_acked) {
        Status st = consumer_.commit(points_[i].offsets.get(), wait);
        points_.erase(points_.begin(), points_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        return st;
      }
    }
    return {};
  }

  // --exactly-once: the transaction so far, with the offsets processed. The same
  // offsets are then committed to the group as well: a no-op where the transaction
  // already did it, and where a broker does not apply transactional offset commits
  // (librdkafka's mock cluster) a restart still resumes there.
  Status commit_transaction(bool last) {
    if (auto st = out_.flush(); !st) return st;
    if (rejects_) {
      // Dead letters are outside the transaction; delivered before it commits.
      if (auto st = dead_letters(rejects_->flush()); !st) return st;
      if (reject_producer_) {
        if (auto st = reject_producer_->wait_acked(); !st) return st;
      }
    }
    auto offsets = consumer_.processed_offsets();
    if (auto st =
            out_producer_->commit_transaction(offsets.get(), consumer_.group_metadata(), last);
        !st) {
      return st;
    }
    return consumer_.commit(offsets.get(), false);
  }

  void clear() { points_.clear(); }

 private:
  struct Point {
    kafka::PartitionList offsets;
    uint64_t out = 0;
    uint64_t rejects = 0;
  };
  kafka::Consumer& consumer_;
  io::LineWriter& out_;
  io::LineWriter* rejects_;
  kafka::Producer* out_producer_ = nullptr;
  kafka::Producer* reject_producer_ = nullptr;
  std::deque<Point> points_;
};

// A Kafka output, or a file (appended to with Kafka input: reads_kafka).
Result<std::unique_ptr<io::ByteSink>> open_output(const std::string& name, const RunOptions& opt,
                                                  bool transactional, bool kafka_in) {
  if (kafka::is_kafka_uri(name)) {
    auto uri = kafka::parse_uri(name);
    if (!uri) return std::unexpected(uri.error());
    auto producer = kafka::Producer::open(*uri, opt.kafka, transactional);
    if (!producer) return std::unexpected(producer.error());
    return std::unique_ptr<io::ByteSink>(std::move(*producer));
  }
  io::SinkOptions so;
  so.atomic = !kafka_in;
  so.append = kafka_in && name != "-";
  return io::open_sink(name, so);
}

// The next line of a Kafka message from `pos` into `line`: split at '\n', a trailing
// '\r' dropped, blank lines (spaces, tabs, CRs) skipped as the line reader skips them.
// False when there is none.
bool next_message_line(std::string_view value, size_t& pos, std::string_view& line) {
  while (pos <= value.size()) {
    size_t e = value.find('\n', pos);
    if (e == std::string_view::npos) e = value.size();
    line = value.substr(pos, e - pos);
    pos = e + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

bool reads_kafka(const RunOptions& opt) {
  return opt.inputs.size() == 1 && kafka::is_kafka_uri(opt.inputs[0]);
}

Status check_options(const RunOptions& opt) {
  if (opt.reject.empty() && opt.on_error == OnError::kReject) {
    return usage_error("--on-error reject needs --reject SINK");
  }
  bool kafka_in = false;
  for (const auto& in : opt.inputs) kafka_in = kafka_in || kafka::is_kafka_uri(in);
  if (kafka_in && opt.inputs.size() > 1) {
    return usage_error(
        "a Kafka input is read alone: name several topics in one URI "
        "(kafka://host:port/a,b)");
  }
  if (kafka_in && opt.source.follow) return usage_error("--follow is for files, not Kafka");
  if (!opt.where.empty()) {
    auto filter = expr::Filter::compile(opt.where, {opt.time_field, opt.time_unit});
    if (!filter) return std::unexpected(filter.error());
  }
  if (opt.kafka.exactly_once) {
    if (!kafka_in || !kafka::is_kafka_uri(opt.output)) {
      return usage_error("--exactly-once needs a Kafka input and a Kafka output (-o kafka://...)");
    }
    auto uri = kafka::parse_uri(opt.inputs[0]);
    if (uri && uri->group.empty()) {
      return usage_error(
          "--exactly-once needs group= on the input: the transaction commits the "
          "group's offsets");
    }
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

  if (auto st = check_options(opt); !st) return std::unexpected(st.error());
  const bool kafka_in = reads_kafka(opt);
  std::vector<std::string> inputs;
  if (kafka_in) {
    inputs = opt.inputs;
  } else {
    auto expanded = io::expand_inputs(opt.inputs);
    if (!expanded) return std::unexpected(expanded.error());
    inputs = std::move(*expanded);
  }
  if (opt.source.follow && inputs.size() > 1) {
    return usage_error("--follow follows one file; run one ev-ingest per file");
  }
  if (opt.kafka.exactly_once && (stage.holds_events() || stage.has_snapshot())) {
    return usage_error(
        "--exactly-once: this program keeps events or state beyond a "
        "transaction (--keep last, windows, --state); Kafka transactions cannot "
        "hold them. Use at-least-once delivery with --state instead");
  }

  // Output and dead-letter sinks. A file output is written as NAME.partial and
  // renamed when the run succeeds, so a run that fails (a missing input, a bad
  // event under --on-error fail) leaves an existing NAME as it was, and reading and
  // writing the same file works.
  if (!output) {
    auto sink = open_output(opt.output, opt, opt.kafka.exactly_once, kafka_in);
    if (!sink) return std::unexpected(sink.error());
    output = std::move(*sink);
  }
  io::LineWriter out(std::move(output));
  std::unique_ptr<io::LineWriter> rejects;
  if (!opt.reject.empty()) {
    Result<std::unique_ptr<io::ByteSink>> sink = kafka::is_kafka_uri(opt.reject)
                                                     ? open_output(opt.reject, opt, false, kafka_in)
                                                     : io::open_sink(opt.reject);
    if (!sink) return std::unexpected(sink.error());
    rejects = std::make_unique<io::LineWriter>(std::move(*sink), 64 * 1024);
  }
  RunnerEmitter emitter(opt, report, out, rejects.get(), stage);
  std::unique_ptr<expr::Filter> where;
  if (!opt.where.empty()) {
    auto filter = expr::Filter::compile(opt.where, {opt.time_field, opt.time_unit});
    if (!filter) return std::unexpected(filter.error());
    where = std::move(*filter);
  }

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

  // One line, checked and handed to the stage.
  auto handle = [&](std::string_view text, bool oversize, uint64_t length,
                    std::string_view source_name, uint64_t number,
                    const json::KafkaOrigin* kafka) -> Status {
    if (is_control_line(text) && !oversize && check_line(text).empty()) {
      ++report.control;
      return stage.on_control(text, emitter);
    }
    ++report.in;
    std::string_view bad;
    if (oversize) {
      std::string reason = "line too long: " + std::to_string(length) + " bytes (--max-line " +
                           std::to_string(opt.max_line) + ")";
      return emitter.bad_line(text, source_name, number, reason, true, length, kafka);
    }
    if (!(bad = check_line(text, !opt.check_json)).empty()) {
      // (With --check-json the parse below validates UTF-8 itself: not twice.)
      return emitter.bad_line(text, source_name, number, bad, false, 0, kafka);
    }
    if (opt.check_json) {
      simdjson::dom::element element;
      auto err = dom_parser.parse(text.data(), text.size(), false).get(element);
      if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
        // The DOM converts numbers and fails on valid ones beyond 64 bits or a
        // double (1e400); check the syntax alone instead, keeping numbers as text.
        event.reset(text, source_name, number);
        auto doc = event.doc();
        if (doc && json::append_canonical(**doc, scratch)) err = simdjson::SUCCESS;
        scratch.clear();
      }
      if (err) {
        return emitter.bad_line(text, source_name, number, json::describe(err), false, 0, kafka);
      }
    }
    event.reset(text, source_name, number);
    event.set_kafka(kafka);
    if (where) {
      switch (where->test(event)) {
        case expr::Filter::Verdict::kPass:
          break;
        case expr::Filter::Verdict::kDrop:
          ++report.dropped;
          return {};
        case expr::Filter::Verdict::kError:
          return emitter.bad_line(text, source_name, number, where->error(), false, 0, kafka);
      }
    }
    return stage.on_event(event, emitter);
  };

  // One reader for all inputs: its buffer (2 MiB and more) is allocated once, not per
  // file, which matters for a backfill over many small files.
  std::optional<io::LineReader> reader_slot;
  Status idle_status;
  auto read_file = [&](const std::string& name) {
    const bool resumable = name != "-" && name != "/dev/stdin" && !opt.source.follow;
    auto resume = stage.on_source_begin(name, resumable);
    if (!resume) {
      failure = std::unexpected(resume.error());
      return;
    }
    if (*resume == UINT64_MAX) return;
    const uint64_t skip_lines = resumable ? *resume : 0;
    auto src = io::open_source(name, opt.source);
    if (!src) {
      failure = std::unexpected(src.error());
      return;
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
      const uint64_t lines_before = out.lines();
      Status st = handle(line.text, line.oversize, line.length, source_name, line.number, nullptr);
      if (!st) {
        failure = st;
        break;
      }
      // A last line without a newline that went out as one line stays without one.
      last_unterminated = !line.terminated && out.lines() == lines_before + 1;
      if (stop_requested()) break;
    }
    report.bytes_in += reader.bytes_read();
    if (failure && ended) stage.on_source_end(name);
  };

  // Kafka input: messages until a stop, or the end of a bounded read.
  std::unique_ptr<kafka::Consumer> consumer;
  std::optional<KafkaCommits> commits;
  bool finishing = false;  // no more commits from the revoke hook
  auto read_kafka = [&](const std::string& name) -> Status {
    auto uri = kafka::parse_uri(name);
    if (!uri) return std::unexpected(uri.error());
    kafka::ConsumerHooks hooks;
    hooks.resume = [&](std::string_view topic, int32_t partition) {
      return stage.kafka_resume(topic, partition);
    };
    hooks.before_revoke = [&]() -> Status {
      if (finishing || !commits) return {};
      Status st;
      if (commits->transactional()) {
        st = commits->commit_transaction(false);
      } else {
        if (!stage.holds_events()) commits->record_point();
        st = commits->commit_acked(true);
      }
      commits->clear();
      return st;
    };
    hooks.partition_changed = [&](std::string_view topic, int32_t partition,
                                  kafka::ConsumerHooks::Change change) {
      using C = kafka::ConsumerHooks::Change;
      stage.on_kafka_partition(topic, partition,
                               change == C::kAssigned  ? Stage::PartitionChange::kAssigned
                               : change == C::kRevoked ? Stage::PartitionChange::kRevoked
                                                       : Stage::PartitionChange::kCaughtUp);
    };
    auto opened = kafka::Consumer::open(*uri, opt.kafka, std::move(hooks));
    if (!opened) return std::unexpected(opened.error());
    consumer = std::move(*opened);
    commits.emplace(*consumer, out, rejects.get());
    emitter.on_checkpoint = [&] { commits->record_point(); };

    const int64_t every_ns = opt.kafka.commit_every_ms * 1000000;
    int64_t next_tick = clock.mono_ns() + every_ns;
    auto tick = [&]() -> Status {
      next_tick = clock.mono_ns() + every_ns;
      if (commits->transactional()) return commits->commit_transaction(false);
      if (!stage.holds_events()) commits->record_point();
      return commits->commit_acked(false);
    };
    // A line is copied out of the message: simdjson needs padding after it.
    std::string padded(io::kOversizePrefix + io::kLinePadding, '\0');
    kafka::Message msg;
    uint64_t since_tick = 0;
    for (;;) {
      if (stop_requested()) return {};
      auto got = consumer->poll(msg, 0);
      if (!got) return std::unexpected(got.error());
      if (!*got) {
        if (consumer->done()) return {};
        if (auto st = idle(); !st) return st;
        if (clock.mono_ns() >= next_tick) {
          if (auto st = tick(); !st) return st;
        }
        got = consumer->poll(msg, 100);
        if (!got) return std::unexpected(got.error());
        if (!*got) continue;
      }
      report.bytes_in += msg.value.size();
      std::string_view value = msg.value;
      size_t pos = 0;
      std::string_view l;
      const bool any = next_message_line(value, pos, l);
      size_t peek = pos;
      std::string_view more;
      msg.origin.lines = any && next_message_line(value, peek, more) ? 2 : 1;  // 2: several
      if (!any) {
        if (msg.skip_lines == 0) {
          ++report.in;
          if (auto st =
                  emitter.bad_line(value, uri->text, 1,
                                   msg.null_value ? "empty message (null value)" : "empty message",
                                   false, 0, &msg.origin);
              !st) {
            return st;
          }
          stage.on_kafka_line(msg.origin, 1);
        }
      }
      for (uint64_t k = 1; any; ++k) {
        if (k > msg.skip_lines) {  // else handled by the run being resumed
          const bool oversize = l.size() > opt.max_line;
          const size_t keep = oversize ? io::kOversizePrefix : l.size();
          if (padded.size() < keep + io::kLinePadding) padded.resize(keep + io::kLinePadding);
          std::memcpy(padded.data(), l.data(), keep);
          std::memset(padded.data() + keep, 0, io::kLinePadding);
          if (auto st = handle(std::string_view(padded.data(), keep), oversize, l.size(), uri->text,
                               k, &msg.origin);
              !st) {
            return st;
          }
          stage.on_kafka_line(msg.origin, k);
        }
        if (!next_message_line(value, pos, l)) break;
      }
      consumer->processed(msg);
      if (++since_tick >= 256) {
        since_tick = 0;
        if (clock.mono_ns() >= next_tick) {
          if (auto st = tick(); !st) return st;
        }
      }
    }
  };

  if (kafka_in) {
    failure = read_kafka(inputs[0]);
    if (failure && stop_requested() && consumer && !consumer->bounded()) end.drained = true;
  } else {
    for (const auto& name : inputs) {
      if (stop_requested()) break;
      read_file(name);
      if (!failure) break;
    }
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
  // --exactly-once: the last transaction carries everything up to here.
  if (failure && commits && commits->transactional()) {
    Status st = commits->commit_transaction(true);
    if (!st) failure = st;
  }
  Status closed =
      close_both(out, rejects.get(), !failure && failure.error().kind != ErrorKind::kPipe);
  if (failure && !closed) failure = closed;
  report.seconds = static_cast<double>(clock.mono_ns() - started) / 1e9;
  if (where) report.add_extra("filtered", where->dropped());
  // Last, whatever ended the run (a closed pipe too): the stage's side outputs.
  const Outcome outcome = !failure          ? Outcome::kFailed
                          : end.interrupted ? Outcome::kStopped
                                            : Outcome::kComplete;
  Status ended = stage.on_end(report, outcome);
  if (failure && !ended) failure = ended;
  if (consumer) {
    // Everything is delivered (the outputs closed) and the stage's snapshot written:
    // the offsets of everything processed can be committed.
    if (failure && !commits->transactional()) {
      auto offsets = consumer->processed_offsets();
      if (auto st = consumer->commit(offsets.get(), true); !st) failure = st;
    }
    finishing = true;
    Status left = consumer->close();
    if (failure && !left) failure = left;
    report.add_extra("kafka_messages", consumer->counts().messages);
    report.add_extra("kafka_commits", consumer->counts().commits);
    report.add_extra("kafka_rebalances", consumer->counts().rebalances);
  }
  if (auto* producer = dynamic_cast<kafka::Producer*>(&out.sink())) {
    report.add_extra("kafka_produced", producer->counts().produced);
    report.add_extra("kafka_delivered", producer->counts().delivered);
    report.add_extra("kafka_failed", producer->counts().failed);
  }
  if (!failure) return std::unexpected(failure.error());
  return end;
}

}  // namespace ev::pipeline
