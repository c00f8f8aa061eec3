#include "libcore/validate/formats.h"

#include <cstddef>

namespace ev::validate {
namespace {

// Character classes are ASCII-only on purpose: every format here is defined over
// ASCII, so any byte >= 0x80 (UTF-8 of a non-ASCII digit, say) must fail.
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_one_of(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}

// Value of `n` digits at `pos`, or -1 if any of them is not a digit.
int read_digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ---- RFC 3339 date and time ----

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// full-date = date-fullyear "-" date-month "-" date-mday, any year 0000-9999.
bool check_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  const int year = read_digits(s, 0, 4);
  const int month = read_digits(s, 5, 2);
  const int day = read_digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  return day <= days_in_month(year, month);
}

// full-time = partial-time time-offset. Any number of fraction digits (the ABNF
// says 1*DIGIT). A leap second (:60) is accepted only where the time, moved to
// UTC by its offset, is 23:59:60; the date itself is not checked against the
// leap-second table, since the list of future leap seconds is unknown.
bool check_time(std::string_view s) {
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  const int hour = read_digits(s, 0, 2);
  const int minute = read_digits(s, 3, 2);
  const int second = read_digits(s, 6, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return false;
  }
  size_t pos = 8;
  if (s[pos] == '.') {
    const size_t first = ++pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == first) return false;
  }
  if (pos >= s.size()) return false;  // the offset is required
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return false;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (s.size() - pos != 6 || s[pos + 3] != ':') return false;
    const int offset_hour = read_digits(s, pos + 1, 2);
    const int offset_minute = read_digits(s, pos + 4, 2);
    if (offset_hour < 0 || offset_hour > 23 || offset_minute < 0 || offset_minute > 59) {
      return false;
    }
    offset_minutes = offset_hour * 60 + offset_minute;
    if (s[pos] == '-') offset_minutes = -offset_minutes;
  } else {
    return false;
  }
  if (second == 60) {
    constexpr int kMinutesPerDay = 24 * 60;
    const int utc =
        ((hour * 60 + minute - offset_minutes) % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

// date-time = full-date "T" full-time, with "T" case-insensitive (RFC 3339 5.6
// note). The space separator the note also mentions is not in the ABNF, and JSON
// Schema follows the ABNF, so it is rejected.
bool check_date_time(std::string_view s) {
  if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) return false;
  return check_date(s.substr(0, 10)) && check_time(s.substr(11));
}

// RFC 3339 appendix A:
//   duration = "P" (dur-date / dur-time / dur-week)
//   dur-date = (dur-day / dur-month / dur-year) [dur-time]
//   dur-time = "T" (dur-hour / dur-minute / dur-second)
//   dur-year = 1*DIGIT "Y" [dur-month], dur-month = 1*DIGIT "M" [dur-day], ...
// So the elements of each part must be consecutive units in order (Y M D, H M S),
// starting anywhere: P1Y2M and P2M3D are valid, P1Y3D and PT1H2S are not. Weeks
// stand alone. Designators are upper-case only, as ISO 8601 writes them.
bool check_duration_part(std::string_view s, size_t& pos, std::string_view units) {
  size_t previous = std::string_view::npos;
  while (pos < s.size() && s[pos] != 'T') {
    const size_t first = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == first || pos == s.size()) return false;
    const size_t unit = units.find(s[pos]);
    if (unit == std::string_view::npos) return false;
    if (previous != std::string_view::npos && unit != previous + 1) return false;
    previous = unit;
    ++pos;
  }
  return previous != std::string_view::npos;
}

bool check_duration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return false;
  // dur-week: 1*DIGIT "W" and nothing else.
  if (s.back() == 'W') {
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (!is_digit(s[i])) return false;
    }
    return true;
  }
  size_t pos = 1;
  if (s[pos] != 'T' && !check_duration_part(s, pos, "YMD")) return false;
  if (pos == s.size()) return true;
  ++pos;  // 'T'
  return check_duration_part(s, pos, "HMS") && pos == s.size();
}

// ---- Internet addresses ----

// RFC 2673 dotted-quad: four decimal octets 0-255, no leading zeros.
bool check_ipv4(std::string_view s) {
  size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (pos >= s.size() || s[pos] != '.') return false;
      ++pos;
    }
    const size_t first = pos;
    int value = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - first < 3) {
      value = value * 10 + (s[pos] - '0');
      ++pos;
    }
    const size_t length = pos - first;
    if (length == 0 || value > 255 || (length > 1 && s[first] == '0')) return false;
  }
  return pos == s.size();
}

// RFC 4291 section 2.2: eight 1-4 digit hex groups, at most one "::" standing for
// one or more zero groups, and optionally a dotted-quad in place of the last two
// groups. No zone index ("%eth0") and no prefix length ("/64").
bool check_ipv6(std::string_view s) {
  if (s.size() < 2) return false;
  int groups = 0;
  bool compressed = false;
  size_t pos = 0;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    compressed = true;
    pos = 2;
    if (pos == s.size()) return true;
  }
  while (true) {
    size_t end = pos;
    bool has_dot = false;
    while (end < s.size() && s[end] != ':') {
      if (s[end] == '.') has_dot = true;
      ++end;
    }
    const std::string_view piece = s.substr(pos, end - pos);
    if (has_dot) {
      if (end != s.size() || !check_ipv4(piece)) return false;
      groups += 2;
      break;
    }
    if (piece.empty() || piece.size() > 4) return false;
    for (char c : piece) {
      if (!is_hex(c)) return false;
    }
    ++groups;
    if (end == s.size()) break;
    if (end + 1 < s.size() && s[end + 1] == ':') {
      if (compressed) return false;
      compressed = true;
      pos = end + 2;
      if (pos == s.size()) break;
    } else {
      pos = end + 1;
      if (pos == s.size()) return false;  // a trailing single ':'
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

// RFC 1123 section 2.1 (RFC 952 as amended): dot-separated labels of 1-63 letters,
// digits and hyphens, not starting or ending with a hyphen (a leading digit is
// allowed); at most 253 characters. A single label is a valid host name. The
// trailing dot of an absolute DNS name is not accepted: a host name is written
// without it. Punycode ("xn--") labels pass as plain LDH labels.
bool check_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t label_start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      const size_t length = i - label_start;
      if (length == 0 || length > 63) return false;
      if (s[label_start] == '-' || s[i - 1] == '-') return false;
      label_start = i + 1;
    } else if (!is_alnum(s[i]) && s[i] != '-') {
      return false;
    }
  }
  return true;
}

// RFC 5321 section 4.1.2 Mailbox = Local-part "@" ( Domain / address-literal ):
//   Local-part = Dot-string / Quoted-string (both accepted; quoted strings are
//   legal though rare, and the JSON-Schema-Test-Suite expects them to pass);
//   Domain = host name as above; address-literal = "[" IPv4 "]" or
//   "[IPv6:" IPv6 "]" (tag case-insensitive). General address literals
//   ("[tag:content]") and RFC 5322 comments/folding white space are rejected.
//   Length limits of local part (64) are not enforced; the domain has the host
//   name limits.
bool is_atext(char c) { return is_alnum(c) || is_one_of(c, "!#$%&'*+-/=?^_`{|}~"); }

bool check_email(std::string_view s) {
  // Step 1: the local part, up to the '@' that ends it.
  size_t pos = 0;
  if (s.empty()) return false;
  if (s[0] == '"') {
    pos = 1;
    while (true) {
      if (pos >= s.size()) return false;  // unclosed quote
      const char c = s[pos];
      if (c == '"') break;
      if (c == '\\') {
        if (pos + 1 >= s.size() || s[pos + 1] < 32 || s[pos + 1] > 126) return false;
        pos += 2;
        continue;
      }
      if (c < 32 || c > 126) return false;  // qtextSMTP is %d32-33 / %d35-91 / %d93-126
      ++pos;
    }
    ++pos;  // closing quote
  } else {
    bool after_dot = true;  // an atom must start the string and follow each dot
    while (pos < s.size() && s[pos] != '@') {
      if (s[pos] == '.') {
        if (after_dot) return false;
        after_dot = true;
      } else if (is_atext(s[pos])) {
        after_dot = false;
      } else {
        return false;
      }
      ++pos;
    }
    if (after_dot) return false;  // empty local part or trailing dot
  }
  if (pos >= s.size() || s[pos] != '@') return false;

  // Step 2: the domain or address literal.
  const std::string_view domain = s.substr(pos + 1);
  if (!domain.empty() && domain.front() == '[') {
    if (domain.size() < 2 || domain.back() != ']') return false;
    const std::string_view literal = domain.substr(1, domain.size() - 2);
    constexpr std::string_view kIpv6Tag = "IPv6:";
    if (literal.size() > kIpv6Tag.size() &&
        equals_ignore_case(literal.substr(0, kIpv6Tag.size()), kIpv6Tag)) {
      return check_ipv6(literal.substr(kIpv6Tag.size()));
    }
    return check_ipv4(literal);
  }
  return check_hostname(domain);
}

// ---- RFC 3986 URI ----

constexpr bool is_unreserved(char c) { return is_alnum(c) || is_one_of(c, "-._~"); }
constexpr bool is_sub_delim(char c) { return is_one_of(c, "!$&'()*+,;="); }

// True if every character of `s` is unreserved, a sub-delim, one of `extra`, or
// part of a well-formed "%" HEXDIG HEXDIG escape.
bool check_uri_chars(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c) && !is_one_of(c, extra)) {
      return false;
    }
  }
  return true;
}

// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
bool check_ipvfuture(std::string_view s) {
  if (s.size() < 4 || (s[0] != 'v' && s[0] != 'V')) return false;
  size_t pos = 1;
  while (pos < s.size() && is_hex(s[pos])) ++pos;
  if (pos == 1 || pos + 1 >= s.size() || s[pos] != '.') return false;
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if (!is_unreserved(s[i]) && !is_sub_delim(s[i]) && s[i] != ':') return false;
  }
  return true;
}

// authority = [ userinfo "@" ] host [ ":" port ]
bool check_authority(std::string_view s) {
  const size_t at = s.find('@');
  if (at != std::string_view::npos) {
    if (!check_uri_chars(s.substr(0, at), ":")) return false;
    s.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view literal = s.substr(1, close - 1);
    if (!check_ipv6(literal) && !check_ipvfuture(literal)) return false;
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    // reg-name (a superset of IPv4address, so dotted quads need no own check).
    const size_t colon = s.find(':');
    if (colon != std::string_view::npos) port = s.substr(colon + 1);
    if (!check_uri_chars(s.substr(0, colon), "")) return false;
  }
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]. Only the generic
// syntax is checked, not scheme-specific rules; non-ASCII must be %-escaped.
bool check_uri(std::string_view s) {
  // Step 1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  if (s.empty() || !is_alpha(s[0])) return false;
  size_t pos = 1;
  while (pos < s.size() && (is_alnum(s[pos]) || is_one_of(s[pos], "+-."))) ++pos;
  if (pos == s.size() || s[pos] != ':') return false;
  std::string_view rest = s.substr(pos + 1);

  // Step 2: fragment and query = *( pchar / "/" / "?" ).
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    if (!check_uri_chars(rest.substr(hash + 1), ":@/?")) return false;
    rest = rest.substr(0, hash);
  }
  const size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    if (!check_uri_chars(rest.substr(question + 1), ":@/?")) return false;
    rest = rest.substr(0, question);
  }

  // Step 3: hier-part; a path is segments of pchar separated by "/". Without an
  // authority the path cannot start with "//", which the branch below ensures.
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    if (!check_authority(rest.substr(0, slash))) return false;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  return check_uri_chars(rest, ":@/");
}

// RFC 4122: 8-4-4-4-12 hex digits, either case; version and variant not checked.
bool check_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool hyphen_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen_position ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

struct Format {
  std::string_view name;
  FormatCheck check;
};

constexpr Format kFormats[] = {
    {"date-time", check_date_time}, {"date", check_date},   {"time", check_time},
    {"duration", check_duration},   {"email", check_email}, {"hostname", check_hostname},
    {"ipv4", check_ipv4},           {"ipv6", check_ipv6},   {"uri", check_uri},
    {"uuid", check_uuid},
};

}  // namespace

FormatCheck find_format(std::string_view format) {
  for (const Format& f : kFormats) {
    if (f.name == format) return f.check;
  }
  return nullptr;
}

bool is_known_format(std::string_view format) { return find_format(format) != nullptr; }

bool check_format(std::string_view format, std::string_view value) {
  const FormatCheck check = find_format(format);
  return check == nullptr || check(value);
}

}  // namespace ev::validate
