#include "libcore/validate/simple_pattern.h"

#include <limits>

namespace ev::validate {
namespace {

constexpr uint32_t kInf = std::numeric_limits<uint32_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_punct_escape(char c) {
  // Escapes that stand for the character itself in ECMA-262 (identity escapes).
  return std::string_view("^$\\.*+?()[]{}|/-").find(c) != std::string_view::npos;
}

}  // namespace

std::optional<SimplePattern> SimplePattern::compile(std::string_view p) {
  if (p.size() < 2 || p.front() != '^' || p.back() != '$') return std::nullopt;
  // "\$" at the end is a literal dollar, not the anchor.
  size_t backslashes = 0;
  for (size_t k = p.size() - 1; k > 0 && p[k - 1] == '\\'; --k) ++backslashes;
  if (backslashes % 2 == 1) return std::nullopt;
  std::string_view body = p.substr(1, p.size() - 2);

  SimplePattern out;
  auto add = [](Atom& a, unsigned char c) {
    if (c < 64)
      a.lo |= uint64_t{1} << c;
    else
      a.hi |= uint64_t{1} << (c - 64);
  };
  auto add_range = [&](Atom& a, unsigned char from, unsigned char to) {
    for (unsigned c = from; c <= to; ++c) add(a, static_cast<unsigned char>(c));
  };
  auto add_class_escape = [&](Atom& a, char e) {
    if (e == 'd') {
      add_range(a, '0', '9');
    } else if (e == 'w') {
      add_range(a, '0', '9');
      add_range(a, 'a', 'z');
      add_range(a, 'A', 'Z');
      add(a, '_');
    } else {
      return false;
    }
    return true;
  };

  size_t k = 0;
  while (k < body.size()) {
    Atom a;
    char c = body[k];
    if (static_cast<unsigned char>(c) >= 128) return std::nullopt;
    if (c == '\\') {
      if (k + 1 >= body.size()) return std::nullopt;
      char e = body[k + 1];
      if (!add_class_escape(a, e)) {
        if (!is_punct_escape(e)) return std::nullopt;
        add(a, static_cast<unsigned char>(e));
      }
      k += 2;
    } else if (c == '[') {
      ++k;
      if (k < body.size() && body[k] == '^') return std::nullopt;
      bool closed = false;
      while (k < body.size()) {
        char x = body[k];
        if (x == ']') {
          closed = true;
          ++k;
          break;
        }
        if (static_cast<unsigned char>(x) >= 128 || x == '[') return std::nullopt;
        unsigned char from;
        if (x == '\\') {
          if (k + 1 >= body.size()) return std::nullopt;
          char e = body[k + 1];
          k += 2;
          if (add_class_escape(a, e)) continue;
          if (!is_punct_escape(e)) return std::nullopt;
          from = static_cast<unsigned char>(e);
        } else {
          from = static_cast<unsigned char>(x);
          ++k;
        }
        if (k + 1 < body.size() && body[k] == '-' && body[k + 1] != ']') {
          char y = body[k + 1];
          if (y == '\\' || y == '[' || static_cast<unsigned char>(y) >= 128) return std::nullopt;
          auto to = static_cast<unsigned char>(y);
          if (to < from) return std::nullopt;
          add_range(a, from, to);
          k += 2;
        } else {
          add(a, from);
        }
      }
      if (!closed || (a.lo == 0 && a.hi == 0)) return std::nullopt;
    } else if (std::string_view(".^$*+?(){}|]").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      add(a, static_cast<unsigned char>(c));
      ++k;
    }
    // Quantifier.
    if (k < body.size()) {
      char q = body[k];
      if (q == '?' || q == '*' || q == '+') {
        a.min = q == '+' ? 1 : 0;
        a.max = q == '?' ? 1 : kInf;
        ++k;
      } else if (q == '{') {
        size_t j = k + 1;
        auto number = [&](uint32_t& v) {
          size_t from = j;
          uint64_t x = 0;
          while (j < body.size() && is_digit(body[j]) && j - from < 6)
            x = x * 10 + (body[j++] - '0');
          v = static_cast<uint32_t>(x);
          return j > from && (j >= body.size() || !is_digit(body[j]));
        };
        uint32_t lo = 0, hi = 0;
        if (!number(lo)) return std::nullopt;
        if (j < body.size() && body[j] == '}') {
          hi = lo;
        } else if (j < body.size() && body[j] == ',') {
          ++j;
          if (j < body.size() && body[j] == '}') {
            hi = kInf;
          } else if (!number(hi) || hi < lo) {
            return std::nullopt;
          }
          if (j >= body.size() || body[j] != '}') return std::nullopt;
        } else {
          return std::nullopt;
        }
        a.min = lo;
        a.max = hi;
        k = j + 1;
      }
      if (k < body.size() && (body[k] == '?' || body[k] == '*' || body[k] == '+' || body[k] == '{'))
        return std::nullopt;  // lazy or stacked quantifiers
    }
    out.atoms_.push_back(a);
  }
  // Greedy is exact when a variable atom cannot take the character that follows its
  // run in any match: that character belongs to one of the next atoms up to the first
  // one that must match at least once, so those must be disjoint from it.
  for (size_t i = 0; i < out.atoms_.size(); ++i) {
    const Atom& a = out.atoms_[i];
    if (a.min == a.max) continue;
    for (size_t j = i + 1; j < out.atoms_.size(); ++j) {
      const Atom& b = out.atoms_[j];
      if ((a.lo & b.lo) != 0 || (a.hi & b.hi) != 0) return std::nullopt;
      if (b.min > 0) break;
    }
  }
  return out;
}

bool SimplePattern::match(std::string_view s) const {
  size_t pos = 0;
  const size_t n = s.size();
  for (const Atom& a : atoms_) {
    uint32_t count = 0;
    while (count < a.max && pos < n && a.has(static_cast<unsigned char>(s[pos]))) {
      ++pos;
      ++count;
    }
    if (count < a.min) return false;
  }
  return pos == n;
}

}  // namespace ev::validate
