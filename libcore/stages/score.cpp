#include "libcore/stages/score.h"

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "libcore/expr/expr.h"
#include "libcore/expr/filter.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/json/splice.h"
#include "libcore/pipeline/stateful_stage.h"
#include "libcore/score/ewma.h"
#include "libcore/state/snapshot.h"

namespace ev::stages {

namespace {

constexpr std::string_view kKind = "ev-score";
constexpr uint32_t kStateVersion = 1;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "name = EXPR" / "name: EXPR" into its two halves.
Result<std::pair<std::string, std::string>> split_named(std::string_view text, char sep,
                                                        std::string_view option,
                                                        std::string_view form) {
  const size_t at = text.find(sep);
  if (at == std::string_view::npos || (sep == '=' && text.substr(at).starts_with("=="))) {
    return usage_error(std::string(option) + ": expected '" + std::string(form) + "', got '" +
                       std::string(text) + "'");
  }
  std::string_view name = trim(text.substr(0, at));
  std::string_view expr = trim(text.substr(at + 1));
  if (name.empty())
    return usage_error(std::string(option) + ": a name is missing before '" + sep + "'");
  if (expr.empty())
    return usage_error(std::string(option) + " " + std::string(name) + ": the expression is empty");
  return std::pair{std::string(name), std::string(expr)};
}

Result<std::string> read_text(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return usage_error(std::string(what) + " " + path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int severity_rank(std::string_view s) {
  if (s == "low") return 1;
  if (s == "medium") return 2;
  if (s == "high") return 3;
  if (s == "critical") return 4;
  return 0;
}
constexpr std::string_view kSeverities[] = {"", "low", "medium", "high", "critical"};

struct Rule {
  std::string name;
  expr::Expr when;
  double weight = 1;
  int severity = 0;
  int slot = -1;       // its variable, when the name is one
  std::string quoted;  // the name as a JSON string
};

struct Feature {
  expr::Expr value;
  double coef = 0, mean = 0;       // weight / std, taken once: one multiply an event
  std::optional<double> fallback;  // "default"
  bool categorical = false;
  absl::flat_hash_map<std::string, double> categories;
  double other = 0;
};

struct ZScore {
  std::string name;  // FIELD_z
  expr::Expr value;
  score::EwmaTable table;
  uint32_t slot = 0;
};

// Reads a JSON number member; missing is `fallback`.
Result<double> number_member(simdjson::dom::object obj, std::string_view key,
                             std::optional<double> fallback, const std::string& where) {
  simdjson::dom::element e;
  if (obj.at_key(key).get(e)) {
    if (fallback) return *fallback;
    return usage_error(where + ": \"" + std::string(key) + "\" is missing");
  }
  double d = 0;
  if (e.get_double().get(d) || !std::isfinite(d)) {
    return usage_error(where + ": \"" + std::string(key) + "\" must be a number");
  }
  return d;
}

class Score final : public pipeline::StatefulStage {
 public:
  Score(const ScoreOptions& opt, time::Clock& clock)
      : StatefulStage(opt.state, opt.checkpoint_every, clock),
        opt_(opt),
        clock_(clock),
        scope_(expr::ScopeOptions{opt.time_field, opt.time_unit}) {}

  Status build() {
    // 1. --set
    for (const std::string& text : opt_.sets) {
      auto parts = split_named(text, '=', "--set", "name = EXPR");
      if (!parts) return std::unexpected(parts.error());
      auto e = expr::Expr::compile(parts->second, scope_, "--set " + parts->first);
      if (!e) return std::unexpected(e.error());
      auto slot = declare(parts->first, "--set");
      if (!slot) return std::unexpected(slot.error());
      sets_.push_back({std::move(*e), *slot});
      add_output(parts->first);
    }
    // 2. --zscore
    if (!opt_.zscore.empty()) {
      if (opt_.by.empty()) return usage_error("--zscore needs --by KEY");
      if (opt_.half_life <= 0) return usage_error("--zscore needs a positive --half-life");
      if (opt_.max_keys == 0) return usage_error("--max-keys must be at least 1");
      auto by = json::FieldPath::parse(opt_.by);
      if (!by) return usage_error("--by: " + by.error().message);
      by_slot_ = scope_.field(*by);
      auto tp = json::FieldPath::parse(opt_.time_field);
      if (!tp) return usage_error("--time-field: " + tp.error().message);
      time_slot_ = scope_.field(*tp);
      for (const std::string& field : opt_.zscore) {
        auto e = expr::Expr::compile(field, scope_, "--zscore " + field);
        if (!e) return std::unexpected(e.error());
        std::string name;
        for (char c : field) name += (c == '.' || c == '[' || c == ']' || c == '`') ? '_' : c;
        while (name.find("__") != std::string::npos) name.erase(name.find("__"), 1);
        while (!name.empty() && name.back() == '_') name.pop_back();
        while (!name.empty() && name.front() == '_') name.erase(0, 1);
        name += "_z";
        auto slot = declare(name, "--zscore");
        if (!slot) return std::unexpected(slot.error());
        zscores_.push_back(ZScore{name, std::move(*e),
                                  score::EwmaTable({opt_.half_life, opt_.warmup, opt_.max_keys}),
                                  *slot});
        add_output(name);
      }
    } else if (!opt_.by.empty()) {
      return usage_error("--by is for --zscore");
    }
    if (!opt_.state.empty() && zscores_.empty()) {
      return usage_error("--state keeps --zscore's per-key statistics; there is no --zscore");
    }
    // 3. --model
    if (!opt_.model.empty()) {
      if (auto st = load_model(); !st) return st;
      auto slot = declare(opt_.score_field, "--as");
      if (!slot) return std::unexpected(slot.error());
      score_slot_ = static_cast<int>(*slot);
      add_output(opt_.score_field);
    } else if (opt_.min_score) {
      return usage_error("--min-score needs --model");
    }
    // 4. rules
    for (const std::string& text : opt_.rules) {
      auto parts = split_named(text, ':', "--rule", "name: EXPR");
      if (!parts) return std::unexpected(parts.error());
      if (auto st = add_rule(parts->first, parts->second, std::nullopt, 0, "--rule"); !st) {
        return st;
      }
    }
    for (const std::string& file : opt_.rule_files) {
      if (auto st = load_rules(file); !st) return st;
    }
    if (!rules_.empty()) {
      for (Rule& r : rules_) {
        if (!expr::is_name(r.name)) continue;
        auto slot = declare(r.name, "--rule");
        if (!slot) return std::unexpected(slot.error());
        r.slot = static_cast<int>(*slot);
      }
      auto slot = declare(opt_.flags_field, "--flags-field");
      if (!slot) return std::unexpected(slot.error());
      flags_slot_ = static_cast<int>(*slot);
      add_output(opt_.flags_field);
      if (weighted_) {
        auto r = declare(opt_.risk_field, "--risk-field");
        if (!r) return std::unexpected(r.error());
        risk_slot_ = static_cast<int>(*r);
        add_output(opt_.risk_field);
      }
      if (graded_) {
        auto s = declare(opt_.severity_field, "--severity-field");
        if (!s) return std::unexpected(s.error());
        severity_slot_ = static_cast<int>(*s);
        add_output(opt_.severity_field);
      }
    }
    // 5. segments
    for (const std::string& text : opt_.segments) {
      auto parts = split_named(text, ':', "--segment", "label: EXPR");
      if (!parts) return std::unexpected(parts.error());
      auto e = expr::Expr::compile(parts->second, scope_, "--segment " + parts->first);
      if (!e) return std::unexpected(e.error());
      if (auto st = expr::check_condition(*e, scope_); !st) return st;
      std::string quoted;
      json::append_json_string(quoted, parts->first);
      segments_.push_back({std::move(*e), parts->first, std::move(quoted)});
    }
    if (!segments_.empty()) {
      default_segment_.label = opt_.default_segment;
      json::append_json_string(default_segment_.quoted, opt_.default_segment);
      auto slot = declare(opt_.segment_field, "--segment-field");
      if (!slot) return std::unexpected(slot.error());
      segment_slot_ = static_cast<int>(*slot);
      add_output(opt_.segment_field);
    }
    // 6. --alert
    if (!opt_.alert.empty()) {
      auto e = expr::Expr::compile(opt_.alert, scope_, "--alert");
      if (!e) return std::unexpected(e.error());
      if (auto st = expr::check_condition(*e, scope_); !st) return st;
      alert_ = std::make_unique<expr::Expr>(std::move(*e));
    }
    for (const std::string& k : keys_) {
      key_views_.push_back(k);
      std::string prefix;
      json::append_json_string(prefix, k);
      prefixes_.push_back(prefix + ':');
    }
    frame_ = std::make_unique<expr::Frame>(scope_, &clock_);
    return {};
  }

  // ---- events ----

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    if (auto st = before_event(event, out); !st) return st;
    expr::Frame& f = *frame_;
    f.reset(event);
    members_.clear();
    next_key_ = 0;
    expr::Value v;
    for (const auto& [e, slot] : sets_) {
      if (!e.eval(f, v)) return bad(event, out);
      f.set(slot, v);
      member(f.variable(slot));
    }
    if (!zscores_.empty() && !zscore(f)) return bad(event, out);
    if (score_slot_ >= 0) {
      if (!model(f, v)) return bad(event, out);
      f.set(static_cast<uint32_t>(score_slot_), v);
      member(v);
    }
    if (flags_slot_ >= 0 && !rules(f)) return bad(event, out);
    if (segment_slot_ >= 0) {
      const Segment* chosen = &default_segment_;
      for (const Segment& seg : segments_) {
        if (seg.when && seg.when->holds(f)) {
          chosen = &seg;
          break;
        }
        if (f.failed()) return bad(event, out);
      }
      key();
      members_ += chosen->quoted;
      f.set(static_cast<uint32_t>(segment_slot_), expr::Value::string(chosen->label));
    }
    if (alert_ && !alert_->holds(f)) {
      if (f.failed()) return bad(event, out);
      return drop(out);
    }
    if (opt_.min_score && score_slot_ >= 0) {
      const expr::Value& s = f.variable(static_cast<uint32_t>(score_slot_));
      if (s.type != expr::Type::kNumber || !(s.n >= *opt_.min_score)) return drop(out);
    }
    if (alert_ || opt_.min_score) ++alerts_;
    if (keys_.empty()) return out.emit(event.raw());
    std::string& buf = out.line_buffer();
    if (auto st = json::append_spliced(buf, event.raw(), members_, key_views_, splice_parser_);
        !st) {
      buf.clear();
      return out.reject(event, st.error().message);
    }
    return out.end_line();
  }

  Status on_idle(pipeline::Emitter& out) override { return maybe_checkpoint(out); }

  Status on_end(pipeline::RunReport& report, pipeline::Outcome outcome) override {
    if (flags_slot_ >= 0) report.add_extra("flagged", flagged_);
    if (alert_ || opt_.min_score) report.add_extra("alerts", alerts_);
    if (!zscores_.empty()) {
      uint64_t keys = 0, evicted = 0;
      for (const ZScore& z : zscores_) {
        keys += z.table.size();
        evicted += z.table.evicted();
      }
      report.add_extra("keys", keys);
      report.add_extra("evicted", evicted);
    }
    return end_state(report, outcome);
  }

  // ---- state ----

  Status restore() {
    if (opt_.state.empty()) return {};
    auto opened = state::open_stage_snapshot(opt_.state, kKind, kStateVersion, fingerprint());
    if (!opened) return std::unexpected(opened.error());
    if (!*opened) return {};
    state::SnapshotReader& r = **opened;
    if (auto st = positions().load(r); !st) return st;
    for (ZScore& z : zscores_) {
      if (auto st = z.table.load(r); !st) return st;
    }
    if (r.remaining() != 0) return r.corrupt("bytes after the last record");
    return {};
  }

 private:
  std::string fingerprint() const {
    std::string f = "--by " + opt_.by + " --half-life " + time::format_duration(opt_.half_life) +
                    " --warmup " + std::to_string(opt_.warmup) + " --time-field " + opt_.time_field;
    for (const std::string& z : opt_.zscore) f += " --zscore " + z;
    return f;
  }

  Status write_state() override {
    auto created = state::create_stage_snapshot(opt_.state, kKind, kStateVersion, fingerprint());
    if (!created) return std::unexpected(created.error());
    state::SnapshotWriter& w = **created;
    positions().save(w);
    for (const ZScore& z : zscores_) z.table.save(w);
    return w.commit();
  }

  Result<uint32_t> declare(const std::string& name, std::string_view option) {
    auto slot = scope_.declare(name);
    if (!slot) return usage_error(std::string(option) + ": " + slot.error().message);
    return slot;
  }

  void add_output(const std::string& name) {
    for (const std::string& k : keys_) {
      if (k == name) return;
    }
    keys_.push_back(name);
  }

  // Appends the next output member; its key is keys_[members written so far].
  // Members are written in keys_ order: the next one's key.
  void key() {
    if (!members_.empty()) members_ += ',';
    members_ += prefixes_[next_key_++];
  }
  void member(const expr::Value& v) {
    key();
    expr::append_json(members_, v);
  }

  Status bad(const json::Event& event, pipeline::Emitter& out) {
    return out.reject(event, frame_->error());
  }
  Status drop(pipeline::Emitter& out) {
    ++out.report().dropped;
    return {};
  }

  bool zscore(expr::Frame& f) {
    expr::Value key, t, x;
    if (!f.field(by_slot_, key) || !f.field(time_slot_, t)) return false;
    std::string_view text;
    char buf[32];
    switch (key.type) {
      case expr::Type::kString:
      case expr::Type::kArray:
      case expr::Type::kObject:
        text = key.s;
        break;
      case expr::Type::kNumber: {
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, key.n);
        text = std::string_view(buf, static_cast<size_t>(end - buf));
        break;
      }
      case expr::Type::kBool:
        text = key.b ? "true" : "false";
        break;
      case expr::Type::kTime:
      case expr::Type::kNull:
        break;
    }
    const bool keyed = key.type != expr::Type::kNull && key.type != expr::Type::kTime;
    // No time: the key's last time (a late event's treatment, dt = 0).
    const int64_t now = t.type == expr::Type::kTime ? t.t : INT64_MIN;
    for (ZScore& z : zscores_) {
      if (!z.value.eval(f, x)) return false;
      expr::Value out;
      if (x.type != expr::Type::kNull && x.type != expr::Type::kNumber) {
        return f.fail(z.value.label() + ": needs a number, got " +
                      std::string(expr::type_name(x.type)));
      }
      if (keyed && x.type == expr::Type::kNumber) {
        auto score = z.table.observe(text, now, x.n);
        if (score) out = expr::Value::number(*score);
      }
      f.set(z.slot, out);
      member(out);
    }
    return true;
  }

  bool model(expr::Frame& f, expr::Value& out) {
    double s = intercept_;
    expr::Value x;
    char buf[32];
    for (const Feature& feat : features_) {
      if (!feat.value.eval(f, x)) return false;
      if (feat.categorical) {
        std::string_view text;
        switch (x.type) {
          case expr::Type::kNull:
            continue;
          case expr::Type::kString:
            text = x.s;
            break;
          case expr::Type::kBool:
            text = x.b ? "true" : "false";
            break;
          case expr::Type::kNumber: {
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x.n);
            text = std::string_view(buf, static_cast<size_t>(end - buf));
            break;
          }
          default:
            return f.fail(feat.value.label() +
                          ": a category must be a string, number or boolean, got " +
                          std::string(expr::type_name(x.type)));
        }
        auto it = feat.categories.find(absl::string_view(text.data(), text.size()));
        s += it == feat.categories.end() ? feat.other : it->second;
        continue;
      }
      double v;
      if (x.type == expr::Type::kNumber) {
        v = x.n;
      } else if (x.type == expr::Type::kBool) {
        v = x.b ? 1 : 0;
      } else if (x.type == expr::Type::kNull) {
        if (!feat.fallback) continue;
        v = *feat.fallback;
      } else {
        return f.fail(feat.value.label() + ": needs a number, got " +
                      std::string(expr::type_name(x.type)));
      }
      s += feat.coef * (v - feat.mean);
    }
    if (logistic_) s = 1.0 / (1.0 + std::exp(-s));
    out = std::isfinite(s) ? expr::Value::number(s) : expr::Value::null();
    return true;
  }

  bool rules(expr::Frame& f) {
    key();
    members_ += '[';
    bool any = false;
    double risk = 0;
    int severity = 0;
    held_.clear();
    for (size_t i = 0; i < rules_.size(); ++i) {
      const Rule& r = rules_[i];
      const bool holds = r.when.holds(f);
      if (f.failed()) return false;
      if (r.slot >= 0) f.set(static_cast<uint32_t>(r.slot), expr::Value::boolean(holds));
      if (!holds) continue;
      held_.push_back(i);
      if (any) members_ += ',';
      members_ += r.quoted;
      any = true;
      risk += r.weight;
      severity = std::max(severity, r.severity);
    }
    members_ += ']';
    flagged_ += any;
    // As an array value only when a later expression reads it (`"night" in flags`).
    if (scope_.referenced(static_cast<uint32_t>(flags_slot_))) {
      f.set(static_cast<uint32_t>(flags_slot_), flags_value(f));
    }
    if (risk_slot_ >= 0) {
      expr::Value v = expr::Value::number(risk);
      f.set(static_cast<uint32_t>(risk_slot_), v);
      member(v);
    }
    if (severity_slot_ >= 0) {
      expr::Value v = severity ? expr::Value::string(kSeverities[severity]) : expr::Value::null();
      f.set(static_cast<uint32_t>(severity_slot_), v);
      member(v);
    }
    return true;
  }

  // The flags as an array value, for later expressions (`"night" in flags`).
  expr::Value flags_value(expr::Frame& f) {
    expr::Value* items = f.arena().values(held_.size());
    for (size_t k = 0; k < held_.size(); ++k) items[k] = expr::Value::string(rules_[held_[k]].name);
    return expr::Value::array(items, static_cast<uint32_t>(held_.size()));
  }

  // `where` names the source in messages: "--rule" or "--rules FILE:LINE".
  Status add_rule(const std::string& name, const std::string& text, std::optional<double> weight,
                  int severity, const std::string& where) {
    const std::string label = where == "--rule" ? "rule " + name : where + ": rule " + name;
    for (const Rule& r : rules_) {
      if (r.name == name) return usage_error(where + ": rule '" + name + "' is defined twice");
    }
    auto e = expr::Expr::compile(text, scope_, label);
    if (!e) return std::unexpected(e.error());
    if (auto st = expr::check_condition(*e, scope_); !st) return st;
    Rule r{name, std::move(*e), 1, 0, -1, {}};
    if (weight) {
      r.weight = *weight;
      weighted_ = true;
    }
    if (severity) graded_ = true;
    r.severity = severity;
    json::append_json_string(r.quoted, name);
    rules_.push_back(std::move(r));
    return {};
  }

  Status load_rules(const std::string& path) {
    auto text = read_text(path, "--rules");
    if (!text) return std::unexpected(text.error());
    simdjson::dom::parser parser;
    std::vector<std::pair<simdjson::dom::element, std::string>> items;
    std::vector<simdjson::padded_string> lines;
    simdjson::dom::element whole;
    std::string_view body = trim(*text);
    while (!body.empty() && (body.front() == '\n' || body.front() == '\r')) body.remove_prefix(1);
    if (body.starts_with("[")) {
      simdjson::padded_string doc(*text);
      if (auto err = parser.parse(doc).get(whole); err) {
        return usage_error("--rules " + path + ": " + simdjson::error_message(err));
      }
      simdjson::dom::array arr;
      if (whole.get_array().get(arr)) return usage_error("--rules " + path + ": not an array");
      size_t i = 0;
      for (auto e : arr) {
        if (auto st = rule_from(e, path + ": rule " + std::to_string(++i)); !st) return st;
      }
      return {};
    }
    size_t line_no = 0, start = 0;
    const std::string& all = *text;
    while (start <= all.size()) {
      size_t end = all.find('\n', start);
      if (end == std::string::npos) end = all.size();
      ++line_no;
      std::string_view line = trim(std::string_view(all).substr(start, end - start));
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      start = end + 1;
      if (line.empty() || line.front() == '#') continue;
      simdjson::dom::element e;
      if (auto err = parser.parse(line.data(), line.size()).get(e); err) {
        return usage_error("--rules " + path + ":" + std::to_string(line_no) + ": " +
                           simdjson::error_message(err));
      }
      if (auto st = rule_from(e, path + ":" + std::to_string(line_no)); !st) return st;
      if (end == all.size()) break;
    }
    return {};
  }

  Status rule_from(simdjson::dom::element e, const std::string& where) {
    simdjson::dom::object obj;
    if (e.get_object().get(obj)) return usage_error("--rules " + where + ": not an object");
    std::string_view name, when;
    if (obj["name"].get_string().get(name) || name.empty()) {
      return usage_error("--rules " + where + ": \"name\" must be a non-empty string");
    }
    if (obj["when"].get_string().get(when)) {
      return usage_error("--rules " + where + ": \"when\" must be an expression (a string)");
    }
    std::optional<double> weight;
    simdjson::dom::element w;
    if (!obj["weight"].get(w)) {
      auto d = number_member(obj, "weight", std::nullopt, "--rules " + where);
      if (!d) return std::unexpected(d.error());
      weight = *d;
    }
    int severity = 0;
    simdjson::dom::element s;
    if (!obj["severity"].get(s)) {
      std::string_view text;
      if (s.get_string().get(text) || !(severity = severity_rank(text))) {
        return usage_error("--rules " + where +
                           ": \"severity\" must be low, medium, high or critical");
      }
    }
    for (auto field : obj) {
      if (field.key != "name" && field.key != "when" && field.key != "weight" &&
          field.key != "severity") {
        return usage_error("--rules " + where + ": unknown member \"" + std::string(field.key) +
                           "\" (name, when, weight, severity)");
      }
    }
    return add_rule(std::string(name), std::string(when), weight, severity, "--rules " + where);
  }

  Status load_model() {
    const std::string& path = opt_.model;
    auto text = read_text(path, "--model");
    if (!text) return std::unexpected(text.error());
    simdjson::dom::parser parser;
    simdjson::padded_string doc(*text);
    simdjson::dom::element root;
    if (auto err = parser.parse(doc).get(root); err) {
      return usage_error("--model " + path + ": " + simdjson::error_message(err));
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) return usage_error("--model " + path + ": not a JSON object");
    const std::string where = "--model " + path;
    std::string_view type = "linear";
    simdjson::dom::element t;
    if (!obj["type"].get(t) && t.get_string().get(type)) {
      return usage_error(where + ": \"type\" must be \"linear\" or \"logistic\"");
    }
    if (type != "linear" && type != "logistic") {
      return usage_error(where + ": \"type\" must be \"linear\" or \"logistic\", not \"" +
                         std::string(type) + "\"");
    }
    logistic_ = type == "logistic";
    auto b = number_member(obj, "intercept", 0.0, where);
    if (!b) return std::unexpected(b.error());
    intercept_ = *b;
    simdjson::dom::array features;
    if (obj["features"].get_array().get(features)) {
      return usage_error(where + ": \"features\" must be an array");
    }
    for (auto field : obj) {
      if (field.key != "type" && field.key != "intercept" && field.key != "features" &&
          field.key != "name" && field.key != "description") {
        return usage_error(where + ": unknown member \"" + std::string(field.key) +
                           "\" (type, intercept, features, name, description)");
      }
    }
    size_t i = 0;
    for (auto e : features) {
      const std::string fw = where + ": feature " + std::to_string(++i);
      simdjson::dom::object fo;
      if (e.get_object().get(fo)) return usage_error(fw + ": not an object");
      std::string_view text_expr;
      if (fo["expr"].get_string().get(text_expr)) {
        return usage_error(fw + ": \"expr\" must be an expression (a string)");
      }
      auto ex = expr::Expr::compile(text_expr, scope_, fw);
      if (!ex) return std::unexpected(ex.error());
      Feature feat{std::move(*ex), 0, 0, std::nullopt, false, {}, 0};
      simdjson::dom::object cats;
      if (!fo["categories"].get_object().get(cats)) {
        feat.categorical = true;
        for (auto c : cats) {
          double w = 0;
          if (c.value.get_double().get(w) || !std::isfinite(w)) {
            return usage_error(fw + ": category \"" + std::string(c.key) + "\" needs a number");
          }
          feat.categories[std::string(c.key)] = w;
        }
        auto other = number_member(fo, "other", 0.0, fw);
        if (!other) return std::unexpected(other.error());
        feat.other = *other;
      } else {
        auto w = number_member(fo, "weight", std::nullopt, fw);
        auto m = number_member(fo, "mean", 0.0, fw);
        auto s = number_member(fo, "std", 1.0, fw);
        if (!w) return std::unexpected(w.error());
        if (!m) return std::unexpected(m.error());
        if (!s) return std::unexpected(s.error());
        if (*s <= 0) return usage_error(fw + ": \"std\" must be positive");
        feat.coef = *w / *s;
        feat.mean = *m;
        simdjson::dom::element d;
        if (!fo["default"].get(d)) {
          auto dv = number_member(fo, "default", std::nullopt, fw);
          if (!dv) return std::unexpected(dv.error());
          feat.fallback = *dv;
        }
      }
      for (auto field : fo) {
        static constexpr std::string_view kKnown[] = {"expr",    "weight",     "mean",  "std",
                                                      "default", "categories", "other", "name"};
        if (std::find(std::begin(kKnown), std::end(kKnown), field.key) == std::end(kKnown)) {
          return usage_error(fw + ": unknown member \"" + std::string(field.key) + "\"");
        }
        if (feat.categorical && (field.key == "weight" || field.key == "mean" ||
                                 field.key == "std" || field.key == "default")) {
          return usage_error(fw + ": a feature with \"categories\" takes \"other\", not \"" +
                             std::string(field.key) + "\"");
        }
      }
      features_.push_back(std::move(feat));
    }
    return {};
  }

  ScoreOptions opt_;
  time::Clock& clock_;
  expr::Scope scope_;
  std::unique_ptr<expr::Frame> frame_;
  std::vector<std::pair<expr::Expr, uint32_t>> sets_;
  std::vector<ZScore> zscores_;
  uint32_t by_slot_ = 0, time_slot_ = 0;
  std::vector<Feature> features_;
  double intercept_ = 0;
  bool logistic_ = false;
  int score_slot_ = -1;
  std::vector<Rule> rules_;
  std::vector<size_t> held_;  // the rules that hold for this event (capacity kept)
  bool weighted_ = false, graded_ = false;
  int flags_slot_ = -1, risk_slot_ = -1, severity_slot_ = -1;
  struct Segment {
    std::optional<expr::Expr> when;
    std::string label, quoted;
  };
  std::vector<Segment> segments_;
  Segment default_segment_;
  int segment_slot_ = -1;
  std::unique_ptr<expr::Expr> alert_;
  std::vector<std::string> keys_;
  std::vector<std::string_view> key_views_;
  std::vector<std::string> prefixes_;  // "key": of each output member
  std::string members_;
  size_t next_key_ = 0;
  simdjson::ondemand::parser splice_parser_;
  uint64_t flagged_ = 0, alerts_ = 0;
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_score(const ScoreOptions& opt) {
  if (opt.checkpoint_every <= 0) return usage_error("--checkpoint-every must be positive");
  if (opt.min_score && !std::isfinite(*opt.min_score)) return usage_error("--min-score: a number");
  time::Clock& clock = opt.clock ? *opt.clock : time::SystemClock::instance();
  auto stage = std::make_unique<Score>(opt, clock);
  if (auto st = stage->build(); !st) return std::unexpected(st.error());
  if (auto st = stage->restore(); !st) return std::unexpected(st.error());
  if (!opt.state.empty()) {
    auto probe = state::SnapshotWriter::create(opt.state, kKind);
    if (!probe) return std::unexpected(probe.error());
  }
  return stage;
}

}  // namespace ev::stages
