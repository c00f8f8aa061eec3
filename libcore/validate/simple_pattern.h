// A fast path for the patterns event schemas use most: fully anchored sequences of
// ASCII literals and ASCII classes with counts, such as ^[0-9a-f]{32}$, ^u[0-9]{6,}$,
// ^[A-Z]{2}$ or ^[0-9]+\.[0-9]+\.[0-9]+$. Such a pattern is matched by one greedy
// pass over the string, without a regex engine (RE2's per-call setup costs more than
// the whole match on short strings).
//
// compile() accepts only patterns it can match exactly, and declines everything else
// (the caller then uses RE2): the pattern must start with ^ and end with an
// unescaped $; atoms are ASCII literal characters (or \-escaped punctuation), \d, \w
// and bracket classes of ASCII characters and ranges (no negation, no \s: ECMA-262's
// \s includes non-ASCII spaces), each optionally followed by ?, *, +, {n}, {n,} or
// {n,m} (not lazy). Greedy matching is exact only when no atom of variable count can
// take the character that ends its run, so it must be disjoint from the atoms after
// it up to the first one that must match at least once; otherwise the pattern is
// declined. A non-ASCII character in
// the subject matches no atom, as in ECMA-262 for these classes. Immutable;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ev::validate {

class SimplePattern {
 public:
  static std::optional<SimplePattern> compile(std::string_view pattern);
  bool match(std::string_view s) const;

 private:
  struct Atom {
    uint64_t lo = 0, hi = 0;  // ASCII set: bit c of lo (c < 64) or of hi (c - 64)
    uint32_t min = 1, max = 1;
    bool has(unsigned char c) const {
      return c < 64 ? (lo >> c) & 1 : c < 128 ? (hi >> (c - 64)) & 1 : false;
    }
  };
  std::vector<Atom> atoms_;
};

}  // namespace ev::validate
