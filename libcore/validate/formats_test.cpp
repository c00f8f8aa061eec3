#include "libcore/validate/formats.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <initializer_list>
#include <string>
#include <string_view>

#ifndef EV_SHARED_DIR
#define EV_SHARED_DIR "../shared"
#endif

namespace ev::validate {
namespace {

struct Case {
  std::string_view value;
  bool valid;
};

void expect_all(std::string_view format, std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    CHECK_MESSAGE(check_format(format, c.value) == c.valid,
                  std::string(format) << " \"" << std::string(c.value) << "\" should be "
                                      << (c.valid ? "valid" : "invalid"));
  }
}

// `n` copies of `c`, for length boundaries.
std::string repeat(char c, size_t n) { return std::string(n, c); }

TEST_CASE("formats: known and unknown formats") {
  for (std::string_view f : {"date-time", "date", "time", "duration", "email", "hostname", "ipv4",
                             "ipv6", "uri", "uuid"}) {
    CHECK_MESSAGE(is_known_format(f), std::string(f));
  }
  for (std::string_view f : {"", "regex", "idn-email", "idn-hostname", "iri", "uri-reference",
                             "uri-template", "json-pointer", "int64", "Date", "UUID", "ipv4 "}) {
    CHECK_MESSAGE(!is_known_format(f), std::string(f));
    CHECK(check_format(f, ""));
    CHECK(check_format(f, "anything at all \x01\xff"));
  }
}

TEST_CASE("formats: date") {
  expect_all("date", {
                         {"1963-06-19", true},
                         {"2020-01-31", true},
                         {"0000-01-01", true},  // any four-digit year, no range limit
                         {"9999-12-31", true},
                         {"2024-02-29", true},  // leap year
                         {"2000-02-29", true},  // divisible by 400
                         {"2023-02-29", false},
                         {"1900-02-29", false},  // divisible by 100, not 400
                         {"2021-02-28", true},
                         {"2020-04-30", true},
                         {"2020-04-31", false},
                         {"2020-06-31", false},
                         {"2020-09-31", false},
                         {"2020-11-31", false},
                         {"2020-01-32", false},
                         {"2020-12-00", false},
                         {"2020-00-10", false},
                         {"2020-13-10", false},
                         {"06/19/1963", false},
                         {"1963-6-19", false},
                         {"1963-06-1", false},
                         {"2013-350", false},  // ordinal date: ISO 8601, not RFC 3339
                         {"1998-W01-1", false},
                         {"+11963-06-19", false},
                         {"19630619", false},
                         {"1963-06-19T00:00:00Z", false},
                         {"1963-06-19 ", false},
                         {"1963-06-1\xe0\xa7\xaa", false},  // Bengali digit four
                         {"", false},
                     });
}

TEST_CASE("formats: time") {
  expect_all("time", {
                         {"08:30:06Z", true},
                         {"08:30:06z", true},
                         {"23:20:50.52Z", true},
                         {"08:30:06.283185Z", true},
                         {"08:30:06.123456789012345Z", true},  // any number of fraction digits
                         {"08:30:06+00:20", true},
                         {"08:30:06-08:00", true},
                         {"12:34:56-00:00", true},  // unknown local offset (RFC 3339 4.3)
                         {"00:00:00+23:59", true},
                         {"23:59:59-23:59", true},
                         {"12:00:00", false},  // offset required
                         {"12:00:00.52", false},
                         {"08:30:06.Z", false},  // fraction needs a digit
                         {"08:30:06,5Z", false},
                         {"24:00:00Z", false},
                         {"00:60:00Z", false},
                         {"00:00:61Z", false},
                         {"01:02:03+24:00", false},
                         {"01:02:03+00:60", false},
                         {"01:02:03Z+00:30", false},
                         {"08:30:06 PST", false},
                         {"08:30:06#00:20", false},
                         {"08:30:06+0130", false},
                         {"08:30:06+01", false},
                         {"08:30:06-8:000", false},
                         {"008:030:006Z", false},
                         {"8:3:6Z", false},
                         {"08:30Z", false},
                         {"ab:cd:efZ", false},
                         {"08:30:06Z\n", false},
                         {"2020-11-28T23:55:45Z", false},
                         {"", false},
                     });
}

TEST_CASE("formats: time leap seconds are 23:59:60 in UTC") {
  expect_all("time", {
                         {"23:59:60Z", true},
                         {"23:59:60z", true},
                         {"23:59:60.999Z", true},
                         {"23:59:60+00:00", true},
                         {"23:59:60-00:00", true},
                         {"01:29:60+01:30", true},
                         {"23:29:60+23:30", true},
                         {"15:59:60-08:00", true},
                         {"00:29:60-23:30", true},
                         {"22:59:60Z", false},
                         {"23:58:60Z", false},
                         {"22:59:60+00:00", false},
                         {"23:59:60+01:00", false},
                         {"23:59:60+00:30", false},
                         {"23:59:60-01:00", false},
                         {"23:59:60-00:30", false},
                         {"12:00:60Z", false},
                     });
}

TEST_CASE("formats: date-time") {
  expect_all("date-time",
             {
                 {"1963-06-19T08:30:06.283185Z", true},
                 {"1963-06-19T08:30:06Z", true},
                 {"1937-01-01T12:00:27.87+00:20", true},
                 {"1990-12-31T15:59:50.123-08:00", true},
                 {"1963-06-19t08:30:06.283185z", true},
                 {"1985-04-12T00:59:59.999999999999999Z", true},
                 {"0000-01-01T00:00:00Z", true},  // beyond the int64 ns range of Timestamp
                 {"9999-12-31T23:59:60Z", true},
                 {"1600-02-29T12:00:00+05:00", true},
                 {"1998-12-31T23:59:60Z", true},
                 {"1998-12-31T15:59:60.123-08:00", true},
                 {"1998-12-31T23:59:61Z", false},
                 {"1998-12-31T23:58:60Z", false},
                 {"1998-12-31T22:59:60Z", false},
                 {"1990-02-31T15:59:59.123-08:00", false},
                 {"1990-02-31T15:59:60.123-08:00", false},
                 {"1990-12-31T15:59:59-24:00", false},
                 {"1963-06-19T08:30:06.28123+01:00Z", false},
                 {"1990-12-31T24:00:00Z", false},
                 {"1990-12-31T15:60:00Z", false},
                 {"1990-12-31T10:00:00+10:60", false},
                 {"06/19/1963 08:30:06 PST", false},
                 {"2013-350T01:01:01", false},
                 {"1963-6-19T08:30:06.283185Z", false},
                 {"1963-06-1T08:30:06.283185Z", false},
                 {"+11963-06-19T08:30:06.283185Z", false},
                 {"1963-06-19 08:30:06Z", false},  // space separator: not in the ABNF
                 {"1963-06-19_08:30:06Z", false},
                 {"1963-06-19T08:30:06", false},
                 {"1963-06-19T", false},
                 {"1963-06-19", false},
                 {"1963-06-11T0\xe0\xa7\xaa:00:00Z", false},
                 {"", false},
             });
}

TEST_CASE("formats: duration") {
  expect_all("duration", {
                             {"P4DT12H30M5S", true},
                             {"P1Y2M3DT4H5M6S", true},
                             {"P1Y2M3D", true},
                             {"P1Y2M", true},
                             {"P1M2D", true},
                             {"P4Y", true},
                             {"P1M", true},
                             {"P0D", true},
                             {"P1DT12H", true},
                             {"PT1H", true},
                             {"PT0S", true},
                             {"PT1M", true},
                             {"PT36H", true},
                             {"PT1H2M3S", true},
                             {"PT1H30M", true},
                             {"PT1M2S", true},
                             {"P1W", true},
                             {"P2W", true},
                             {"P10Y10M10DT10H10M10S", true},
                             {"P01D", true},
                             {"P99999999999999999999999999999999999999D", true},  // no range limit
                             {"P", false},
                             {"PT", false},
                             {"P1YT", false},
                             {"PT1D", false},
                             {"4DT12H30M5S", false},
                             {"P2D1Y", false},
                             {"P1D2H", false},
                             {"P2S", false},
                             {"P1Y1W", false},
                             {"P1Y2W", false},
                             {"P0Y1W", false},
                             {"P1WT1H", false},
                             {"PW", false},
                             {"P1Y2D", false},  // dur-year takes only an adjacent dur-month
                             {"PT1H2S", false},
                             {"P1Y1Y", false},
                             {"PT1S1M", false},
                             {"P1", false},
                             {"PT0.5S", false},  // RFC 3339 appendix A has no fractions
                             {"PT0,5S", false},
                             {"P1e2D", false},
                             {"P-1D", false},
                             {"-P1D", false},
                             {"P1D2T3H", false},
                             {"p1d", false},  // designators are upper-case
                             {" P1D", false},
                             {"P1D ", false},
                             {"P1D\n", false},
                             {"P\xe0\xa7\xa8Y", false},
                             {"", false},
                         });
}

TEST_CASE("formats: email") {
  expect_all("email", {
                          {"joe.bloggs@example.com", true},
                          {"te~st@example.com", true},
                          {"~test@example.com", true},
                          {"test~@example.com", true},
                          {"te.s.t@example.com", true},
                          {"a!#$%&'*+-/=?^_`{|}~@example.com", true},
                          {"test@io", true},  // single-label domain
                          {"test@123.com", true},
                          {"test@c--n.com", true},
                          {"test@255.255.255.255", true},
                          {"joe.bloggs@[127.0.0.1]", true},
                          {"joe.bloggs@[IPv6:::1]", true},
                          {"a@[ipv6:::1]", true},
                          {"a@[IPv6:2001:db8::1]", true},
                          // Quoted local parts (RFC 5321 Quoted-string) are accepted.
                          {"\"joe bloggs\"@example.com", true},
                          {"\"joe..bloggs\"@example.com", true},
                          {"\"joe@bloggs\"@example.com", true},
                          {"\"\"@iana.org", true},
                          {"\" \"@iana.org", true},
                          {"\"\\a\"@iana.org", true},
                          {"\"\\\"\"@iana.org", true},
                          {"\"\\\\\"@iana.org", true},
                          {"\"test\\\xc2\xa9\"@iana.org", false},
                          {"\"test@iana.org", false},
                          {"\"test\"test@iana.org", false},
                          {"test\"@iana.org", false},
                          {"2962", false},
                          {"", false},
                          {"@example.com", false},
                          {"joe.bloggs@", false},
                          {".test@example.com", false},
                          {"test.@example.com", false},
                          {"te..st@example.com", false},
                          {"joe bloggs@example.com", false},
                          {"joe.bloggs@invalid=domain.com", false},
                          {"joe.bloggs@[127.0.0.300]", false},
                          {"a@[]", false},
                          {"a@[1.2.3]", false},
                          {"a@[1.2.3.4.5]", false},
                          {"test@[1.2.3.4", false},
                          {"test@[RFC-5322-domain-literal]", false},
                          {"test@a[255.255.255.255]", false},
                          {"a@[IPv6:1::2::3]", false},
                          {"a@[IPv6:]", false},
                          {"user1@oceania.org, user2@oceania.org", false},
                          {"\"Winston Smith\" <winston.smith@recdep.minitrue>", false},
                          {"a@b@c.org", false},
                          {"test\\@test@iana.org", false},
                          {"[1.2.3.4]@iana.org", false},
                          {"a,b@iana.org", false},
                          {"a;b@iana.org", false},
                          {"a:b@iana.org", false},
                          {"test(comment)@iana.org", false},
                          {"a@b(c).org", false},
                          {"test@-iana.org", false},
                          {"test@iana-.com", false},
                          {"test@.iana.org", false},
                          {"test@iana.org.", false},
                          {"test@iana..com", false},
                          {"a\xc3\xa9@iana.org", false},
                          {"a@\xc3\xa9.org", false},
                          {"a\xef\xbc\xa0iana.org", false},
                          {"test@iana.org\n", false},
                          {"test@iana.org\r", false},
                          {"a@iana.org ", false},
                          {" a@iana.org", false},
                          {"a\tb@iana.org", false},
                          {"\x7f@iana.org", false},
                      });
}

TEST_CASE("formats: hostname") {
  const std::string label63 = repeat('a', 63);
  const std::string label64 = repeat('a', 64);
  // 4 labels of 63 plus 3 dots = 255; trim to exactly 253 and 254.
  const std::string long_name = label63 + "." + label63 + "." + label63 + "." + label63;
  const std::string name253 = long_name.substr(0, 253);
  const std::string name254 = long_name.substr(0, 251) + ".ab";
  CHECK(name253.size() == 253);
  CHECK(name254.size() == 254);
  expect_all("hostname", {
                             {"www.example.com", true},
                             {"localhost", true},
                             {"a", true},
                             {"xn--4gbwdl.xn--wgbh1c", true},
                             {"1host", true},  // RFC 1123 allows a leading digit
                             {"host1", true},
                             {"123.com", true},
                             {"a-b--c.com", true},
                             {"EXAMPLE.com", true},
                             {label63 + ".com", true},
                             {label64 + ".com", false},
                             {name253, true},
                             {name254, false},
                             {"-hostname", false},
                             {"hostname-", false},
                             {"a.-b.com", false},
                             {"a.b-.com", false},
                             {"-a-host-name-that-starts-with--", false},
                             {"not_a_valid_host_name", false},
                             {"_hostname", false},
                             {"hostname_", false},
                             {"host name", false},
                             {"example..com", false},
                             {".example.com", false},
                             {"example.com.", false},  // no trailing root dot
                             {".", false},
                             {"", false},
                             {"ex\xc3\xa4mple.com", false},
                         });
}

TEST_CASE("formats: ipv4") {
  expect_all("ipv4", {
                         {"192.168.0.1", true},
                         {"0.0.0.0", true},
                         {"255.255.255.255", true},
                         {"1.2.3.4", true},
                         {"10.0.100.9", true},
                         {"256.0.0.1", false},
                         {"1.2.3.256", false},
                         {"1.2.3.300", false},
                         {"1.2.3.1000", false},
                         {"01.2.3.4", false},  // leading zero
                         {"1.2.3.04", false},
                         {"1.2.3.00", false},
                         {"127.0.0.0.1", false},
                         {"1.2.3", false},
                         {"1.2.3.", false},
                         {".1.2.3", false},
                         {"1..2.3", false},
                         {"0x7f000001", false},
                         {"2130706433", false},
                         {"1.2.3.4 ", false},
                         {" 1.2.3.4", false},
                         {"1.2.3.4/8", false},
                         {"1.2.3.4:80", false},
                         {"1.2.3.4\n", false},
                         {"1.2.3.4\t", false},
                         {"1. 2.3.4", false},
                         {"127.1", false},  // inet_aton shorthand
                         {"127.0.1", false},
                         {"0x7f.0.0.1", false},
                         {"0o10.0.0.1", false},
                         {"1e2.0.0.1", false},
                         {"192.168.a.1", false},
                         {"-1.2.3.4", false},
                         {"+1.2.3.4", false},
                         {"1.2.3.\xe0\xa7\xaa", false},
                         {"::1", false},
                         {"", false},
                     });
}

TEST_CASE("formats: ipv6") {
  expect_all("ipv6", {
                         {"::", true},
                         {"::1", true},
                         {"1::", true},
                         {"d6::", true},
                         {"::abef", true},
                         {"::42:ff:1", true},
                         {"1:d6::42", true},
                         {"1:2:3:4:5:6:7:8", true},
                         {"2001:DB8:0:0:8:800:200C:417A", true},
                         {"fe80::1:2:3:4:5:6", true},
                         {"1:2:3:4:5:6:7::", true},
                         {"::2:3:4:5:6:7:8", true},
                         {"::ffff:1.2.3.4", true},
                         {"::ffff:192.168.0.1", true},
                         {"1::d6:192.168.0.1", true},
                         {"1:2::192.168.0.1", true},
                         {"1:2:3:4:5:6:1.2.3.4", true},
                         {"::1.2.3.4", true},
                         {"1000:1000:1000:1000:1000:1000:255.255.255.255", true},
                         {"", false},
                         {":", false},
                         {":::", false},
                         {"1", false},
                         {"12345::", false},
                         {"::abcef", false},
                         {"::laptop", false},
                         {"1:2:3:4:5:6:7:8:9", false},  // too many groups
                         {"1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1", false},
                         {"1:2:3:4:5:6:7:8::", false},  // "::" must stand for a group
                         {"::1:2:3:4:5:6:7:8", false},
                         {"1:2:3:4:5:6:7", false},
                         {"1::d6::42", false},  // two "::"
                         {"::1::", false},
                         {"1:2:3:4:5:::8", false},
                         {":2:3:4:5:6:7:8", false},
                         {"1:2:3:4:5:6:7:", false},
                         {":2:3:4::8", false},
                         {"1::2:192.168.256.1", false},
                         {"1::2:192.168.ff.1", false},
                         {"::ffff:256.1.1.1", false},
                         {"::ffff:01.1.1.1", false},
                         {"1:2:3:4:1.2.3", false},
                         {"1:2:3:4:5:6:7:1.2.3.4", false},  // embedded ipv4 is two groups
                         {"100:100:100:100:100:100:255.255.255.255.255", false},
                         {"1.2.3.4::", false},
                         {"1.2.3.4:1::", false},
                         {"127.0.0.1", false},
                         {"  ::1", false},
                         {"::1  ", false},
                         {"fe80::/64", false},
                         {"fe80::a%eth1", false},
                         {"[::1]", false},
                         {"1:2:3:4:5:6:7:\xe0\xa7\xaa", false},
                         {"1:2::192.16\xe0\xa7\xaa.0.1", false},
                     });
}

TEST_CASE("formats: uri") {
  expect_all("uri", {
                        {"http://foo.bar/?baz=qux#quux", true},
                        {"http://foo.com/blah_(wikipedia)_blah#cite-1", true},
                        {"http://foo.bar/?q=Test%20URL-encoded%20stuff", true},
                        {"http://xn--nw2a.xn--j6w193g/", true},
                        {"http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com", true},
                        {"http://223.255.255.254", true},
                        {"ftp://ftp.is.co.za/rfc/rfc1808.txt", true},
                        {"ldap://[2001:db8::7]/c=GB?objectClass?one", true},
                        {"http://[v1.fe80::a+en1]/", true},  // IPvFuture
                        {"mailto:John.Doe@example.com", true},
                        {"news:comp.infosystems.www.servers.unix", true},
                        {"tel:+1-816-555-1212", true},
                        {"urn:oasis:names:specification:docbook:dtd:xml:4.1.2", true},
                        {"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", true},
                        {"file:///etc/hosts", true},
                        {"a:", true},  // scheme and an empty path
                        {"x+y-z.1:rest", true},
                        {"http://a.com:", true},
                        {"http://a.com:999999999", true},
                        {"http://:80", true},
                        {"http://@a.com", true},
                        {"http://user@", true},
                        {"http://user:pass@host:8080/p/a/t/h?query#frag", true},
                        {"http://!$&'()*+,;=.com", true},
                        {"http://example.com.", true},
                        {"http://exa~mple.com/", true},
                        {"http://under_score.com/", true},
                        {"http://087.10.0.1/", true},  // a reg-name
                        {"http://999.999.999.999/", true},
                        {"http://example.com/a?b?c/d#e?f/g", true},
                        {"http://example.com/%7Efoo%7e", true},
                        {"//foo.bar/?baz=qux#quux", false},
                        {"/abc", false},
                        {"abc", false},
                        {"", false},
                        {":", false},
                        {"\\\\WINDOWS\\fileshare", false},
                        {"http:// shouldfail.com", false},
                        {":// should fail", false},
                        {"bar,baz:foo", false},
                        {"1http://example.com", false},
                        {"ht_tp://example.com", false},
                        {"https://[@example.org/test.txt", false},
                        {"http://[::1", false},
                        {"http://[1::2::3]/", false},
                        {"http://[::1]x/", false},
                        {"http://[v1.]/", false},
                        {"https://example.org/foobar\xc2\xae.txt", false},
                        {"https://example.org/foobar\\.txt", false},
                        {"https://example.org/foobar\".txt", false},
                        {"https://example.org/foobar<>.txt", false},
                        {"https://example.org/foobar{}.txt", false},
                        {"https://example.org/foobar^.txt", false},
                        {"https://example.org/foobar`.txt", false},
                        {"https://example.org/foo bar.txt", false},
                        {"https://example.org/foobar|.txt", false},
                        {"http://example.com/%6G", false},
                        {"http://example.com/%A", false},
                        {"http://example.com/%", false},
                        {"http://example.com/?q=%zz", false},
                        {"http://example.com/#%", false},
                        {"http://example.com/#a#b", false},
                        {"http://example.com:abc/path", false},
                        {"http://a.com:8:0", false},
                        {"http://a.com::", false},
                        {"http://a b.com/", false},
                        {"http://example.com/\n", false},
                    });
}

TEST_CASE("formats: uuid") {
  expect_all("uuid", {
                         {"2eb8aa08-aa98-11ea-b4aa-73b441d16380", true},
                         {"2EB8AA08-AA98-11EA-B4AA-73B441D16380", true},
                         {"2eb8aa08-AA98-11ea-B4Aa-73B441D16380", true},
                         {"00000000-0000-0000-0000-000000000000", true},
                         {"ffffffff-ffff-ffff-ffff-ffffffffffff", true},
                         {"98d80576-482e-427f-8434-7f86890ab222", true},
                         {"99c17cbb-656f-564a-940f-1a4568f03487", true},  // version 5
                         {"2eb8aa08-aa98-11ea-b4aa-73b441d1638", false},
                         {"2eb8aa08-aa98-11ea-b4aa-73b441d163800", false},
                         {"2eb8aa08-aa98-11ea-73b441d16380", false},
                         {"2eb8aa08-aa98-11ea-b4ga-73b441d16380", false},
                         {"2eb8aa08aa9811eab4aa73b441d16380", false},
                         {"2eb8aa08aa98-11ea-b4aa-73b441d16380-", false},
                         {"2eb8-aa08-aa98-11ea-b4aa73b441d16380", false},
                         {"{2eb8aa08-aa98-11ea-b4aa-73b441d16380}", false},
                         {"urn:uuid:2eb8aa08-aa98-11ea-b4aa-73b441d16380", false},
                         {" 2eb8aa08-aa98-11ea-b4aa-73b441d1638", false},
                         {"", false},
                     });
}

// The core suite's format.json only checks that format is an annotation by
// default. Its string examples for the formats we know are all invalid values,
// so they must fail when asserted, and unknown formats must pass.
TEST_CASE("formats: JSON-Schema-Test-Suite format.json examples") {
  const std::string path =
      std::string(EV_SHARED_DIR) + "/corpora/json-schema-test-suite/tests/draft2020-12/format.json";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto error = parser.load(path).get(root);
  REQUIRE_MESSAGE(error == simdjson::SUCCESS, path << ": " << simdjson::error_message(error));
  simdjson::dom::array groups;
  REQUIRE(root.get_array().get(groups) == simdjson::SUCCESS);
  int known = 0;
  int unknown = 0;
  for (simdjson::dom::element group : groups) {
    std::string_view format;
    REQUIRE(group["schema"]["format"].get_string().get(format) == simdjson::SUCCESS);
    simdjson::dom::array tests;
    REQUIRE(group["tests"].get_array().get(tests) == simdjson::SUCCESS);
    for (simdjson::dom::element test : tests) {
      std::string_view data;
      if (test["data"].get_string().get(data) != simdjson::SUCCESS) continue;  // non-strings pass
      if (is_known_format(format)) {
        ++known;
        CHECK_MESSAGE(!check_format(format, data), std::string(format)
                                                       << " \"" << std::string(data) << "\"");
      } else {
        ++unknown;
        CHECK(check_format(format, data));
      }
    }
  }
  MESSAGE("format.json: " << known << " known-format and " << unknown
                          << " unknown-format string examples");
  CHECK(known == 10);
  CHECK(unknown >= 1);
}

}  // namespace
}  // namespace ev::validate
