#include "libcore/validate/simple_pattern.h"

#include <doctest/doctest.h>
#include <re2/re2.h>

#include <string>
#include <vector>

using ev::validate::SimplePattern;

TEST_CASE("simple pattern: declines what greedy matching cannot do exactly") {
  for (const char* p : {"[0-9]+",   "^a",
                        "a$",       "^a\\$",
                        "^(ab)$",   "^a|b$",
                        "^.$",      "^[^a]$",
                        "^\\s$",    "^a+?$",
                        "^a*a$",    "^[a-z]*[0-9]?[a-c]$",
                        "^a*b?a$",  "^[0-9]+[0-9]$",
                        "^é$",      "^a{2,1}$",
                        "^\\p{L}$", "^a{,3}$",
                        "^[]$",     "^a**$"}) {
    CAPTURE(p);
    CHECK_FALSE(SimplePattern::compile(p).has_value());
  }
}

TEST_CASE("simple pattern: agrees with RE2 on accepted patterns") {
  const std::vector<std::string> patterns = {"^[0-9a-f]{32}$",
                                             "^u[0-9]{6,}$",
                                             "^[A-Z]{2}$",
                                             "^s[0-9a-f]{8}$",
                                             "^[0-9]+\\.[0-9]+\\.[0-9]+$",
                                             "^[a-]+x$",
                                             "^a*b?c?d[a-d]*$",
                                             "^\\d{3}-\\d{4}$",
                                             "^\\w+$",
                                             "^a?b*c+$",
                                             "^x{0,2}$",
                                             "^[a-c-]+!$",
                                             "^$",
                                             "^\\$\\.$"};
  const std::vector<std::string> subjects = {"",
                                             "a",
                                             "abc",
                                             "u000329",
                                             "u12345",
                                             "u1234567",
                                             "US",
                                             "us",
                                             "USA",
                                             "sdd6c683e",
                                             "5.3.1",
                                             "5..1",
                                             "5.3.1.",
                                             "123-4567",
                                             "12-34567",
                                             "under_score9",
                                             "bcc",
                                             "abbbccc",
                                             "ac",
                                             "b",
                                             "xx",
                                             "a-x",
                                             "-",
                                             "aad",
                                             "bcdabcd",
                                             "cd",
                                             "d",
                                             "abd",
                                             "xxx",
                                             "a-c!",
                                             "-!",
                                             "!",
                                             "$.",
                                             "ddfdb48ab9ed4a21cde286865f7c5405",
                                             "ddfdb48ab9ed4a21cde286865f7c540",
                                             "u\xc3\xa9",
                                             "U\n"};
  for (const auto& p : patterns) {
    auto sp = SimplePattern::compile(p);
    REQUIRE_MESSAGE(sp.has_value(), p);
    RE2 re(p);
    REQUIRE(re.ok());
    for (const auto& s : subjects) {
      CAPTURE(p);
      CAPTURE(s);
      CHECK(sp->match(s) == RE2::PartialMatch(s, re));
    }
  }
}
