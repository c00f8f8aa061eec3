#include "libcore/json/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <simdjson.h>

namespace ev::json {
namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Nonzero iff some byte of `x` is zero (exact as a yes/no answer).
constexpr uint64_t has_zero_byte(uint64_t x) { return (x - kOnes) & ~x & kHighBits; }

// Nonzero iff a byte of `w` needs attention: a control character, '"', '\\', or (with
// kStopOnHigh) a byte >= 0x80. Exact as a yes/no answer for the whole word.
template <bool kStopOnHigh>
inline uint64_t special_bytes(uint64_t w) {
  uint64_t control = (w - kOnes * 0x20) & ~w & kHighBits;  // some byte < 0x20
  uint64_t quote = has_zero_byte(w ^ (kOnes * '"'));
  uint64_t backslash = has_zero_byte(w ^ (kOnes * '\\'));
  uint64_t high = kStopOnHigh ? (w & kHighBits) : 0;
  return control | quote | backslash | high;
}

template <bool kStopOnHigh>
inline bool is_special(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || (kStopOnHigh && c >= 0x80);
}

#if defined(__SSE2__)
// Bit k set iff byte k of the 16 at `p` is special.
template <bool kStopOnHigh>
inline unsigned special_mask16(const char* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);  // x <= 0x1F
  unsigned mask = static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)));
  if constexpr (kStopOnHigh) mask |= static_cast<unsigned>(_mm_movemask_epi8(x));
  return mask;
}
#endif

// Index of the first special byte at or after `i`, or s.size(). The common string has
// none, so this is a block scan: 16 bytes at a time with SSE2, else 8 (SWAR).
template <bool kStopOnHigh>
[[gnu::always_inline]] inline size_t find_special(std::string_view s, size_t i) {
  const char* d = s.data();
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    for (; i + 16 <= n; i += 16) {
      if (unsigned mask = special_mask16<kStopOnHigh>(d + i)) {
        return i + static_cast<size_t>(__builtin_ctz(mask));
      }
    }
    if (i == n) return n;
    // The tail: rescan the last 16 bytes, ignoring those before i.
    const size_t tail = n - 16;
    unsigned mask = special_mask16<kStopOnHigh>(d + tail) >> (i - tail);
    return mask != 0 ? i + static_cast<size_t>(__builtin_ctz(mask)) : n;
  }
#endif
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, d + i, 8);
    if (special_bytes<kStopOnHigh>(w) != 0) break;
    i += 8;
  }
  for (; i < n; ++i) {
    if (is_special<kStopOnHigh>(static_cast<unsigned char>(d[i]))) return i;
  }
  return n;
}

constexpr char kHex[] = "0123456789abcdef";

// Writes the escape for an ASCII byte that is a control character, '"' or '\\' at `p`;
// returns its length (at most 6).
inline size_t write_escape(char* p, unsigned char c) {
  char short_form = 0;
  switch (c) {
    case '"':
      short_form = '"';
      break;
    case '\\':
      short_form = '\\';
      break;
    case '\b':
      short_form = 'b';
      break;
    case '\f':
      short_form = 'f';
      break;
    case '\n':
      short_form = 'n';
      break;
    case '\r':
      short_form = 'r';
      break;
    case '\t':
      short_form = 't';
      break;
    default:
      break;
  }
  p[0] = '\\';
  if (short_form != 0) {
    p[1] = short_form;
    return 2;
  }
  p[1] = 'u';
  p[2] = '0';
  p[3] = '0';
  p[4] = kHex[c >> 4];
  p[5] = kHex[c & 0xF];
  return 6;
}

constexpr size_t kMaxEscape = 6;  // the longest expansion of one input byte: \u00XX

// Length of the well-formed UTF-8 sequence at s[i] (a byte >= 0x80), or 0 if ill-formed;
// `consumed` is then the length of its maximal ill-formed prefix (at least 1), which is
// replaced by one U+FFFD, as Unicode recommends ("substitution of maximal subparts").
size_t utf8_sequence(std::string_view s, size_t i, size_t& consumed) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    consumed = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < length && i + k < s.size(); ++k) {
    unsigned char c = byte(i + k);
    unsigned char lo = k == 1 ? low : 0x80;
    unsigned char hi = k == 1 ? high : 0xBF;
    if (c < lo || c > hi) break;
  }
  consumed = k;
  return k == length ? length : 0;
}

// Below this many remaining bytes, non-ASCII sequences are checked one by one; above
// it, simdjson's vectorized validator checks the rest of the string in one call.
constexpr size_t kBulkValidateBytes = 64;

// Writes into the bytes after out's original end through a raw pointer, growing the
// string geometrically as escapes lengthen the text; no per-byte append calls.
class RawAppender {
 public:
  RawAppender(std::string& out, size_t expected) : out_(out), base_(out.size()) { grow(expected); }
  // Makes room for `more` bytes after the first `written` ones.
  void reserve(size_t written, size_t more) {
    if (written + more > room_) grow(std::max(room_ * 2, written + more));
  }
  char* data() { return out_.data() + base_; }
  void finish(size_t written) { out_.resize(base_ + written); }

 private:
  void grow(size_t room) {
    // The new bytes are written before they are read; skip resize()'s zero fill. (The
    // size passed to the callback is not used: libstdc++ 12 passes the new capacity.)
    const size_t size = base_ + room;
    out_.resize_and_overwrite(size, [size](char*, size_t) { return size; });
    room_ = room;
  }
  std::string& out_;
  size_t base_;
  size_t room_ = 0;
};

// Appends `s` quoted. Without kKnownValid, non-ASCII bytes are checked and ill-formed
// sequences replaced. Bytes before s[first] need no escape and are valid UTF-8.
template <bool kKnownValid>
void append_escaped(std::string& out, std::string_view s, size_t first) {
  const size_t n = s.size();
  RawAppender appender(out, n + 2 + 4 * kMaxEscape);
  char* p = appender.data();
  size_t w = 0;  // bytes written
  p[w++] = '"';
  bool checked = kKnownValid;  // the rest of the string is known to be valid UTF-8
  bool try_bulk = true;        // simdjson has not yet rejected the rest
  size_t run = 0;              // start of the input bytes not yet copied
  size_t i = first;
  // Copies s[run, i) and makes room for one more expansion plus the rest of the input.
  auto flush_run = [&]() __attribute__((always_inline)) {
    appender.reserve(w, (n - run) + kMaxEscape + 1);
    p = appender.data();
    std::memcpy(p + w, s.data() + run, i - run);
    w += i - run;
  };
  while (true) {
    i = checked ? find_special<false>(s, i) : find_special<true>(s, i);
    if (i == n) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      flush_run();
      w += write_escape(p + w, c);
      run = ++i;
      continue;
    }
    // A non-ASCII byte while unchecked. Everything before i is checked, so validating
    // from i validates the whole remainder.
    if (try_bulk && n - i >= kBulkValidateBytes) {
      if (simdjson::validate_utf8(s.data() + i, n - i)) {
        checked = true;
        continue;
      }
      try_bulk = false;  // repair sequence by sequence from here on
    }
    size_t consumed = 0;
    if (size_t length = utf8_sequence(s, i, consumed); length != 0) {
      i += length;  // valid: stays in the run that is copied verbatim
      continue;
    }
    flush_run();
    std::memcpy(p + w, "\xEF\xBF\xBD", 3);  // U+FFFD
    w += 3;
    i += consumed;
    run = i;
  }
  flush_run();
  p[w++] = '"';
  appender.finish(w);
}

// The common case: nothing to escape. One size change, one copy.
inline void append_verbatim(std::string& out, std::string_view s) {
  const size_t old = out.size();
  const size_t size = old + s.size() + 2;
  out.resize_and_overwrite(size, [&](char* p, size_t) {
    p[old] = '"';
    if (!s.empty()) std::memcpy(p + old + 1, s.data(), s.size());
    p[size - 1] = '"';
    return size;
  });
}

}  // namespace

bool is_valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void append_json_string(std::string& out, std::string_view s) {
  const size_t first = find_special<true>(s, 0);
  if (first == s.size()) {
    append_verbatim(out, s);
  } else {
    append_escaped<false>(out, s, first);
  }
}

void append_valid_json_string(std::string& out, std::string_view s) {
  const size_t first = find_special<false>(s, 0);
  if (first == s.size()) {
    append_verbatim(out, s);
  } else {
    append_escaped<true>(out, s, first);
  }
}

void JsonWriter::comma() {
  if (need_comma_) out_.push_back(',');
}

JsonWriter& JsonWriter::begin_object() {
  comma();
  out_.push_back('{');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  if (depth_ > 0) --depth_;
  need_comma_ = depth_ > 0;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  comma();
  out_.push_back('[');
  ++depth_;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  if (depth_ > 0) --depth_;
  need_comma_ = depth_ > 0;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  comma();
  append_json_string(out_, k);
  out_.push_back(':');
  need_comma_ = false;  // the value follows the colon directly
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  comma();
  append_json_string(out_, s);
  need_comma_ = depth_ > 0;
  return *this;
}

template <class Int>
JsonWriter& JsonWriter::integer(Int v) {
  comma();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, static_cast<size_t>(end - buf));
  need_comma_ = depth_ > 0;
  return *this;
}

JsonWriter& JsonWriter::value(int64_t v) { return integer(v); }
JsonWriter& JsonWriter::value(uint64_t v) { return integer(v); }

JsonWriter& JsonWriter::value(double v) {
  if (!std::isfinite(v)) return null();
  comma();
  char buf[40];  // the shortest round-trip form of a double is at most 24 characters
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  size_t length = static_cast<size_t>(end - buf);
  out_.append(buf, length);
  // Keep doubles recognisable as doubles when read back: 3.0 is "3.0", not "3".
  if (std::string_view(buf, length).find_first_of(".e") == std::string_view::npos) {
    out_.append(".0", 2);
  }
  need_comma_ = depth_ > 0;
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  comma();
  if (v) {
    out_.append("true", 4);
  } else {
    out_.append("false", 5);
  }
  need_comma_ = depth_ > 0;
  return *this;
}

JsonWriter& JsonWriter::null() {
  comma();
  out_.append("null", 4);
  need_comma_ = depth_ > 0;
  return *this;
}

void append_utf8(std::string& out, uint32_t cp) {
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

namespace {

// Four hex digits at text[pos]; -1 if malformed.
int32_t hex4(std::string_view text, size_t pos) {
  if (text.size() < pos + 4) return -1;
  int32_t v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    char c = text[i];
    int h = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

}  // namespace

std::string_view decode_json_string(std::string_view text, size_t& pos, std::string& out) {
  const size_t open = pos++;
  for (;;) {
    if (pos >= text.size()) {
      pos = open;
      return "unterminated string";
    }
    char c = text[pos];
    if (c == '"') {
      ++pos;
      return {};
    }
    if (static_cast<unsigned char>(c) < 0x20) return "control character in string";
    if (c != '\\') {
      out.push_back(c);
      ++pos;
      continue;
    }
    const size_t escape = pos;
    if (pos + 1 >= text.size()) {
      pos = open;
      return "unterminated string";
    }
    char e = text[pos + 1];
    pos += 2;
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        const int32_t hi = hex4(text, pos);
        if (hi < 0) {
          pos = escape;
          return "invalid \\u escape";
        }
        pos += 4;
        uint32_t cp = static_cast<uint32_t>(hi);
        if (hi >= 0xDC00 && hi <= 0xDFFF) {
          pos = escape;
          return "unpaired surrogate";
        }
        if (hi >= 0xD800 && hi <= 0xDBFF) {
          // A high surrogate must be followed by `\u` and a low surrogate.
          const int32_t lo = text.size() >= pos + 2 && text[pos] == '\\' && text[pos + 1] == 'u'
                                 ? hex4(text, pos + 2)
                                 : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) {
            pos = escape;
            return "unpaired surrogate";
          }
          pos += 6;
          cp = 0x10000 + ((static_cast<uint32_t>(hi) - 0xD800) << 10) +
               (static_cast<uint32_t>(lo) - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default:
        pos = escape;
        return "invalid escape";
    }
  }
}

JsonWriter& JsonWriter::key_json(std::string_view quoted_key_colon) {
  comma();
  out_.append(quoted_key_colon);
  need_comma_ = false;
  return *this;
}

std::string JsonWriter::key_json_of(std::string_view k) {
  std::string out;
  append_json_string(out, k);
  out.push_back(':');
  return out;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  comma();
  out_.append(json);
  need_comma_ = depth_ > 0;
  return *this;
}

}  // namespace ev::json
