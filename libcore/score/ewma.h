// EwmaTable: the per-key streaming state behind `ev-score --zscore FIELD --by KEY`.
// For each key it keeps an exponentially weighted mean and variance of the values
// seen, in event time, and scores each new value against them.
//
// Model: an event of the key at time t_i with value x_i has weight 2^(-(t - t_i)/H)
// at time t, H being the half-life (--half-life). Per key the table keeps the total
// weight W, the weighted mean m, the weighted sum of squared deviations S, the time
// t0 of the newest event and the count n of events (saturating at 2^64-1).
// observe(key, t, x) first scores x against the state before it:
//   z = (x - m) / sqrt(S / W)
// (decaying first would not change it: decay scales W and S alike), and returns no
// score while n < warmup, for the first event of a key, when S / W <= 0 (all values
// so far equal) or when z is not finite. Then it adds x:
//   dt = t - t0; a late event (dt < 0) counts as arriving at t0 (dt = 0, t0 stays),
//   otherwise t0 = t;
//   w = 2^(-dt / H);  W = w*W + 1;  d = x - m;  m += d / W;  S = w*S + d * (x - m)
// (the first event of a key sets W = 1, m = x, S = 0, t0 = t, n = 1). That is the
// weighted incremental mean/variance (West, 1979) with every older weight decayed,
// so m and S / W equal the two-pass weighted mean and population variance of all
// the key's values. A NaN or infinite x is ignored: no score, the key unchanged.
//
// Keys: a key's text is stored as its XXH3-128 digest (seed 0; state/key_hash.h's
// Hash128), never the text; callers that already hash (KeyHasher) pass the digest.
// Two different keys collide with probability about n^2 / 2^129 for n keys; a
// collision merges their statistics.
//
// Bounds: at most max_keys keys (clamped to 1 .. 2^32 - 1). Inserting a new key
// into a full table first evicts the least recently observed key (exact LRU, in
// processing order, not event time) and counts it in evicted().
//
// Memory: 64 bytes per key in a flat slot vector (digest, W, m, S, t0, n and the
// LRU links) plus an absl::flat_hash_set of 4-byte slot numbers (5 bytes per index
// slot with absl's control byte, 7/16 to 7/8 full: 6-12 bytes per key), so 70-76
// bytes per key when the vector is full. The vector grows by doubling (never past
// max_keys), so just after growing it holds up to twice the slots in use: at most
// about 140 bytes per key (bytes() tells). Observing a known key does not
// allocate; only new keys grow the table, amortized.
//
// State: save() writes the count, then every key oldest first (digest, W, m, S,
// t0, n; doubles as their IEEE-754 bits), so load() restores the same scores and
// the same eviction order. The snapshot does not hold the limits: the stage's
// fingerprint does. A moved-from table may only be assigned or destroyed.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/state/key_hash.h"
#include "libcore/state/snapshot.h"

namespace ev::score {

struct EwmaLimits {
  int64_t half_life_ns = 0;        // H; must be > 0 (values below 1 ns are taken as 1 ns)
  uint64_t warmup = 0;             // no score until a key has seen this many events
  uint64_t max_keys = UINT64_MAX;  // the least recently observed key goes first
};

class EwmaTable {
 public:
  static constexpr size_t kSlotBytes = 64;

  explicit EwmaTable(EwmaLimits limits);
  ~EwmaTable();
  EwmaTable(EwmaTable&&) noexcept;
  EwmaTable& operator=(EwmaTable&&) noexcept;
  EwmaTable(const EwmaTable&) = delete;
  EwmaTable& operator=(const EwmaTable&) = delete;

  // The z-score of x against the key's state before x (std::nullopt as described
  // above), then x is added at event time t_ns and the key becomes the most recent.
  std::optional<double> observe(std::string_view key, int64_t t_ns, double x);
  std::optional<double> observe(const state::Hash128& digest, int64_t t_ns, double x);
  // The digest a key's text is stored as: XXH3-128 of its bytes, seed 0.
  static state::Hash128 digest(std::string_view key);

  uint64_t size() const;
  uint64_t evicted() const;
  // Memory held by the slots and the index.
  uint64_t bytes() const;
  const EwmaLimits& limits() const { return limits_; }

  // Writes the keys, oldest first, with everything observe() needs.
  void save(state::SnapshotWriter& w) const;
  // Replaces the contents with the keys save() wrote. A snapshot with more keys than
  // max_keys keeps the newest, counting the rest as evicted. Fails with kState on a
  // short or bad record (a count past the bytes left, a non-finite or impossible
  // field, a repeated digest); the table is then left as it was.
  Status load(state::SnapshotReader& r);

 private:
  struct Impl;
  EwmaLimits limits_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ev::score
