#include "libcore/gen/generator.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ev::gen {
namespace {

struct Line {
  LineKind kind;
  std::string text;
  time::Timestamp now;  // the generator's now() right after the line
};

std::vector<Line> generate(const GenOptions& opt, size_t count) {
  Generator gen(opt);
  std::vector<Line> lines;
  lines.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Line line;
    line.kind = gen.next(line.text);
    line.now = gen.now();
    lines.push_back(std::move(line));
  }
  return lines;
}

// Days since 1970-01-01 (Hinnant), independent of the generator's own conversion.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Strict "YYYY-MM-DDTHH:MM:SS.mmmZ" to milliseconds since the epoch; nullopt when the
// shape or any component is wrong.
std::optional<int64_t> parse_ts_ms(std::string_view s) {
  if (s.size() != 24) return std::nullopt;
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  for (size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int64_t y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  const int64_t h = num(11, 2), mi = num(14, 2), sec = num(17, 2), ms = num(20, 3);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  constexpr int64_t kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kMonthDays[mo - 1] + (mo == 2 && leap)) return std::nullopt;
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60'000 + sec * 1000 + ms;
}

int64_t floor_ms(time::Timestamp t) { return t / 1'000'000 - (t % 1'000'000 < 0 ? 1 : 0); }

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}
bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A checked event: every field present with the right type, keys in order.
struct Event {
  std::string event_id, user_id, session_id, type, page, country, os, app_version, referrer;
  int64_t ts_ms = 0;
  std::optional<double> amount;
};

// Fails the current test case (with the line) unless `text` is a well-formed event.
std::optional<Event> check_event(simdjson::dom::parser& parser, const std::string& text) {
  INFO("line: " << text);
  simdjson::dom::object obj;
  const auto error = parser.parse(text).get(obj);
  CHECK(error == simdjson::SUCCESS);
  if (error) return std::nullopt;

  Event ev;
  std::vector<std::string_view> keys;
  for (auto field : obj) keys.push_back(field.key);
  std::vector<std::string_view> expected = {"event_id", "user_id", "session_id", "type",    "ts",
                                            "page",     "country", "device",     "referrer"};
  std::string_view type;
  CHECK(obj["type"].get(type) == simdjson::SUCCESS);
  if (type == "purchase") expected.insert(expected.begin() + 6, "amount");
  CHECK(keys == expected);
  if (keys != expected) return std::nullopt;

  auto str = [&](simdjson::dom::element e) {
    std::string_view v;
    CHECK(e.get(v) == simdjson::SUCCESS);
    return std::string(v);
  };
  ev.event_id = str(obj["event_id"]);
  ev.user_id = str(obj["user_id"]);
  ev.session_id = str(obj["session_id"]);
  ev.type = str(obj["type"]);
  const std::string ts = str(obj["ts"]);
  ev.page = str(obj["page"]);
  ev.country = str(obj["country"]);
  ev.referrer = str(obj["referrer"]);
  simdjson::dom::object device;
  CHECK(obj["device"].get(device) == simdjson::SUCCESS);
  ev.os = str(device["os"]);
  ev.app_version = str(device["app_version"]);
  CHECK(device.size() == 2);
  if (ev.type == "purchase") {
    double amount = 0;
    CHECK(obj["amount"].get(amount) == simdjson::SUCCESS);
    ev.amount = amount;
  }

  CHECK(ev.event_id.size() == 32);
  CHECK(is_hex(ev.event_id));
  CHECK(ev.user_id.size() >= 7);
  CHECK(ev.user_id[0] == 'u');
  CHECK(is_digits(std::string_view(ev.user_id).substr(1)));
  CHECK(ev.session_id.size() == 9);
  CHECK(ev.session_id[0] == 's');
  CHECK(is_hex(std::string_view(ev.session_id).substr(1)));
  static const std::set<std::string> kTypes = {"page_view", "click",  "add_to_cart",
                                               "purchase",  "search", "login"};
  CHECK(kTypes.count(ev.type) == 1);
  const auto ts_ms = parse_ts_ms(ts);
  CHECK(ts_ms.has_value());
  ev.ts_ms = ts_ms.value_or(0);
  CHECK(ev.page.starts_with("/"));
  if (ev.type == "purchase") CHECK(ev.page == "/checkout");
  if (ev.type == "search") CHECK(ev.page.starts_with("/search?q="));
  if (ev.type == "click" || ev.type == "add_to_cart") CHECK(ev.page.starts_with("/products/"));
  if (ev.type == "login") CHECK(ev.page == "/login");
  CHECK(ev.country.size() == 2);
  CHECK(std::all_of(ev.country.begin(), ev.country.end(),
                    [](char c) { return c >= 'A' && c <= 'Z'; }));
  static const std::set<std::string> kOs = {"ios", "android", "web", "windows", "macos"};
  CHECK(kOs.count(ev.os) == 1);
  const std::string_view v = ev.app_version;  // "M.m.p"
  const size_t dot1 = v.find('.'), dot2 = v.rfind('.');
  CHECK(dot1 != std::string_view::npos);
  CHECK(dot2 > dot1);
  CHECK(is_digits(v.substr(0, dot1)));
  CHECK(is_digits(v.substr(dot1 + 1, dot2 - dot1 - 1)));
  CHECK(is_digits(v.substr(dot2 + 1)));
  CHECK((ev.referrer.empty() || ev.referrer.starts_with("https://")));
  return ev;
}

GenOptions messy(uint64_t seed) {
  GenOptions opt;
  opt.seed = seed;
  opt.duplicates = 0.05;
  opt.late = 0.05;
  opt.malformed = 0.05;
  return opt;
}

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3;
  return h;
}

}  // namespace

TEST_CASE("generator: the same options give the same bytes, another seed other bytes") {
  const auto a = generate(messy(7), 10'000);
  const auto b = generate(messy(7), 10'000);
  const auto c = generate(messy(8), 10'000);
  size_t same_as_c = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].text == b[i].text);
    REQUIRE(a[i].kind == b[i].kind);
    REQUIRE(a[i].now == b[i].now);
    same_as_c += a[i].text == c[i].text;
  }
  CHECK(same_as_c == 0);
}

TEST_CASE("generator: the output is pinned, so it stays the same across platforms") {
  // The bytes depend on nothing but the options: not on libm, locale or the standard
  // library's distributions. If the format is changed on purpose, update these values
  // and say so in the change: it alters every fixture made with ev-gen.
  Generator plain(GenOptions{});
  std::string first;
  plain.next(first);
  CHECK(first == R"({"event_id":"ddfdb48ab9ed4a21cde286865f7c5405","user_id":"u000329",)"
                 R"("session_id":"sdd6c683e","type":"page_view","ts":"2024-01-01T00:00:00.006Z",)"
                 R"("page":"/products/2307","country":"US","device":{"os":"android",)"
                 R"("app_version":"5.3.1"},"referrer":"https://duckduckgo.com/"})");

  GenOptions opt = messy(42);
  opt.users = 5000;
  Generator gen(opt);
  std::string out;
  uint64_t hash = 0xcbf29ce484222325;
  for (int i = 0; i < 5000; ++i) {
    out.clear();
    gen.next(out);
    hash = fnv1a(hash, out);
    hash = fnv1a(hash, "\n");
  }
  CHECK(hash == 0x7ad77d8582657d63);
}

TEST_CASE("generator: normal and late events are complete JSON objects; normal ts ascend") {
  simdjson::dom::parser parser;
  const auto lines = generate(messy(3), 20'000);
  int64_t last_ms = std::numeric_limits<int64_t>::min();
  size_t normal = 0, late = 0, purchases = 0;
  size_t bytes = 0;
  for (const Line& line : lines) {
    bytes += line.text.size();
    if (line.kind != LineKind::kNormal && line.kind != LineKind::kLate) continue;
    const auto ev = check_event(parser, line.text);
    REQUIRE(ev.has_value());
    if (line.kind == LineKind::kNormal) {
      ++normal;
      CHECK(ev->ts_ms >= last_ms);
      CHECK(ev->ts_ms == floor_ms(line.now));
      last_ms = ev->ts_ms;
    } else {
      ++late;
    }
    if (ev->type == "purchase") {
      ++purchases;
      REQUIRE(ev->amount.has_value());
      CHECK(*ev->amount > 0);
      // Two decimals, spelled out: "amount":49.99 or "amount":120.00.
      const size_t at = line.text.find(R"("amount":)") + 9;
      const size_t end = line.text.find(',', at);
      const std::string_view amount(line.text.data() + at, end - at);
      INFO("amount: " << amount);
      CHECK(amount.size() >= 4);
      CHECK(amount[amount.size() - 3] == '.');
      CHECK(is_digits(amount.substr(0, amount.size() - 3)));
      CHECK(is_digits(amount.substr(amount.size() - 2)));
    } else {
      CHECK(!ev->amount.has_value());
    }
  }
  CHECK(normal > 15'000);
  CHECK(late > 500);
  CHECK(purchases > 300);
  // Realistic line sizes.
  const double average = static_cast<double>(bytes) / static_cast<double>(lines.size());
  CHECK(average > 250);
  CHECK(average < 330);
}

TEST_CASE("generator: the type mix follows the documented shares") {
  GenOptions opt;
  simdjson::dom::parser parser;
  std::map<std::string, double> count;
  const auto lines = generate(opt, 100'000);
  for (const Line& line : lines) {
    REQUIRE(line.kind == LineKind::kNormal);
    simdjson::dom::element doc;
    REQUIRE(parser.parse(line.text).get(doc) == simdjson::SUCCESS);
    std::string_view type;
    REQUIRE(doc["type"].get(type) == simdjson::SUCCESS);
    count[std::string(type)] += 1.0 / static_cast<double>(lines.size());
  }
  CHECK(count["page_view"] == doctest::Approx(0.60).epsilon(0.02));
  CHECK(count["click"] == doctest::Approx(0.25).epsilon(0.04));
  CHECK(count["add_to_cart"] == doctest::Approx(0.08).epsilon(0.08));
  CHECK(count["purchase"] == doctest::Approx(0.03).epsilon(0.12));
  CHECK(count["search"] == doctest::Approx(0.03).epsilon(0.12));
  CHECK(count["login"] == doctest::Approx(0.01).epsilon(0.2));
  CHECK(count.size() == 6);
  // Gaps are exponential with mean `interval`: 100k events span ~1000 s.
  const double span = static_cast<double>(lines.back().now - opt.start);
  CHECK(span / 1e5 == doctest::Approx(static_cast<double>(opt.interval)).epsilon(0.02));
}

TEST_CASE("generator: duplicates are byte-exact copies of recent events, at the set rate") {
  GenOptions opt;
  opt.duplicates = 0.1;
  opt.late = 0.05;
  const auto lines = generate(opt, 100'000);
  std::vector<const std::string*> events;  // normal and late lines, in order
  std::unordered_set<std::string> ids;
  size_t duplicates = 0;
  for (const Line& line : lines) {
    const std::string id = line.text.substr(13, 32);
    if (line.kind == LineKind::kDuplicate) {
      ++duplicates;
      const size_t from = events.size() > 1024 ? events.size() - 1024 : 0;
      const bool found =
          std::any_of(events.begin() + static_cast<std::ptrdiff_t>(from), events.end(),
                      [&](const std::string* e) { return *e == line.text; });
      INFO("line: " << line.text);
      CHECK(found);
      CHECK(ids.count(id) == 1);
    } else {
      REQUIRE((line.kind == LineKind::kNormal || line.kind == LineKind::kLate));
      events.push_back(&line.text);
      CHECK(ids.insert(id).second);  // every new event has a new id
    }
  }
  CHECK(lines[0].kind != LineKind::kDuplicate);
  CHECK(static_cast<double>(duplicates) / 100'000.0 == doctest::Approx(0.1).epsilon(0.05));
}

TEST_CASE("generator: late events lie within max_late before now() and do not move it") {
  simdjson::dom::parser parser;
  GenOptions opt;
  opt.late = 0.2;
  opt.max_late = 5 * time::kNsPerSec;
  opt.interval = 100'000'000;
  const auto lines = generate(opt, 20'000);
  size_t late = 0, out_of_order = 0;
  int64_t last_normal_ms = std::numeric_limits<int64_t>::min();
  time::Timestamp previous_now = opt.start;
  for (const Line& line : lines) {
    const auto ev = check_event(parser, line.text);
    REQUIRE(ev.has_value());
    const int64_t ts_ns = ev->ts_ms * 1'000'000;
    if (line.kind == LineKind::kLate) {
      ++late;
      CHECK(line.now == previous_now);
      CHECK(ts_ns < line.now);
      CHECK(ts_ns >= line.now - opt.max_late);
      out_of_order += ev->ts_ms < last_normal_ms;
    } else {
      REQUIRE(line.kind == LineKind::kNormal);
      CHECK(line.now >= previous_now);
      last_normal_ms = ev->ts_ms;
    }
    previous_now = line.now;
  }
  CHECK(static_cast<double>(late) / 20'000.0 == doctest::Approx(0.2).epsilon(0.05));
  CHECK(out_of_order > late / 2);

  SUBCASE("a max_late below a millisecond leaves no earlier time: events stay normal") {
    opt.max_late = 999;
    for (const Line& line : generate(opt, 1000)) CHECK(line.kind == LineKind::kNormal);
  }
}

TEST_CASE("generator: malformed lines are all bad, and every variant occurs") {
  enum Variant { kTruncated, kArray, kScalar, kBadUtf8, kNul, kBadTime, kNoBrace, kCount };
  simdjson::dom::parser parser;
  GenOptions opt;
  opt.malformed = 0.5;
  const auto lines = generate(opt, 20'000);
  std::array<size_t, kCount> seen{};
  size_t malformed = 0;
  for (const Line& line : lines) {
    if (line.kind != LineKind::kMalformed) continue;
    ++malformed;
    const std::string& text = line.text;
    INFO("line: " << text);
    REQUIRE(!text.empty());
    if (text.find('\0') != std::string::npos) {
      ++seen[kNul];
      continue;
    }
    if (!simdjson::validate_utf8(text.data(), text.size())) {
      ++seen[kBadUtf8];
      continue;
    }
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc) == simdjson::SUCCESS) {
      if (doc.is_array()) {
        ++seen[kArray];
      } else if (doc.is_object()) {
        std::string_view ts;
        REQUIRE(doc["ts"].get(ts) == simdjson::SUCCESS);
        CHECK(!parse_ts_ms(ts).has_value());  // the only thing wrong must be the time
        ++seen[kBadTime];
      } else {
        ++seen[kScalar];
      }
      continue;
    }
    // Not JSON: a cut event, or one whose closing brace alone is missing.
    CHECK(text.starts_with(R"({"event_id":")"));
    if (parser.parse(text + "}").get(doc) == simdjson::SUCCESS) {
      CHECK(doc.is_object());
      ++seen[kNoBrace];
    } else {
      ++seen[kTruncated];
    }
  }
  CHECK(static_cast<double>(malformed) / 20'000.0 == doctest::Approx(0.5).epsilon(0.05));
  for (size_t v = 0; v < kCount; ++v) {
    INFO("variant " << v);
    CHECK(seen[v] > 500);  // ~1430 each
  }
}

TEST_CASE("generator: lines never hold a newline, are never empty and use no $ keys") {
  GenOptions opt = messy(11);
  opt.malformed = 0.3;
  opt.users = std::numeric_limits<uint64_t>::max();  // the longest user ids, 20 digits
  Generator gen(opt);
  std::string out;
  for (int i = 0; i < 50'000; ++i) {
    out.clear();
    gen.next(out);
    REQUIRE(!out.empty());
    REQUIRE(out.size() < 512);
    REQUIRE(out.find('\n') == std::string::npos);
    REQUIRE(out.find("\"$") == std::string::npos);
  }
}

TEST_CASE("generator: appends to the string it is given") {
  Generator gen(GenOptions{});
  std::string out = "prefix|";
  gen.next(out);
  const size_t first = out.size();
  gen.next(out);
  CHECK(out.starts_with(R"(prefix|{"event_id":")"));
  CHECK(out.find(R"(}{"event_id":")") == first - 1);
}

TEST_CASE("generator: users are bounded, skewed, and keep their country") {
  simdjson::dom::parser parser;
  GenOptions opt;
  opt.users = 1000;
  std::map<std::string, size_t> events;
  std::map<std::string, std::string> country;
  const auto lines = generate(opt, 100'000);
  for (const Line& line : lines) {
    const auto ev = check_event(parser, line.text);
    REQUIRE(ev.has_value());
    CHECK(ev->user_id.size() == 7);
    ++events[ev->user_id];
    auto [it, inserted] = country.emplace(ev->user_id, ev->country);
    if (!inserted) CHECK(it->second == ev->country);
  }
  CHECK(events.size() <= 1000);
  CHECK(events.size() > 900);
  // The first 1 % of ids (u000000..u000009) have ~10 % of the activity.
  size_t heavy = 0;
  for (int i = 0; i < 10; ++i) heavy += events["u00000" + std::to_string(i)];
  CHECK(heavy > 7'000);
  CHECK(heavy < 13'000);
}

TEST_CASE("generator: user id width and odd user counts") {
  simdjson::dom::parser parser;
  auto user_ids = [&](uint64_t users) {
    GenOptions opt;
    opt.users = users;
    std::set<std::string> ids;
    for (const Line& line : generate(opt, 2000)) {
      const auto ev = check_event(parser, line.text);
      REQUIRE(ev.has_value());
      ids.insert(ev->user_id);
    }
    return ids;
  };
  CHECK(user_ids(0) == std::set<std::string>{"u000000"});
  CHECK(user_ids(1) == std::set<std::string>{"u000000"});
  CHECK(user_ids(3) == std::set<std::string>{"u000000", "u000001", "u000002"});
  CHECK(user_ids(1'000'000).begin()->size() == 7);
  CHECK(user_ids(1'000'001).begin()->size() == 8);
  const auto many = user_ids(std::numeric_limits<uint64_t>::max());  // the slot table is capped
  CHECK(many.begin()->size() == 21);
  CHECK(many.size() > 1900);
}

TEST_CASE("generator: a session ends after 30 minutes without events") {
  simdjson::dom::parser parser;
  GenOptions opt;
  opt.users = 1;
  opt.interval = 20 * 60 * time::kNsPerSec;  // mean gap 20 min: many gaps are longer
  std::optional<Event> previous;
  size_t renewed = 0, kept = 0;
  std::set<std::string> sessions;
  for (const Line& line : generate(opt, 3000)) {
    auto ev = check_event(parser, line.text);
    REQUIRE(ev.has_value());
    INFO("line: " << line.text);
    if (previous) {
      const int64_t gap_ms = ev->ts_ms - previous->ts_ms;
      if (gap_ms > 30 * 60'000 + 1) {
        ++renewed;
        CHECK(ev->session_id != previous->session_id);
        CHECK(sessions.count(ev->session_id) == 0);  // session ids do not repeat
        CHECK(!ev->referrer.starts_with("https://shop.example.com"));
      } else if (gap_ms < 30 * 60'000 - 1) {
        ++kept;
        CHECK(ev->session_id == previous->session_id);
        CHECK(ev->os == previous->os);
        CHECK(ev->app_version == previous->app_version);
        CHECK(ev->referrer == "https://shop.example.com" + previous->page);
      }
    }
    sessions.insert(ev->session_id);
    previous = std::move(ev);
  }
  CHECK(renewed > 500);
  CHECK(kept > 1000);
}

TEST_CASE("generator: probabilities of 1, out of range or NaN") {
  GenOptions opt;
  opt.malformed = 1.0;
  for (const Line& line : generate(opt, 100)) CHECK(line.kind == LineKind::kMalformed);

  opt = GenOptions{};
  opt.duplicates = 7.0;
  const auto dups = generate(opt, 100);
  CHECK(dups[0].kind == LineKind::kNormal);  // nothing to repeat yet
  for (size_t i = 1; i < dups.size(); ++i) {
    CHECK(dups[i].kind == LineKind::kDuplicate);
    CHECK(dups[i].text == dups[0].text);
  }

  opt = GenOptions{};
  opt.duplicates = -1;
  opt.late = std::numeric_limits<double>::quiet_NaN();
  opt.malformed = -0.5;
  for (const Line& line : generate(opt, 1000)) CHECK(line.kind == LineKind::kNormal);
}

TEST_CASE("generator: event time at the edges of the int64 range") {
  simdjson::dom::parser parser;
  SUBCASE("a zero interval keeps every event at the start") {
    GenOptions opt;
    opt.interval = 0;
    for (const Line& line : generate(opt, 100)) {
      CHECK(line.text.find(R"("ts":"2024-01-01T00:00:00.000Z")") != std::string::npos);
    }
  }
  SUBCASE("the clock saturates at the last representable time") {
    GenOptions opt;
    opt.start = std::numeric_limits<int64_t>::max() - 50'000'000;
    const auto lines = generate(opt, 100);
    CHECK(lines.back().now == std::numeric_limits<int64_t>::max());
    for (const Line& line : lines) CHECK(check_event(parser, line.text).has_value());
    CHECK(lines.back().text.find(R"("ts":"2262-04-11T23:47:16.854Z")") != std::string::npos);
  }
  SUBCASE("late events never go below the first representable time") {
    GenOptions opt;
    opt.start = std::numeric_limits<int64_t>::min();
    opt.late = 0.5;
    for (const Line& line : generate(opt, 200)) {
      const auto ev = check_event(parser, line.text);
      REQUIRE(ev.has_value());
      CHECK(ev->ts_ms >= floor_ms(std::numeric_limits<int64_t>::min()));
      CHECK(line.text.find(R"("ts":"1677-09-21T00:)") != std::string::npos);
    }
  }
  SUBCASE("times before 1970 are formatted with a floor, not a truncation") {
    GenOptions opt;
    opt.start = -1;  // 1969-12-31T23:59:59.999999999Z
    opt.interval = 0;
    const auto lines = generate(opt, 1);
    CHECK(lines[0].text.find(R"("ts":"1969-12-31T23:59:59.999Z")") != std::string::npos);
  }
}

// --- Profiles ---

namespace {

std::vector<std::string> profiles(const GenOptions& opt) {
  ProfileGenerator gen(opt);
  std::vector<std::string> rows;
  std::string row;
  while (gen.next(row)) {
    rows.push_back(row);
    row.clear();
  }
  return rows;
}

std::string padded_id(uint64_t user, size_t width) {
  std::string digits = std::to_string(user);
  return "u" + std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

// A checked profile row: keys in order, each value of its type and range.
struct Profile {
  std::string user_id, tier, signup, lang, ltv_text;
  int64_t age = 0;
  int64_t signup_day = 0;
  double ltv = 0;
};

std::optional<Profile> check_profile(simdjson::dom::parser& parser, const std::string& text) {
  INFO("row: " << text);
  simdjson::dom::object obj;
  const auto error = parser.parse(text).get(obj);
  CHECK(error == simdjson::SUCCESS);
  if (error) return std::nullopt;
  std::vector<std::string_view> keys;
  for (auto field : obj) keys.push_back(field.key);
  const std::vector<std::string_view> expected = {"user_id", "tier", "signup",
                                                  "age",     "lang", "ltv"};
  CHECK(keys == expected);
  if (keys != expected) return std::nullopt;
  auto str = [&](simdjson::dom::element e) {
    std::string_view v;
    CHECK(e.get(v) == simdjson::SUCCESS);
    return std::string(v);
  };
  Profile p;
  p.user_id = str(obj["user_id"]);
  p.tier = str(obj["tier"]);
  p.signup = str(obj["signup"]);
  p.lang = str(obj["lang"]);
  CHECK(obj["age"].get(p.age) == simdjson::SUCCESS);
  CHECK(obj["ltv"].get(p.ltv) == simdjson::SUCCESS);
  const size_t at = text.find(R"("ltv":)") + 6;
  p.ltv_text = text.substr(at, text.size() - 1 - at);

  CHECK(p.user_id.size() >= 7);
  CHECK(p.user_id[0] == 'u');
  CHECK(is_digits(std::string_view(p.user_id).substr(1)));
  static const std::set<std::string> kTiers = {"free", "plus", "pro"};
  CHECK(kTiers.count(p.tier) == 1);
  const auto day_ms = parse_ts_ms(p.signup + "T00:00:00.000Z");
  CHECK(day_ms.has_value());
  p.signup_day = day_ms.value_or(0) / 86'400'000;
  CHECK(p.age >= 18);
  CHECK(p.age <= 64);
  static const std::set<std::string> kLangs = {"de", "en", "fr", "es", "pt", "pl", "nl", "it"};
  CHECK(kLangs.count(p.lang) == 1);
  // Two decimals, spelled out, within the tier's range.
  const std::string_view ltv = p.ltv_text;
  CHECK(ltv.size() >= 4);
  CHECK(ltv[ltv.size() - 3] == '.');
  CHECK(is_digits(ltv.substr(0, ltv.size() - 3)));
  CHECK(is_digits(ltv.substr(ltv.size() - 2)));
  CHECK((ltv.size() == 4 || ltv[0] != '0'));
  const double lo = p.tier == "free" ? 0 : (p.tier == "plus" ? 10 : 50);
  const double hi = p.tier == "free" ? 29.99 : (p.tier == "plus" ? 409.99 : 3049.99);
  CHECK(p.ltv >= lo);
  CHECK(p.ltv <= hi);
  return p;
}

}  // namespace

TEST_CASE("profiles: the same seed gives the same rows, another seed other rows; pinned") {
  GenOptions opt;
  opt.users = 5000;
  const auto a = profiles(opt);
  const auto b = profiles(opt);
  opt.seed = 2;
  const auto c = profiles(opt);
  REQUIRE(a.size() == 5000);
  REQUIRE(a == b);
  REQUIRE(c.size() == 5000);
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
  CHECK(same < 50);

  // Pinned like the events: changing the format on purpose alters every fixture.
  CHECK(a[0] == R"({"user_id":"u000000","tier":"plus","signup":"2019-04-01","age":36,)"
                R"("lang":"pl","ltv":238.47})");
  uint64_t hash = 0xcbf29ce484222325;
  for (const std::string& row : a) hash = fnv1a(fnv1a(hash, row), "\n");
  CHECK(hash == 0xee0278ea37acf9c1);
}

TEST_CASE("profiles: one row per user id of the events, in id order, for any --users") {
  simdjson::dom::parser parser;
  for (uint64_t users : {0, 1, 3, 1000, 2500, 999'999, 1'000'000, 1'000'001, 12'345'678}) {
    INFO("users: " << users);
    GenOptions opt;
    opt.users = users;
    opt.seed = 5;
    ProfileGenerator table(opt);
    CHECK(table.users() == std::max<uint64_t>(users, 1));
    const size_t width = users <= 1'000'000 ? 6 : (users <= 10'000'000 ? 7 : 8);
    // Every event's user has a row, and the row's user_id is the event's byte for byte.
    std::set<std::string> event_ids;
    for (const Line& line : generate(opt, 3000)) {
      const auto ev = check_event(parser, line.text);
      REQUIRE(ev.has_value());
      event_ids.insert(ev->user_id);
      const uint64_t n = std::stoull(ev->user_id.substr(1));
      REQUIRE(n < table.users());
      std::string row;
      table.write(n, row);
      const auto p = check_profile(parser, row);
      REQUIRE(p.has_value());
      CHECK(p->user_id == ev->user_id);
    }
    CHECK(event_ids.begin()->size() == width + 1);
    if (users > 3000) continue;
    // Small tables in full: ids 0..users-1 in order, and nothing after the last.
    const auto rows = profiles(opt);
    REQUIRE(rows.size() == table.users());
    std::set<std::string> row_ids;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto p = check_profile(parser, rows[i]);
      REQUIRE(p.has_value());
      CHECK(p->user_id == padded_id(i, width));
      row_ids.insert(p->user_id);
    }
    CHECK(std::includes(row_ids.begin(), row_ids.end(), event_ids.begin(), event_ids.end()));
    std::string after = "x";
    ProfileGenerator done(opt);
    for (size_t i = 0; i < rows.size(); ++i) done.next(after);
    CHECK(!done.next(after));
    size_t bytes = 1;
    for (const std::string& row : rows) bytes += row.size();
    CHECK(after.size() == bytes);
  }
}

TEST_CASE("profiles: a smaller table is a prefix of a bigger one of the same id width") {
  GenOptions small, big;
  small.users = 2500;
  big.users = 3000;
  const auto a = profiles(small);
  const auto b = profiles(big);
  REQUIRE(b.size() == 3000);
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  // Row by row, write() gives what next() gives.
  ProfileGenerator gen(big);
  std::string row;
  gen.write(2999, row);
  CHECK(row == b[2999]);
}

TEST_CASE("profiles: fields in range, shares as documented, language follows the country") {
  simdjson::dom::parser parser;
  GenOptions opt;
  opt.users = 100'000;
  const auto rows = profiles(opt);
  REQUIRE(rows.size() == 100'000);
  std::map<std::string, double> tiers, langs;
  std::map<int64_t, size_t> ages;
  int64_t first_day = std::numeric_limits<int64_t>::max(), last_day = 0;
  std::vector<Profile> table;
  table.reserve(rows.size());
  for (const std::string& row : rows) {
    auto p = check_profile(parser, row);
    REQUIRE(p.has_value());
    tiers[p->tier] += 1e-5;
    langs[p->lang] += 1e-5;
    ++ages[p->age];
    first_day = std::min(first_day, p->signup_day);
    last_day = std::max(last_day, p->signup_day);
    table.push_back(std::move(*p));
  }
  CHECK(tiers["free"] == doctest::Approx(0.70).epsilon(0.02));
  CHECK(tiers["plus"] == doctest::Approx(0.22).epsilon(0.04));
  CHECK(tiers["pro"] == doctest::Approx(0.08).epsilon(0.06));
  CHECK(langs.size() == 8);
  CHECK(langs["en"] > 0.5);
  CHECK(ages.begin()->first == 18);
  CHECK(ages.rbegin()->first == 64);
  CHECK(ages[41] > ages[20] * 5);
  // The five years before 2024-01-01: 2019-01-01 to 2023-12-31.
  CHECK(first_day == days_from_civil(2019, 1, 1));
  CHECK(last_day == days_from_civil(2023, 12, 31));

  // Against the events of the same seed: the language of the user's country, 9 in 10.
  static const std::map<std::string, std::string> kLangOf = {
      {"DE", "de"}, {"CH", "de"}, {"FR", "fr"}, {"ES", "es"}, {"MX", "es"},
      {"BR", "pt"}, {"PL", "pl"}, {"NL", "nl"}, {"IT", "it"}};
  size_t checked = 0, agree = 0;
  std::set<std::string> seen;
  for (const Line& line : generate(opt, 50'000)) {
    const auto ev = check_event(parser, line.text);
    REQUIRE(ev.has_value());
    if (!seen.insert(ev->user_id).second) continue;
    const Profile& p = table[std::stoull(ev->user_id.substr(1))];
    REQUIRE(p.user_id == ev->user_id);
    const auto it = kLangOf.find(ev->country);
    ++checked;
    agree += p.lang == (it == kLangOf.end() ? "en" : it->second);
  }
  CHECK(checked > 5000);
  CHECK(static_cast<double>(agree) / static_cast<double>(checked) > 0.88);
  CHECK(static_cast<double>(agree) / static_cast<double>(checked) < 0.97);
}

TEST_CASE("profiles: signup follows --start, at the edges of the int64 range too") {
  simdjson::dom::parser parser;
  for (time::Timestamp start :
       {time::Timestamp{0}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max(), time::Timestamp{1'718'000'000'000'000'000}}) {
    INFO("start: " << start);
    GenOptions opt;
    opt.users = 2000;
    opt.start = start;
    const int64_t start_day = start / 86'400'000'000'000 - (start % 86'400'000'000'000 < 0);
    for (const std::string& row : profiles(opt)) {
      const auto p = check_profile(parser, row);
      REQUIRE(p.has_value());
      CHECK(p->signup_day < start_day);
      CHECK(p->signup_day >= start_day - 1826);
    }
  }
}

}  // namespace ev::gen
