// Mergeable summaries behind ev-window's approximate aggregates: quantiles, distinct
// counts and most frequent values. Each merges with another of its kind (session
// windows merge when a late event bridges two) and saves to a state snapshot.
//
// QuantileSketch: DDSketch (Masson, Rim, Lee, VLDB 2019) with relative accuracy 1%:
//   a value v > 0 falls in bucket ceil(log_gamma(v)), gamma = (1+a)/(1-a); negative
//   values mirror into a second store, zeros (|v| < 1e-9) are counted apart. A
//   quantile is the bucket's midpoint 2*gamma^i/(gamma+1), within 1% of the exact
//   lower-rank quantile (the value at 0-based rank floor(q*(n-1)) of the sorted
//   values), clamped to the exact min and max (so q=0 and q=1 are exact). Each store
//   keeps at most kMaxBuckets buckets; past that the lowest buckets are collapsed into
//   one (their quantiles lose the guarantee; with 1% accuracy 2048 buckets span 18
//   orders of magnitude, so real data never gets there).
// DistinctCounter: the 64-bit hashes of the values, exact while there are at most
//   kExactLimit of them, then a HyperLogLog with 2^12 registers (standard error
//   1.04/sqrt(4096) = 1.6%; linear counting for small cardinalities). `exact_only`
//   keeps the exact set however large it grows. "Exact" means exact up to 64-bit
//   hash collisions (probability about n^2/2^65).
// TopK: the Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005) with
//   `capacity` counters: counts are exact while there are at most `capacity` distinct
//   values; past that a new value replaces the least counted one and inherits its
//   count, so a count may be overestimated by at most n/capacity. Merging adds the
//   counts and keeps the `capacity` largest.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/state/snapshot.h"

namespace ev::window {

class QuantileSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr size_t kMaxBuckets = 2048;

  // A finite value.
  void add(double v);
  void merge(const QuantileSketch& other);
  uint64_t count() const { return count_; }
  // Requires: count() > 0 and 0 <= q <= 1.
  double quantile(double q) const;
  // Heap and object bytes, for --max-memory.
  size_t bytes() const;
  void save(state::SnapshotWriter& w) const;
  // Fails with the reader's kState error on a truncated or inconsistent record.
  Status load(state::SnapshotReader& r);

 private:
  struct Store {  // counts of buckets offset, offset+1, ...
    int32_t offset = 0;
    std::vector<uint64_t> counts;
    void add(int32_t index, uint64_t n);
    void merge(const Store& other);
    // Makes the buckets cover [lo, hi], folding the lowest ones past kMaxBuckets.
    void extend(int64_t lo, int64_t hi);
    void save(state::SnapshotWriter& w) const;
    Status load(state::SnapshotReader& r);
  };
  Store positive_, negative_;
  uint64_t zeros_ = 0;
  uint64_t count_ = 0;
  double min_ = 0, max_ = 0;
};

class DistinctCounter {
 public:
  static constexpr size_t kExactLimit = 512;
  static constexpr int kPrecision = 12;  // 4096 one-byte registers

  explicit DistinctCounter(bool exact_only = false) : exact_only_(exact_only) {}
  void add(uint64_t hash);
  void merge(const DistinctCounter& other);
  uint64_t estimate() const;
  bool is_exact() const { return registers_.empty(); }
  size_t bytes() const;
  void save(state::SnapshotWriter& w) const;
  Status load(state::SnapshotReader& r);

 private:
  bool exact_only_;
  std::vector<uint64_t> set_;  // open addressing, 0 = empty (hash 0 stored as 1)
  size_t set_count_ = 0;
  std::vector<uint8_t> registers_;  // HyperLogLog, once past kExactLimit

  // Adds a nonzero hash to set_; false when it was there already.
  bool insert(uint64_t stored);
  void to_hll();
  void hll_add(uint64_t hash);
};

class TopK {
 public:
  explicit TopK(size_t capacity) : capacity_(capacity) {}
  // One occurrence of a value: `text` is its canonical JSON, `hash` its digest.
  void add(std::string_view text, uint64_t hash, uint64_t count = 1);
  void merge(const TopK& other);
  // The k most frequent values, by count descending, then text ascending.
  std::vector<std::pair<std::string_view, uint64_t>> top(size_t k) const;
  size_t capacity() const { return capacity_; }
  size_t bytes() const;
  void save(state::SnapshotWriter& w) const;
  Status load(state::SnapshotReader& r);

 private:
  size_t capacity_;
  // Entries are found by a hash index (equal values: equal hash and text) and the least
  // counted one by a lazily updated min-heap.
  struct Entry {
    std::string text;
    uint64_t hash = 0;
    uint64_t count = 0;
  };
  std::vector<Entry> entries_;
  std::vector<uint32_t> index_;  // open addressing over entries_ by hash; UINT32_MAX empty
  // A min-heap of (count, entry) with one item per entry. An item's count may be
  // stale (lower than the entry's, as counts only grow): add() bumps a count in O(1)
  // and the eviction that finds a stale item on top re-pushes it with the real count.
  std::vector<std::pair<uint64_t, uint32_t>> heap_;

  uint32_t find(std::string_view text, uint64_t hash) const;  // UINT32_MAX when absent
  void append(Entry e);
  uint32_t pop_least();
  void index_insert(uint32_t i);
  void index_erase(uint32_t i);
  void rehash(size_t slots);
  void rebuild();  // index_ and heap_ from entries_
};

}  // namespace ev::window
