// KeyTable: the compact set of keys behind ev-dedupe. Each entry is a key digest
// (state/key_hash.h: 128 or 64 bits) and a 32-bit "tick", the caller's coarse clock
// of the key's last sighting; a slot is 20 bytes (128-bit) or 12 bytes (64-bit).
//
// Layout: 256 shards chosen by the digest's top byte, each an open-addressing table
// with linear probing, at most 80% full. When a shard fills, its dead entries are
// purged in place; it grows by 1/8 only when live entries fill more than 76% of it,
// so the table holds 26-30 bytes per live 128-bit key (16-18 for 64-bit), and
// growing copies one shard (1/256 of the table), never the whole table at once. The digest 0 marks
// an empty slot, so a key whose digest is 0 is stored as 1.
//
// Expiry: entries whose tick is below the floor (set_floor) are dead. see() treats
// them as absent and reuses their slots; they are purged when their shard would
// grow, so raising the floor costs nothing up front.
//
// Bounds: max_keys (entries, dead ones included until purged) and max_bytes (slot
// memory). When an insert would pass either, the table purges the dead; if that is
// not enough it evicts the oldest live entries: a threshold sampled from 1024
// entries removes about 1/64 of them, all older (by tick) than every entry kept.
// Each evicted entry is counted (evicted()). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "libcore/state/key_hash.h"

namespace ev::state {

struct KeyTableLimits {
  uint64_t max_keys = UINT64_MAX;
  uint64_t max_bytes = UINT64_MAX;  // slot memory
};

template <class Key>  // uint64_t or Hash128
class KeyTable {
 public:
  static constexpr size_t kSlotBytes = sizeof(Key) + sizeof(uint32_t);
  static constexpr size_t kShards = 256;

  explicit KeyTable(KeyTableLimits limits = {});
  ~KeyTable();
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  // A sighting of `key` at `tick`. When the key is present and live, raises its tick
  // to max(tick, its tick) and returns true (a repeat). Otherwise stores it with
  // `tick` (evicting first if the table is full) and returns false.
  bool see(Key key, uint32_t tick);
  // Starts loading the memory see(key) will probe (the table is mostly cache misses):
  // call it early, do other work, then see().
  void prefetch(Key key) const;
  // Whether `key` is present and live (no change).
  bool contains(Key key) const;

  // Entries with a tick below `floor` are dead from now on. The floor only rises.
  void set_floor(uint32_t floor);
  uint32_t floor() const { return floor_; }
  // Subtracts `delta` from every tick and from the floor (ticks below it become 0),
  // purging the dead first: for a caller whose clock approaches 2^32 ticks.
  void rebase(uint32_t delta);

  // Live entries (a scan: O(capacity)).
  uint64_t live() const;
  // Occupied slots, dead entries not yet purged included.
  uint64_t occupied() const { return used_; }
  uint64_t evicted() const { return evicted_; }
  uint64_t bytes() const { return capacity_ * kSlotBytes; }
  uint64_t capacity() const { return capacity_; }
  // Calls `fn` for every live entry, in no particular order.
  void for_each(const std::function<void(const Key&, uint32_t)>& fn) const;

 private:
  struct Shard;
  Shard& shard_of(const Key& key);
  const Shard& shard_of(const Key& key) const;
  // Makes room for one more entry in `shard`; false if the limits leave none.
  void make_room(Shard& shard);
  // Moves `shard` into `new_cap` slots, dropping the dead.
  void rebuild(Shard& shard, uint64_t new_cap);
  // Drops the dead and evicts the live entries with a tick below `evict_below` (0:
  // none), in place.
  void purge(Shard& shard, uint64_t evict_below);
  void purge_all();
  void evict_oldest();
  uint64_t next_random();

  KeyTableLimits limits_;
  std::unique_ptr<Shard[]> shards_;
  uint64_t used_ = 0;
  uint64_t capacity_ = 0;
  uint64_t evicted_ = 0;
  uint32_t floor_ = 0;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
};

extern template class KeyTable<uint64_t>;
extern template class KeyTable<Hash128>;

}  // namespace ev::state
