#include "libcore/state/key_table.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace ev::state {
namespace {

// Spread-out digests, as XXH3 gives.
Hash128 key128(uint64_t i) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 31;
  uint64_t y = x * 0xBF58476D1CE4E5B9ull;
  y ^= y >> 29;
  return Hash128{x, y};
}
uint64_t key64(uint64_t i) { return key128(i).high; }

TEST_CASE("key table: first sighting is new, the next ones are repeats") {
  KeyTable<Hash128> table;
  for (uint64_t i = 0; i < 50000; ++i) CHECK_FALSE(table.see(key128(i), 7));
  for (uint64_t i = 0; i < 50000; ++i) CHECK(table.see(key128(i), 8));
  CHECK(table.live() == 50000);
  CHECK(table.occupied() == 50000);
  CHECK(table.evicted() == 0);
  CHECK_FALSE(table.contains(key128(50001)));
  // A zero digest (the empty marker) is still a key.
  CHECK_FALSE(table.see(Hash128{0, 0}, 1));
  CHECK(table.see(Hash128{0, 0}, 1));
}

TEST_CASE("key table: bytes per live key stay within 20-32 for 128-bit digests") {
  KeyTable<Hash128> table;
  for (uint64_t n = 1; n <= 400000; ++n) {
    table.see(key128(n), 1);
    if (n % 50000 == 0) {
      const double per_key = static_cast<double>(table.bytes()) / static_cast<double>(n);
      CHECK_MESSAGE(per_key <= 32.0, n << " keys: " << per_key << " bytes per key");
      CHECK(per_key >= 20.0);
    }
  }
  KeyTable<uint64_t> narrow;
  for (uint64_t n = 1; n <= 100000; ++n) narrow.see(key64(n), 1);
  CHECK(static_cast<double>(narrow.bytes()) / 100000.0 <= 19.5);
}

TEST_CASE("key table: ticks below the floor are dead and their slots are reused") {
  KeyTable<Hash128> table;
  for (uint64_t i = 0; i < 1000; ++i) table.see(key128(i), static_cast<uint32_t>(i));
  table.set_floor(500);
  CHECK(table.live() == 500);
  CHECK_FALSE(table.contains(key128(10)));
  CHECK(table.contains(key128(600)));
  CHECK_FALSE(table.see(key128(10), 900));  // forgotten: a new sighting
  CHECK(table.see(key128(10), 901));
  // A repeat raises the tick: the key outlives a floor past its first sighting.
  CHECK(table.see(key128(600), 2000));
  table.set_floor(1500);
  CHECK(table.contains(key128(600)));
  CHECK_FALSE(table.contains(key128(999)));
  table.set_floor(100);  // the floor never falls
  CHECK(table.floor() == 1500);
  // Dead entries do not make the table grow without end.
  KeyTable<Hash128> rolling;
  for (uint64_t i = 0; i < 200000; ++i) {
    rolling.see(key128(i), static_cast<uint32_t>(i));
    if (i >= 1000) rolling.set_floor(static_cast<uint32_t>(i - 1000));
  }
  CHECK(rolling.live() == 1001);
  CHECK(rolling.capacity() < 8 * 2000);
  CHECK(rolling.evicted() == 0);
}

// Inserts keys 0..n-1 with tick i and checks that the keys kept are exactly the newest.
template <class Key, class Make>
void check_evicts_oldest(KeyTable<Key>& table, uint64_t n, Make make) {
  for (uint64_t i = 0; i < n; ++i) table.see(make(i), static_cast<uint32_t>(i));
  uint64_t first_kept = n;
  for (uint64_t i = n; i-- > 0;) {
    if (!table.contains(make(i))) break;
    first_kept = i;
  }
  for (uint64_t i = 0; i < first_kept; ++i) {
    REQUIRE_MESSAGE(!table.contains(make(i)), "key " << i << " kept, but older than an evicted one");
  }
  CHECK(table.live() == n - first_kept);
  CHECK(table.evicted() == first_kept);
}

TEST_CASE("key table: --max-keys evicts the oldest, about 1/64 at a time, and counts them") {
  KeyTable<Hash128> table({.max_keys = 10000});
  check_evicts_oldest(table, 100000, key128);
  CHECK(table.occupied() <= 10000);
  CHECK(table.live() >= 10000 - 10000 / 32);
}

TEST_CASE("key table: the memory bound evicts the oldest too") {
  const uint64_t budget = 400 * 1024;
  KeyTable<uint64_t> table({.max_bytes = budget});
  check_evicts_oldest(table, 200000, key64);
  CHECK(table.bytes() <= budget);
  CHECK(table.live() > budget / KeyTable<uint64_t>::kSlotBytes / 2);
}

TEST_CASE("key table: equal ticks are evicted together rather than never") {
  KeyTable<Hash128> table({.max_keys = 1000});
  for (uint64_t i = 0; i < 5000; ++i) table.see(key128(i), 3);
  CHECK(table.occupied() <= 1000);
  CHECK(table.live() + table.evicted() == 5000);
  CHECK(table.contains(key128(4999)));
}

TEST_CASE("key table: rebase shifts ticks and the floor, dropping the dead") {
  KeyTable<Hash128> table;
  table.see(key128(1), 100);
  table.see(key128(2), 4000);
  table.set_floor(200);
  table.rebase(1000);
  CHECK(table.floor() == 0);
  CHECK(table.occupied() == 1);
  std::vector<uint32_t> ticks;
  table.for_each([&](const Hash128&, uint32_t t) { ticks.push_back(t); });
  CHECK(ticks == std::vector<uint32_t>{3000});
}

}  // namespace
}  // namespace ev::state
