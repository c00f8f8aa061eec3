// Frame: reading a Scope's fields from an event in one pass over its bytes.
//
// The field paths form a trie (root = the event object). A small scanner walks the
// line once: each object the trie enters is read member by member, its keys matched
// against the node's children (the first member of a name wins, as Event::find);
// a leaf's value is converted in place (strings without escapes stay views into the
// line), other values are skipped by their brackets and quotes. No tape is built:
// for the handful of fields an expression reads this costs a fraction of a full
// simdjson parse. The scanner checks the syntax of what it walks (keys, colons,
// commas, brackets, strings, the values it converts) and reports malformed JSON
// there; like the On-Demand reads of other stages it does not validate values it
// skips.
#include <emmintrin.h>

#include <charconv>
#include <cstring>

#include "libcore/expr/expr.h"
#include "libcore/json/json_writer.h"
#include "libcore/time/timestamp.h"

namespace ev::expr {

namespace {

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The first '"' or '\\' at or after p (the line is followed by readable padding, and
// ends before `end`); `end` when there is none.
inline const char* find_quote(const char* p, const char* end) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  while (p < end) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, slash)));
    if (mask) {
      const char* hit = p + __builtin_ctz(static_cast<unsigned>(mask));
      return hit < end ? hit : end;
    }
    p += 16;
  }
  return end;
}

}  // namespace

struct Frame::Node {
  json::PathSegment seg;
  int32_t slot = -1;  // the field ending here
  std::vector<uint32_t> children;
  uint64_t seen = 0;  // the event generation it was last matched in
};

Frame::Frame(const Scope& scope, time::Clock* clock) : scope_(scope), clock_(clock) {
  if (!clock_) {
    own_clock_ = std::make_unique<time::SystemClock>();
    clock_ = own_clock_.get();
  }
  vars_.resize(scope.variables());
  fields_.resize(scope.fields());
  field_errors_.resize(scope.fields());
  field_failed_.resize(scope.fields());
  present_.resize(scope.fields());
  nodes_.emplace_back();
  for (size_t slot = 0; slot < scope.fields(); ++slot) {
    const auto& segs = scope.fields_[slot].segments();
    uint32_t cur = 0;
    for (const auto& seg : segs) {
      uint32_t next = 0;
      for (uint32_t c : nodes_[cur].children) {
        if (nodes_[c].seg == seg) next = c;
      }
      if (!next) {
        nodes_.emplace_back();
        nodes_.back().seg = seg;
        next = static_cast<uint32_t>(nodes_.size() - 1);
        nodes_[cur].children.push_back(next);
      }
      cur = next;
    }
    nodes_[cur].slot = static_cast<int32_t>(slot);
    if (scope.fields_[slot].segments() == scope.time_path_.segments()) {
      time_slot_ = static_cast<int32_t>(slot);
    }
  }
}

Frame::~Frame() = default;

void Frame::reset(json::Event& event) {
  event_ = &event;
  ++generation_;
  loaded_ = false;
  load_failed_ = false;
  failed_ = false;
  error_.clear();
  arena_.reset();
  for (Value& v : vars_) v = Value::null();
}

bool Frame::fail(std::string message) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(message);
  }
  return false;
}

int64_t Frame::now() { return clock_->now_ns(); }

bool Frame::read_field(uint32_t slot, Value& out) {
  if (!loaded_ && !load()) return false;
  if (load_failed_) return fail(error_.empty() ? "invalid JSON" : error_);
  if (field_failed_[slot]) return fail(field_errors_[slot]);
  out = fields_[slot];
  return true;
}

bool Frame::load() {
  loaded_ = true;
  for (size_t i = 0; i < fields_.size(); ++i) {
    fields_[i] = Value::null();
    field_failed_[i] = 0;
    present_[i] = 0;
  }
  if (!event_) return true;  // constant folding: no event
  line_end_ = event_->raw().data() + event_->raw().size();
  if (fields_.empty()) return true;
  const char* p = event_->raw().data();
  while (p < line_end_ && is_ws(*p)) ++p;
  if (p >= line_end_ || *p != '{' || !scan_object(p, nodes_[0])) {
    load_failed_ = true;
    return fail("invalid JSON: " +
                std::string(p < line_end_ ? "malformed near byte " +
                                                std::to_string(p - event_->raw().data() + 1)
                                          : "unexpected end"));
  }
  return true;
}

// ---- the scanner ----

// A JSON string at p ('"'): its content [begin, close) and whether it holds escapes;
// p moves past the closing quote. False when it is not terminated.
bool Frame::scan_string(const char*& p, std::string_view& content, bool& escaped) {
  const char* begin = ++p;
  escaped = false;
  for (;;) {
    const char* q = find_quote(p, line_end_);
    if (q >= line_end_) return false;
    if (*q == '"') {
      content = std::string_view(begin, static_cast<size_t>(q - begin));
      p = q + 1;
      return true;
    }
    escaped = true;
    p = q + 2;  // the escaped character (checked when unescaped)
  }
}

// Unescapes the content of a JSON string (between its quotes, in the line) into the
// arena. False on a bad escape or a control character.
bool Frame::unescape(std::string_view raw, std::string_view& out) {
  const std::string_view quoted(raw.data() - 1, raw.size() + 2);
  size_t at = 0;
  scratch_.clear();
  if (!json::decode_json_string(quoted, at, scratch_).empty()) return false;
  out = arena_.copy(scratch_);
  return true;
}

// Skips one value at p (after whitespace). False on malformed JSON.
bool Frame::skip_value(const char*& p) {
  if (p >= line_end_) return false;
  const char c = *p;
  if (c == '"') {
    std::string_view s;
    bool escaped;
    return scan_string(p, s, escaped);
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    while (p < line_end_) {
      const char d = *p;
      if (d == '"') {
        std::string_view s;
        bool escaped;
        if (!scan_string(p, s, escaped)) return false;
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) {
          ++p;
          return true;
        }
      }
      ++p;
    }
    return false;
  }
  const char* b = p;
  while (p < line_end_ && *p != ',' && *p != '}' && *p != ']' && !is_ws(*p)) ++p;
  return p > b;
}

// After a member or element: a comma (more follow) or `close` (the container ends).
Frame::Next Frame::after_member(const char*& p, char close) {
  while (p < line_end_ && is_ws(*p)) ++p;
  if (p >= line_end_) return Next::kBad;
  if (*p == ',') {
    ++p;
    while (p < line_end_ && is_ws(*p)) ++p;
    return Next::kMore;
  }
  if (*p != close) return Next::kBad;
  ++p;
  return Next::kDone;
}

bool Frame::scan_object(const char*& p, const Node& node) {
  // p is at '{'.
  ++p;
  size_t next = 0;
  while (p < line_end_ && is_ws(*p)) ++p;
  if (p < line_end_ && *p == '}') {
    ++p;
    return true;
  }
  for (;;) {
    if (p >= line_end_ || *p != '"') return false;
    std::string_view key;
    bool escaped;
    if (!scan_string(p, key, escaped)) return false;
    if (escaped && !unescape(key, key)) return false;
    while (p < line_end_ && is_ws(*p)) ++p;
    if (p >= line_end_ || *p != ':') return false;
    ++p;
    while (p < line_end_ && is_ws(*p)) ++p;
    // Events of one stream tend to keep their key order: the search starts after the
    // child matched last.
    Node* match = nullptr;
    const size_t count = node.children.size();
    for (size_t k = 0, c = next; k < count; ++k, ++c) {
      if (c == count) c = 0;
      Node& child = nodes_[node.children[c]];
      const std::string& want = child.seg.key;
      if (want.size() != key.size() || child.seg.kind != json::PathSegment::Kind::kKey ||
          (!want.empty() && want[0] != key[0]) || want != key) {
        continue;
      }
      if (child.seen != generation_) match = &child;
      next = c + 1 == count ? 0 : c + 1;
      break;
    }
    if (match) {
      match->seen = generation_;
      if (!scan_member(p, *match)) return false;
    } else if (!skip_value(p)) {
      return false;
    }
    const Next n = after_member(p, '}');
    if (n != Next::kMore) return n == Next::kDone;
  }
}

bool Frame::scan_array(const char*& p, const Node& node) {
  ++p;  // '['
  while (p < line_end_ && is_ws(*p)) ++p;
  if (p < line_end_ && *p == ']') {
    ++p;
    return true;
  }
  for (size_t index = 0;; ++index) {
    Node* match = nullptr;
    for (uint32_t c : node.children) {
      Node& child = nodes_[c];
      if (child.seg.kind == json::PathSegment::Kind::kIndex && child.seg.index == index) {
        match = &child;
        break;
      }
    }
    if (match) {
      if (!scan_member(p, *match)) return false;
    } else if (!skip_value(p)) {
      return false;
    }
    const Next n = after_member(p, ']');
    if (n != Next::kMore) return n == Next::kDone;
  }
}

// The value at p of a trie node: descended into, or converted when the node is a
// leaf.
bool Frame::scan_member(const char*& p, const Node& node) {
  if (node.children.empty()) return scan_leaf(p, static_cast<uint32_t>(node.slot));
  const bool object = p < line_end_ && *p == '{';
  if (!object && !(p < line_end_ && *p == '[')) {
    // Not a container: the paths below are missing; the node's own field reads it.
    return node.slot >= 0 ? scan_leaf(p, static_cast<uint32_t>(node.slot)) : skip_value(p);
  }
  const char* begin = p;
  if (!(object ? scan_object(p, node) : scan_array(p, node))) return false;
  if (node.slot >= 0) {  // `device` as well as `device.os`: the container's text
    const auto slot = static_cast<uint32_t>(node.slot);
    present_[slot] = 1;
    if (static_cast<int32_t>(slot) == time_slot_) return not_a_time(slot);
    fields_[slot] = Value::raw(object ? Type::kObject : Type::kArray,
                               std::string_view(begin, static_cast<size_t>(p - begin)));
  }
  return true;
}

bool Frame::scan_leaf(const char*& p, uint32_t slot) {
  if (p >= line_end_) return false;
  present_[slot] = 1;
  Value& out = fields_[slot];
  const char* begin = p;
  const char c = *p;
  if (c == '"') {
    std::string_view s;
    bool escaped;
    if (!scan_string(p, s, escaped)) return false;
    if (escaped && !unescape(s, s)) return false;
    if (static_cast<int32_t>(slot) == time_slot_) return leaf_time(slot, s, false);
    out = Value::string(s);
    return true;
  }
  const bool is_time = static_cast<int32_t>(slot) == time_slot_;
  if (c == '{' || c == '[') {
    if (!skip_value(p)) return false;
    if (is_time) return not_a_time(slot);
    out = Value::raw(c == '[' ? Type::kArray : Type::kObject,
                     std::string_view(begin, static_cast<size_t>(p - begin)));
    return true;
  }
  if (!skip_value(p)) return false;
  const std::string_view token(begin, static_cast<size_t>(p - begin));
  if (token == "true" || token == "false") {
    if (is_time) return not_a_time(slot);
    out = Value::boolean(token[0] == 't');
    return true;
  }
  if (token == "null") return true;
  // A number, by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t i = 0;
  auto digits = [&] {
    size_t b = i;
    while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
    return i > b;
  };
  if (i < token.size() && token[i] == '-') ++i;
  const size_t int_begin = i;
  if (!digits() || (token[int_begin] == '0' && i - int_begin > 1)) return false;
  if (i < token.size() && token[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    if (!digits()) return false;
  }
  if (i != token.size()) return false;
  if (static_cast<int32_t>(slot) == time_slot_) return leaf_time(slot, token, true);
  double d = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
  // A number beyond a double (1e400) is valid JSON: it reads as null.
  if (ec == std::errc()) out = Value::number(d);
  return true;
}

bool Frame::not_a_time(uint32_t slot) {
  field_failed_[slot] = 1;
  field_errors_[slot] = "time field " + scope_.fields_[slot].text() +
                        ": not a time: expected an RFC 3339 string or an epoch number";
  return true;
}

bool Frame::leaf_time(uint32_t slot, std::string_view text, bool number) {
  auto t = number ? time::parse_epoch_text(text, scope_.options().time_unit)
                  : time::parse_time_text(text, scope_.options().time_unit);
  if (!t) {
    field_failed_[slot] = 1;
    field_errors_[slot] =
        "time field " + scope_.fields_[slot].text() + ": not a time: " + t.error().message;
    return true;
  }
  fields_[slot] = Value::time(*t);
  return true;
}

}  // namespace ev::expr
