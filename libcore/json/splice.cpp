#include "libcore/json/splice.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <vector>

#include "libcore/json/event.h"

namespace ev::json {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The probes of up to 16 keys, prepared once for many lines: each key's first two
// bytes (or its one byte and the closing quote), and nibble tables classifying bytes
// as some key's first or second byte (pshufb lookups; exact for up to 8 distinct
// bytes, a superset beyond).
constexpr size_t kMaxProbes = 16;
struct Probes {
  std::string joined;  // the keys back to back: a copy, to recognize them next time
  size_t sizes[kMaxProbes] = {};
  uint16_t two[kMaxProbes] = {};
  size_t count = 0;
  bool has_empty = false;
  alignas(32) uint8_t tables[4][32] = {};  // first lo/hi, second lo/hi (both lanes)
};

void build_probes(Probes& p, std::span<const std::string_view> keys) {
  p.joined.clear();
  p.count = 0;
  p.has_empty = false;
  std::memset(p.tables, 0, sizeof p.tables);
  auto add = [&](int which, unsigned char c, size_t slot) {
    const uint8_t bit = static_cast<uint8_t>(1u << (slot % 8));
    for (int lane = 0; lane < 32; lane += 16) {
      p.tables[2 * which][lane + (c & 0x0f)] |= bit;
      p.tables[2 * which + 1][lane + (c >> 4)] |= bit;
    }
  };
  for (auto k : keys) {
    p.joined.append(k);
    p.sizes[p.count] = k.size();
    if (k.empty()) {
      p.has_empty = true;
      p.two[p.count++] = 0;
      continue;
    }
    const unsigned char first = static_cast<unsigned char>(k[0]);
    const unsigned char second = k.size() > 1 ? static_cast<unsigned char>(k[1]) : '"';
    p.two[p.count] = static_cast<uint16_t>(first | (second << 8));
    add(0, first, p.count);
    add(1, second, p.count);
    ++p.count;
  }
}

bool same_keys(const Probes& p, std::span<const std::string_view> keys) {
  if (p.count != keys.size()) return false;
  // Keys are short: a byte loop beats a call to memcmp per key.
  const char* at = p.joined.data();
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string_view k = keys[i];
    if (p.sizes[i] != k.size()) return false;
    for (size_t j = 0; j < k.size(); ++j) {
      if (at[j] != k[j]) return false;
    }
    at += k.size();
  }
  return true;
}

// Might `raw` hold one of the probed keys as a member? False only when it certainly
// does not: no key between quotes ("key") and no backslash (a key spelled with
// escapes). Requires: `raw` is followed by SIMDJSON_PADDING readable bytes.
bool scan(std::string_view raw, const Probes& p) {
  if (p.has_empty) return true;  // "" is rare: the exact path decides
  const char* data = raw.data();
  const size_t n = raw.size();
  auto check = [&](size_t q) {
    const size_t b = q + 1;
    if (b + 1 >= n) return false;
    uint16_t two;
    std::memcpy(&two, data + b, 2);
    size_t off = 0;
    for (size_t i = 0; i < p.count; ++i) {
      const size_t size = p.sizes[i];
      if (p.two[i] == two && b + size < n && data[b + size] == '"' &&
          std::memcmp(data + b, p.joined.data() + off, size) == 0) {
        return true;
      }
      off += size;
    }
    return false;
  };
  size_t i = 0;
#if defined(__AVX2__)
  // Candidates without a scalar step per quote: a quote at j, a byte at j+1 that
  // starts some key and a byte at j+2 that is some key's second, with three
  // overlapping loads per 32 bytes. The last block may read into the padding; the
  // positions past the line are masked off.
  const __m256i first_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.tables[0]));
  const __m256i first_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.tables[1]));
  const __m256i second_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.tables[2]));
  const __m256i second_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.tables[3]));
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i quote32 = _mm256_set1_epi8('"');
  const __m256i backslash32 = _mm256_set1_epi8('\\');
  auto members = [&](__m256i v, __m256i lo_tbl, __m256i hi_tbl) {
    __m256i lo = _mm256_shuffle_epi8(lo_tbl, _mm256_and_si256(v, nibble));
    __m256i hi = _mm256_shuffle_epi8(hi_tbl, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    return ~static_cast<uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), zero)));
  };
  for (; i < n; i += 32) {
    const auto chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    const uint32_t valid = n - i >= 32 ? ~uint32_t{0} : (uint32_t{1} << (n - i)) - 1;
    if (static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(chunk, backslash32))) &
        valid) {
      return true;  // a key may be spelled with escapes
    }
    const uint32_t q =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(chunk, quote32))) & valid;
    if (q == 0) continue;
    auto c1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 1));
    auto c2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 2));
    uint32_t mask = q & members(c1, first_lo, first_hi) & members(c2, second_lo, second_hi);
    while (mask != 0) {
      if (check(i + static_cast<size_t>(__builtin_ctz(mask)))) return true;
      mask &= mask - 1;
    }
  }
  return false;
#else
  if (raw.find('\\') != std::string_view::npos) return true;
  for (; i < n; ++i) {
    if (data[i] == '"' && check(i)) return true;
  }
  return false;
#endif
}

// Might `raw` hold one of `keys` as a member (see scan)? The probes of the last key
// list are kept per thread, since a caller splices the same keys into line after line.
bool may_hold_keys(std::string_view raw, std::span<const std::string_view> keys) {
  if (keys.empty()) return false;
  if (keys.size() > kMaxProbes) {  // sixteen at a time, prepared each time
    Probes group;
    for (size_t at = 0; at < keys.size(); at += kMaxProbes) {
      build_probes(group, keys.subspan(at, std::min(kMaxProbes, keys.size() - at)));
      if (scan(raw, group)) return true;
    }
    return false;
  }
  static thread_local Probes last;
  if (!same_keys(last, keys)) build_probes(last, keys);
  return scan(raw, last);
}

// Byte spans [begin, end) of top-level members whose key is one of `keys`.
Status find_members(std::string_view raw, std::span<const std::string_view> keys,
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
  return append_spliced(out, raw, members,
                        std::span<const std::string_view>(keys.begin(), keys.size()), parser);
}

Status append_spliced(std::string& out, std::string_view raw, std::string_view members,
                      std::span<const std::string_view> keys, simdjson::ondemand::parser& parser) {
  size_t close = raw.size();
  while (close > 0 && is_ws(raw[close - 1])) --close;
  if (close == 0 || raw[close - 1] != '}') return data_error("not a JSON object");
  --close;  // index of the closing brace

  // A key may be spelled with escapes ("\u005fsrc"): a line holding a backslash
  // always takes the exact path.
  const bool present = may_hold_keys(raw, keys);

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
      // Cutting the last members can leave the comma before the first of them (it
      // was kept while a member followed): drop it.
      size_t end = cut.size();
      while (end > 0 && is_ws(cut[end - 1])) --end;
      if (end > 0 && cut[end - 1] == ',') cut.erase(end - 1, 1);
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
