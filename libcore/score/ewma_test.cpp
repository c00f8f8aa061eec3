#include "libcore/score/ewma.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "libcore/state/snapshot.h"
#include "libcore/testing/temp_dir.h"

namespace ev::score {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// The definition, written out: every event of a key with its weight at the time of
// the key's newest event, and the two-pass weighted mean and population variance.
// A late event counts as arriving at the newest time so far.
class Reference {
 public:
  Reference(int64_t half_life, uint64_t warmup) : h_(half_life), warmup_(warmup) {}

  std::optional<double> observe(const std::string& key, int64_t t, double x) {
    auto [it, inserted] = keys_.try_emplace(key);
    History& k = it->second;
    std::optional<double> z;
    if (!inserted && k.events.size() >= warmup_) {
      double sum_w = 0, sum_wx = 0;
      for (auto [ti, xi] : k.events) {
        const double w =
            std::pow(2.0, -static_cast<double>(k.newest - ti) / static_cast<double>(h_));
        sum_w += w;
        sum_wx += w * xi;
      }
      const double mean = sum_wx / sum_w;
      double sum_wd2 = 0;
      for (auto [ti, xi] : k.events) {
        const double w =
            std::pow(2.0, -static_cast<double>(k.newest - ti) / static_cast<double>(h_));
        sum_wd2 += w * (xi - mean) * (xi - mean);
      }
      const double var = sum_wd2 / sum_w;
      if (var > 0) z = (x - mean) / std::sqrt(var);
    }
    k.newest = inserted ? t : std::max(k.newest, t);
    k.events.emplace_back(k.newest, x);
    return z;
  }

 private:
  struct History {
    std::vector<std::pair<int64_t, double>> events;  // (time it counts at, value)
    int64_t newest = 0;
  };
  int64_t h_;
  uint64_t warmup_;
  std::map<std::string, History> keys_;
};

bool agree(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

// Whether `key` is held: a held key with two different values scores; a new one
// does not. Adds an event.
bool scores(EwmaTable& t, std::string_view key, int64_t at) {
  return t.observe(key, at, 1e6).has_value();
}

TEST_CASE("ewma: scores agree with the weighted mean and variance of all events") {
  const int64_t h = 60 * kSecond;
  EwmaTable table({.half_life_ns = h, .warmup = 5});
  Reference ref(h, 5);
  std::mt19937_64 rng(42);
  std::normal_distribution<double> value(100.0, 15.0);
  std::uniform_int_distribution<int64_t> step(0, h / 10);
  std::uniform_int_distribution<int> pick(0, 4);
  std::bernoulli_distribution late(0.1);
  int64_t t = 1'700'000'000 * kSecond;
  int scored = 0;
  for (int i = 0; i < 3000; ++i) {
    t += step(rng);
    const int64_t at = late(rng) ? t - step(rng) * 5 : t;  // out of order, up to H/2
    const std::string key = "k" + std::to_string(pick(rng));
    const double x = value(rng);
    const auto got = table.observe(key, at, x);
    const auto want = ref.observe(key, at, x);
    REQUIRE(got.has_value() == want.has_value());
    if (got) {
      CHECK_MESSAGE(agree(*got, *want), "event " << i << ": " << *got << " vs " << *want);
      ++scored;
    }
  }
  CHECK(scored == 3000 - 5 * 5);
  CHECK(table.size() == 5);
  CHECK(table.evicted() == 0);
}

TEST_CASE("ewma: a worked example") {
  EwmaTable table({.half_life_ns = kSecond});
  CHECK_FALSE(table.observe("a", 0, 0.0));
  // One event: S = 0, no variance yet.
  CHECK_FALSE(table.observe("a", kSecond, 2.0));
  // Decay 1/2: W = 1.5, m = 4/3, S = 4/3, variance 8/9.
  const auto z = table.observe("a", kSecond, 3.0);
  REQUIRE(z);
  CHECK(*z == doctest::Approx(5.0 / (2.0 * std::sqrt(2.0))).epsilon(1e-12));
  // Keys are separate.
  CHECK_FALSE(table.observe("b", kSecond, 3.0));
}

TEST_CASE("ewma: no score during warmup") {
  EwmaTable table({.half_life_ns = kSecond, .warmup = 3});
  CHECK_FALSE(table.observe("a", 0, 1.0));  // n = 0
  CHECK_FALSE(table.observe("a", 1, 2.0));  // n = 1
  CHECK_FALSE(table.observe("a", 2, 3.0));  // n = 2
  CHECK(table.observe("a", 3, 4.0));        // n = 3
  // Warmup 0 still needs a variance: the first two events of a key give none.
  EwmaTable eager({.half_life_ns = kSecond});
  CHECK_FALSE(eager.observe("a", 0, 1.0));
  CHECK_FALSE(eager.observe("a", 1, 2.0));
  CHECK(eager.observe("a", 2, 3.0));
}

TEST_CASE("ewma: zero variance gives no score; non-finite values are ignored") {
  EwmaTable table({.half_life_ns = kSecond});
  for (int i = 0; i < 10; ++i) CHECK_FALSE(table.observe("a", i * kSecond, 7.0));
  CHECK_FALSE(table.observe("a", 10 * kSecond, 8.0));  // scored against S = 0
  const auto z = table.observe("a", 11 * kSecond, 8.0);
  REQUIRE(z);
  CHECK(*z > 0);
  // NaN and infinity neither score nor change the key.
  EwmaTable clean({.half_life_ns = kSecond});
  EwmaTable dirty({.half_life_ns = kSecond});
  for (EwmaTable* t : {&clean, &dirty}) {
    t->observe("a", 0, 1.0);
    t->observe("a", kSecond, 2.0);
  }
  CHECK_FALSE(dirty.observe("a", 2 * kSecond, std::nan("")));
  CHECK_FALSE(dirty.observe("a", 2 * kSecond, INFINITY));
  CHECK_FALSE(dirty.observe("new", 2 * kSecond, -INFINITY));
  CHECK(dirty.size() == 1);
  CHECK(*dirty.observe("a", 3 * kSecond, 5.0) == *clean.observe("a", 3 * kSecond, 5.0));
}

TEST_CASE("ewma: a late event counts as arriving at the key's newest time") {
  EwmaTable late({.half_life_ns = kSecond});
  EwmaTable on_time({.half_life_ns = kSecond});
  late.observe("a", 0, 0.0);
  on_time.observe("a", 0, 0.0);
  late.observe("a", kSecond, 2.0);
  on_time.observe("a", kSecond, 2.0);
  // 0.5 s late: no decay, and t0 stays at 1 s.
  CHECK(*late.observe("a", kSecond / 2, 5.0) == *on_time.observe("a", kSecond, 5.0));
  // The next event decays from 1 s, not from 0.5 s.
  CHECK(*late.observe("a", 2 * kSecond, 1.0) == *on_time.observe("a", 2 * kSecond, 1.0));
  CHECK(*late.observe("a", 3 * kSecond, 4.0) == *on_time.observe("a", 3 * kSecond, 4.0));
  // Times far apart do not overflow: the old state just decays away.
  EwmaTable far({.half_life_ns = kSecond});
  far.observe("a", INT64_MIN, 1.0);
  far.observe("a", INT64_MIN, 2.0);
  CHECK(far.observe("a", INT64_MAX, 3.0));
  CHECK_FALSE(far.observe("a", INT64_MAX, 4.0));  // everything before weighs 0: S = 0
}

TEST_CASE("ewma: a full table evicts the least recently observed key") {
  EwmaTable table({.half_life_ns = kSecond, .max_keys = 3});
  int64_t t = 0;
  for (const char* k : {"a", "b", "c"}) {
    table.observe(k, ++t, 0.0);
    table.observe(k, ++t, 1.0);
  }
  CHECK(table.size() == 3);
  CHECK(scores(table, "a", ++t));  // order now: b c a
  table.observe("d", ++t, 0.0);    // evicts b: c a d
  CHECK(table.evicted() == 1);
  CHECK(table.size() == 3);
  CHECK(scores(table, "c", ++t));        // a d c
  CHECK_FALSE(scores(table, "b", ++t));  // b is new again; evicts a: d c b
  CHECK(table.evicted() == 2);
  CHECK_FALSE(scores(table, "a", ++t));  // evicts d: c b a
  CHECK(table.evicted() == 3);
  CHECK(scores(table, "c", ++t));  // held since the start
  CHECK(table.size() == 3);
  // The slot vector stops growing at max_keys.
  EwmaTable bounded({.half_life_ns = kSecond, .max_keys = 1000});
  for (int i = 0; i < 5000; ++i) bounded.observe("k" + std::to_string(i), i, 1.0);
  CHECK(bounded.size() == 1000);
  CHECK(bounded.evicted() == 4000);
  CHECK(bounded.bytes() <= 1000 * EwmaTable::kSlotBytes + 2048 * 5);
}

TEST_CASE("ewma: bytes per key") {
  EwmaTable table({.half_life_ns = kSecond});
  for (uint64_t n = 1; n <= 200000; ++n) {
    table.observe(EwmaTable::digest(std::to_string(n)), 0, 1.0);
    if (n % 25000 == 0) {
      const double per_key = static_cast<double>(table.bytes()) / static_cast<double>(n);
      CHECK_MESSAGE(per_key >= 69.0, n << " keys: " << per_key << " bytes per key");
      CHECK_MESSAGE(per_key <= 141.0, n << " keys: " << per_key << " bytes per key");
    }
  }
}

TEST_CASE("ewma: a key's text is its XXH3-128 digest") {
  CHECK_FALSE(EwmaTable::digest("a") == EwmaTable::digest("b"));
  CHECK_FALSE(EwmaTable::digest("") == EwmaTable::digest(std::string_view("\0", 1)));
  EwmaTable table({.half_life_ns = kSecond});
  table.observe("user-1", 0, 1.0);
  table.observe(EwmaTable::digest("user-1"), 1, 2.0);
  CHECK(table.size() == 1);
  CHECK(table.observe("user-1", 2, 3.0));
}

struct Event {
  std::string key;
  int64_t t;
  double x;
};

std::vector<Event> random_events(uint64_t seed, int n, int keys, int64_t start) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> value(0.0, 1.0);
  std::uniform_int_distribution<int> pick(0, keys - 1);
  std::uniform_int_distribution<int64_t> step(-kSecond / 10, kSecond);
  std::vector<Event> out;
  int64_t t = start;
  for (int i = 0; i < n; ++i) {
    t += step(rng);
    out.push_back({"key-" + std::to_string(pick(rng)), t, value(rng)});
  }
  return out;
}

TEST_CASE("ewma: save and load give the same scores and the same evictions") {
  testing::TempDir dir;
  const std::string path = dir.at("state");
  const EwmaLimits limits{.half_life_ns = 10 * kSecond, .warmup = 3, .max_keys = 40};
  EwmaTable before(limits);
  for (const Event& e : random_events(1, 5000, 60, 0)) before.observe(e.key, e.t, e.x);
  REQUIRE(before.evicted() > 0);
  {
    auto w = state::SnapshotWriter::create(path, "ev-test");
    REQUIRE(w);
    before.save(**w);
    (*w)->u64(0xFEED);  // a record of the caller's after the table
    REQUIRE((*w)->commit());
  }
  EwmaTable after(limits);
  {
    auto r = state::SnapshotReader::open(path, "ev-test");
    REQUIRE(r);
    REQUIRE(after.load(**r));
    CHECK(*(*r)->u64() == 0xFEED);
    CHECK((*r)->remaining() == 0);
  }
  CHECK(after.size() == before.size());
  CHECK(after.evicted() == 0);
  const uint64_t evicted_before = before.evicted();
  int scored = 0;
  for (const Event& e : random_events(2, 5000, 60, 5000 * kSecond)) {
    const auto a = before.observe(e.key, e.t, e.x);
    const auto b = after.observe(e.key, e.t, e.x);
    REQUIRE(a.has_value() == b.has_value());
    if (a) {
      CHECK(std::bit_cast<uint64_t>(*a) == std::bit_cast<uint64_t>(*b));
      ++scored;
    }
    REQUIRE(after.evicted() == before.evicted() - evicted_before);
  }
  CHECK(scored > 1000);

  // A table with room for fewer keys keeps the newest and counts the rest as evicted.
  EwmaTable smaller({.half_life_ns = 10 * kSecond, .warmup = 3, .max_keys = 10});
  auto r = state::SnapshotReader::open(path, "ev-test");
  REQUIRE(r);
  REQUIRE(smaller.load(**r));
  CHECK(smaller.size() == 10);
  CHECK(smaller.evicted() == 30);
}

// Writes a snapshot whose records `fill` writes; returns load()'s status on a table
// that holds one key beforehand, and checks the table is unchanged when it fails.
Status load_from(const testing::TempDir& dir,
                 const std::function<void(state::SnapshotWriter&)>& fill) {
  const std::string path = dir.at("bad");
  {
    auto w = state::SnapshotWriter::create(path, "ev-test");
    REQUIRE(w);
    fill(**w);
    REQUIRE((*w)->commit());
  }
  EwmaTable table({.half_life_ns = kSecond});
  table.observe("held", 0, 1.0);
  table.observe("held", 1, 2.0);
  auto r = state::SnapshotReader::open(path, "ev-test");
  REQUIRE(r);
  Status st = table.load(**r);
  if (!st) {
    CHECK(table.size() == 1);
    CHECK(table.observe("held", 2, 3.0));
  }
  return st;
}

void record(state::SnapshotWriter& w, uint64_t low, double wt, double m, double s, uint64_t n) {
  w.u64(low);
  w.u64(0);
  w.u64(std::bit_cast<uint64_t>(wt));
  w.u64(std::bit_cast<uint64_t>(m));
  w.u64(std::bit_cast<uint64_t>(s));
  w.i64(0);
  w.u64(n);
}

TEST_CASE("ewma: a short or bad snapshot is a kState error and changes nothing") {
  testing::TempDir dir;
  auto is_state_error = [](const Status& st) {
    return !st && st.error().kind == ErrorKind::kState;
  };
  // The well-formed control.
  CHECK(load_from(dir, [](state::SnapshotWriter& w) {
    w.u64(2);
    record(w, 1, 1.5, 0.0, 1.0, 2);
    record(w, 2, 1.0, 0.0, 0.0, 1);
  }));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter&) {})));  // no count
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {     // one record short
    w.u64(3);
    record(w, 1, 1.5, 0.0, 1.0, 2);
    record(w, 2, 1.0, 0.0, 0.0, 1);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // a truncated record
    w.u64(1);
    w.u64(1);
    w.u64(0);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // a count past the bytes
    w.u64(UINT64_MAX);
    record(w, 1, 1.5, 0.0, 1.0, 2);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // W < 1
    w.u64(1);
    record(w, 1, 0.5, 0.0, 1.0, 2);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // NaN mean
    w.u64(1);
    record(w, 1, 1.5, std::nan(""), 1.0, 2);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // negative S
    w.u64(1);
    record(w, 1, 1.5, 0.0, -1.0, 2);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // n = 0
    w.u64(1);
    record(w, 1, 1.5, 0.0, 1.0, 0);
  })));
  CHECK(is_state_error(load_from(dir, [](state::SnapshotWriter& w) {  // a repeated key
    w.u64(2);
    record(w, 1, 1.5, 0.0, 1.0, 2);
    record(w, 1, 1.5, 0.0, 1.0, 2);
  })));
}

}  // namespace
}  // namespace ev::score
