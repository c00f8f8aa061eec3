#include "libcore/window/sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>

namespace ev::window {
namespace {

// ---- QuantileSketch ----

constexpr double kZero = 1e-9;  // |v| below this counts as zero
constexpr double kGamma =
    (1 + QuantileSketch::kRelativeAccuracy) / (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

int32_t bucket_of(double magnitude) {
  return static_cast<int32_t>(std::ceil(std::log(magnitude) / kLogGamma));
}

// The point of bucket i = (gamma^(i-1), gamma^i] whose relative distance to either end is
// (gamma-1)/(gamma+1) = kRelativeAccuracy.
double value_of(int64_t index) {
  return 2 * std::exp(static_cast<double>(index) * kLogGamma) / (kGamma + 1);
}

// No finite value >= kZero maps outside these, so a loaded offset outside them is damage
// (and bounding it keeps offset + size far from int32 overflow).
const int64_t kMinIndex = bucket_of(kZero) - 1;
const int64_t kMaxIndex = bucket_of(std::numeric_limits<double>::max()) + 1;

// ---- DistinctCounter ----

constexpr size_t kRegisters = size_t{1} << DistinctCounter::kPrecision;
constexpr uint8_t kMaxRank = 64 - DistinctCounter::kPrecision + 1;

// Home slot in a power-of-two table of 2^bits slots. Fibonacci hashing takes the top bits
// of a multiply, so even digests that are not well mixed spread over the table.
size_t home_slot(uint64_t hash, size_t slots) {
  const int bits = std::countr_zero(slots);
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

// Whether a table of `slots` stays at or below a 0.7 load with `n` entries.
bool fits(size_t n, size_t slots) { return n * 10 <= slots * 7; }

// ---- TopK ----

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr size_t kMinSlots = 8;

}  // namespace

// ---------------------------------------------------------------------------
// QuantileSketch

void QuantileSketch::Store::extend(int64_t lo, int64_t hi) {
  const auto size = static_cast<int64_t>(counts.size());
  if (size > 0 && lo >= offset && hi < offset + size) return;
  int64_t new_lo = size == 0 ? lo : std::min<int64_t>(lo, offset);
  const int64_t new_hi = size == 0 ? hi : std::max<int64_t>(hi, offset + size - 1);
  new_lo = std::max<int64_t>(new_lo, new_hi - static_cast<int64_t>(kMaxBuckets) + 1);
  const auto new_size = static_cast<size_t>(new_hi - new_lo + 1);
  if (size == 0 || new_lo == offset) {
    // Growing upward only: resize's geometric growth keeps a rising series amortized O(1).
    offset = static_cast<int32_t>(new_lo);
    counts.resize(new_size);
    return;
  }
  std::vector<uint64_t> grown(new_size);
  for (int64_t j = 0; j < size; ++j) {
    grown[static_cast<size_t>(std::max<int64_t>(offset + j, new_lo) - new_lo)] +=
        counts[static_cast<size_t>(j)];
  }
  offset = static_cast<int32_t>(new_lo);
  counts = std::move(grown);
}

void QuantileSketch::Store::add(int32_t index, uint64_t n) {
  extend(index, index);
  // Below offset only when the store is full: the value joins the collapsed lowest bucket.
  counts[static_cast<size_t>(std::max(index, offset) - offset)] += n;
}

void QuantileSketch::Store::merge(const Store& other) {
  if (other.counts.empty()) return;
  extend(other.offset, int64_t{other.offset} + static_cast<int64_t>(other.counts.size()) - 1);
  for (size_t j = 0; j < other.counts.size(); ++j) {
    const int64_t index = std::max<int64_t>(other.offset + static_cast<int64_t>(j), offset);
    counts[static_cast<size_t>(index - offset)] += other.counts[j];
  }
}

void QuantileSketch::Store::save(state::SnapshotWriter& w) const {
  w.i64(offset);
  w.u32(static_cast<uint32_t>(counts.size()));
  for (uint64_t c : counts) w.u64(c);
}

Status QuantileSketch::Store::load(state::SnapshotReader& r) {
  auto off = r.i64();
  if (!off) return std::unexpected(off.error());
  auto n = r.u32();
  if (!n) return std::unexpected(n.error());
  if (*n > kMaxBuckets) {
    return r.corrupt("quantile sketch with " + std::to_string(*n) + " buckets (at most " +
                     std::to_string(kMaxBuckets) + ")");
  }
  if (*n > r.remaining() / 8) return r.corrupt("quantile sketch with more buckets than bytes");
  if (*n > 0 && (*off < kMinIndex || *off + *n - 1 > kMaxIndex)) {
    return r.corrupt("quantile sketch bucket " + std::to_string(*off) + " out of range");
  }
  offset = *n > 0 ? static_cast<int32_t>(*off) : 0;
  counts.assign(*n, 0);
  for (uint64_t& c : counts) {
    auto v = r.u64();
    if (!v) return std::unexpected(v.error());
    c = *v;
  }
  return {};
}

void QuantileSketch::add(double v) {
  // Callers pass finite values; dropping the others keeps a bad call from indexing a
  // bucket at infinity.
  if (!std::isfinite(v)) return;
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  if (v >= kZero) {
    positive_.add(bucket_of(v), 1);
  } else if (v <= -kZero) {
    negative_.add(bucket_of(-v), 1);
  } else {
    ++zeros_;
  }
}

void QuantileSketch::merge(const QuantileSketch& other) {
  if (&other == this) {
    const QuantileSketch copy = other;
    merge(copy);
    return;
  }
  if (other.count_ == 0) return;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  positive_.merge(other.positive_);
  negative_.merge(other.negative_);
  zeros_ += other.zeros_;
  count_ += other.count_;
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t last = count_ - 1;
  const uint64_t rank =
      std::min(last, static_cast<uint64_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(last)));
  if (rank == 0) return min_;
  if (rank == last) return max_;
  auto clamped = [&](double v) { return std::clamp(v, min_, max_); };
  uint64_t seen = 0;
  // Ascending values: negatives from the largest magnitude down, zeros, positives up.
  const Store& neg = negative_;
  for (size_t j = neg.counts.size(); j-- > 0;) {
    seen += neg.counts[j];
    if (rank < seen) return clamped(-value_of(neg.offset + static_cast<int64_t>(j)));
  }
  seen += zeros_;
  if (rank < seen) return clamped(0.0);
  const Store& pos = positive_;
  for (size_t j = 0; j < pos.counts.size(); ++j) {
    seen += pos.counts[j];
    if (rank < seen) return clamped(value_of(pos.offset + static_cast<int64_t>(j)));
  }
  return max_;
}

size_t QuantileSketch::bytes() const {
  return sizeof(*this) +
         (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(uint64_t);
}

void QuantileSketch::save(state::SnapshotWriter& w) const {
  w.u64(count_);
  w.u64(zeros_);
  w.u64(std::bit_cast<uint64_t>(min_));
  w.u64(std::bit_cast<uint64_t>(max_));
  positive_.save(w);
  negative_.save(w);
}

Status QuantileSketch::load(state::SnapshotReader& r) {
  QuantileSketch s;
  uint64_t fields[4];
  for (uint64_t& f : fields) {
    auto v = r.u64();
    if (!v) return std::unexpected(v.error());
    f = *v;
  }
  s.count_ = fields[0];
  s.zeros_ = fields[1];
  s.min_ = std::bit_cast<double>(fields[2]);
  s.max_ = std::bit_cast<double>(fields[3]);
  if (Status st = s.positive_.load(r); !st) return st;
  if (Status st = s.negative_.load(r); !st) return st;
  uint64_t total = s.zeros_;
  for (const Store* store : {&s.positive_, &s.negative_}) {
    for (uint64_t c : store->counts) {
      if (__builtin_add_overflow(total, c, &total)) {
        return r.corrupt("quantile sketch counts overflow");
      }
    }
  }
  if (total != s.count_) {
    return r.corrupt("quantile sketch of " + std::to_string(s.count_) + " values holds " +
                     std::to_string(total));
  }
  if (s.count_ > 0 && !(std::isfinite(s.min_) && std::isfinite(s.max_) && s.min_ <= s.max_)) {
    return r.corrupt("quantile sketch with a bad minimum or maximum");
  }
  *this = std::move(s);
  return {};
}

// ---------------------------------------------------------------------------
// DistinctCounter

bool DistinctCounter::insert(uint64_t stored) {
  if (!fits(set_count_ + 1, set_.size())) {
    std::vector<uint64_t> old = std::move(set_);
    set_.assign(std::max(old.size() * 2, size_t{16}), 0);
    set_count_ = 0;
    for (uint64_t h : old) {
      if (h != 0) insert(h);
    }
  }
  const size_t mask = set_.size() - 1;
  for (size_t s = home_slot(stored, set_.size());; s = (s + 1) & mask) {
    if (set_[s] == stored) return false;
    if (set_[s] == 0) {
      set_[s] = stored;
      ++set_count_;
      return true;
    }
  }
}

void DistinctCounter::hll_add(uint64_t hash) {
  const size_t index = hash >> (64 - kPrecision);
  const uint64_t rest = hash << kPrecision;
  const auto rank = rest == 0 ? kMaxRank : static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void DistinctCounter::to_hll() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : set_) {
    if (h != 0) hll_add(h);
  }
  std::vector<uint64_t>().swap(set_);
  set_count_ = 0;
}

void DistinctCounter::add(uint64_t hash) {
  if (!registers_.empty()) {
    hll_add(hash);
    return;
  }
  if (insert(hash == 0 ? 1 : hash) && set_count_ > kExactLimit && !exact_only_) to_hll();
}

void DistinctCounter::merge(const DistinctCounter& other) {
  if (&other == this) return;  // a set's union with itself
  if (other.is_exact()) {
    // add() keeps this exact while the union fits, or converts part way through.
    for (uint64_t h : other.set_) {
      if (h != 0) add(h);
    }
    return;
  }
  // The hashes behind other's registers are gone, so even an exact_only counter has to
  // become a HyperLogLog here (counters of one window share the option, so an exact_only
  // one never meets a HyperLogLog in practice).
  if (is_exact()) to_hll();
  for (size_t i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

uint64_t DistinctCounter::estimate() const {
  if (is_exact()) return set_count_;
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t reg : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(reg));
    zeros += reg == 0;
  }
  const auto m = static_cast<double>(kRegisters);
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double e = alpha * m * m / sum;
  // The raw estimate is biased for small cardinalities; linear counting is not. With
  // 64-bit hashes no large-range correction is needed.
  if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / static_cast<double>(zeros));
  return static_cast<uint64_t>(std::llround(e));
}

size_t DistinctCounter::bytes() const {
  return sizeof(*this) + set_.capacity() * sizeof(uint64_t) + registers_.capacity();
}

void DistinctCounter::save(state::SnapshotWriter& w) const {
  if (is_exact()) {
    w.u32(0);
    w.u64(set_count_);
    for (uint64_t h : set_) {
      if (h != 0) w.u64(h);
    }
  } else {
    w.u32(1);
    w.u32(static_cast<uint32_t>(registers_.size()));
    w.raw(registers_.data(), registers_.size());
  }
}

Status DistinctCounter::load(state::SnapshotReader& r) {
  DistinctCounter d(exact_only_);
  auto mode = r.u32();
  if (!mode) return std::unexpected(mode.error());
  if (*mode == 0) {
    auto n = r.u64();
    if (!n) return std::unexpected(n.error());
    if (*n > r.remaining() / 8) return r.corrupt("distinct counter with more hashes than bytes");
    for (uint64_t i = 0; i < *n; ++i) {
      auto h = r.u64();
      if (!h) return std::unexpected(h.error());
      if (*h == 0 || !d.insert(*h)) return r.corrupt("distinct counter with a repeated hash");
    }
    // A state written with exact_only by a run that now counts approximately.
    if (d.set_count_ > kExactLimit && !exact_only_) d.to_hll();
  } else if (*mode == 1) {
    auto n = r.u32();
    if (!n) return std::unexpected(n.error());
    if (*n != kRegisters) {
      return r.corrupt("distinct counter with " + std::to_string(*n) + " registers (expected " +
                       std::to_string(kRegisters) + ")");
    }
    d.registers_.resize(kRegisters);
    if (Status st = r.raw(d.registers_.data(), kRegisters); !st) return st;
    for (uint8_t reg : d.registers_) {
      if (reg > kMaxRank) return r.corrupt("distinct counter register out of range");
    }
  } else {
    return r.corrupt("distinct counter of unknown kind " + std::to_string(*mode));
  }
  *this = std::move(d);
  return {};
}

// ---------------------------------------------------------------------------
// TopK

uint32_t TopK::find(std::string_view text, uint64_t hash) const {
  if (index_.empty()) return kNone;
  const size_t mask = index_.size() - 1;
  for (size_t s = home_slot(hash, index_.size()); index_[s] != kNone; s = (s + 1) & mask) {
    const Entry& e = entries_[index_[s]];
    if (e.hash == hash && e.text == text) return index_[s];
  }
  return kNone;
}

void TopK::index_insert(uint32_t i) {
  const size_t mask = index_.size() - 1;
  size_t s = home_slot(entries_[i].hash, index_.size());
  while (index_[s] != kNone) s = (s + 1) & mask;
  index_[s] = i;
}

// Backward-shift deletion keeps linear probing free of tombstones: each later entry of
// the probe run moves into the hole unless that would put it before its home slot.
void TopK::index_erase(uint32_t i) {
  const size_t mask = index_.size() - 1;
  size_t hole = home_slot(entries_[i].hash, index_.size());
  while (index_[hole] != i) hole = (hole + 1) & mask;
  for (size_t j = (hole + 1) & mask; index_[j] != kNone; j = (j + 1) & mask) {
    const size_t home = home_slot(entries_[index_[j]].hash, index_.size());
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = kNone;
}

void TopK::rehash(size_t slots) {
  index_.assign(slots, kNone);
  for (uint32_t i = 0; i < entries_.size(); ++i) index_insert(i);
}

void TopK::rebuild() {
  size_t slots = kMinSlots;
  while (!fits(entries_.size(), slots)) slots *= 2;
  if (entries_.empty()) {
    index_.clear();
  } else {
    rehash(slots);
  }
  heap_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i) heap_.emplace_back(entries_[i].count, i);
  std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void TopK::append(Entry e) {
  entries_.push_back(std::move(e));
  if (!fits(entries_.size(), index_.size())) {
    rehash(std::max(index_.size() * 2, kMinSlots));
  } else {
    index_insert(static_cast<uint32_t>(entries_.size() - 1));
  }
  heap_.emplace_back(entries_.back().count, static_cast<uint32_t>(entries_.size() - 1));
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

// Each stale item popped here stands for at least one add() since it was pushed, so the
// re-pushes cost O(log capacity) amortized over those adds.
uint32_t TopK::pop_least() {
  for (;;) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    const auto [count, i] = heap_.back();
    heap_.pop_back();
    if (entries_[i].count == count) return i;
    heap_.emplace_back(entries_[i].count, i);
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
}

void TopK::add(std::string_view text, uint64_t hash, uint64_t count) {
  if (count == 0 || capacity_ == 0) return;
  if (uint32_t i = find(text, hash); i != kNone) {
    entries_[i].count += count;  // its heap item goes stale; pop_least() catches up
    return;
  }
  if (entries_.size() < capacity_) {
    append(Entry{std::string(text), hash, count});
    return;
  }
  // Space-Saving: the new value takes over the least counted entry and its count.
  const uint32_t i = pop_least();
  index_erase(i);
  Entry& e = entries_[i];
  e.text.assign(text);
  e.hash = hash;
  e.count += count;
  index_insert(i);
  heap_.emplace_back(e.count, i);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
}

namespace {
// Count descending, then text ascending (and hash, so that ties are fully ordered).
bool ranks_before(uint64_t count_a, std::string_view text_a, uint64_t hash_a, uint64_t count_b,
                  std::string_view text_b, uint64_t hash_b) {
  if (count_a != count_b) return count_a > count_b;
  if (text_a != text_b) return text_a < text_b;
  return hash_a < hash_b;
}
}  // namespace

void TopK::merge(const TopK& other) {
  if (&other == this) {
    const TopK copy = other;
    merge(copy);
    return;
  }
  std::vector<Entry> extra;
  for (const Entry& o : other.entries_) {
    if (uint32_t i = find(o.text, o.hash); i != kNone) {
      entries_[i].count += o.count;
    } else {
      extra.push_back(o);
    }
  }
  entries_.insert(entries_.end(), std::make_move_iterator(extra.begin()),
                  std::make_move_iterator(extra.end()));
  if (entries_.size() > capacity_) {
    auto before = [](const Entry& a, const Entry& b) {
      return ranks_before(a.count, a.text, a.hash, b.count, b.text, b.hash);
    };
    std::nth_element(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(capacity_),
                     entries_.end(), before);
    entries_.resize(capacity_);
  }
  rebuild();
}

std::vector<std::pair<std::string_view, uint64_t>> TopK::top(size_t k) const {
  std::vector<uint32_t> order(entries_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(),
                    [&](uint32_t a, uint32_t b) {
                      const Entry& x = entries_[a];
                      const Entry& y = entries_[b];
                      return ranks_before(x.count, x.text, x.hash, y.count, y.text, y.hash);
                    });
  std::vector<std::pair<std::string_view, uint64_t>> out;
  out.reserve(k);
  for (size_t j = 0; j < k; ++j)
    out.emplace_back(entries_[order[j]].text, entries_[order[j]].count);
  return out;
}

size_t TopK::bytes() const {
  size_t n = sizeof(*this) + entries_.capacity() * sizeof(Entry) +
             index_.capacity() * sizeof(uint32_t) + heap_.capacity() * sizeof(heap_[0]);
  for (const Entry& e : entries_) {
    // Short strings live inside the Entry (the small-string buffer).
    if (e.text.capacity() > std::string().capacity()) n += e.text.capacity() + 1;
  }
  return n;
}

void TopK::save(state::SnapshotWriter& w) const {
  w.u64(capacity_);
  w.u64(entries_.size());
  for (const Entry& e : entries_) {
    w.bytes(e.text);
    w.u64(e.hash);
    w.u64(e.count);
  }
}

Status TopK::load(state::SnapshotReader& r) {
  auto cap = r.u64();
  if (!cap) return std::unexpected(cap.error());
  if (*cap != capacity_) {
    return r.corrupt("top values kept for " + std::to_string(*cap) + " values; this run keeps " +
                     std::to_string(capacity_));
  }
  auto n = r.u64();
  if (!n) return std::unexpected(n.error());
  if (*n > capacity_) return r.corrupt("top values with more entries than their capacity");
  // Each entry takes at least a length, a hash and a count.
  if (*n > r.remaining() / (4 + 8 + 8)) return r.corrupt("top values with more entries than bytes");
  TopK t(capacity_);
  t.entries_.reserve(*n);
  for (uint64_t i = 0; i < *n; ++i) {
    auto text = r.bytes();
    if (!text) return std::unexpected(text.error());
    auto hash = r.u64();
    if (!hash) return std::unexpected(hash.error());
    auto count = r.u64();
    if (!count) return std::unexpected(count.error());
    if (*count == 0) return r.corrupt("top values with a zero count");
    if (t.find(*text, *hash) != kNone) return r.corrupt("top values with a repeated value");
    t.append(Entry{std::move(*text), *hash, *count});
  }
  *this = std::move(t);
  return {};
}

}  // namespace ev::window
