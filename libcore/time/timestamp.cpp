#include "libcore/time/timestamp.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace ev::time {
namespace {

// Exact intermediate for seconds * 1e9 + fraction, which can exceed int64 just
// outside the representable range. `__extension__` keeps -Wpedantic quiet.
__extension__ typedef __int128 Int128;

constexpr int64_t kSecPerDay = 86'400;
// kPow10[i] == 10^i for 0 <= i <= 18.
constexpr std::array<int64_t, 19> kPow10 = [] {
  std::array<int64_t, 19> p{};
  p[0] = 1;
  for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}();

constexpr std::string_view kRangeText =
    "(timestamps must fall between 1677-09-21T00:12:43.145224192Z and "
    "2262-04-11T23:47:16.854775807Z)";

bool fits_int64(Int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

// The input as it is echoed in a message: one line, bounded length.
std::string echo(std::string_view text) {
  constexpr size_t kMaxEcho = 64;
  std::string out;
  size_t n = text.size() < kMaxEcho ? text.size() : kMaxEcho;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : text[i]);
  }
  if (text.size() > kMaxEcho) out += "...";
  return out;
}

std::unexpected<Error> bad_timestamp(std::string_view text, std::string_view what) {
  std::string msg = "invalid timestamp '";
  msg += echo(text);
  msg += "': ";
  msg += what;
  return data_error(std::move(msg));
}

std::string number_out_of_range(std::string_view what, int value) {
  std::string msg(what);
  msg += ' ';
  msg += std::to_string(value);
  msg += " out of range";
  return msg;
}

// Two ASCII digits at `p` as a number, or -1.
inline int two_digits(const char* p) {
  unsigned a = static_cast<unsigned char>(p[0]) - unsigned{'0'};
  unsigned b = static_cast<unsigned char>(p[1]) - unsigned{'0'};
  if (a > 9 || b > 9) return -1;
  return static_cast<int>(a * 10 + b);
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr bool is_leap_year(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

const char* unit_name(EpochUnit unit) {
  switch (unit) {
    case EpochUnit::kSeconds:
      return "s";
    case EpochUnit::kMillis:
      return "ms";
    case EpochUnit::kMicros:
      return "us";
    case EpochUnit::kNanos:
      return "ns";
    case EpochUnit::kAuto:
      return "auto";
  }
  return "?";
}

// Decimal exponent that turns a value in `unit` into nanoseconds.
int ns_exponent(EpochUnit unit) {
  switch (unit) {
    case EpochUnit::kSeconds:
      return 9;
    case EpochUnit::kMillis:
      return 6;
    case EpochUnit::kMicros:
      return 3;
    case EpochUnit::kNanos:
    case EpochUnit::kAuto:
      return 0;
  }
  return 0;
}

// kAuto by magnitude: < 1e11 seconds, < 1e14 ms, < 1e17 us, else ns.
EpochUnit auto_unit(double magnitude) {
  if (magnitude < 1e11) return EpochUnit::kSeconds;
  if (magnitude < 1e14) return EpochUnit::kMillis;
  if (magnitude < 1e17) return EpochUnit::kMicros;
  return EpochUnit::kNanos;
}

std::unexpected<Error> epoch_out_of_range(std::string_view shown, EpochUnit unit) {
  std::string msg = "epoch value ";
  msg += shown;
  msg += ' ';
  msg += unit_name(unit);
  msg += " out of range ";
  msg += kRangeText;
  return data_error(std::move(msg));
}

std::string double_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

// Writes `value` (>= 0) as `width` zero-padded digits at `p`.
inline void put_digits(char* p, int width, int64_t value) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS.<frac_digits>Z" into `p`, which has room for 21 + frac_digits
// characters. The year is always 4 digits because Timestamp stays within 1677..2262.
void write_rfc3339(char* p, Timestamp t, int frac_digits) {
  // Floor division: times before 1970 have a negative second count but a
  // non-negative fraction inside their second.
  int64_t secs = t / kNsPerSec;
  int64_t ns = t % kNsPerSec;
  if (ns < 0) {
    ns += kNsPerSec;
    --secs;
  }
  int64_t days = secs / kSecPerDay;
  int64_t sod = secs % kSecPerDay;
  if (sod < 0) {
    sod += kSecPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  put_digits(p, 4, y);
  p[4] = '-';
  put_digits(p + 5, 2, m);
  p[7] = '-';
  put_digits(p + 8, 2, d);
  p[10] = 'T';
  put_digits(p + 11, 2, sod / 3600);
  p[13] = ':';
  put_digits(p + 14, 2, sod / 60 % 60);
  p[16] = ':';
  put_digits(p + 17, 2, sod % 60);
  p[19] = '.';
  put_digits(p + 20, frac_digits, ns / kPow10[9 - frac_digits]);
  p[20 + frac_digits] = 'Z';
}

}  // namespace

Result<EpochUnit> parse_epoch_unit(std::string_view text) {
  if (text == "s") return EpochUnit::kSeconds;
  if (text == "ms") return EpochUnit::kMillis;
  if (text == "us") return EpochUnit::kMicros;
  if (text == "ns") return EpochUnit::kNanos;
  if (text == "auto") return EpochUnit::kAuto;
  return usage_error("invalid time unit '" + echo(text) + "' (use s, ms, us, ns or auto)");
}

Result<Timestamp> parse_rfc3339(std::string_view text) {
  const char* s = text.data();
  const size_t n = text.size();
  if (n == 0) return bad_timestamp(text, "empty");

  // Date: YYYY-MM-DD, each field exactly as wide as RFC 3339 says.
  if (n < 4 || two_digits(s) < 0 || two_digits(s + 2) < 0) {
    return bad_timestamp(text, "expected a 4-digit year");
  }
  const int year = two_digits(s) * 100 + two_digits(s + 2);
  if (n < 5 || s[4] != '-') return bad_timestamp(text, "expected '-' after the year");
  const int month = n < 7 ? -1 : two_digits(s + 5);
  if (month < 0) return bad_timestamp(text, "expected a 2-digit month");
  if (month < 1 || month > 12) return bad_timestamp(text, number_out_of_range("month", month));
  if (n < 8 || s[7] != '-') return bad_timestamp(text, "expected '-' after the month");
  const int day = n < 10 ? -1 : two_digits(s + 8);
  if (day < 0) return bad_timestamp(text, "expected a 2-digit day");
  if (day < 1 || day > days_in_month(year, month)) {
    std::string what = number_out_of_range("day", day);
    what += " for ";
    what.append(s, 7);
    return bad_timestamp(text, what);
  }

  // Separator: 'T', 't' or one space.
  if (n == 10) return bad_timestamp(text, "missing the time (expected 'T' and hh:mm:ss)");
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
    return bad_timestamp(text, "expected 'T' or a space between date and time");
  }

  // Time: hh:mm:ss, seconds required (RFC 3339 has no short form).
  const int hour = n < 13 ? -1 : two_digits(s + 11);
  if (hour < 0) return bad_timestamp(text, "expected a 2-digit hour");
  if (hour > 23) return bad_timestamp(text, number_out_of_range("hour", hour));
  if (n < 14 || s[13] != ':') return bad_timestamp(text, "expected ':' after the hour");
  const int minute = n < 16 ? -1 : two_digits(s + 14);
  if (minute < 0) return bad_timestamp(text, "expected a 2-digit minute");
  if (minute > 59) return bad_timestamp(text, number_out_of_range("minute", minute));
  if (n < 17 || s[16] != ':') {
    return bad_timestamp(text, "expected ':' and seconds after the minute");
  }
  int second = n < 19 ? -1 : two_digits(s + 17);
  if (second < 0) return bad_timestamp(text, "expected 2-digit seconds");
  if (second > 60) return bad_timestamp(text, number_out_of_range("second", second));
  size_t pos = 19;

  // Fraction: 1 to 9 digits.
  int64_t frac = 0;
  if (pos < n && s[pos] == '.') {
    const size_t first = ++pos;
    while (pos < n && is_digit(s[pos]) && pos - first < 9) {
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == first) return bad_timestamp(text, "expected digits after '.'");
    if (pos < n && is_digit(s[pos])) {
      return bad_timestamp(text, "more than 9 fraction digits");
    }
    frac *= kPow10[9 - (pos - first)];
  }

  // Offset: 'Z', 'z' or +hh:mm / -hh:mm; required.
  if (pos == n) return bad_timestamp(text, "missing the UTC offset (expected 'Z' or +hh:mm)");
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const bool minus = s[pos] == '-';
    const int off_h = n - pos < 3 ? -1 : two_digits(s + pos + 1);
    const int off_m = n - pos < 6 || s[pos + 3] != ':' ? -1 : two_digits(s + pos + 4);
    if (off_h < 0 || off_m < 0) {
      return bad_timestamp(text, "expected the offset as +hh:mm or -hh:mm");
    }
    if (off_h > 23) return bad_timestamp(text, number_out_of_range("offset hour", off_h));
    if (off_m > 59) return bad_timestamp(text, number_out_of_range("offset minute", off_m));
    offset_min = off_h * 60 + off_m;
    if (minus) offset_min = -offset_min;
    pos += 6;
  } else {
    return bad_timestamp(text, "expected 'Z' or +hh:mm after the time");
  }
  if (pos != n) {
    return bad_timestamp(text, "unexpected '" + echo(text.substr(pos)) + "' after the offset");
  }

  // A leap second is only real at the end of a UTC day; it has no int64-ns
  // spelling of its own, so it becomes the last nanosecond before midnight.
  if (second == 60) {
    const int utc_minute = ((hour * 60 + minute - offset_min) % 1440 + 1440) % 1440;
    if (utc_minute != 23 * 60 + 59) {
      return bad_timestamp(text, "second 60 (leap second) is only valid at 23:59:60 UTC");
    }
    second = 59;
    frac = kNsPerSec - 1;
  }

  // Assemble; the 4-digit year keeps `secs` far inside int64, only the ns may not fit.
  const int64_t secs =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * kSecPerDay +
      hour * 3600 + minute * 60 + second - int64_t{offset_min} * 60;
  const Int128 ns = Int128{secs} * kNsPerSec + frac;
  if (!fits_int64(ns)) {
    return bad_timestamp(text, std::string("out of range ").append(kRangeText));
  }
  return static_cast<Timestamp>(ns);
}

Result<Timestamp> from_epoch(double value, EpochUnit unit) {
  if (!std::isfinite(value)) {
    return data_error("epoch value " + double_text(value) + " is not a finite number");
  }
  if (unit == EpochUnit::kAuto) unit = auto_unit(std::fabs(value));
  // Outside [-2^63, 2^63) nothing fits even as nanoseconds; this also keeps the cast defined.
  if (value >= 0x1p63 || value < -0x1p63) {
    return epoch_out_of_range(double_text(value), unit);
  }
  // Whole units exactly, then the fraction rounded to the nearest nanosecond:
  // a double is already off by up to half an ulp, so rounding (not flooring)
  // gives back e.g. 0.3 s as 300000000 ns.
  const double whole = std::trunc(value);
  const int64_t scale = kPow10[ns_exponent(unit)];
  const Int128 ns = Int128{static_cast<int64_t>(whole)} * scale +
                    std::llround((value - whole) * static_cast<double>(scale));
  if (!fits_int64(ns)) return epoch_out_of_range(double_text(value), unit);
  return static_cast<Timestamp>(ns);
}

Result<Timestamp> from_epoch(int64_t value, EpochUnit unit) {
  if (unit == EpochUnit::kAuto) {
    const uint64_t magnitude =
        value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    unit = magnitude < 100'000'000'000u           ? EpochUnit::kSeconds
           : magnitude < 100'000'000'000'000u     ? EpochUnit::kMillis
           : magnitude < 100'000'000'000'000'000u ? EpochUnit::kMicros
                                                  : EpochUnit::kNanos;
  }
  const Int128 ns = Int128{value} * kPow10[ns_exponent(unit)];
  if (!fits_int64(ns)) return epoch_out_of_range(std::to_string(value), unit);
  return static_cast<Timestamp>(ns);
}

Result<Timestamp> parse_epoch_text(std::string_view number_text, EpochUnit unit) {
  // Step 1: split the JSON number -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  const std::string_view t = number_text;
  auto bad = [&](std::string_view what) {
    return data_error("invalid epoch number '" + echo(t) + "': " + std::string(what));
  };
  size_t pos = 0;
  const bool negative = pos < t.size() && t[pos] == '-';
  if (negative) ++pos;
  const size_t int_begin = pos;
  while (pos < t.size() && is_digit(t[pos])) ++pos;
  const size_t int_end = pos;
  if (int_end == int_begin) return bad("expected digits");
  if (t[int_begin] == '0' && int_end - int_begin > 1) return bad("leading zero");
  size_t frac_begin = pos, frac_end = pos;
  if (pos < t.size() && t[pos] == '.') {
    frac_begin = ++pos;
    while (pos < t.size() && is_digit(t[pos])) ++pos;
    frac_end = pos;
    if (frac_end == frac_begin) return bad("expected digits after '.'");
  }
  int64_t exponent = 0;
  if (pos < t.size() && (t[pos] == 'e' || t[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) exp_negative = t[pos++] == '-';
    const size_t exp_begin = pos;
    // Saturate: beyond 10^6 the value is 0 or out of range whatever the digits.
    while (pos < t.size() && is_digit(t[pos])) {
      if (exponent < 1'000'000) exponent = exponent * 10 + (t[pos] - '0');
      ++pos;
    }
    if (pos == exp_begin) return bad("expected digits in the exponent");
    if (exp_negative) exponent = -exponent;
  }
  if (pos != t.size()) return bad("unexpected '" + echo(t.substr(pos)) + "'");

  // Step 2: the decimal position of each digit. Integer digit i (from the left)
  // sits at 10^(n_int - 1 - i + exponent), fraction digit j at 10^(-1 - j + exponent).
  const int64_t n_int = static_cast<int64_t>(int_end - int_begin);
  auto digit_at = [&](int64_t i) {
    return i < n_int ? t[int_begin + static_cast<size_t>(i)] - '0'
                     : t[frac_begin + static_cast<size_t>(i - n_int)] - '0';
  };
  const int64_t n_digits = n_int + static_cast<int64_t>(frac_end - frac_begin);
  const int64_t top_pos = n_int - 1 + exponent;
  int64_t first_nonzero = 0;
  while (first_nonzero < n_digits && digit_at(first_nonzero) == 0) ++first_nonzero;
  if (first_nonzero == n_digits) return Timestamp{0};
  const int64_t msd_pos = top_pos - first_nonzero;  // |value| is in [10^msd_pos, 10^(msd_pos+1))

  // Step 3: pick the unit; |value| < 10^11 is exactly msd_pos <= 10.
  if (unit == EpochUnit::kAuto) {
    unit = msd_pos <= 10   ? EpochUnit::kSeconds
           : msd_pos <= 13 ? EpochUnit::kMillis
           : msd_pos <= 16 ? EpochUnit::kMicros
                           : EpochUnit::kNanos;
  }
  const int64_t k = ns_exponent(unit);
  if (msd_pos + k >= 19) return epoch_out_of_range(echo(t), unit);  // >= 10^19 ns

  // Step 4: digits at or above the nanosecond go into `acc`; any non-zero digit
  // below it makes the value inexact, and the result is floored (toward earlier),
  // like the formatting of negative times.
  Int128 acc = 0;
  bool below_ns = false;
  int64_t last_pos = msd_pos;  // lowest position taken into `acc`
  for (int64_t i = first_nonzero; i < n_digits; ++i) {
    const int64_t p = top_pos - i;
    const int d = digit_at(i);
    if (p + k >= 0) {
      acc = acc * 10 + d;
      last_pos = p;
    } else if (d != 0) {
      below_ns = true;
      break;
    }
  }
  if (last_pos + k > 0) acc *= kPow10[last_pos + k];  // last_pos <= msd_pos, so <= 10^18
  if (negative) acc = -acc - (below_ns ? 1 : 0);
  if (!fits_int64(acc)) return epoch_out_of_range(echo(t), unit);
  return static_cast<Timestamp>(acc);
}

Result<Timestamp> parse_time_text(std::string_view text, EpochUnit unit) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const bool number_like = !text.empty() && (digit(text[0]) || text[0] == '-');
  const bool date_like =
      text.size() > 4 && text[4] == '-' && std::all_of(text.begin(), text.begin() + 4, digit);
  return number_like && !date_like ? parse_epoch_text(text, unit) : parse_rfc3339(text);
}

std::string format_rfc3339_ms(Timestamp t) {
  std::string out;
  append_rfc3339_ms(out, t);
  return out;
}

void append_rfc3339_ms(std::string& out, Timestamp t) {
  char buf[24];
  write_rfc3339(buf, t, 3);
  out.append(buf, sizeof buf);
}

std::string format_rfc3339_ns(Timestamp t) {
  char buf[30];
  write_rfc3339(buf, t, 9);
  return std::string(buf, sizeof buf);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);                 // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  d = doy - (153 * mp + 2) / 5 + 1;                                            // [1, 31]
  m = mp < 10 ? mp + 3 : mp - 9;                                               // [1, 12]
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

}  // namespace ev::time
