#include "libcore/json/canonical.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "libcore/json/json_writer.h"

namespace ev::json {
namespace {

namespace od = simdjson::ondemand;

// Strings and keys from simdjson are valid UTF-8 (iterate() validates the input and
// unescaping rejects lone surrogates), so they are escaped without a second check.
//
// Fast path: iterate() also rejects raw control characters inside strings, so a string
// whose raw text holds no backslash is already canonical, byte for byte. Such strings
// and keys (most of them) are taken straight from the input, skipping simdjson's
// out-of-line unescaping and our re-escaping scan.

// One member of an object being canonicalized: its unescaped key (a view into the
// input or the parser's string buffer, valid for the whole document) and the span [begin, end) of
// `"key":value` already written to the output.
struct Member {
  std::string_view key;
  size_t begin = 0;
  size_t end = 0;
};

// Reused across calls so a warm thread canonicalizes without allocating. Nested objects
// push their members above their parent's and pop them before returning.
struct Scratch {
  std::vector<Member> members;
  std::string reorder;
};
thread_local Scratch t_scratch;

// Pops an object's members off the shared stack on every exit path.
class MemberFrame {
 public:
  explicit MemberFrame(std::vector<Member>& members) : members_(members), base_(members.size()) {}
  ~MemberFrame() { members_.resize(base_); }
  MemberFrame(const MemberFrame&) = delete;
  MemberFrame& operator=(const MemberFrame&) = delete;
  size_t base() const { return base_; }

 private:
  std::vector<Member>& members_;
  size_t base_;
};

std::unexpected<Error> malformed(simdjson::error_code error) {
  return data_error(std::string("malformed JSON: ") + simdjson::error_message(error));
}

std::unexpected<Error> malformed(std::string_view what) {
  return data_error("malformed JSON: " + std::string(what));
}

std::unexpected<Error> too_deep() {
  return data_error("JSON nested deeper than " + std::to_string(kMaxCanonicalDepth) + " levels");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_right(std::string_view token) {
  while (!token.empty()) {
    char c = token.back();
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    token.remove_suffix(1);
  }
  return token;
}

bool has_quote_or_backslash(std::string_view s) {
  return std::memchr(s.data(), '\\', s.size()) != nullptr ||
         std::memchr(s.data(), '"', s.size()) != nullptr;
}

// The content of a string token (raw_json_token(), trailing whitespace allowed) if it
// has no escapes; nullopt otherwise, and for anything unusual, which then takes the
// checked path.
std::optional<std::string_view> plain_string_content(std::string_view token) {
  token = trim_right(token);
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return std::nullopt;
  std::string_view inner = token.substr(1, token.size() - 2);
  if (has_quote_or_backslash(inner)) return std::nullopt;
  return inner;
}

// The key of `field` as a view into the input if it has no escapes. The key's closing
// quote exists (iterate() rejects unclosed strings), so the scan stops inside the input.
std::optional<std::string_view> plain_key(const od::field& field) {
  const char* begin = field.key().raw();
  const char* p = begin;
  while (*p != '"') {
    if (*p == '\\') return std::nullopt;
    ++p;
  }
  return std::string_view(begin, static_cast<size_t>(p - begin));
}

Status append_number_token(std::string_view token, std::string& out) {
  token = trim_right(token);
  if (!is_json_number(token)) return malformed("invalid number");
  out.append(token);
  return {};
}

Status append_value(od::value& value, std::string& out, int depth);

Status append_array(od::array array, std::string& out, int depth) {
  out.push_back('[');
  bool first = true;
  for (auto element_result : array) {
    od::value element;
    if (auto error = std::move(element_result).get(element)) return malformed(error);
    if (!first) out.push_back(',');
    first = false;
    if (auto status = append_value(element, out, depth); !status) return status;
  }
  out.push_back(']');
  return {};
}

Status append_object(od::object object, std::string& out, int depth) {
  std::vector<Member>& members = t_scratch.members;
  MemberFrame frame(members);

  // 1. Write the members in input order, remembering where each one is.
  const size_t object_begin = out.size();
  out.push_back('{');
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return malformed(error);
    if (members.size() > frame.base()) out.push_back(',');
    const size_t begin = out.size();
    std::string_view key;
    if (auto plain = plain_key(field)) {
      key = *plain;
      out.push_back('"');
      out.append(key);
      out.append("\":", 2);
    } else {
      if (auto error = field.unescaped_key().get(key)) return malformed(error);
      append_valid_json_string(out, key);
      out.push_back(':');
    }
    if (auto status = append_value(field.value(), out, depth); !status) return status;
    members.push_back(Member{key, begin, out.size()});
  }
  out.push_back('}');

  // 2. Sort by key; ties keep input order because spans are in input order.
  auto first = members.begin() + static_cast<std::ptrdiff_t>(frame.base());
  auto by_key = [](const Member& a, const Member& b) {
    int c = a.key.compare(b.key);  // char_traits<char> compares bytes as unsigned
    return c < 0 || (c == 0 && a.begin < b.begin);
  };
  if (std::is_sorted(first, members.end(), by_key)) return {};
  std::sort(first, members.end(), by_key);

  // 3. Rewrite the members in sorted order over the same bytes (same total length).
  std::string& reorder = t_scratch.reorder;
  reorder.clear();
  for (auto it = first; it != members.end(); ++it) {
    if (it != first) reorder.push_back(',');
    reorder.append(out, it->begin, it->end - it->begin);
  }
  std::memcpy(out.data() + object_begin + 1, reorder.data(), reorder.size());
  return {};
}

Status append_value(od::value& value, std::string& out, int depth) {
  od::json_type type;
  if (auto error = value.type().get(type)) return malformed(error);
  switch (type) {
    case od::json_type::object: {
      if (depth >= kMaxCanonicalDepth) return too_deep();
      od::object object;
      if (auto error = value.get_object().get(object)) return malformed(error);
      return append_object(object, out, depth + 1);
    }
    case od::json_type::array: {
      if (depth >= kMaxCanonicalDepth) return too_deep();
      od::array array;
      if (auto error = value.get_array().get(array)) return malformed(error);
      return append_array(array, out, depth + 1);
    }
    case od::json_type::string: {
      const std::string_view token = value.raw_json_token();
      if (auto plain = plain_string_content(token)) {
        out.append(plain->data() - 1, plain->size() + 2);  // with its quotes
        return {};  // not consumed: On-Demand skips it when the parent moves on
      }
      std::string_view s;
      if (auto error = value.get_string().get(s)) return malformed(error);
      append_valid_json_string(out, s);
      return {};
    }
    case od::json_type::number:
      // Not consumed: On-Demand skips it when the parent moves on.
      return append_number_token(value.raw_json_token(), out);
    case od::json_type::boolean: {
      bool b = false;
      if (auto error = value.get_bool().get(b)) return malformed(error);
      out.append(b ? "true" : "false");
      return {};
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return malformed(error);
      if (!is_null) return malformed("invalid literal");
      out.append("null", 4);
      return {};
    }
  }
  return malformed("unknown value type");
}

// The root of a document: scalars at the root need the document's own accessors.
Status append_root(od::document& doc, std::string& out) {
  od::json_type type;
  if (auto error = doc.type().get(type)) return malformed(error);
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = doc.get_object().get(object)) return malformed(error);
      return append_object(object, out, 1);
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = doc.get_array().get(array)) return malformed(error);
      return append_array(array, out, 1);
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto error = doc.get_string().get(s)) return malformed(error);
      append_valid_json_string(out, s);
      return {};
    }
    case od::json_type::number: {
      // raw_json() consumes the token, so the trailing-content check below sees past it.
      std::string_view token;
      if (auto error = doc.raw_json().get(token)) return malformed(error);
      return append_number_token(token, out);
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto error = doc.get_bool().get(b)) return malformed(error);
      out.append(b ? "true" : "false");
      return {};
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = doc.is_null().get(is_null)) return malformed(error);
      if (!is_null) return malformed("invalid literal");
      out.append("null", 4);
      return {};
    }
  }
  return malformed("unknown value type");
}

}  // namespace

bool is_json_number(std::string_view t, bool* integral) {
  size_t i = 0;
  const size_t n = t.size();
  bool whole = true;
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < n && is_digit(t[i])) ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
    whole = false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= n || !is_digit(t[i])) return false;
    while (i < n && is_digit(t[i])) ++i;
    whole = false;
  }
  if (integral != nullptr) *integral = whole;
  return i == n;
}

Result<std::string_view> string_bytes(simdjson::ondemand::value& value) {
  if (auto plain = plain_string_content(value.raw_json_token())) return *plain;
  std::string_view s;
  if (auto error = value.get_string().get(s)) return malformed(error);
  return s;
}

Status append_canonical(simdjson::ondemand::value value, std::string& out) {
  const size_t start = out.size();
  auto status = append_value(value, out, 0);
  if (!status) out.resize(start);
  return status;
}

Status append_canonical(simdjson::ondemand::document& doc, std::string& out) {
  const size_t start = out.size();
  auto status = append_root(doc, out);
  // simdjson 3.0.1 has no document::at_end(); current_location() reports OUT_OF_BOUNDS
  // exactly when every token has been consumed.
  if (status && doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    status = malformed("trailing content after the value");
  }
  if (!status) out.resize(start);
  return status;
}

}  // namespace ev::json
