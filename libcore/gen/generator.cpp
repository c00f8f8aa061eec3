// Synthetic events. Every line is written straight into the caller's string with
// fixed-size table lookups; the only arithmetic beyond integers is comparing a 53-bit
// uniform double with the probabilities, which is exact, so the output is the same
// on every IEEE machine and standard library.
#include "libcore/gen/generator.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <string_view>

#include "libcore/time/timestamp.h"

namespace ev::gen {
namespace {

__extension__ typedef unsigned __int128 U128;

constexpr size_t kRingSize = 1024;
constexpr size_t kMaxSlots = size_t{1} << 20;
// Longest line: an event is at most ~350 bytes (20-digit user ids, the longest
// search page twice), a malformed variant adds at most 2.
constexpr size_t kMaxLine = 512;
constexpr time::Duration kSessionGap = 30 * 60 * time::kNsPerSec;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// --- Value tables. Weights are in parts of the table's total. ---

enum Type : uint8_t { kPageView, kClick, kAddToCart, kPurchase, kSearch, kLogin };
constexpr std::string_view kTypeNames[] = {"page_view", "click",  "add_to_cart",
                                           "purchase",  "search", "login"};
constexpr uint32_t kTypeCut[] = {600, 850, 930, 960, 990, 1000};  // cumulative per mille

// Pages are encoded as kind << 24 | id; 0 means "no page yet" (a new session).
enum PageKind : uint32_t {
  kNoPage,
  kHome,
  kCategory,
  kProduct,
  kCart,
  kCheckout,
  kResults,
  kLogon
};
constexpr uint32_t page_code(PageKind kind, uint32_t id) { return kind << 24 | id; }

constexpr std::string_view kCategories[] = {"electronics", "fashion", "home",   "kitchen",
                                            "sports",      "books",   "toys",   "beauty",
                                            "garden",      "shoes",   "health", "pets"};
constexpr std::string_view kSearchTerms[] = {
    "running+shoes", "wireless+headphones", "usb-c+cable",       "coffee+grinder",
    "yoga+mat",      "phone+case",          "winter+jacket",     "laptop+stand",
    "water+bottle",  "desk+lamp",           "bluetooth+speaker", "backpack",
    "sunglasses",    "mechanical+keyboard", "air+fryer",         "gift+card",
    "lego",          "office+chair",        "smart+watch",       "socks"};
constexpr uint32_t kFirstProduct = 1000;  // product ids are 1000..9999: always 4 digits
constexpr uint32_t kProducts = 9000;

// A session's first event comes from outside: a search engine, social media, or
// nowhere (typed URL, bookmark: an empty referrer). Later ones from the previous page.
constexpr std::string_view kExternalReferrers[16] = {"",
                                                     "",
                                                     "",
                                                     "https://www.google.com/",
                                                     "https://www.google.com/",
                                                     "https://www.google.com/",
                                                     "https://www.google.com/",
                                                     "https://www.bing.com/",
                                                     "https://duckduckgo.com/",
                                                     "https://www.facebook.com/",
                                                     "https://www.instagram.com/",
                                                     "https://t.co/",
                                                     "https://www.reddit.com/",
                                                     "https://news.ycombinator.com/",
                                                     "https://www.youtube.com/",
                                                     "https://mail.google.com/"};
constexpr std::string_view kSiteOrigin = "https://shop.example.com";

constexpr std::string_view kCountries[] = {"US", "DE", "GB", "FR", "IN", "BR", "JP",
                                           "CA", "ES", "IT", "NL", "MX", "PL", "AU",
                                           "SE", "KR", "TR", "CH", "ID", "ZA"};
constexpr uint8_t kCountryWeights[] = {28, 13, 11, 9, 9, 8, 6, 5, 5, 5,
                                       4,  4,  3,  3, 3, 3, 3, 2, 2, 2};  // sum 128
static_assert([] {
  unsigned sum = 0;
  for (uint8_t w : kCountryWeights) sum += w;
  return sum == 128;
}());
constexpr auto kCountryByPart = [] {  // a 7-bit draw to a country
  std::array<uint8_t, 128> table{};
  size_t part = 0;
  for (uint8_t c = 0; c < std::size(kCountryWeights); ++c) {
    for (uint8_t w = 0; w < kCountryWeights[c]; ++w) table[part++] = c;
  }
  return table;
}();

// The language of each country above, among kLanguages, for profiles.
constexpr std::string_view kLanguages[] = {"de", "en", "fr", "es", "pt", "pl", "nl", "it"};
enum Language : uint8_t { kDe, kEn, kFr, kEs, kPt, kPl, kNl, kIt };
constexpr uint8_t kLanguageOfCountry[] = {kEn, kDe, kEn, kFr, kEn, kPt, kEn, kEn, kEs, kIt,
                                          kNl, kEs, kPl, kEn, kEn, kEn, kEn, kDe, kEn, kEn};
static_assert(std::size(kLanguageOfCountry) == std::size(kCountries));

constexpr std::string_view kTiers[] = {"free", "plus", "pro"};
constexpr int64_t kSignupDays = 1826;  // five years
constexpr size_t kMaxProfile = 256;    // a row is at most ~120 bytes

constexpr std::string_view kOsNames[] = {"android", "ios", "web", "windows", "macos"};
constexpr uint32_t kOsCut[] = {38, 68, 86, 95, 100};  // cumulative per cent
constexpr std::string_view kVersions[] = {"5.4.0", "5.3.2", "5.3.1", "5.2.1", "5.1.0", "4.9.7"};
constexpr uint32_t kVersionCut[] = {35, 60, 75, 87, 95, 100};  // cumulative per cent

template <size_t N>
uint8_t pick(const uint32_t (&cuts)[N], uint64_t part) {
  uint8_t i = 0;
  while (part >= cuts[i]) ++i;
  return i;
}

// ln(1 + i/256) in 32.32 fixed point, i = 0..256, computed by the compiler (atanh
// series) so no libm rounding differences can reach the output.
constexpr double ln_1_to_2(double y) {
  const double z = (y - 1) / (y + 1);
  const double z2 = z * z;
  double term = z;
  double sum = 0;
  for (int k = 1; k < 80; k += 2) {
    sum += term / k;
    term *= z2;
  }
  return 2 * sum;
}
constexpr auto kLn1pQ32 = [] {
  std::array<uint64_t, 257> table{};
  for (int i = 0; i <= 256; ++i) {
    table[static_cast<size_t>(i)] =
        static_cast<uint64_t>(ln_1_to_2(1.0 + i / 256.0) * 4294967296.0 + 0.5);
  }
  return table;
}();
constexpr uint64_t kLn2Q32 = kLn1pQ32[256];
static_assert(kLn2Q32 == 2977044472);  // round(ln 2 * 2^32)

// -ln(x / 2^64) in 32.32 fixed point for x > 0: an Exp(1) draw when x is uniform.
// x = 2^msb * (1 + f) gives -ln = (64 - msb) ln 2 - ln(1 + f); ln(1 + f) is read from
// the table and interpolated linearly (error below 1e-5, plenty for arrival gaps).
uint64_t neg_ln_q32(uint64_t x) {
  const int msb = 63 - std::countl_zero(x);
  const uint64_t frac = (x << (63 - msb)) << 1;  // the bits below the leading one
  const size_t i = frac >> 56;
  const uint64_t within = (frac >> 24) & 0xffffffff;
  const uint64_t ln1pf = kLn1pQ32[i] + (((kLn1pQ32[i + 1] - kLn1pQ32[i]) * within) >> 32);
  return static_cast<uint64_t>(64 - msb) * kLn2Q32 - ln1pf;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// The words a seed expands to, in the order they are drawn: the PRNG state, then the
// keys. Generator and ProfileGenerator share user_key, so a user's country (in the
// events) and language (in the profiles) agree.
struct SeedWords {
  uint64_t state[4];
  uint64_t id_key, user_key, session_key, profile_key;
};
SeedWords expand_seed(uint64_t seed) {
  SeedWords w;
  for (uint64_t& word : w.state) word = splitmix64(seed);
  w.id_key = splitmix64(seed);
  w.user_key = splitmix64(seed);
  w.session_key = splitmix64(seed);
  w.profile_key = splitmix64(seed);
  return w;
}

// Digits in a user id: at least 6, enough for users - 1.
int user_id_width(uint64_t users) {
  int width = 6;
  for (uint64_t limit = 1'000'000; width < 20 && users - 1 >= limit; limit *= 10) ++width;
  return width;
}

// Bijections (xor-shifts and odd multipliers), so distinct inputs give distinct ids.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}
uint32_t mix32(uint32_t h) {
  h = (h ^ (h >> 16)) * 0x85ebca6b;
  h = (h ^ (h >> 13)) * 0xc2b2ae35;
  return h ^ (h >> 16);
}

// floor(n * u^2) for u uniform in [0, 1): index i is drawn with density ~ 1/sqrt(i).
uint64_t skewed(uint64_t random, uint64_t n) {
  const uint64_t u = random >> 32;
  return static_cast<uint64_t>((static_cast<U128>(u * u) * n) >> 64);
}

// The user's country, an index into kCountries, from mix64(user ^ user_key).
uint8_t country_of(uint64_t traits) { return kCountryByPart[traits >> 57]; }

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b < 0) ? q - 1 : q;
}
int64_t ceil_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b > 0) ? q + 1 : q;
}

// --- Writing. Callers guarantee room (kMaxLine per line). ---

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
constexpr char kHexDigits[] = "0123456789abcdef";

template <size_t N>
char* put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}
char* put(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}
char* put2(char* p, uint64_t v) {  // v < 100, two digits
  std::memcpy(p, kDigitPairs + 2 * v, 2);
  return p + 2;
}
char* put_uint(char* p, uint64_t v) {
  char digits[20];
  char* d = digits + sizeof digits;
  do {
    *--d = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return put(p, std::string_view(d, static_cast<size_t>(digits + sizeof digits - d)));
}
char* put_padded(char* p, uint64_t v, int width) {  // v fits in width digits
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}
char* put_hex(char* p, uint64_t v, int digits) {
  for (int i = 0; i < digits; ++i) p[i] = kHexDigits[(v >> (4 * (digits - 1 - i))) & 15];
  return p + digits;
}

char* put_path(char* p, uint32_t page) {
  const uint32_t id = page & 0xffffff;
  switch (static_cast<PageKind>(page >> 24)) {
    case kNoPage:
    case kHome:
      return put(p, "/");
    case kCategory:
      return put(put(p, "/category/"), kCategories[id]);
    case kProduct:
      return put2(put2(put(p, "/products/"), id / 100), id % 100);
    case kCart:
      return put(p, "/cart");
    case kCheckout:
      return put(p, "/checkout");
    case kResults:
      return put(put(p, "/search?q="), kSearchTerms[id]);
    case kLogon:
      return put(p, "/login");
  }
  return p;
}

// Opens a gap of `bytes.size()` at `at` in a line of `size` bytes and fills it.
size_t insert(char* line, size_t size, size_t at, std::string_view bytes) {
  std::memmove(line + at + bytes.size(), line + at, size - at);
  std::memcpy(line + at, bytes.data(), bytes.size());
  return size + bytes.size();
}

double probability(double p) { return p > 0 ? (p < 1 ? p : 1.0) : 0.0; }  // NaN -> 0

}  // namespace

Generator::Generator(const GenOptions& options)
    : opt_(options), clock_(options.start), cached_day_(kInt64Min) {
  const SeedWords words = expand_seed(opt_.seed);
  std::copy(std::begin(words.state), std::end(words.state), s_);
  id_key_ = words.id_key;
  user_key_ = words.user_key;
  session_key_ = static_cast<uint32_t>(words.session_key);

  users_ = std::max<uint64_t>(opt_.users, 1);
  user_width_ = user_id_width(users_);
  slots_.resize(std::min<uint64_t>(users_, kMaxSlots));
  ring_.resize(kRingSize);

  cut_duplicate_ = probability(opt_.duplicates);
  cut_malformed_ = cut_duplicate_ + probability(opt_.malformed);
  cut_late_ = cut_malformed_ + probability(opt_.late);
}

// xoshiro256** (Blackman and Vigna).
uint64_t Generator::next_u64() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

// Multiply-shift (Lemire) without rejection: the bias is below n / 2^64.
uint64_t Generator::below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<U128>(next_u64()) * n) >> 64);
}

time::Duration Generator::draw_gap() {
  if (opt_.interval <= 0) return 0;
  const U128 gap = (static_cast<U128>(opt_.interval) * neg_ln_q32(next_u64() | 1)) >> 32;
  return gap > static_cast<U128>(kInt64Max) ? kInt64Max : static_cast<time::Duration>(gap);
}

time::Timestamp Generator::advance_clock() {
  const time::Duration gap = draw_gap();
  clock_ = (clock_ > 0 && gap > kInt64Max - clock_) ? kInt64Max : clock_ + gap;
  return clock_;
}

LineKind Generator::next(std::string& out) {
  const size_t old = out.size();
  LineKind kind = LineKind::kNormal;
  out.resize_and_overwrite(old + kMaxLine,
                           [&](char* data, size_t) { return old + write_line(data + old, kind); });
  // Only keep the pool when duplicates can be drawn: the copy is a tenth of the cost.
  if (cut_duplicate_ > 0 && (kind == LineKind::kNormal || kind == LineKind::kLate)) {
    ring_[ring_count_++ % kRingSize].assign(out, old);
  }
  return kind;
}

size_t Generator::write_line(char* p, LineKind& kind) {
  Layout layout;
  const double u = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;

  if (u < cut_duplicate_) {
    if (ring_count_ > 0) {
      const uint64_t back = below(std::min<uint64_t>(ring_count_, kRingSize));
      const std::string& line = ring_[(ring_count_ - 1 - back) % kRingSize];
      std::memcpy(p, line.data(), line.size());
      kind = LineKind::kDuplicate;
      return line.size();
    }
    // Nothing to repeat yet: the first line is a normal event.
  } else if (u < cut_malformed_) {
    write_event(p, advance_clock(), layout);
    kind = LineKind::kMalformed;
    return corrupt(p, layout);
  } else if (u < cut_late_ && opt_.max_late > 0 && clock_ > kInt64Min) {
    // A whole millisecond in [clock - max_late, clock): exact at the printed
    // resolution, and strictly before now().
    const int64_t earliest =
        clock_ < kInt64Min + opt_.max_late ? kInt64Min : clock_ - opt_.max_late;
    const int64_t lo_ms = ceil_div(earliest, kNsPerMs);
    const int64_t hi_ms = floor_div(clock_ - 1, kNsPerMs);
    if (lo_ms <= hi_ms) {
      const uint64_t span = static_cast<uint64_t>(hi_ms - lo_ms) + 1;
      const int64_t ms = lo_ms + static_cast<int64_t>(below(span));
      write_event(p, ms * kNsPerMs, layout);
      kind = LineKind::kLate;
      return layout.size;
    }
  }
  write_event(p, advance_clock(), layout);
  kind = LineKind::kNormal;
  return layout.size;
}

void Generator::write_event(char* const line, time::Timestamp ts, Layout& layout) {
  // Who: a skewed user, the user's fixed traits, and the session.
  const uint64_t user = skewed(next_u64(), users_);
  const uint64_t traits = mix64(user ^ user_key_);
  UserSlot& slot = slots_[user % slots_.size()];
  const bool expired =
      ts > slot.last_ts && static_cast<uint64_t>(ts) - static_cast<uint64_t>(slot.last_ts) >
                               static_cast<uint64_t>(kSessionGap);
  if (slot.tag != user + 1 || expired) {
    slot.tag = user + 1;
    slot.session = sessions_++;
    slot.page = kNoPage;
    slot.product = 0;
    const uint64_t home_os = pick(kOsCut, (traits & 0xffffffff) * 100 >> 32);
    slot.os = below(100) < 85 ? static_cast<uint8_t>(home_os) : pick(kOsCut, below(100));
    slot.version = pick(kVersionCut, below(100));
    slot.last_ts = ts;
  } else {
    slot.last_ts = std::max(slot.last_ts, ts);
  }

  // What: the type, and the page it happens on.
  const uint8_t type = pick(kTypeCut, below(1000));
  uint32_t page = 0;
  auto new_product = [&] {
    slot.product = static_cast<uint16_t>(kFirstProduct + skewed(next_u64(), kProducts));
    return page_code(kProduct, slot.product);
  };
  switch (type) {
    case kPageView: {
      const uint64_t where = below(100);
      if (where < 60) {
        page = new_product();
      } else if (where < 80) {
        page = page_code(kCategory, static_cast<uint32_t>(below(std::size(kCategories))));
      } else if (where < 92) {
        page = page_code(kHome, 0);
      } else {
        page = page_code(kCart, 0);
      }
      break;
    }
    case kClick:
    case kAddToCart:
      page = slot.product != 0 ? page_code(kProduct, slot.product) : new_product();
      break;
    case kPurchase:
      page = page_code(kCheckout, 0);
      break;
    case kSearch:
      page = page_code(kResults, static_cast<uint32_t>(below(std::size(kSearchTerms))));
      break;
    default:
      page = page_code(kLogon, 0);
      break;
  }

  // The line, in key order.
  char* p = put(line, R"({"event_id":")");
  layout.event_id = static_cast<size_t>(p - line);
  p = put_hex(p, next_u64(), 16);
  p = put_hex(p, mix64(seq_++ ^ id_key_), 16);
  p = put_padded(put(p, R"(","user_id":"u)"), user, user_width_);
  p = put_hex(put(p, R"(","session_id":"s)"), mix32(slot.session ^ session_key_), 8);
  p = put(put(p, R"(","type":")"), kTypeNames[type]);
  p = put(p, R"(","ts":")");
  layout.ts = static_cast<size_t>(p - line);
  p = write_ts(p, ts);
  p = put(p, R"(","page":")");
  layout.page = static_cast<size_t>(p - line);
  p = put_path(p, page);
  layout.page_size = static_cast<size_t>(p - line) - layout.page;
  *p++ = '"';
  if (type == kPurchase) {
    // Mostly "xx.99" prices, cheap ones more often.
    const uint64_t dollars = 4 + skewed(next_u64(), 300);
    const uint64_t cents = below(10) < 7 ? 99 : below(100);
    p = put2(put(put_uint(put(p, R"(,"amount":)"), dollars), "."), cents);
  }
  p = put(put(p, R"(,"country":")"), kCountries[country_of(traits)]);
  p = put(put(p, R"(","device":{"os":")"), kOsNames[slot.os]);
  p = put(put(p, R"(","app_version":")"), kVersions[slot.version]);
  p = put(p, R"("},"referrer":")");
  if (slot.page == kNoPage) {
    p = put(p, kExternalReferrers[below(std::size(kExternalReferrers))]);
  } else {
    p = put_path(put(p, kSiteOrigin), slot.page);
  }
  p = put(p, R"("})");
  slot.page = page;
  layout.size = static_cast<size_t>(p - line);
}

size_t Generator::corrupt(char* line, const Layout& layout) {
  const size_t size = layout.size;
  // Somewhere inside the page string, after its leading '/'.
  const size_t in_page = layout.page + 1 + below(layout.page_size);
  switch (below(7)) {
    case 0:  // truncated in the middle
      return size / 5 + below(size * 3 / 5);
    case 1:  // an array holding the event
      std::memmove(line + 1, line, size);
      line[0] = '[';
      line[size + 1] = ']';
      return size + 2;
    case 2:  // a scalar: the event id as a string, a number, or null
      switch (below(3)) {
        case 0:
          std::memmove(line + 1, line + layout.event_id, 32);
          line[0] = '"';
          line[33] = '"';
          return 34;
        case 1:
          return static_cast<size_t>(put_uint(line, seq_) - line);
        default:
          return static_cast<size_t>(put(line, "null") - line);
      }
    case 3: {  // invalid UTF-8: a bad continuation, a byte never valid, a cut sequence
      constexpr std::string_view kBad[] = {"\xC3(", "\xFF", "\xE2\x82"};
      return insert(line, size, in_page, kBad[below(std::size(kBad))]);
    }
    case 4:  // a NUL byte
      return insert(line, size, in_page, std::string_view("\0", 1));
    case 5: {  // an impossible time of the same shape: month, day and hour out of range
      char* ts = line + layout.ts;
      put2(ts + 5, 13 + below(87));
      put2(ts + 8, 32 + below(68));
      put2(ts + 11, 24 + below(76));
      return size;
    }
    default:  // the closing brace missing
      return size - 1;
  }
}

char* Generator::write_ts(char* p, time::Timestamp ts) {
  const int64_t ms = floor_div(ts, kNsPerMs);
  const int64_t day = floor_div(ms, kMsPerDay);
  if (day != cached_day_) {
    int64_t year;  // 1677..2262 for any int64 nanosecond time: always four digits
    unsigned month, mday;
    time::civil_from_days(day, year, month, mday);  // once per day of event time
    char* d =
        put2(put2(day_text_, static_cast<uint64_t>(year) / 100), static_cast<uint64_t>(year) % 100);
    d = put2(put(d, "-"), month);
    put(put2(put(d, "-"), mday), "T");
    cached_day_ = day;
  }
  auto in_day = static_cast<uint64_t>(ms - day * kMsPerDay);
  p = put(p, std::string_view(day_text_, sizeof day_text_));
  p = put(put2(p, in_day / 3'600'000), ":");
  p = put(put2(p, in_day / 60'000 % 60), ":");
  p = put(put2(p, in_day / 1000 % 60), ".");
  const uint64_t millis = in_day % 1000;
  *p++ = static_cast<char>('0' + millis / 100);
  p = put2(p, millis % 100);
  *p++ = 'Z';
  return p;
}

// --- Profiles ---

ProfileGenerator::ProfileGenerator(const GenOptions& options) {
  const SeedWords words = expand_seed(options.seed);
  user_key_ = words.user_key;
  profile_key_ = words.profile_key;
  users_ = std::max<uint64_t>(options.users, 1);
  user_width_ = user_id_width(users_);
  start_day_ = floor_div(options.start, kMsPerDay * kNsPerMs);
}

bool ProfileGenerator::next(std::string& out) {
  if (next_user_ >= users_) return false;
  write(next_user_++, out);
  return true;
}

void ProfileGenerator::write(uint64_t user, std::string& out) const {
  // The row's own random stream: a function of the seed and the user alone.
  uint64_t state = mix64(user ^ profile_key_);
  auto below = [&state](uint64_t n) {
    return static_cast<uint64_t>((static_cast<U128>(splitmix64(state)) * n) >> 64);
  };
  const uint64_t tier_part = below(100);
  const uint8_t tier = tier_part < 70 ? 0 : (tier_part < 92 ? 1 : 2);
  const int64_t signup = start_day_ - 1 - static_cast<int64_t>(below(kSignupDays));
  const uint64_t age = 18 + below(21) + below(27);
  uint8_t language = kLanguageOfCountry[country_of(mix64(user ^ user_key_))];
  if (below(10) == 0) language = static_cast<uint8_t>(below(std::size(kLanguages)));
  constexpr uint64_t kLtvBase[] = {0, 1000, 5000};  // cents, by tier
  constexpr uint64_t kLtvSpan[] = {3000, 40000, 300000};
  const uint64_t cents = kLtvBase[tier] + skewed(splitmix64(state), kLtvSpan[tier]);

  const size_t old = out.size();
  out.resize_and_overwrite(old + kMaxProfile, [&](char* data, size_t) {
    char* const line = data + old;
    char* p = put_padded(put(line, R"({"user_id":"u)"), user, user_width_);
    p = put(put(p, R"(","tier":")"), kTiers[tier]);
    int64_t year;  // 1672..2262 for any int64 nanosecond start: always four digits
    unsigned month, mday;
    time::civil_from_days(signup, year, month, mday);
    p = put(p, R"(","signup":")");
    p = put2(put2(p, static_cast<uint64_t>(year) / 100), static_cast<uint64_t>(year) % 100);
    p = put2(put(put2(put(p, "-"), month), "-"), mday);
    p = put_uint(put(p, R"(","age":)"), age);
    p = put(put(p, R"(,"lang":")"), kLanguages[language]);
    p = put2(put(put_uint(put(p, R"(","ltv":)"), cents / 100), "."), cents % 100);
    p = put(p, "}");
    return old + static_cast<size_t>(p - line);
  });
}

}  // namespace ev::gen
