#include "libcore/stages/validate.h"

#include <simdjson.h>

#include <vector>

#include "libcore/io/byte_sink.h"
#include "libcore/json/edit.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/validate/duplicate_keys.h"

namespace ev::stages {
namespace {

using validate::Violation;

// "schema: /device/os: expected one of [...], got \"x\" [enum] (+2 more)".
void describe_violations(std::string& out, const std::vector<Violation>& vs, size_t shown,
                         bool truncated) {
  out = "schema: ";
  if (vs.empty()) {
    out += "invalid";
    return;
  }
  const Violation& v = vs.front();
  out += v.instance_path.empty() ? "(root)" : v.instance_path;
  out += ": ";
  out += v.message;
  out += " [";
  out += v.keyword;
  out += ']';
  // Truncated: the list stopped at `shown`, so at least `shown` others exist.
  if (truncated) {
    out += " (+" + std::to_string(shown) + " or more)";
  } else if (shown > 1) {
    out += " (+" + std::to_string(shown - 1) + " more)";
  }
}

void append_details(std::string& out, const std::vector<Violation>& vs, bool truncated) {
  out.clear();
  json::JsonWriter w(out);
  // The members go into the envelope object: start with the key, no braces.
  out += "\"violations\":";
  validate::write_violations(w, vs);
  if (truncated) out += ",\"violations_truncated\":true";
}

// A report file: created at start (NAME.partial), written and renamed at the end.
struct ReportFile {
  std::unique_ptr<io::ByteSink> sink;

  Status write(const std::string& text) {
    if (!sink) return {};
    auto st = sink->write(text);
    Status closed = st ? sink->close() : sink->abandon();
    sink.reset();
    return st ? closed : st;
  }
};

Result<ReportFile> open_report(const std::string& path, const char* option, bool stdout_taken) {
  if (path.empty()) return ReportFile{};
  if (auto st = io::check_side_output(path, option, stdout_taken); !st) {
    return std::unexpected(st.error());
  }
  io::SinkOptions so;
  so.atomic = true;
  auto sink = io::open_sink(path, so);
  if (!sink) return std::unexpected(sink.error());
  return ReportFile{std::move(*sink)};
}

class Validate final : public pipeline::Stage {
 public:
  Validate(const ValidateOptions& opt, validate::Schema schema, std::optional<json::FieldPath> tf,
           std::optional<validate::InvalidLimit> limit, ReportFile report, ReportFile junit)
      : opt_(opt),
        schema_(std::move(schema)),
        time_field_(std::move(tf)),
        limit_(std::move(limit)),
        report_(std::move(report)),
        junit_(std::move(junit)),
        quality_(opt.program, opt.schema, opt.report_examples) {
    if (time_field_) {
      for (const auto& seg : time_field_->segments()) {
        time_at_.push_back({seg.key, seg.index, seg.kind == json::PathSegment::Kind::kIndex});
      }
    }
    epoch_ms_ = opt.time_out == "epoch-ms";
    normalizing_ = opt.normalize.defaults || opt.normalize.coerce || time_field_.has_value();
  }

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    std::string_view raw = event.raw();
    simdjson::dom::element root;
    // The line is padded (LineReader), so simdjson reads it in place.
    if (auto err = parser_.parse(raw.data(), raw.size(), false).get(root)) {
      return bad(event, out, "json", json_reason(err));
    }
    if (!opt_.allow_duplicate_keys && validate::find_duplicate_key(root, pointer_)) {
      return bad(event, out, "duplicate_key", "duplicate key " + pointer_);
    }
    std::string_view text = raw;
    if (normalizing_) {
      edits_.clear();
      // The time edit first: where --coerce would rewrite the same value, it wins.
      if (time_field_) {
        std::string why;
        if (!plan_time(raw, why)) return bad(event, out, "time", why);
      }
      schema_.plan_normalization(root, opt_.normalize, edits_);
      if (!edits_.empty()) {
        edited_.clear();
        json::apply_edits(edited_, raw, edits_);
        edited_.reserve(edited_.size() + simdjson::SIMDJSON_PADDING);
        if (edited_ != raw) {
          text = edited_;
          if (auto err = parser_.parse(edited_.data(), edited_.size(), false).get(root)) {
            return bad(event, out, "json", "after normalization: " + json_reason(err));
          }
          ++normalized_;
        }
      }
    }
    violations_.clear();
    if (schema_.validate(root, violations_, opt_.max_errors + 1)) return out.emit(text);
    bool truncated = violations_.size() > opt_.max_errors;
    if (truncated) violations_.resize(opt_.max_errors);
    describe_violations(reason_, violations_, violations_.size(), truncated);
    append_details(details_, violations_, truncated);
    quality_.add_invalid("schema", event.source(), event.line(), reason_, &violations_);
    return out.reject(event, reason_, details_);
  }

  void on_bad_line(std::string_view source, uint64_t line, std::string_view reason) override {
    quality_.add_invalid("line", source, line, reason, nullptr);
  }

  Status on_finish(pipeline::Emitter& out) override {
    auto& report = out.report();
    report.add_extra("invalid", quality_.invalid());
    if (normalizing_) report.add_extra("normalized", normalized_);
    if (limit_ && limit_->exceeded(quality_.invalid(), report.in)) {
      limit_failed_ = true;
      return data_error(quality_.summary(report.in) + ", over --max-invalid " + limit_->text);
    }
    return {};
  }

  Status on_end(pipeline::RunReport& report, pipeline::Outcome outcome) override {
    // A run that failed only because of --max-invalid did read all its input.
    const bool complete = outcome == pipeline::Outcome::kComplete || limit_failed_;
    const validate::InvalidLimit* limit = limit_ ? &*limit_ : nullptr;
    Status st = report_.write(quality_.to_json(report.in, normalized_, limit, complete));
    Status sj = junit_.write(quality_.to_junit(report.in, report.seconds, limit, complete));
    return st ? sj : st;
  }

 private:
  static std::string json_reason(simdjson::error_code err) {
    if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
      return "invalid JSON: number malformed or out of range (beyond 64-bit integers and "
             "doubles)";
    }
    return json::describe(err);
  }

  Status bad(json::Event& event, pipeline::Emitter& out, std::string_view category,
             const std::string& reason) {
    quality_.add_invalid(category, event.source(), event.line(), reason, nullptr);
    return out.reject(event, reason);
  }

  // Adds the edit that rewrites the time field, if present. False (with `why`) when it
  // holds something that is not a time.
  bool plan_time(std::string_view raw, std::string& why) {
    auto span = json::locate(raw, time_at_);
    if (!span) return true;
    std::string_view token = raw.substr(span->first, span->second - span->first);
    Result<time::Timestamp> t;
    if (token.front() == '"') {
      time_text_.clear();
      size_t pos = 0;
      json::decode_json_string(token, pos, time_text_);  // valid: the line was parsed
      t = time::parse_time_text(time_text_, opt_.time_unit);
    } else if (token.front() == '-' || (token.front() >= '0' && token.front() <= '9')) {
      t = time::parse_epoch_text(token, opt_.time_unit);
    } else {
      t = data_error("expected an RFC 3339 string or an epoch number, got " + std::string(token));
    }
    if (!t) {
      why = time_field_->text() + ": not a time: " + t.error().message;
      return false;
    }
    std::string text;
    if (epoch_ms_) {
      time::Timestamp ms = *t / 1'000'000;
      if (*t % 1'000'000 < 0) --ms;  // floor: the earlier instant, as formatting does
      text = std::to_string(ms);
    } else {
      text.push_back('"');
      time::append_rfc3339_ms(text, *t);
      text.push_back('"');
    }
    if (text != token) edits_.push_back({json::Edit::kReplace, time_at_, {}, std::move(text)});
    return true;
  }

  const ValidateOptions opt_;
  validate::Schema schema_;
  std::optional<json::FieldPath> time_field_;
  json::Location time_at_;
  std::optional<validate::InvalidLimit> limit_;
  ReportFile report_, junit_;
  bool limit_failed_ = false;
  bool epoch_ms_ = false;
  validate::QualityReport quality_;
  bool normalizing_ = false;
  uint64_t normalized_ = 0;
  simdjson::dom::parser parser_;
  std::vector<Violation> violations_;
  std::vector<json::Edit> edits_;
  std::string edited_, reason_, details_, pointer_, time_text_;
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_validate(const ValidateOptions& opt) {
  if (opt.max_errors == 0) return usage_error("--max-errors-per-event must be at least 1");
  if (opt.time_out != "rfc3339" && opt.time_out != "epoch-ms") {
    return usage_error("--time-out must be rfc3339 or epoch-ms, not '" + opt.time_out + "'");
  }
  std::optional<json::FieldPath> tf;
  if (opt.normalize_time) {
    auto p = json::FieldPath::parse(*opt.normalize_time);
    if (!p) return std::unexpected(p.error());
    tf = std::move(*p);
  }
  std::optional<validate::InvalidLimit> limit;
  if (!opt.max_invalid.empty()) {
    auto l = validate::InvalidLimit::parse(opt.max_invalid);
    if (!l) return std::unexpected(l.error());
    limit = std::move(*l);
  }
  auto schema = validate::Schema::compile_file(opt.schema, opt.schema_options);
  if (!schema) return std::unexpected(schema.error());
  auto report = open_report(opt.report, "--report", opt.events_on_stdout);
  if (!report) return std::unexpected(report.error());
  auto junit = open_report(opt.junit, "--junit", opt.events_on_stdout);
  if (!junit) return std::unexpected(junit.error());
  return std::unique_ptr<pipeline::Stage>(
      std::make_unique<Validate>(opt, std::move(*schema), std::move(tf), std::move(limit),
                                 std::move(*report), std::move(*junit)));
}

}  // namespace ev::stages
