#include "libcore/json/field_path.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "libcore/json/json_writer.h"

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

  // A JSON string starting at the opening quote at pos_; leaves pos_ after the closing one.
  Status parse_quoted(std::string& key) {
    if (auto what = decode_json_string(text_, pos_, key); !what.empty()) return fail(what, pos_);
    return {};
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
