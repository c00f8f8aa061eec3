#include "libcore/json/field_path.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace ev::json {
namespace {

// Parser state for one path. Errors carry the byte offset in the text as written.
class PathParser {
 public:
  explicit PathParser(std::string_view text) : text_(text) {}

  Result<std::vector<PathSegment>> run() {
    if (text_.empty()) return fail_plain("empty path");
    // jq spells paths with a leading dot; accept and ignore one.
    if (text_[pos_] == '.') {
      ++pos_;
      if (at_end()) return fail("empty key", pos_);
      if (text_[pos_] != '[') {
        if (auto ok = parse_key(); !ok) return std::unexpected(std::move(ok.error()));
      }
    } else if (text_[pos_] != '[') {
      if (auto ok = parse_key(); !ok) return std::unexpected(std::move(ok.error()));
    }
    // Then any sequence of `.key` and `[...]`.
    while (!at_end()) {
      char c = text_[pos_];
      if (c == '.') {
        ++pos_;
        if (auto ok = parse_key(); !ok) return std::unexpected(std::move(ok.error()));
      } else if (c == '[') {
        if (auto ok = parse_bracket(); !ok) return std::unexpected(std::move(ok.error()));
      } else {
        return fail(std::string("expected '.' or '[' before '") + c + "'", pos_);
      }
    }
    return std::move(segments_);
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }

  std::unexpected<Error> fail(std::string_view what, size_t offset) const {
    return usage_error("invalid field path '" + std::string(text_) + "': " + std::string(what) +
                       " at offset " + std::to_string(offset));
  }
  std::unexpected<Error> fail_plain(std::string_view what) const {
    return usage_error("invalid field path '" + std::string(text_) + "': " + std::string(what));
  }

  // An unquoted key up to the next unescaped `.` or `[`; `\x` stands for x.
  Status parse_key() {
    size_t start = pos_;
    std::string key;
    while (!at_end()) {
      char c = text_[pos_];
      if (c == '.' || c == '[') break;
      if (c == ']') return fail("unexpected ']'", pos_);
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) return fail("dangling backslash", pos_);
        key.push_back(text_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      key.push_back(c);
      ++pos_;
    }
    if (pos_ == start) return fail("empty key", start);
    segments_.push_back(PathSegment{PathSegment::Kind::kKey, std::move(key), 0});
    return {};
  }

  // `[123]` or `["json string"]`; pos_ is at the '['.
  Status parse_bracket() {
    size_t open = pos_;
    ++pos_;
    if (at_end()) return fail("unterminated bracket", open);
    if (text_[pos_] == '"') {
      std::string key;
      if (auto ok = parse_quoted(key); !ok) return ok;
      if (at_end() || text_[pos_] != ']') return fail("unterminated bracket", open);
      ++pos_;
      segments_.push_back(PathSegment{PathSegment::Kind::kKey, std::move(key), 0});
      return {};
    }
    size_t close = text_.find(']', pos_);
    if (close == std::string_view::npos) return fail("unterminated bracket", open);
    std::string_view digits = text_.substr(pos_, close - pos_);
    if (digits.empty()) return fail("empty index", pos_);
    if (digits[0] == '-') return fail("negative index", pos_);
    for (char d : digits) {
      if (d < '0' || d > '9') return fail("index is not a number", pos_);
    }
    size_t index = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      return fail("index out of range", pos_);
    }
    pos_ = close + 1;
    segments_.push_back(PathSegment{PathSegment::Kind::kIndex, {}, index});
    return {};
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Four hex digits at pos_ (after `\u`); -1 if malformed.
  int32_t read_hex4() {
    if (text_.size() - pos_ < 4) return -1;
    int32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      int h = hex_value(text_[pos_ + i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    pos_ += 4;
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A JSON string starting at the opening quote at pos_; leaves pos_ after the closing one.
  Status parse_quoted(std::string& key) {
    size_t open = pos_;
    ++pos_;
    while (true) {
      if (at_end()) return fail("unterminated string", open);
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return {};
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string", pos_);
      if (c != '\\') {
        key.push_back(c);
        ++pos_;
        continue;
      }
      size_t escape = pos_;
      if (pos_ + 1 >= text_.size()) return fail("unterminated string", open);
      char e = text_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"':
          key.push_back('"');
          break;
        case '\\':
          key.push_back('\\');
          break;
        case '/':
          key.push_back('/');
          break;
        case 'b':
          key.push_back('\b');
          break;
        case 'f':
          key.push_back('\f');
          break;
        case 'n':
          key.push_back('\n');
          break;
        case 'r':
          key.push_back('\r');
          break;
        case 't':
          key.push_back('\t');
          break;
        case 'u': {
          int32_t hi = read_hex4();
          if (hi < 0) return fail("invalid \\u escape", escape);
          uint32_t cp = static_cast<uint32_t>(hi);
          if (hi >= 0xDC00 && hi <= 0xDFFF) return fail("unpaired surrogate", escape);
          if (hi >= 0xD800 && hi <= 0xDBFF) {
            // A high surrogate must be followed by `\u` and a low surrogate.
            if (text_.size() - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
              return fail("unpaired surrogate", escape);
            }
            pos_ += 2;
            int32_t lo = read_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired surrogate", escape);
            cp = 0x10000 + ((static_cast<uint32_t>(hi) - 0xD800) << 10) +
                 (static_cast<uint32_t>(lo) - 0xDC00);
          }
          append_utf8(key, cp);
          break;
        }
        default:
          return fail("invalid escape", escape);
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<PathSegment> segments_;
};

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<FieldPath> FieldPath::parse(std::string_view text) {
  auto segments = PathParser(text).run();
  if (!segments) return std::unexpected(std::move(segments.error()));
  FieldPath path;
  path.segments_ = std::move(*segments);
  path.text_ = std::string(text);
  return path;
}

std::string_view FieldPath::leaf_name() const {
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (it->kind == PathSegment::Kind::kKey) return it->key;
  }
  return {};
}

Result<std::vector<FieldPath>> parse_field_path_list(std::string_view text) {
  std::vector<FieldPath> paths;
  // Trims spaces around one item, keeping a trailing space that is escaped (`a\ `).
  auto add_item = [&](size_t begin, size_t end) -> Status {
    while (begin < end && is_space(text[begin])) ++begin;
    while (end > begin && is_space(text[end - 1])) {
      size_t backslashes = 0;
      while (end - 1 - backslashes > begin && text[end - 2 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 1) break;
      --end;
    }
    auto path = FieldPath::parse(text.substr(begin, end - begin));
    if (!path) return std::unexpected(std::move(path.error()));
    paths.push_back(std::move(*path));
    return {};
  };

  // Split on commas outside brackets and quoted keys, skipping escaped characters. Quotes
  // only open a string inside brackets, as in the path syntax itself.
  bool in_bracket = false;
  bool in_quote = false;
  size_t item_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      ++i;  // the escaped character never splits, quotes or brackets
      continue;
    }
    if (in_quote) {
      if (c == '"') in_quote = false;
    } else if (in_bracket) {
      if (c == '"') in_quote = true;
      if (c == ']') in_bracket = false;
    } else if (c == '[') {
      in_bracket = true;
    } else if (c == ',') {
      if (auto ok = add_item(item_start, i); !ok) return std::unexpected(std::move(ok.error()));
      item_start = i + 1;
    }
  }
  if (auto ok = add_item(item_start, text.size()); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return paths;
}

}  // namespace ev::json
