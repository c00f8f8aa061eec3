#include "libcore/state/key_table.h"

#include <algorithm>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace ev::state {
namespace {

// How a digest picks its shard (top byte) and its home slot inside the shard (bits
// independent of the shard byte, mapped onto any capacity by a multiply).
struct Bits128 {
  static uint64_t shard(const Hash128& k) { return k.high >> 56; }
  static uint64_t spread(const Hash128& k) { return k.low; }
  static bool empty(const Hash128& k) { return k.low == 0 && k.high == 0; }
  static Hash128 stored(Hash128 k) { return empty(k) ? Hash128{1, 0} : k; }
};
struct Bits64 {
  static uint64_t shard(uint64_t k) { return k >> 56; }
  static uint64_t spread(uint64_t k) { return k << 8 | k >> 56; }
  static bool empty(uint64_t k) { return k == 0; }
  static uint64_t stored(uint64_t k) { return k == 0 ? 1 : k; }
};
template <class Key>
using BitsOf = std::conditional_t<std::is_same_v<Key, Hash128>, Bits128, Bits64>;

uint64_t home(uint64_t spread, uint64_t cap) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(spread) * cap) >> 64);
}

// Slot arrays of 64 KiB and more are mapped straight from the kernel and unmapped
// when a shard moves: freed into malloc's heap, the old arrays of growing shards
// would stay resident as fragments (tens of MB for millions of keys).
constexpr size_t kMapFrom = 64 * 1024;

struct SlotsDeleter {
  size_t bytes = 0;
  void operator()(unsigned char* p) const {
    if (bytes >= kMapFrom) {
      ::munmap(p, bytes);
    } else {
      std::free(p);
    }
  }
};

// Zeroed memory for `n` slots of `slot` bytes.
std::unique_ptr<unsigned char[], SlotsDeleter> allocate_slots(uint64_t n, size_t slot) {
  const size_t bytes = n * slot;
  if (bytes == 0) return {nullptr, SlotsDeleter{0}};
  void* p;
  if (bytes >= kMapFrom) {
    p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
  } else {
    p = std::calloc(n, slot);
    if (p == nullptr) throw std::bad_alloc();
  }
  return {static_cast<unsigned char*>(p), SlotsDeleter{bytes}};
}

constexpr size_t kSample = 1024;

}  // namespace

template <class Key>
struct KeyTable<Key>::Shard {
  std::unique_ptr<unsigned char[], SlotsDeleter> slots;
  uint64_t cap = 0;
  uint64_t used = 0;

  unsigned char* at(uint64_t i) const { return slots.get() + i * kSlotBytes; }
  static Key key(const unsigned char* slot) {
    Key k;
    std::memcpy(&k, slot, sizeof(Key));
    return k;
  }
  static uint32_t tick(const unsigned char* slot) {
    uint32_t t;
    std::memcpy(&t, slot + sizeof(Key), sizeof(t));
    return t;
  }
  static void set_tick(unsigned char* slot, uint32_t t) {
    std::memcpy(slot + sizeof(Key), &t, sizeof(t));
  }
  static void set(unsigned char* slot, const Key& k, uint32_t t) {
    std::memcpy(slot, &k, sizeof(Key));
    set_tick(slot, t);
  }
  // Stores an entry known to be absent; requires a free slot.
  void put(const Key& k, uint32_t t) {
    uint64_t i = home(BitsOf<Key>::spread(k), cap);
    while (!BitsOf<Key>::empty(key(at(i)))) i = i + 1 == cap ? 0 : i + 1;
    set(at(i), k, t);
    ++used;
  }
};

template <class Key>
KeyTable<Key>::KeyTable(KeyTableLimits limits)
    : limits_(limits), shards_(std::make_unique<Shard[]>(kShards)) {}

template <class Key>
KeyTable<Key>::~KeyTable() = default;

template <class Key>
typename KeyTable<Key>::Shard& KeyTable<Key>::shard_of(const Key& key) {
  return shards_[BitsOf<Key>::shard(key)];
}

template <class Key>
const typename KeyTable<Key>::Shard& KeyTable<Key>::shard_of(const Key& key) const {
  return shards_[BitsOf<Key>::shard(key)];
}

template <class Key>
bool KeyTable<Key>::see(Key key, uint32_t tick) {
  key = BitsOf<Key>::stored(key);
  Shard& s = shard_of(key);
  unsigned char* reuse = nullptr;  // the first dead slot on the probe path
  if (s.cap > 0) {
    uint64_t i = home(BitsOf<Key>::spread(key), s.cap);
    for (;;) {
      unsigned char* slot = s.at(i);
      const Key k = Shard::key(slot);
      if (BitsOf<Key>::empty(k)) break;
      const uint32_t t = Shard::tick(slot);
      if (k == key) {
        if (t >= floor_) {
          if (tick > t) Shard::set_tick(slot, tick);
          return true;
        }
        Shard::set_tick(slot, tick);  // dead: a new sighting
        return false;
      }
      if (reuse == nullptr && t < floor_) reuse = slot;
      i = i + 1 == s.cap ? 0 : i + 1;
    }
  }
  if (reuse != nullptr) {
    Shard::set(reuse, key, tick);
    return false;
  }
  make_room(s);
  s.put(key, tick);
  ++used_;
  return false;
}

template <class Key>
void KeyTable<Key>::prefetch(Key key) const {
  key = BitsOf<Key>::stored(key);
  const Shard& s = shard_of(key);
  if (s.cap > 0) __builtin_prefetch(s.at(home(BitsOf<Key>::spread(key), s.cap)));
}

template <class Key>
bool KeyTable<Key>::contains(Key key) const {
  key = BitsOf<Key>::stored(key);
  const Shard& s = shard_of(key);
  if (s.cap == 0) return false;
  for (uint64_t i = home(BitsOf<Key>::spread(key), s.cap);; i = i + 1 == s.cap ? 0 : i + 1) {
    const unsigned char* slot = s.at(i);
    const Key k = Shard::key(slot);
    if (BitsOf<Key>::empty(k)) return false;
    if (k == key) return Shard::tick(slot) >= floor_;
  }
}

template <class Key>
void KeyTable<Key>::set_floor(uint32_t floor) {
  floor_ = std::max(floor_, floor);
}

template <class Key>
void KeyTable<Key>::make_room(Shard& s) {
  for (int round = 0;; ++round) {
    const bool keys_ok = used_ + 1 <= limits_.max_keys;
    const bool load_ok = (s.used + 1) * 5 <= s.cap * 4;  // load stays <= 0.8
    if (keys_ok && load_ok) return;
    if (!load_ok) {
      // The dead go first, in place. The shard grows only when its live entries fill
      // more than 76% of it, so dead entries never make the table larger, and each
      // purge leaves room for at least 4% more inserts before the next.
      purge(s, 0);
      if ((s.used + 1) * 100 > s.cap * 76) {
        const uint64_t grown = std::max(s.cap + s.cap / 8, s.cap + 8);
        const bool fits = (capacity_ - s.cap + grown) * kSlotBytes <= limits_.max_bytes;
        // (Past a few rounds of eviction the shard grows anyway: a budget too small
        // for one more slot here would otherwise never make progress.)
        if (fits || round >= 16) {
          rebuild(s, grown);
          continue;
        }
      }
      if ((s.used + 1) * 5 <= s.cap * 4) continue;
    } else if (round == 0) {  // too many keys: purging the dead may be enough
      const uint64_t before = used_;
      purge_all();
      if (before - used_ >= std::max<uint64_t>(1, limits_.max_keys / 64)) continue;
    }
    evict_oldest();
  }
}

template <class Key>
void KeyTable<Key>::rebuild(Shard& s, uint64_t new_cap) {
  Shard fresh;
  fresh.slots = allocate_slots(new_cap, kSlotBytes);
  fresh.cap = new_cap;
  for (uint64_t i = 0; i < s.cap; ++i) {
    const unsigned char* slot = s.at(i);
    const Key k = Shard::key(slot);
    if (BitsOf<Key>::empty(k)) continue;
    if (Shard::tick(slot) < floor_) {
      --used_;
      continue;
    }
    fresh.put(k, Shard::tick(slot));
  }
  capacity_ = capacity_ - s.cap + new_cap;
  s = std::move(fresh);
}

template <class Key>
void KeyTable<Key>::purge(Shard& s, uint64_t evict_below) {
  if (s.used == 0) return;
  // Linear probing cleaned in place (Knuth's Algorithm R, for many deletions at once):
  // walking the slots in probe order from an empty one, each dropped entry empties
  // its slot and each kept entry moves back to the first empty slot from its home.
  // Only a run with a hole punched in it since its last empty slot can move entries.
  uint64_t start = 0;
  while (!BitsOf<Key>::empty(Shard::key(s.at(start)))) ++start;  // load < 1: one exists
  bool holes = false;
  for (uint64_t n = 1; n <= s.cap; ++n) {
    uint64_t i = start + n;
    if (i >= s.cap) i -= s.cap;
    unsigned char* slot = s.at(i);
    const Key k = Shard::key(slot);
    if (BitsOf<Key>::empty(k)) {
      holes = false;
      continue;
    }
    const uint32_t t = Shard::tick(slot);
    if (t < floor_ || t < evict_below) {
      if (t >= floor_) ++evicted_;
      std::memset(slot, 0, kSlotBytes);
      --s.used;
      --used_;
      holes = true;
      continue;
    }
    if (!holes) continue;
    uint64_t j = home(BitsOf<Key>::spread(k), s.cap);
    while (j != i && !BitsOf<Key>::empty(Shard::key(s.at(j)))) j = j + 1 == s.cap ? 0 : j + 1;
    if (j != i) {
      std::memcpy(s.at(j), slot, kSlotBytes);
      std::memset(slot, 0, kSlotBytes);
    }
  }
}

template <class Key>
void KeyTable<Key>::purge_all() {
  for (size_t i = 0; i < kShards; ++i) {
    purge(shards_[i], 0);
  }
}

template <class Key>
uint64_t KeyTable<Key>::next_random() {
  // xorshift64*: the sample needs to be spread, not unpredictable.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1Dull;
}

template <class Key>
void KeyTable<Key>::evict_oldest() {
  std::vector<uint32_t> sample;
  sample.reserve(kSample);
  for (size_t attempt = 0; attempt < 8 * kSample && sample.size() < kSample; ++attempt) {
    const Shard& s = shards_[next_random() % kShards];
    if (s.cap == 0) continue;
    const unsigned char* slot = s.at(home(next_random(), s.cap));
    if (BitsOf<Key>::empty(Shard::key(slot))) continue;
    const uint32_t t = Shard::tick(slot);
    if (t >= floor_) sample.push_back(t);
  }
  if (sample.empty()) {  // too sparse to sample: take the oldest by a scan
    uint32_t oldest = UINT32_MAX;
    for (size_t i = 0; i < kShards; ++i) {
      const Shard& s = shards_[i];
      for (uint64_t j = 0; j < s.cap; ++j) {
        const unsigned char* slot = s.at(j);
        const uint32_t t = Shard::tick(slot);
        if (!BitsOf<Key>::empty(Shard::key(slot)) && t >= floor_) oldest = std::min(oldest, t);
      }
    }
    if (oldest == UINT32_MAX) {
      purge_all();
      return;
    }
    sample.push_back(oldest);
  }
  const size_t k = sample.size() / 64;
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(k), sample.end());
  const uint32_t at = sample[k];
  const bool older_exist = *std::min_element(sample.begin(), sample.end()) < at;
  // Evict every live entry with a tick below `limit`: strictly older than `at` when
  // the sample saw older ones, else `at` itself too, so that something goes.
  const uint64_t limit = older_exist ? at : uint64_t{at} + 1;
  for (size_t i = 0; i < kShards; ++i) {
    purge(shards_[i], limit);
  }
}

template <class Key>
void KeyTable<Key>::rebase(uint32_t delta) {
  purge_all();
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = shards_[i];
    for (uint64_t j = 0; j < s.cap; ++j) {
      unsigned char* slot = s.at(j);
      if (BitsOf<Key>::empty(Shard::key(slot))) continue;
      const uint32_t t = Shard::tick(slot);
      Shard::set_tick(slot, t > delta ? t - delta : 0);
    }
  }
  floor_ = floor_ > delta ? floor_ - delta : 0;
}

template <class Key>
uint64_t KeyTable<Key>::live() const {
  uint64_t n = 0;
  for_each([&n](const Key&, uint32_t) { ++n; });
  return n;
}

template <class Key>
void KeyTable<Key>::for_each(const std::function<void(const Key&, uint32_t)>& fn) const {
  for (size_t i = 0; i < kShards; ++i) {
    const Shard& s = shards_[i];
    for (uint64_t j = 0; j < s.cap; ++j) {
      const unsigned char* slot = s.at(j);
      const Key k = Shard::key(slot);
      if (BitsOf<Key>::empty(k)) continue;
      const uint32_t t = Shard::tick(slot);
      if (t >= floor_) fn(k, t);
    }
  }
}

template class KeyTable<uint64_t>;
template class KeyTable<Hash128>;

}  // namespace ev::state
