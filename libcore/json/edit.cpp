#include "libcore/json/edit.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "libcore/json/json_writer.h"

namespace ev::json {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view d, size_t p) {
  while (p < d.size() && is_ws(d[p])) ++p;
  return p;
}

// p at the opening quote; returns the position after the closing quote.
size_t skip_string(std::string_view d, size_t p) {
  for (++p; p < d.size(); ++p) {
    if (d[p] == '\\') {
      ++p;
    } else if (d[p] == '"') {
      return p + 1;
    }
  }
  return d.size();
}

size_t skip_value(std::string_view d, size_t p) {
  if (p >= d.size()) return p;
  char c = d[p];
  if (c == '"') return skip_string(d, p);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (p < d.size()) {
      char x = d[p];
      if (x == '"') {
        p = skip_string(d, p);
        continue;
      }
      if (x == '{' || x == '[') ++depth;
      if (x == '}' || x == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return p;
  }
  while (p < d.size() && d[p] != ',' && d[p] != '}' && d[p] != ']' && !is_ws(d[p])) ++p;
  return p;
}

// Does the string token at [b, e) (quotes included) equal `key`?
bool key_equals(std::string_view d, size_t b, size_t e, std::string_view key,
                std::string& scratch) {
  std::string_view raw = d.substr(b + 1, e - b - 2);
  if (raw.find('\\') == std::string_view::npos) return raw == key;
  scratch.clear();
  size_t pos = b;
  return decode_json_string(d, pos, scratch).empty() && scratch == key;
}

// The value of member `key` of the object starting at p ('{'), or npos.
size_t find_member(std::string_view d, size_t p, std::string_view key, std::string& scratch) {
  p = skip_ws(d, p + 1);
  while (p < d.size() && d[p] == '"') {
    size_t ke = skip_string(d, p);
    bool hit = key_equals(d, p, ke, key, scratch);
    p = skip_ws(d, ke);
    p = skip_ws(d, p + 1);  // ':'
    if (hit) return p;
    p = skip_ws(d, skip_value(d, p));
    if (p < d.size() && d[p] == ',') p = skip_ws(d, p + 1);
  }
  return std::string_view::npos;
}

size_t find_element(std::string_view d, size_t p, size_t index) {
  p = skip_ws(d, p + 1);
  if (p < d.size() && d[p] == ']') return std::string_view::npos;
  for (size_t k = 0; p < d.size(); ++k) {
    if (k == index) return p;
    p = skip_ws(d, skip_value(d, p));
    if (p >= d.size() || d[p] != ',') return std::string_view::npos;
    p = skip_ws(d, p + 1);
  }
  return std::string_view::npos;
}

}  // namespace

void append_pointer_token(std::string& out, std::string_view token) {
  out.push_back('/');
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
}

void append_pointer_index(std::string& out, size_t index) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, index);
  out.push_back('/');
  out.append(buf, r.ptr);
}

std::string to_pointer(const Location& at) {
  std::string out;
  for (const Step& s : at) {
    if (s.is_index) {
      append_pointer_index(out, s.index);
    } else {
      append_pointer_token(out, s.key);
    }
  }
  return out;
}

std::optional<std::pair<size_t, size_t>> locate(std::string_view d, const Location& at) {
  std::string scratch;
  size_t p = skip_ws(d, 0);
  for (const Step& s : at) {
    if (p >= d.size()) return std::nullopt;
    if (s.is_index) {
      if (d[p] != '[') return std::nullopt;
      p = find_element(d, p, s.index);
    } else {
      if (d[p] != '{') return std::nullopt;
      p = find_member(d, p, s.key, scratch);
    }
    if (p == std::string_view::npos) return std::nullopt;
  }
  if (p >= d.size()) return std::nullopt;
  return std::pair{p, skip_value(d, p)};
}

size_t apply_edits(std::string& out, std::string_view d, const std::vector<Edit>& edits) {
  struct Cut {
    size_t begin, end;  // replaced bytes (begin == end: an insertion)
    size_t edit;
    bool comma;  // kAddMember into a non-empty object
  };
  std::vector<Cut> cuts;
  std::string scratch;
  for (size_t k = 0; k < edits.size(); ++k) {
    const Edit& e = edits[k];
    auto span = locate(d, e.at);
    if (!span) continue;
    if (e.kind == Edit::kReplace) {
      cuts.push_back({span->first, span->second, k, false});
      continue;
    }
    if (d[span->first] != '{') continue;
    if (find_member(d, span->first, e.key, scratch) != std::string_view::npos) continue;
    size_t close = span->second - 1;  // the '}'
    size_t last = close;
    while (last > span->first && is_ws(d[last - 1])) --last;
    bool empty = d[last - 1] == '{';
    // Two additions to one object: the second sees the first's key only through `cuts`.
    bool twice = false;
    for (const Cut& c : cuts) {
      const Edit& o = edits[c.edit];
      if (c.begin == last && c.end == last && o.kind == Edit::kAddMember && o.key == e.key)
        twice = true;
    }
    if (twice) continue;
    bool after_other = false;
    for (const Cut& c : cuts) after_other |= c.begin == last && c.end == last;
    cuts.push_back({last, last, k, !empty || after_other});
  }
  std::stable_sort(cuts.begin(), cuts.end(),
                   [](const Cut& a, const Cut& b) { return a.begin < b.begin; });
  size_t pos = 0, applied = 0;
  for (const Cut& c : cuts) {
    if (c.begin < pos) continue;  // inside a value already replaced
    out.append(d.substr(pos, c.begin - pos));
    const Edit& e = edits[c.edit];
    if (e.kind == Edit::kAddMember) {
      if (c.comma) out.push_back(',');
      append_json_string(out, e.key);
      out.push_back(':');
    }
    out.append(e.json);
    pos = c.end;
    ++applied;
  }
  out.append(d.substr(pos));
  return applied;
}

}  // namespace ev::json
