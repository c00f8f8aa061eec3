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

// Writes a report atomically (io::open_sink writes devices and pipes directly).
Status write_file(const std::string& path, const std::string& text) {
  io::SinkOptions so;
  so.atomic = true;
  auto sink = io::open_sink(path, so);
  if (!sink) return std::unexpected(sink.error());
  if (auto st = (*sink)->write(text); !st) {
    (void)(*sink)->abandon();
    return st;
  }
  return (*sink)->close();
}

class Validate final : public pipeline::Stage {
 public:
  Validate(const ValidateOptions& opt, validate::Schema schema, std::optional<json::FieldPath> tf)
      : opt_(opt),
        schema_(std::move(schema)),
        time_field_(std::move(tf)),
        quality_(opt.program, opt.schema, opt.report_examples) {
    if (time_field_) {
      for (const auto& seg : time_field_->segments()) {
        time_at_.push_back({seg.key, seg.index, seg.kind == json::PathSegment::Kind::kIndex});
      }
    }
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
      schema_.plan_normalization(root, opt_.normalize, edits_);
      if (time_field_) {
        std::string why;
        if (!plan_time(raw, root, why)) return bad(event, out, "time", why);
      }
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
    const validate::InvalidLimit* limit = opt_.max_invalid ? &*opt_.max_invalid : nullptr;
    if (!opt_.report.empty()) {
      auto st = write_file(opt_.report, quality_.to_json(report.in, normalized_, limit));
      if (!st) return st;
    }
    if (!opt_.junit.empty()) {
      auto st = write_file(opt_.junit, quality_.to_junit(report.in, elapsed(report), limit));
      if (!st) return st;
    }
    if (limit != nullptr && limit->exceeded(quality_.invalid(), report.in)) {
      return data_error(quality_.summary(report.in) + ", over --max-invalid " + limit->text);
    }
    return {};
  }

 private:
  static double elapsed(const pipeline::RunReport& r) { return r.seconds; }

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
  bool plan_time(std::string_view raw, simdjson::dom::element root, std::string& why) {
    auto span = json::locate(raw, time_at_);
    if (!span) return true;
    std::string_view token = raw.substr(span->first, span->second - span->first);
    Result<time::Timestamp> t;
    if (token.front() == '"') {
      simdjson::dom::element v;
      std::string_view s;
      if (root.at_pointer(json::to_pointer(time_at_)).get(v) || v.get_string().get(s)) {
        t = data_error("unreadable string");
      } else {
        t = time::parse_rfc3339(s);
        if (!t && !s.empty() && (s.front() == '-' || (s.front() >= '0' && s.front() <= '9'))) {
          t = time::parse_epoch_text(s, opt_.time_unit);
        }
      }
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
    if (opt_.time_out_epoch_ms) {
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
  validate::QualityReport quality_;
  bool normalizing_ = false;
  uint64_t normalized_ = 0;
  simdjson::dom::parser parser_;
  std::vector<Violation> violations_;
  std::vector<json::Edit> edits_;
  std::string edited_, reason_, details_, pointer_;
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_validate(const ValidateOptions& opt) {
  if (opt.max_errors == 0) return usage_error("--max-errors-per-event must be at least 1");
  std::optional<json::FieldPath> tf;
  if (!opt.normalize_time.empty()) {
    auto p = json::FieldPath::parse(opt.normalize_time);
    if (!p) return std::unexpected(p.error());
    tf = std::move(*p);
  }
  auto schema = validate::Schema::compile_file(opt.schema, opt.schema_options);
  if (!schema) return std::unexpected(schema.error());
  return std::unique_ptr<pipeline::Stage>(
      std::make_unique<Validate>(opt, std::move(*schema), std::move(tf)));
}

}  // namespace ev::stages
