#include "libcore/time/duration.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ev::time {
namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// Matched against the whole run of non-digits after a number, so order does not matter.
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // "µs" with U+00B5 MICRO SIGN
    {"\xCE\xBCs", 1'000},  // "μs" with U+03BC GREEK SMALL LETTER MU
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
};

// The units format_duration writes, largest first.
constexpr Unit kFormatUnits[] = {
    {"d", 86'400'000'000'000},
    {"h", 3'600'000'000'000},
    {"m", 60'000'000'000},
    {"s", 1'000'000'000},
    {"ms", 1'000'000},
    {"us", 1'000},
    {"ns", 1},
};

constexpr std::string_view kUnitList = "(use ns, us, ms, s, m, h, d)";

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The input as it is echoed in a message: one line, bounded length.
std::string echo(std::string_view text) {
  constexpr size_t kMaxEcho = 64;
  std::string out;
  size_t n = text.size() < kMaxEcho ? text.size() : kMaxEcho;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : text[i]);
  }
  if (text.size() > kMaxEcho) out += "...";
  return out;
}

std::unexpected<Error> bad(std::string_view kind, std::string_view text, std::string_view what) {
  std::string msg = "invalid ";
  msg += kind;
  msg += " '";
  msg += echo(text);
  msg += "': ";
  msg += what;
  return usage_error(std::move(msg));
}

// A decimal number "123" or "1.25" at the start of `rest`, split into its digit runs.
struct Decimal {
  std::string_view whole;     // at least one digit
  std::string_view fraction;  // digits after '.', possibly empty
};

// Reads a Decimal from the front of `rest` and advances past it; false with
// `error` set when the text there is not one.
bool read_decimal(std::string_view& rest, Decimal& out, std::string& error) {
  size_t i = 0;
  while (i < rest.size() && is_digit(rest[i])) ++i;
  if (i == 0) {
    error =
        rest.empty() ? "expected a number at the end" : "expected a number at '" + echo(rest) + "'";
    return false;
  }
  out.whole = rest.substr(0, i);
  out.fraction = {};
  if (i < rest.size() && rest[i] == '.') {
    const size_t first = ++i;
    while (i < rest.size() && is_digit(rest[i])) ++i;
    if (i == first) {
      error = "expected digits after '.'";
      return false;
    }
    out.fraction = rest.substr(first, i - first);
  }
  rest.remove_prefix(i);
  return true;
}

// floor(number * scale), or false on overflow of int64. Exact: the fraction is
// folded in from its last digit up, floor((d + floor(x)) / 10) being
// floor((d + x) / 10) for integer d.
bool scale_decimal(const Decimal& number, int64_t scale, int64_t& out) {
  int64_t whole = 0;
  for (char c : number.whole) {
    if (__builtin_mul_overflow(whole, 10, &whole) ||
        __builtin_add_overflow(whole, c - '0', &whole)) {
      return false;
    }
  }
  int64_t part = 0;  // < scale throughout
  for (size_t i = number.fraction.size(); i-- > 0;) {
    part = ((number.fraction[i] - '0') * scale + part) / 10;
  }
  return !__builtin_mul_overflow(whole, scale, &out) && !__builtin_add_overflow(out, part, &out);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return bad("duration", text, "empty");
  if (text == "0") return Duration{0};
  if (text.front() == '-') return bad("duration", text, "negative durations are not allowed");

  Duration total = 0;
  std::string_view rest = text;
  std::string error;
  while (!rest.empty()) {
    // One term: <number><unit>, the unit being everything up to the next digit.
    Decimal number;
    if (!read_decimal(rest, number, error)) return bad("duration", text, error);
    size_t unit_len = 0;
    while (unit_len < rest.size() && !is_digit(rest[unit_len]) && rest[unit_len] != '.') {
      ++unit_len;
    }
    const std::string_view unit_text = rest.substr(0, unit_len);
    rest.remove_prefix(unit_len);
    if (unit_text.empty()) {
      std::string what = "missing unit after '";
      what += number.whole;
      if (!number.fraction.empty()) what.append(".").append(number.fraction);
      what += "' ";
      what += kUnitList;
      return bad("duration", text, what);
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_text) unit = &u;
    }
    if (unit == nullptr) {
      return bad("duration", text,
                 "unknown unit '" + echo(unit_text) + "' " + std::string(kUnitList));
    }
    int64_t term = 0;
    if (!scale_decimal(number, unit->ns, term) || __builtin_add_overflow(total, term, &total)) {
      return bad("duration", text, "too large (the limit is about 106751d)");
    }
  }
  return total;
}

std::string format_duration(Duration d) {
  if (d == 0) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so that INT64_MIN has one too.
  uint64_t rest = static_cast<uint64_t>(d);
  if (d < 0) {
    out += '-';
    rest = uint64_t{0} - rest;
  }
  for (const Unit& u : kFormatUnits) {
    const uint64_t scale = static_cast<uint64_t>(u.ns);
    if (rest < scale) continue;
    out += std::to_string(rest / scale);
    out += u.name;
    rest %= scale;
  }
  return out;
}

Result<uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return bad("size", text, "empty");
  std::string_view rest = text;
  Decimal number;
  std::string error;
  if (!read_decimal(rest, number, error)) return bad("size", text, error);

  // Suffix, case-insensitive: none or B; K, M, G, T alone or followed by B or iB.
  int shift = -1;
  if (rest.empty()) {
    shift = 0;
  } else if (rest.size() == 1 && (rest[0] == 'B' || rest[0] == 'b')) {
    shift = 0;
  } else {
    constexpr std::string_view kPrefixes = "kmgt";
    const char lower = static_cast<char>(rest[0] | 0x20);
    const size_t index = kPrefixes.find(lower);
    std::string_view tail = rest.substr(1);
    const bool tail_ok = tail.empty() || tail == "B" || tail == "b" || tail == "iB" ||
                         tail == "ib" || tail == "IB" || tail == "Ib";
    if (index != std::string_view::npos && tail_ok) shift = 10 * (static_cast<int>(index) + 1);
  }
  if (shift < 0) {
    return bad("size", text,
               "unknown suffix '" + echo(rest) + "' (use K, M, G or T, optionally with B or iB)");
  }

  // Whole bytes: the fraction of a byte is dropped.
  uint64_t whole = 0;
  for (char c : number.whole) {
    if (__builtin_mul_overflow(whole, 10u, &whole) ||
        __builtin_add_overflow(whole, static_cast<uint64_t>(c - '0'), &whole)) {
      return bad("size", text, "too large");
    }
  }
  const uint64_t scale = uint64_t{1} << shift;
  uint64_t part = 0;
  for (size_t i = number.fraction.size(); i-- > 0;) {
    part = (static_cast<uint64_t>(number.fraction[i] - '0') * scale + part) / 10;
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(whole, scale, &bytes) || __builtin_add_overflow(bytes, part, &bytes)) {
    return bad("size", text, "too large");
  }
  return bytes;
}

Result<double> parse_rate(std::string_view text) {
  if (text.empty()) return bad("rate", text, "empty");
  std::string_view number_text = text;
  double per_second = 1.0;  // divisor turning "per unit" into "per second"
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    number_text = text.substr(0, slash);
    const std::string_view unit = text.substr(slash + 1);
    if (unit == "s") {
      per_second = 1.0;
    } else if (unit == "m") {
      per_second = 60.0;
    } else if (unit == "h") {
      per_second = 3600.0;
    } else if (unit == "d") {
      per_second = 86400.0;
    } else {
      return bad("rate", text, "unknown unit '" + echo(unit) + "' (use /s, /m, /h or /d)");
    }
  }
  // from_chars is locale-independent; it also reads "inf" and "nan", caught below.
  double value = 0;
  const char* end = number_text.data() + number_text.size();
  const auto [ptr, ec] = std::from_chars(number_text.data(), end, value);
  if (ec == std::errc::result_out_of_range) return bad("rate", text, "out of range");
  if (ec != std::errc{} || ptr != end || number_text.empty()) {
    return bad("rate", text, "expected a number, optionally followed by /s, /m, /h or /d");
  }
  const double rate = value / per_second;
  if (!std::isfinite(rate)) return bad("rate", text, "not a finite number");
  if (!(rate > 0)) return bad("rate", text, "must be positive");
  return rate;
}

}  // namespace ev::time
