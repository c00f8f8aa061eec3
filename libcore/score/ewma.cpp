#include "libcore/score/ewma.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL  // header-only: lets the compiler inline XXH3 for short keys
#include <xxhash.h>

namespace ev::score {
namespace {

using state::Hash128;

constexpr uint32_t kNil = UINT32_MAX;
constexpr uint64_t kMaxSlots = UINT32_MAX;  // indices 0 .. 2^32 - 2; kNil is none
// A saved key: digest (2 u64), W, m, S, t0, n.
constexpr uint64_t kRecordBytes = 7 * 8;

struct Slot {
  Hash128 key;
  double w;  // W, total weight
  double m;  // weighted mean
  double s;  // S, weighted sum of squared deviations
  int64_t t0;
  uint64_t n;
  uint32_t prev;  // towards the least recently observed
  uint32_t next;  // towards the most recently observed
};
static_assert(sizeof(Slot) == EwmaTable::kSlotBytes);

// The index holds slot numbers; hashing and comparing look through to the slot's
// digest, so an index entry is 4 bytes (plus absl's control byte) instead of 20.
struct SlotHash {
  using is_transparent = void;
  const std::vector<Slot>* slots;
  size_t operator()(uint32_t i) const { return (*slots)[i].key.low; }
  size_t operator()(const Hash128& k) const { return k.low; }
};
struct SlotEq {
  using is_transparent = void;
  const std::vector<Slot>* slots;
  bool operator()(uint32_t a, uint32_t b) const { return a == b; }
  bool operator()(uint32_t a, const Hash128& k) const { return (*slots)[a].key == k; }
  bool operator()(const Hash128& k, uint32_t a) const { return (*slots)[a].key == k; }
};

}  // namespace

// Heap-allocated so the index's functors can point at `slots` across moves.
struct EwmaTable::Impl {
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::vector<Slot> slots;
  absl::flat_hash_set<uint32_t, SlotHash, SlotEq> index{0, SlotHash{&slots}, SlotEq{&slots}};
  uint32_t head = kNil;  // least recently observed
  uint32_t tail = kNil;  // most recently observed
  uint64_t evicted = 0;

  void unlink(uint32_t i) {
    Slot& s = slots[i];
    (s.prev == kNil ? head : slots[s.prev].next) = s.next;
    (s.next == kNil ? tail : slots[s.next].prev) = s.prev;
  }
  void link_last(uint32_t i) {
    Slot& s = slots[i];
    s.prev = tail;
    s.next = kNil;
    (tail == kNil ? head : slots[tail].next) = i;
    tail = i;
  }
  void touch(uint32_t i) {
    if (i == tail) return;
    unlink(i);
    link_last(i);
  }
  // A slot for a new key `k`, the most recent: a fresh one, or the oldest key's
  // when `max_keys` are held. The caller fills in everything but key and links.
  uint32_t add(const Hash128& k, uint64_t max_keys) {
    uint32_t i;
    if (slots.size() >= max_keys) {
      i = head;
      index.erase(index.find(slots[i].key));
      unlink(i);
      ++evicted;
    } else {
      if (slots.size() == slots.capacity()) {
        slots.reserve(std::min<uint64_t>(std::max<uint64_t>(16, 2 * slots.size()), max_keys));
      }
      i = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
    }
    slots[i].key = k;
    index.insert(i);
    link_last(i);
    return i;
  }
};

EwmaTable::EwmaTable(EwmaLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {
  limits_.half_life_ns = std::max<int64_t>(limits_.half_life_ns, 1);
  limits_.max_keys = std::clamp<uint64_t>(limits_.max_keys, 1, kMaxSlots);
}

EwmaTable::~EwmaTable() = default;
EwmaTable::EwmaTable(EwmaTable&&) noexcept = default;
EwmaTable& EwmaTable::operator=(EwmaTable&&) noexcept = default;

Hash128 EwmaTable::digest(std::string_view key) {
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  return Hash128{h.low64, h.high64};
}

std::optional<double> EwmaTable::observe(std::string_view key, int64_t t_ns, double x) {
  return observe(digest(key), t_ns, x);
}

std::optional<double> EwmaTable::observe(const Hash128& digest, int64_t t_ns, double x) {
  if (!std::isfinite(x)) return std::nullopt;
  Impl& im = *impl_;
  auto it = im.index.find(digest);
  if (it == im.index.end()) {
    Slot& s = im.slots[im.add(digest, limits_.max_keys)];
    s.w = 1;
    s.m = x;
    s.s = 0;
    s.t0 = t_ns;
    s.n = 1;
    return std::nullopt;
  }
  const uint32_t i = *it;
  im.touch(i);
  Slot& s = im.slots[i];

  std::optional<double> z;
  if (s.n >= limits_.warmup) {
    const double var = s.s / s.w;
    if (var > 0 && std::isfinite(var)) {
      const double score = (x - s.m) / std::sqrt(var);
      if (std::isfinite(score)) z = score;
    }
  }

  // t >= t0 here, so the difference fits in 64 unsigned bits.
  uint64_t dt = 0;
  if (t_ns >= s.t0) {
    dt = static_cast<uint64_t>(t_ns) - static_cast<uint64_t>(s.t0);
    s.t0 = t_ns;
  }
  const double decay =
      std::exp2(-static_cast<double>(dt) / static_cast<double>(limits_.half_life_ns));
  s.w = decay * s.w + 1;
  const double delta = x - s.m;
  s.m += delta / s.w;
  s.s = decay * s.s + delta * (x - s.m);
  if (s.n != UINT64_MAX) ++s.n;
  return z;
}

uint64_t EwmaTable::size() const { return impl_->slots.size(); }

uint64_t EwmaTable::evicted() const { return impl_->evicted; }

uint64_t EwmaTable::bytes() const {
  // absl's index: a 4-byte slot and a control byte per capacity slot.
  return impl_->slots.capacity() * sizeof(Slot) + impl_->index.capacity() * (sizeof(uint32_t) + 1);
}

void EwmaTable::save(state::SnapshotWriter& w) const {
  const Impl& im = *impl_;
  w.u64(im.slots.size());
  for (uint32_t i = im.head; i != kNil; i = im.slots[i].next) {
    const Slot& s = im.slots[i];
    w.u64(s.key.low);
    w.u64(s.key.high);
    w.u64(std::bit_cast<uint64_t>(s.w));
    w.u64(std::bit_cast<uint64_t>(s.m));
    w.u64(std::bit_cast<uint64_t>(s.s));
    w.i64(s.t0);
    w.u64(s.n);
  }
}

Status EwmaTable::load(state::SnapshotReader& r) {
  uint64_t count = 0;
  if (Status st = r.read(count); !st) return st;
  if (count > r.remaining() / kRecordBytes) return r.corrupt("more EWMA keys than bytes");
  auto fresh = std::make_unique<Impl>();
  fresh->evicted = impl_->evicted;
  for (uint64_t k = 0; k < count; ++k) {
    Hash128 key;
    uint64_t w = 0, m = 0, s = 0, n = 0;
    int64_t t0 = 0;
    if (Status st = r.read(key.low, key.high, w, m, s, t0, n); !st) return st;
    const double wd = std::bit_cast<double>(w);
    const double md = std::bit_cast<double>(m);
    const double sd = std::bit_cast<double>(s);
    // W >= 1 always: the newest event weighs 1.
    if (!(wd >= 1) || !std::isfinite(wd) || !std::isfinite(md) || !(sd >= 0) ||
        !std::isfinite(sd) || n == 0) {
      return r.corrupt("a bad EWMA record");
    }
    if (fresh->index.contains(key)) return r.corrupt("a repeated EWMA key");
    Slot& slot = fresh->slots[fresh->add(key, limits_.max_keys)];
    slot.w = wd;
    slot.m = md;
    slot.s = sd;
    slot.t0 = t0;
    slot.n = n;
  }
  impl_ = std::move(fresh);
  return {};
}

}  // namespace ev::score
