#include "libcore/validate/quality.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "libcore/json/json_writer.h"

namespace ev::validate {
namespace {

void append_xml(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no other control characters, even escaped.
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
}

std::string percent(uint64_t part, uint64_t whole) {
  char buf[32];
  double p = whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  std::snprintf(buf, sizeof buf, "%.2f%%", p);
  return buf;
}

template <class Map>
void write_counts(json::JsonWriter& w, const Map& m) {
  w.begin_object();
  for (const auto& [k, n] : m) w.key(k).value(n);
  w.end_object();
}

}  // namespace

void write_violations(json::JsonWriter& w, const std::vector<Violation>& vs) {
  w.begin_array();
  for (const Violation& v : vs) {
    w.begin_object();
    w.key("instance_path").value(v.instance_path);
    w.key("keyword").value(v.keyword);
    w.key("schema_path").value(v.schema_path);
    w.key("message").value(v.message);
    w.end_object();
  }
  w.end_array();
}

Result<InvalidLimit> InvalidLimit::parse(std::string_view text) {
  InvalidLimit l;
  l.text = std::string(text);
  std::string_view num = text;
  if (num.ends_with('%')) {
    l.percent = true;
    num.remove_suffix(1);
  }
  auto bad = [&] {
    return usage_error("--max-invalid: expected a count (10) or a percentage (0.5%), got '" +
                       std::string(text) + "'");
  };
  if (num.empty()) return bad();
  if (l.percent) {
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), l.value);
    if (ec != std::errc() || p != num.data() + num.size() || !(l.value >= 0) || l.value > 100)
      return bad();
  } else {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || p != num.data() + num.size()) return bad();
    l.value = static_cast<double>(n);
  }
  return l;
}

bool InvalidLimit::exceeded(uint64_t invalid, uint64_t events) const {
  if (!percent) return static_cast<double>(invalid) > value;
  if (events == 0) return false;
  return 100.0 * static_cast<double>(invalid) / static_cast<double>(events) > value;
}

void QualityReport::add_invalid(std::string_view category, std::string_view source, uint64_t line,
                                std::string_view reason, const std::vector<Violation>* violations) {
  ++invalid_;
  auto bump = [](auto& map, std::string_view key) {
    auto it = map.find(key);
    if (it == map.end()) it = map.emplace(std::string(key), 0).first;
    ++it->second;
  };
  bump(by_category_, category);
  if (violations != nullptr) {
    for (const Violation& v : *violations) {
      bump(by_keyword_, v.keyword);
      const std::string& path = v.instance_path;
      if (by_path_.size() < kMaxPaths || by_path_.contains(path)) {
        bump(by_path_, path);
      } else {
        ++other_paths_;
      }
    }
  }
  if (examples_.size() < std::max(max_examples_, kMaxJunitCases)) {
    Example e{std::string(category), std::string(source), line, std::string(reason), {}};
    if (violations != nullptr) e.violations = *violations;
    examples_.push_back(std::move(e));
  }
}

std::string QualityReport::summary(uint64_t events) const {
  return std::to_string(invalid_) + " of " + std::to_string(events) + " events invalid (" +
         percent(invalid_, events) + ")";
}

std::string QualityReport::to_json(uint64_t events, uint64_t normalized, const InvalidLimit* limit,
                                   bool complete) const {
  std::string out;
  json::JsonWriter w(out);
  w.begin_object();
  w.key("program").value(program_);
  w.key("schema").value(schema_);
  w.key("events").value(events);
  w.key("valid").value(events - std::min(events, invalid_));
  w.key("invalid").value(invalid_);
  w.key("invalid_ratio")
      .value(events == 0 ? 0.0 : static_cast<double>(invalid_) / static_cast<double>(events));
  w.key("normalized").value(normalized);
  w.key("complete").value(complete);
  if (limit != nullptr) {
    w.key("max_invalid").value(limit->text);
    w.key("passed").value(!limit->exceeded(invalid_, events));
  }
  w.key("by_category");
  write_counts(w, by_category_);
  w.key("by_keyword");
  write_counts(w, by_keyword_);
  w.key("by_instance_path");
  w.begin_object();
  for (const auto& [k, n] : by_path_) w.key(k).value(n);
  if (other_paths_ > 0) w.key("(other)").value(other_paths_);
  w.end_object();
  w.key("examples").begin_array();
  for (size_t k = 0; k < examples_.size() && k < max_examples_; ++k) {
    const Example& e = examples_[k];
    w.begin_object();
    w.key("source").value(e.source);
    w.key("line").value(e.line);
    w.key("category").value(e.category);
    w.key("error").value(e.reason);
    if (!e.violations.empty()) {
      w.key("violations");
      write_violations(w, e.violations);
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out.push_back('\n');
  return out;
}

std::string QualityReport::to_junit(uint64_t events, double seconds, const InvalidLimit* limit,
                                    bool complete) const {
  const size_t listed = std::min(examples_.size(), kMaxJunitCases);
  const bool rest = invalid_ > listed;
  const bool gate_failed = limit != nullptr && limit->exceeded(invalid_, events);
  const size_t tests =
      listed + (rest ? 1 : 0) + 1 + (limit != nullptr ? 1 : 0) + (complete ? 0 : 1);
  const size_t failures = listed + (rest ? 1 : 0) + (gate_failed ? 1 : 0) + (complete ? 0 : 1);
  std::string suite = program_ + ": " + schema_;
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", seconds);

  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"";
  append_xml(x, program_);
  x += "\" tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
       "\" errors=\"0\" time=\"" + secs + "\">\n";
  x += "  <testsuite name=\"";
  append_xml(x, suite);
  x += "\" tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
       "\" errors=\"0\" skipped=\"0\" time=\"" + secs + "\">\n";
  auto open_case = [&](std::string_view name) {
    x += "    <testcase classname=\"";
    append_xml(x, suite);
    x += "\" name=\"";
    append_xml(x, name);
    x += "\"";
  };
  for (size_t k = 0; k < listed; ++k) {
    const Example& e = examples_[k];
    open_case(e.source + ":" + std::to_string(e.line));
    x += ">\n      <failure type=\"";
    append_xml(x, e.category);
    x += "\" message=\"";
    append_xml(x, e.reason);
    x += "\">";
    for (const Violation& v : e.violations) {
      append_xml(x, (v.instance_path.empty() ? std::string("(root)") : v.instance_path) + ": " +
                        v.message + " [" + v.keyword + " at " + v.schema_path + "]\n");
    }
    if (e.violations.empty()) append_xml(x, e.reason);
    x += "</failure>\n    </testcase>\n";
  }
  if (rest) {
    std::string more = std::to_string(invalid_ - listed) + " more invalid events";
    open_case(more);
    x += ">\n      <failure type=\"invalid\" message=\"";
    append_xml(x, more + " (see --report)");
    x += "\"/>\n    </testcase>\n";
  }
  open_case(std::to_string(events - std::min(events, invalid_)) + " valid events");
  x += "/>\n";
  if (limit != nullptr) {
    open_case("max-invalid " + limit->text);
    if (gate_failed) {
      x += ">\n      <failure type=\"max-invalid\" message=\"";
      append_xml(x, summary(events) + ", over --max-invalid " + limit->text);
      x += "\"/>\n    </testcase>\n";
    } else {
      x += "/>\n";
    }
  }
  if (!complete) {
    open_case("incomplete run");
    x += ">\n      <failure type=\"incomplete\" message=\"";
    append_xml(x, "the run stopped after " + std::to_string(events) +
                      " events, before the end of its input");
    x += "\"/>\n    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace ev::validate
