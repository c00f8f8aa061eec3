#include "libcore/json/splice.h"

#include <cstring>
#include <vector>

#include "libcore/json/event.h"

namespace ev::json {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Byte spans [begin, end) of top-level members whose key is one of `keys`.
Status find_members(std::string_view raw, std::initializer_list<std::string_view> keys,
                    simdjson::ondemand::parser& parser,
                    std::vector<std::pair<size_t, size_t>>& spans) {
  simdjson::ondemand::document doc;
  auto err =
      parser.iterate(raw.data(), raw.size(), raw.size() + simdjson::SIMDJSON_PADDING).get(doc);
  simdjson::ondemand::object obj;
  if (!err) err = doc.get_object().get(obj);
  if (err) return data_error(describe(err));
  for (auto field : obj) {
    simdjson::ondemand::raw_json_string key_raw;
    if (auto e = field.key().get(key_raw); e) return data_error(describe(e));
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return data_error(describe(e));
    // The key's raw text starts right after its opening quote in `raw`.
    const char* key_ptr = reinterpret_cast<const char*>(key_raw.raw()) - 1;
    auto text = raw_text(field.value());
    if (!text) return std::unexpected(text.error());
    bool wanted = false;
    for (auto k : keys) wanted = wanted || k == key;
    if (wanted) {
      size_t begin = static_cast<size_t>(key_ptr - raw.data());
      size_t end = static_cast<size_t>(text->data() + text->size() - raw.data());
      spans.emplace_back(begin, end);
    }
  }
  return {};
}

}  // namespace

Status append_spliced(std::string& out, std::string_view raw, std::string_view members,
                      std::initializer_list<std::string_view> keys,
                      simdjson::ondemand::parser& parser) {
  size_t close = raw.size();
  while (close > 0 && is_ws(raw[close - 1])) --close;
  if (close == 0 || raw[close - 1] != '}') return data_error("not a JSON object");
  --close;  // index of the closing brace

  // A key may be spelled with escapes ("\u005fsrc"): a line holding a backslash
  // always takes the exact path.
  bool present = raw.find('\\') != std::string_view::npos;
  for (auto k : keys) {
    // A cheap pre-check without allocating: the quoted key occurs in the line.
    for (size_t p = raw.find(k, 1); p != std::string_view::npos; p = raw.find(k, p + 1)) {
      if (raw[p - 1] == '"' && p + k.size() < raw.size() && raw[p + k.size()] == '"') {
        present = true;
        break;
      }
    }
  }

  std::string_view body = raw.substr(0, close);
  std::string cut;
  if (present) {
    std::vector<std::pair<size_t, size_t>> spans;
    if (auto st = find_members(raw, keys, parser, spans); !st) return st;
    if (!spans.empty()) {
      // Rebuild the member list without those members and their separating commas.
      size_t pos = 0;
      for (auto [b, e] : spans) {
        size_t cut_b = b, cut_e = e;
        size_t after = e;
        while (after < close && is_ws(raw[after])) ++after;
        if (after < close && raw[after] == ',') {
          cut_e = after + 1;  // "a":1 , -> drop through the following comma
        } else {
          size_t before = b;
          while (before > 0 && is_ws(raw[before - 1])) --before;
          if (before > 0 && raw[before - 1] == ',') cut_b = before - 1;
        }
        if (cut_b < pos) cut_b = pos;
        cut.append(raw.substr(pos, cut_b - pos));
        pos = cut_e;
      }
      cut.append(raw.substr(pos, close - pos));
      body = cut;
    }
  }

  // Is the remaining object empty ("{" followed only by whitespace)?
  size_t last = body.size();
  while (last > 0 && is_ws(body[last - 1])) --last;
  bool empty = last > 0 && body[last - 1] == '{';
  out.append(body.substr(0, last));
  if (!members.empty()) {
    if (!empty) out.push_back(',');
    out.append(members);
  }
  out.append(body.substr(last));  // whitespace before the brace, as written
  out.push_back('}');
  out.append(raw.substr(close + 1));
  return {};
}

}  // namespace ev::json
