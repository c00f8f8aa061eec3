#include "libcore/window/sketch.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "libcore/testing/temp_dir.h"

namespace ev::window {
namespace {

using testing::TempDir;

// Spread-out 64-bit digests, as XXH3 gives (splitmix64).
uint64_t digest(uint64_t i) {
  uint64_t z = i + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---- QuantileSketch helpers ----

std::vector<double> quantile_grid() {
  std::vector<double> qs;
  for (int i = 0; i <= 100; ++i) qs.push_back(i / 100.0);
  for (double q : {0.001, 0.005, 0.995, 0.999, 0.9999}) qs.push_back(q);
  return qs;
}

double exact_quantile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[rank];
}

QuantileSketch sketch_of(const std::vector<double>& values) {
  QuantileSketch s;
  for (double v : values) s.add(v);
  return s;
}

// Checks every grid quantile of `s` against the exact lower-rank quantile of `values`.
void check_accuracy(const QuantileSketch& s, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  REQUIRE(s.count() == values.size());
  CHECK(s.quantile(0) == values.front());
  CHECK(s.quantile(1) == values.back());
  int bad = 0;
  std::string first;
  for (double q : quantile_grid()) {
    const double want = exact_quantile(values, q);
    const double got = s.quantile(q);
    // 1% plus floating-point slack at bucket boundaries.
    const double allowed = QuantileSketch::kRelativeAccuracy * std::abs(want) * (1 + 1e-9);
    if (std::abs(got - want) > allowed) {
      if (bad++ == 0) {
        first = "q=" + std::to_string(q) + " want " + std::to_string(want) + " got " +
                std::to_string(got);
      }
    }
  }
  CHECK_MESSAGE(bad == 0, bad << " quantiles off by more than 1%; first: " << first);
}

std::vector<double> draw(size_t n, const std::function<double(std::mt19937_64&)>& gen,
                         uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(n);
  for (double& x : v) x = gen(rng);
  return v;
}

// ---- snapshot helpers ----

// The bytes save() writes for one sketch.
template <class Sketch>
std::string record_of(const TempDir& dir, const Sketch& s) {
  const std::string path = dir.at("record");
  {
    auto w = state::SnapshotWriter::create(path, "ev-test");
    REQUIRE(w.has_value());
    s.save(**w);
    REQUIRE((*w)->commit().has_value());
  }
  auto r = state::SnapshotReader::open(path, "ev-test");
  REQUIRE(r.has_value());
  std::string bytes((*r)->remaining(), '\0');
  REQUIRE((*r)->raw(bytes.data(), bytes.size()).has_value());
  return bytes;
}

// Loads `bytes`, as a snapshot holding just them, into `s`.
template <class Sketch>
Status load_record(const TempDir& dir, const std::string& bytes, Sketch& s) {
  const std::string path = dir.at("load");
  {
    auto w = state::SnapshotWriter::create(path, "ev-test");
    REQUIRE(w.has_value());
    (*w)->raw(bytes.data(), bytes.size());
    REQUIRE((*w)->commit().has_value());
  }
  auto r = state::SnapshotReader::open(path, "ev-test");
  REQUIRE(r.has_value());
  Status st = s.load(**r);
  if (st) CHECK((*r)->remaining() == 0);  // load() read exactly what save() wrote
  return st;
}

void check_corrupt(const Status& st) {
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kState);
  CHECK_MESSAGE(st.error().to_string().find("corrupt state") != std::string::npos,
                st.error().to_string());
}

// Every listed cut of `bytes` (cuts past the end ignored) fails to load and leaves `s` as
// it was.
template <class Sketch>
void check_truncations(const TempDir& dir, const std::string& bytes, Sketch s,
                       const std::vector<size_t>& cuts,
                       const std::function<bool(const Sketch&, const Sketch&)>& same) {
  const Sketch before = s;
  for (size_t cut : cuts) {
    if (cut >= bytes.size()) continue;
    CAPTURE(cut);
    check_corrupt(load_record(dir, bytes.substr(0, cut), s));
    CHECK(same(s, before));
  }
}

std::vector<size_t> all_cuts(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 0; i < n; ++i) cuts.push_back(i);
  return cuts;
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string le32(uint32_t v) { return le64(v).substr(0, 4); }

// ---------------------------------------------------------------------------
// QuantileSketch

TEST_CASE("sketch: quantiles within 1% of the exact lower-rank quantile") {
  SUBCASE("uniform") {
    auto v = draw(
        100000,
        [](std::mt19937_64& g) { return std::uniform_real_distribution<double>(0, 1000)(g); }, 1);
    check_accuracy(sketch_of(v), v);
  }
  SUBCASE("lognormal, spanning many orders of magnitude") {
    auto v = draw(
        100000, [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 3)(g); }, 2);
    check_accuracy(sketch_of(v), v);
  }
  SUBCASE("negative") {
    auto v = draw(
        50000, [](std::mt19937_64& g) { return -std::lognormal_distribution<double>(2, 1.5)(g); },
        3);
    check_accuracy(sketch_of(v), v);
  }
  SUBCASE("mixed sign with zeros") {
    auto v = draw(
        100000,
        [](std::mt19937_64& g) {
          if (std::uniform_int_distribution<int>(0, 9)(g) == 0) return 0.0;
          return std::normal_distribution<double>(3, 100)(g);
        },
        4);
    check_accuracy(sketch_of(v), v);
  }
  SUBCASE("few values, and repeated ones") {
    std::vector<double> v = {5, -2, 5, 5, 1e6, 0.001, -1e-3, 7, 7, 0};
    check_accuracy(sketch_of(v), v);
    std::vector<double> one = {-42.5};
    check_accuracy(sketch_of(one), one);
  }
}

TEST_CASE("sketch: values below 1e-9 in magnitude count as zeros") {
  QuantileSketch s;
  for (double v : {-1.0, 5e-10, -2e-10, 1.0, 3.0}) s.add(v);
  CHECK(s.count() == 5);
  CHECK(s.quantile(0.25) == 0.0);  // rank 1: -2e-10, reported as zero
  CHECK(s.quantile(0.5) == 0.0);   // rank 2: 5e-10
  CHECK(s.quantile(0) == -1.0);
  CHECK(s.quantile(1) == 3.0);
}

TEST_CASE("sketch: merged quantile sketches answer as one sketch of all the values") {
  auto a = draw(
      30000, [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 1)(g); }, 5);
  auto b = draw(
      30000,
      [](std::mt19937_64& g) {
        return std::lognormal_distribution<double>(10, 1)(g);  // buckets far above a's
      },
      6);
  auto c = draw(
      30000, [](std::mt19937_64& g) { return std::normal_distribution<double>(0, 50)(g); }, 7);
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), c.begin(), c.end());
  const QuantileSketch whole = sketch_of(all);

  // b merged into a aligns a store whose offset is above; c into b one whose offset is below.
  QuantileSketch merged = sketch_of(b);
  merged.merge(sketch_of(a));
  merged.merge(sketch_of(c));
  QuantileSketch empty;
  merged.merge(empty);
  REQUIRE(merged.count() == whole.count());
  for (double q : quantile_grid()) {
    CAPTURE(q);
    CHECK(merged.quantile(q) == whole.quantile(q));
  }
  check_accuracy(merged, all);

  QuantileSketch into_empty;
  into_empty.merge(whole);
  for (double q : quantile_grid()) CHECK(into_empty.quantile(q) == whole.quantile(q));

  QuantileSketch twice = whole;
  twice.merge(twice);
  std::vector<double> doubled = all;
  doubled.insert(doubled.end(), all.begin(), all.end());
  check_accuracy(twice, doubled);
}

TEST_CASE("sketch: a quantile store keeps at most kMaxBuckets, collapsing the lowest") {
  // 1.03^i for i < 3000 spans about 4400 buckets of 1%, one value per 1.5 buckets.
  std::vector<double> v;
  for (int i = 0; i < 3000; ++i) v.push_back(std::pow(1.03, i));
  std::vector<double> down(v.rbegin(), v.rend());
  std::vector<double> negative;
  for (double x : v) negative.push_back(-x);
  TempDir dir;
  for (const auto* values : {&v, &down, &negative}) {
    const QuantileSketch s = sketch_of(*values);
    CHECK(s.count() == 3000);
    // The record holds 4 u64 fields, then offset (8), size (4) and 8 bytes a bucket per store.
    const std::string record = record_of(dir, s);
    CHECK(record.size() <= 32 + 2 * 12 + 8 * QuantileSketch::kMaxBuckets);
    CHECK(record.size() >= 32 + 2 * 12 + 8 * (QuantileSketch::kMaxBuckets - 1));
    CHECK(s.bytes() <= sizeof(QuantileSketch) + 2 * 8 * QuantileSketch::kMaxBuckets);
    // The top 2048 buckets (the upper ~45% of the values) keep the guarantee.
    std::vector<double> sorted = *values;
    std::sort(sorted.begin(), sorted.end());
    const bool positive = sorted.back() > 0;
    for (double q = 0; q <= 1.0; q += 0.01) {
      if (positive ? q < 0.6 : q > 0.4) continue;
      const double want = exact_quantile(sorted, q);
      CAPTURE(q);
      CHECK(std::abs(s.quantile(q) - want) <= 0.01 * std::abs(want) * (1 + 1e-9));
    }
    CHECK(s.quantile(0) == sorted.front());
    CHECK(s.quantile(1) == sorted.back());
  }
  // Merging two full stores with little overlap stays bounded too.
  QuantileSketch low = sketch_of(v);
  std::vector<double> high;
  for (double x : v) high.push_back(x * 1e40);
  low.merge(sketch_of(high));
  CHECK(low.count() == 6000);
  CHECK(record_of(dir, low).size() <= 32 + 2 * 12 + 8 * QuantileSketch::kMaxBuckets);
  CHECK(std::abs(low.quantile(0.9) - exact_quantile(high, 0.8)) <=
        0.01 * exact_quantile(high, 0.8));
}

// ---------------------------------------------------------------------------
// DistinctCounter

void check_hll(uint64_t estimate, uint64_t truth) {
  const double se = 1.04 / std::sqrt(4096.0);
  const double err = std::abs(static_cast<double>(estimate) - static_cast<double>(truth)) /
                     static_cast<double>(truth);
  CHECK_MESSAGE(err <= 3 * se, "estimate " << estimate << " for " << truth);
}

TEST_CASE("sketch: distinct counts are exact up to kExactLimit") {
  DistinctCounter d;
  for (uint64_t i = 0; i < DistinctCounter::kExactLimit; ++i) {
    d.add(digest(i));
    d.add(digest(i / 2));  // repeats
  }
  CHECK(d.is_exact());
  CHECK(d.estimate() == DistinctCounter::kExactLimit);
  // Digests sharing top bits or home slots are still told apart.
  DistinctCounter close;
  for (uint64_t i = 0; i < 100; ++i) close.add(i << 20);
  close.add(0);  // the empty-slot marker is still a hash
  close.add(0);
  CHECK(close.estimate() == 100);
  // Past the limit it turns into a HyperLogLog.
  d.add(digest(DistinctCounter::kExactLimit));
  CHECK_FALSE(d.is_exact());
  check_hll(d.estimate(), DistinctCounter::kExactLimit + 1);
  for (uint64_t i = 0; i <= DistinctCounter::kExactLimit; ++i) d.add(digest(i));
  check_hll(d.estimate(), DistinctCounter::kExactLimit + 1);
}

TEST_CASE("sketch: HyperLogLog registers: index from the top 12 bits, rank from the rest") {
  // Register i gets rank (i % 40) + 1: its hash has i on top and the next bit set
  // (i % 40) bits below.
  DistinctCounter d;
  for (uint64_t i = 0; i <= DistinctCounter::kExactLimit; ++i) {
    d.add(i << 52 | uint64_t{1} << (51 - i % 40));
  }
  REQUIRE_FALSE(d.is_exact());
  d.add(uint64_t{4095} << 52);  // nothing below the index: the largest rank, 64 - 12 + 1
  TempDir dir;
  const std::string record = record_of(dir, d);
  REQUIRE(record.size() == 8 + 4096);
  CHECK(record.substr(0, 8) == le32(1) + le32(4096));
  bool ok = true;
  for (size_t i = 0; i < 4096; ++i) {
    const int want = i <= DistinctCounter::kExactLimit ? static_cast<int>(i % 40) + 1
                     : i == 4095                       ? 53
                                                       : 0;
    ok = ok && record[8 + i] == want;
  }
  CHECK(ok);
}

TEST_CASE("sketch: HyperLogLog estimates within 3 standard errors") {
  for (uint64_t n : {10000ull, 100000ull, 1000000ull}) {
    for (uint64_t seed : {1ull, 2ull, 3ull}) {
      CAPTURE(n);
      CAPTURE(seed);
      DistinctCounter d;
      for (uint64_t i = 0; i < n; ++i) d.add(digest(seed << 40 | i));
      for (uint64_t i = 0; i < n; i += 7) d.add(digest(seed << 40 | i));  // repeats
      CHECK_FALSE(d.is_exact());
      check_hll(d.estimate(), n);
      CHECK(d.bytes() <= sizeof(DistinctCounter) + 4096);
    }
  }
}

TEST_CASE("sketch: distinct counters merge") {
  auto counter = [](uint64_t from, uint64_t to, bool exact_only = false) {
    DistinctCounter d(exact_only);
    for (uint64_t i = from; i < to; ++i) d.add(digest(i));
    return d;
  };
  SUBCASE("exact + exact stays exact when the union fits") {
    DistinctCounter a = counter(0, 300);
    a.merge(counter(100, 400));
    CHECK(a.is_exact());
    CHECK(a.estimate() == 400);
    a.merge(a);
    CHECK(a.estimate() == 400);
  }
  SUBCASE("exact + exact past the limit becomes a HyperLogLog") {
    DistinctCounter a = counter(0, 300);
    a.merge(counter(300, 600));
    CHECK_FALSE(a.is_exact());
    check_hll(a.estimate(), 600);
  }
  SUBCASE("exact + HyperLogLog, either way round") {
    DistinctCounter a = counter(0, 200);
    a.merge(counter(100, 20000));
    CHECK_FALSE(a.is_exact());
    check_hll(a.estimate(), 20000);
    DistinctCounter b = counter(0, 50000);
    b.merge(counter(60000, 60200));
    CHECK_FALSE(b.is_exact());
    check_hll(b.estimate(), 50200);
  }
  SUBCASE("HyperLogLog + HyperLogLog is the union") {
    DistinctCounter a = counter(0, 100000);
    a.merge(counter(50000, 150000));
    check_hll(a.estimate(), 150000);
    // Taking register maxima: merging the same sketch again changes nothing.
    const uint64_t before = a.estimate();
    a.merge(counter(0, 100000));
    CHECK(a.estimate() == before);
  }
  SUBCASE("exact_only stays exact past the limit") {
    DistinctCounter a = counter(0, 5000, true);
    CHECK(a.is_exact());
    CHECK(a.estimate() == 5000);
    a.merge(counter(4000, 9000, true));
    CHECK(a.is_exact());
    CHECK(a.estimate() == 9000);
    a.merge(counter(0, 100));  // a plain exact counter
    CHECK(a.estimate() == 9000);
  }
}

// ---------------------------------------------------------------------------
// TopK

using Top = std::vector<std::pair<std::string_view, uint64_t>>;

uint64_t text_hash(std::string_view s) { return digest(std::hash<std::string_view>()(s)); }
void add(TopK& t, const std::string& s, uint64_t n = 1) { t.add(s, text_hash(s), n); }

TEST_CASE("sketch: top values are exact while under capacity") {
  TopK t(8);
  for (int i = 0; i < 3; ++i) add(t, "\"b\"");
  add(t, "\"a\"", 5);
  for (int i = 0; i < 3; ++i) add(t, "\"c\"");
  add(t, "1");
  add(t, "\"b\"", 0);  // no occurrence
  // Different values with one hash are different values.
  t.add("x", 42, 2);
  t.add("y", 42, 4);
  t.add("x", 42);
  CHECK(t.top(10) == Top{{"\"a\"", 5}, {"y", 4}, {"\"b\"", 3}, {"\"c\"", 3}, {"x", 3}, {"1", 1}});
  CHECK(t.top(2) == Top{{"\"a\"", 5}, {"y", 4}});
  CHECK(t.top(0).empty());
  CHECK(TopK(4).top(3).empty());
}

TEST_CASE("sketch: a new value past capacity replaces the least counted one") {
  TopK t(2);
  add(t, "a", 3);
  add(t, "b");
  add(t, "c");  // takes b's place and count
  CHECK(t.top(5) == Top{{"a", 3}, {"c", 2}});
  add(t, "b");  // takes c's
  CHECK(t.top(5) == Top{{"a", 3}, {"b", 3}});

  // A count bumped after the least one was found is not mistaken for the least.
  TopK u(3);
  for (const char* s : {"a", "b", "c"}) add(u, s);
  add(u, "a", 10);
  add(u, "c", 5);
  add(u, "d");
  CHECK(u.top(5) == Top{{"a", 11}, {"c", 6}, {"d", 2}});
}

// Space-Saving by linear scans: the least counted entry (the first of equals) is replaced.
struct ReferenceTopK {
  size_t capacity;
  std::vector<std::pair<std::string, uint64_t>> entries;
  void add(const std::string& s) {
    for (auto& e : entries) {
      if (e.first == s) {
        ++e.second;
        return;
      }
    }
    if (entries.size() < capacity) {
      entries.emplace_back(s, 1);
      return;
    }
    auto least = std::min_element(entries.begin(), entries.end(),
                                  [](const auto& x, const auto& y) { return x.second < y.second; });
    least->first = s;
    ++least->second;
  }
};

TEST_CASE("sketch: heavy hitters are found under capacity pressure") {
  const size_t capacity = 100;
  std::vector<std::string> stream;
  std::map<std::string, uint64_t> truth;
  const uint64_t heavy[] = {2000, 1500, 1000, 800, 600};
  for (int h = 0; h < 5; ++h) {
    for (uint64_t i = 0; i < heavy[h]; ++i) stream.push_back("h" + std::to_string(h));
  }
  // A long tail: 20000 singletons and 300 values seen 5 times each.
  for (int i = 0; i < 20000; ++i) stream.push_back("u" + std::to_string(i));
  for (int i = 0; i < 1500; ++i) stream.push_back("m" + std::to_string(i % 300));
  std::mt19937_64 rng(11);
  std::shuffle(stream.begin(), stream.end(), rng);
  for (const auto& s : stream) ++truth[s];
  const uint64_t bound = stream.size() / capacity;

  TopK t(capacity);
  ReferenceTopK ref{capacity, {}};
  for (const auto& s : stream) {
    add(t, s);
    ref.add(s);
  }
  const Top all = t.top(capacity);
  REQUIRE(all.size() == capacity);
  for (const auto& [text, count] : all) {
    const uint64_t real = truth[std::string(text)];
    CHECK(count >= real);
    CHECK(count - real <= bound);
  }
  // Every value seen more than n/capacity times is kept, and these are the top 5.
  std::vector<std::string> top5;
  for (const auto& [text, count] : t.top(5)) top5.emplace_back(text);
  std::sort(top5.begin(), top5.end());
  CHECK(top5 == std::vector<std::string>{"h0", "h1", "h2", "h3", "h4"});
  // And the hash index and the lazy minimum replace the same entries as plain scans.
  std::sort(ref.entries.begin(), ref.entries.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  REQUIRE(ref.entries.size() == all.size());
  bool same = true;
  for (size_t i = 0; i < all.size(); ++i) {
    same = same && all[i].first == ref.entries[i].first && all[i].second == ref.entries[i].second;
  }
  CHECK(same);
  CHECK(t.bytes() > capacity * sizeof(std::string));
}

TEST_CASE("sketch: merged top values add counts and keep the capacity largest") {
  TopK a(3), b(3);
  add(a, "a", 10);
  add(a, "b", 5);
  add(a, "c", 1);
  add(b, "a", 1);
  add(b, "d", 7);
  add(b, "e", 2);
  a.merge(b);
  CHECK(a.top(5) == Top{{"a", 11}, {"d", 7}, {"b", 5}});
  // The merged sketch keeps counting and evicting correctly.
  add(a, "b");
  add(a, "z");  // replaces b (6)
  CHECK(a.top(5) == Top{{"a", 11}, {"d", 7}, {"z", 7}});

  TopK x(10), y(10);
  add(x, "p", 2);
  add(y, "p", 3);
  add(y, "q", 1);
  x.merge(y);
  x.merge(TopK(10));
  CHECK(x.top(10) == Top{{"p", 5}, {"q", 1}});
  x.merge(x);
  CHECK(x.top(10) == Top{{"p", 10}, {"q", 2}});
}

// ---------------------------------------------------------------------------
// Snapshots

bool same_quantiles(const QuantileSketch& a, const QuantileSketch& b) {
  if (a.count() != b.count()) return false;
  if (a.count() == 0) return true;
  for (double q : quantile_grid()) {
    if (a.quantile(q) != b.quantile(q)) return false;
  }
  return true;
}
bool same_distinct(const DistinctCounter& a, const DistinctCounter& b) {
  return a.is_exact() == b.is_exact() && a.estimate() == b.estimate();
}
bool same_top(const TopK& a, const TopK& b) { return a.top(a.capacity()) == b.top(b.capacity()); }

TEST_CASE("sketch: quantile sketches save and load") {
  TempDir dir;
  auto v = draw(
      20000,
      [](std::mt19937_64& g) {
        if (std::uniform_int_distribution<int>(0, 9)(g) == 0) return 0.0;
        return std::normal_distribution<double>(0, 1000)(g);
      },
      8);
  const QuantileSketch s = sketch_of(v);
  const std::string record = record_of(dir, s);
  QuantileSketch loaded;
  loaded.add(1);  // replaced by the load
  REQUIRE(load_record(dir, record, loaded).has_value());
  CHECK(same_quantiles(loaded, s));
  loaded.add(5);
  QuantileSketch s5 = s;
  s5.add(5);
  CHECK(same_quantiles(loaded, s5));

  QuantileSketch empty;
  REQUIRE(load_record(dir, record_of(dir, QuantileSketch()), empty).has_value());
  CHECK(empty.count() == 0);

  const QuantileSketch small = sketch_of({3, -1, 0, 2.5});
  check_truncations<QuantileSketch>(dir, record_of(dir, small), small,
                                    all_cuts(record_of(dir, small).size()), same_quantiles);
  check_truncations<QuantileSketch>(
      dir, record, s, {0, 31, 40, record.size() / 2, record.size() - 1}, same_quantiles);

  // Inconsistent records.
  std::string more = record;
  more.replace(0, 8, le64(s.count() + 1));
  check_corrupt(load_record(dir, more, loaded));
  const std::string header = le64(0) + le64(0) + le64(0) + le64(0);
  check_corrupt(load_record(
      dir, header + le64(0) + le32(5000) + std::string(5000 * 8, '\0') + le64(0) + le32(0),
      loaded));  // too many buckets
  check_corrupt(
      load_record(dir, header + le64(uint64_t{1} << 40) + le32(1) + le64(0) + le64(0) + le32(0),
                  loaded));  // bucket far beyond any double
  CHECK(same_quantiles(loaded, s5));
}

TEST_CASE("sketch: distinct counters save and load") {
  TempDir dir;
  for (auto [n, exact_only] :
       {std::pair<uint64_t, bool>{0, false}, {300, false}, {50000, false}, {2000, true}}) {
    CAPTURE(n);
    DistinctCounter d(exact_only);
    for (uint64_t i = 0; i < n; ++i) d.add(digest(i));
    d.add(0);
    const std::string record = record_of(dir, d);
    DistinctCounter loaded(exact_only);
    REQUIRE(load_record(dir, record, loaded).has_value());
    CHECK(same_distinct(loaded, d));
    // Loaded hashes are the same hashes: adding them again changes nothing.
    for (uint64_t i = 0; i < n; i += 3) loaded.add(digest(i));
    loaded.add(0);
    CHECK(loaded.estimate() == d.estimate());
    loaded.add(digest(n + 1));
    d.add(digest(n + 1));
    CHECK(loaded.estimate() == d.estimate());
    const std::vector<size_t> cuts =
        record.size() < 200
            ? all_cuts(record.size())
            : std::vector<size_t>{0, 3, 4, 11, 12, record.size() / 2, record.size() - 1};
    check_truncations<DistinctCounter>(dir, record, d, cuts, same_distinct);
  }
  DistinctCounter loaded;
  check_corrupt(load_record(dir, le32(0) + le64(2) + le64(7) + le64(7), loaded));  // repeated
  check_corrupt(load_record(dir, le32(0) + le64(1) + le64(0), loaded));            // zero hash
  check_corrupt(load_record(dir, le32(0) + le64(1000) + le64(7), loaded));  // short of hashes
  std::string regs(4096, '\0');
  REQUIRE(load_record(dir, le32(1) + le32(4096) + regs, loaded).has_value());
  regs[17] = 54;
  check_corrupt(load_record(dir, le32(1) + le32(4096) + regs, loaded));  // rank > 64 - 12 + 1
  check_corrupt(load_record(dir, le32(1) + le32(1024) + regs.substr(0, 1024), loaded));
  check_corrupt(load_record(dir, le32(2), loaded));
}

TEST_CASE("sketch: top values save and load") {
  TempDir dir;
  TopK t(20);
  for (int i = 0; i < 2000; ++i) add(t, "v" + std::to_string(i % 37 * (i % 5)));
  add(t, std::string(100, 'x'), 50);  // longer than the small-string buffer
  const std::string record = record_of(dir, t);
  TopK loaded(20);
  add(loaded, "gone");
  REQUIRE(load_record(dir, record, loaded).has_value());
  CHECK(same_top(loaded, t));
  // Loaded state keeps behaving the same, evictions included.
  TopK again = t;
  for (int i = 0; i < 500; ++i) {
    add(loaded, "w" + std::to_string(i % 23));
    add(again, "w" + std::to_string(i % 23));
  }
  CHECK(same_top(loaded, again));

  TopK empty(20);
  REQUIRE(load_record(dir, record_of(dir, TopK(20)), empty).has_value());
  CHECK(empty.top(5).empty());

  TopK small(3);
  add(small, "a", 2);
  add(small, "b");
  const std::string small_record = record_of(dir, small);
  check_truncations<TopK>(dir, small_record, small, all_cuts(small_record.size()), same_top);
  check_truncations<TopK>(dir, record, t, {0, 8, 16, 20, record.size() / 2, record.size() - 1},
                          same_top);

  // Inconsistent records.
  TopK three(3);
  auto entry = [](const std::string& s, uint64_t hash, uint64_t count) {
    return le32(static_cast<uint32_t>(s.size())) + s + le64(hash) + le64(count);
  };
  REQUIRE(load_record(dir, le64(3) + le64(1) + entry("a", 1, 1), three).has_value());
  check_corrupt(load_record(dir, le64(4) + le64(1) + entry("a", 1, 1), three));  // capacity
  check_corrupt(load_record(
      dir,
      le64(3) + le64(4) + entry("a", 1, 1) + entry("b", 1, 1) + entry("c", 1, 1) + entry("d", 1, 1),
      three));                                                                   // > capacity
  check_corrupt(load_record(dir, le64(3) + le64(1) + entry("a", 1, 0), three));  // zero count
  check_corrupt(load_record(dir, le64(3) + le64(2) + entry("a", 1, 1) + entry("a", 1, 2),
                            three));  // repeated value
  CHECK(three.top(3) == Top{{"a", 1}});
}

}  // namespace
}  // namespace ev::window
