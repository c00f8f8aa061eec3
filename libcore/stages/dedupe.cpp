#include "libcore/stages/dedupe.h"

#include <simdjson.h>

#include <map>
#include <unordered_map>
#include <vector>

#include "libcore/io/byte_sink.h"
#include "libcore/io/line_writer.h"
#include "libcore/json/event.h"
#include "libcore/json/event_time.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/pipeline/stateful_stage.h"
#include "libcore/state/key_hash.h"
#include "libcore/state/key_table.h"
#include "libcore/state/snapshot.h"

namespace ev::stages {
namespace {

namespace od = simdjson::ondemand;
using state::Hash128;

constexpr std::string_view kKind = "ev-dedupe";
constexpr uint32_t kStateVersion = 2;  // 2: Kafka partition positions
constexpr int64_t kTicksPerHorizon = 65536;
constexpr uint32_t kRebaseAt = 1u << 31;
constexpr uint64_t kHeldOverhead = 128;  // bytes per held event besides its line
constexpr int64_t kNever = INT64_MIN;

enum class TimeMode : uint32_t { kNone, kEvent, kProcessing };

struct HashOf128 {
  size_t operator()(const Hash128& h) const { return h.low; }
};

// One event held back by --keep last.
struct Held {
  std::string line;
  int64_t t = 0;     // its event time (the newest event of the key)
  int64_t last = 0;  // the key's last sighting: the horizon closes at last + W
  std::multimap<int64_t, Hash128>::iterator order;
};

int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

void append_hex(std::string& out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out += kDigits[(v >> shift) & 0xF];
}

class Dedupe final : public pipeline::StatefulStage {
 public:
  Dedupe(const DedupeOptions& opt, std::vector<json::FieldPath> keys,
         std::optional<json::FieldPath> time_path, time::Clock& clock)
      : StatefulStage(opt.state, opt.checkpoint_every, clock),
        opt_(opt),
        keys_(std::move(keys)),
        time_path_(std::move(time_path)),
        clock_(clock),
        mode_(!opt.within           ? TimeMode::kNone
              : opt.processing_time ? TimeMode::kProcessing
                                    : TimeMode::kEvent),
        within_(opt.within.value_or(0)),
        quantum_(std::max<int64_t>(1, within_ / kTicksPerHorizon)) {
    state::KeyTableLimits limits;
    if (opt.max_keys > 0) limits.max_keys = opt.max_keys;
    limits.max_bytes = opt.max_memory;
    if (opt.keep == Keep::kFirst) {
      if (opt.hash_bits == 64) {
        table64_ = std::make_unique<state::KeyTable<uint64_t>>(limits);
      } else {
        table128_ = std::make_unique<state::KeyTable<Hash128>>(limits);
      }
    }
  }

  // "--key event_id --hash 128 --keep first --within 1h (event time)": what a
  // snapshot's keys mean. A restart must use the same.
  std::string fingerprint() const {
    std::string f = "--key " + (opt_.key.empty() ? std::string("(whole event)") : opt_.key);
    f += " --hash " + std::to_string(opt_.hash_bits);
    f += opt_.keep == Keep::kFirst ? " --keep first" : " --keep last";
    if (mode_ == TimeMode::kNone) {
      f += " (no --within)";
    } else {
      f += " --within " + time::format_duration(within_);
      f += mode_ == TimeMode::kEvent ? " (event time)" : " (processing time)";
    }
    return f;
  }

  Status open_duplicates() {
    if (opt_.duplicates.empty()) return {};
    if (auto st = io::check_side_output(opt_.duplicates, "--duplicates", opt_.events_on_stdout);
        !st) {
      return st;
    }
    auto sink = io::open_sink(opt_.duplicates);
    if (!sink) return std::unexpected(sink.error());
    dups_ = std::make_unique<io::LineWriter>(std::move(*sink), 64 * 1024);
    return {};
  }

  // ---- events ----

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    if (auto st = before_event(event, out); !st) return st;

    // The key first: its slot is fetched from memory while the time is parsed.
    if (auto st = hash_key(event); !st) return out.reject(event, st.error().message);
    if (table128_) table128_->prefetch(digest128_);
    if (table64_) table64_->prefetch(digest64_);
    int64_t t = 0;
    if (mode_ == TimeMode::kEvent) {
      auto et = json::event_time(event, *time_path_, opt_.time_unit);
      if (!et) return out.reject(event, et.error().message);
      t = *et;
    } else if (mode_ == TimeMode::kProcessing) {
      t = clock_.now_ns();
    }

    if (mode_ != TimeMode::kNone) {
      if (t > max_t_) {
        max_t_ = t;
        if (auto st = advance(out); !st) return st;
      }
      if (is_late(t)) return late(event, t, out);
    }
    if (opt_.keep == Keep::kLast) return hold(event, t, out);
    const uint32_t tick = mode_ == TimeMode::kNone ? next_seq() : tick_of(t);
    const bool repeat =
        table128_ ? table128_->see(digest128_, tick) : table64_->see(digest64_, tick);
    if (!repeat) return out.emit(event.raw());
    ++duplicates_;
    ++out.report().dropped;
    return write_duplicate(event.raw(), &event);
  }

  Status on_watermark(int64_t t, pipeline::Emitter& out) override {
    // With --processing-time the horizon follows the wall clock, not event time.
    if (mode_ != TimeMode::kEvent || t <= control_wm_) return {};
    control_wm_ = t;
    return advance(out);
  }

  Status on_idle(pipeline::Emitter& out) override {
    if (mode_ == TimeMode::kProcessing) {
      const int64_t now = clock_.now_ns();
      if (now > max_t_) {
        max_t_ = now;
        if (auto st = advance(out); !st) return st;
      }
    }
    return maybe_checkpoint(out);
  }

  Status on_finish(pipeline::Emitter& out) override {
    // The end of the input closes every horizon.
    while (!order_.empty()) {
      if (auto st = release(order_.begin()->second, out); !st) return st;
    }
    return {};
  }

  Status on_stop(pipeline::Emitter& out) override {
    // With a state file the held events wait in the snapshot for the next run.
    return opt_.state.empty() ? on_finish(out) : Status{};
  }

  Status on_end(pipeline::RunReport& report, pipeline::Outcome outcome) override {
    report.add_extra("duplicates", duplicates_);
    report.add_extra("expired", expired_);
    report.add_extra("evicted", evicted());
    report.add_extra("keys", live_keys());
    report.add_extra("key_bytes", key_bytes());
    if (opt_.keep == Keep::kLast) {
      report.add_extra("held", held_.size());
      if (restored_held_ > 0) report.add_extra("restored_held", restored_held_);
    }
    Status st;
    if (dups_) st = dups_->close();
    Status written = end_state(report, outcome);
    return st ? written : st;
  }

  // ---- state ----

  Status restore() {
    if (opt_.state.empty()) return {};
    auto opened = state::open_stage_snapshot(opt_.state, kKind, kStateVersion, fingerprint());
    if (!opened) return std::unexpected(opened.error());
    if (!*opened) return {};
    state::SnapshotReader& r = **opened;
    uint64_t n_keys = 0, base_set = 0;
    uint32_t floor = 0;
    Status st = r.read(base_set, base_, max_t_, control_wm_, seq_, floor);
    if (st) st = positions().load(r);
    if (st) st = r.read(n_keys);
    if (!st) return st;
    base_set_ = base_set != 0;
    wm_ = watermark();
    if (opt_.keep == Keep::kFirst) {
      const size_t width = opt_.hash_bits == 64 ? 8 : 16;
      if (n_keys > r.remaining() / (width + 4)) return r.corrupt("more keys than bytes");
      for (uint64_t i = 0; i < n_keys; ++i) {
        Hash128 k;
        uint32_t tick = 0;
        st = table128_ ? r.read(k.low, k.high, tick) : r.read(k.low, tick);
        if (!st) return st;
        if (table128_) {
          table128_->see(k, tick);
        } else {
          table64_->see(k.low, tick);
        }
      }
      if (table128_) table128_->set_floor(floor);
      if (table64_) table64_->set_floor(floor);
    } else {
      for (uint64_t i = 0; i < n_keys; ++i) {
        Hash128 k;
        int64_t t = 0, last = 0;
        if (st = r.read(k.low, k.high, t, last); !st) return st;
        auto line = r.bytes();
        if (!line) return std::unexpected(line.error());
        insert_held(k, std::move(*line), t, last);
      }
      restored_held_ = n_keys;
    }
    if (r.remaining() != 0) return r.corrupt("bytes after the last record");
    return {};
  }

 private:
  Status write_state() override {
    auto created = state::create_stage_snapshot(opt_.state, kKind, kStateVersion, fingerprint());
    if (!created) return std::unexpected(created.error());
    state::SnapshotWriter& w = **created;
    w.u64(base_set_ ? 1 : 0);
    w.i64(base_);
    w.i64(max_t_);
    w.i64(control_wm_);
    w.u64(seq_);
    w.u32(table128_ ? table128_->floor() : table64_ ? table64_->floor() : 0);
    positions().save(w);
    if (table128_) {
      w.u64(table128_->live());
      table128_->for_each([&w](const Hash128& k, uint32_t tick) {
        w.u64(k.low);
        w.u64(k.high);
        w.u32(tick);
      });
    } else if (table64_) {
      w.u64(table64_->live());
      table64_->for_each([&w](const uint64_t& k, uint32_t tick) {
        w.u64(k);
        w.u32(tick);
      });
    } else {
      w.u64(held_.size());
      for (const auto& [k, h] : held_) {
        w.u64(k.low);
        w.u64(k.high);
        w.i64(h.t);
        w.i64(h.last);
        w.bytes(h.line);
      }
    }
    return w.commit();
  }

  Status flush_side_outputs() override { return dups_ ? dups_->flush() : Status{}; }

 public:
  // --keep last holds each key's newest event until its horizon passes.
  bool holds_events() const override { return opt_.keep == Keep::kLast; }

 private:
  // ---- keys ----

  Status hash_key(json::Event& event) {
    hasher_.reset();
    if (keys_.empty()) {
      auto doc = event.doc();
      if (!doc) return std::unexpected(doc.error());
      if (auto st = hasher_.add_document(**doc); !st) return st;
    } else {
      for (const auto& path : keys_) {
        od::value value;
        auto found = event.find(path, value);
        if (!found) return std::unexpected(found.error());
        if (*found == json::Found::kMissing) {
          return data_error("key field " + path.text() + ": missing");
        }
        if (auto st = hasher_.add(value); !st) {
          return data_error("key field " + path.text() + ": " + st.error().message);
        }
      }
    }
    if (opt_.hash_bits == 64) {
      digest64_ = hasher_.digest64();
      digest128_ = Hash128{digest64_, 0};
    } else {
      digest128_ = hasher_.digest128();
    }
    return {};
  }

  // {"key":{"event_id":"e1"},"key_hash":"…","program":"ev-dedupe","source":"a.jsonl",
  //  "line":7,"raw":"<the dropped line>"}
  Status write_duplicate(std::string_view raw, json::Event* event) {
    if (!dups_) return {};
    std::string& b = dups_->buffer();
    json::JsonWriter w(b);
    w.begin_object();
    if (!keys_.empty() && event != nullptr) {
      w.key("key").begin_object();
      for (const auto& path : keys_) {
        od::value value;
        auto found = event->find(path, value);
        if (!found || *found != json::Found::kYes) continue;
        auto text = json::raw_text(value);
        if (text) w.key(path.text()).raw(*text);
      }
      w.end_object();
    }
    std::string hex;
    if (opt_.hash_bits == 128) append_hex(hex, digest128_.high);
    append_hex(hex, digest128_.low);
    w.key("key_hash").value(hex);
    w.key("program").value(opt_.program);
    if (event != nullptr) {
      w.key("source").value(event->source());
      w.key("line").value(event->line());
    }
    w.key("raw").value(raw);
    w.end_object();
    return dups_->end_line();
  }

  // ---- time ----

  int64_t watermark() const {
    const int64_t from_events = max_t_ == kNever ? kNever : sat_sub(max_t_, opt_.max_delay);
    return std::max(from_events, control_wm_);
  }

  // Older than the horizon relative to the watermark: the key may be forgotten.
  bool is_late(int64_t t) const {
    return wm_ != kNever && static_cast<__int128>(t) + within_ < static_cast<__int128>(wm_);
  }

  uint32_t tick_of(int64_t t) {
    if (!base_set_) {
      // Room below the first event for the ones that may come before it.
      base_ = sat_sub(sat_sub(t, opt_.max_delay), 2 * within_);
      base_set_ = true;
    }
    if (t <= base_) return 0;
    const uint64_t ticks =
        (static_cast<uint64_t>(t) - static_cast<uint64_t>(base_)) / static_cast<uint64_t>(quantum_);
    return ticks >= UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(ticks);
  }

  uint32_t next_seq() {
    if (seq_ >= UINT32_MAX - 1) {  // least-recently-seen order: shift it down
      if (table128_) table128_->rebase(kRebaseAt);
      if (table64_) table64_->rebase(kRebaseAt);
      seq_ -= kRebaseAt;
    }
    return static_cast<uint32_t>(++seq_);
  }

  // The watermark may have moved: forget what it passed, release what --keep last held.
  Status advance(pipeline::Emitter& out) {
    const int64_t wm = watermark();
    if (wm == wm_) return {};
    wm_ = wm;
    const int64_t forget_before = sat_sub(wm_, within_);
    if (opt_.keep == Keep::kLast) {
      while (!order_.empty() && order_.begin()->first < forget_before) {
        if (auto st = release(order_.begin()->second, out); !st) return st;
      }
      return {};
    }
    // The floor moves one tick per quantum of event time: no division until then.
    if (!base_set_ || forget_before < next_floor_at_) return {};
    uint32_t floor = tick_of(forget_before);
    if (tick_of(max_t_) >= kRebaseAt && floor > 0) {
      // The clock nears 2^32 ticks: move the base up to the floor.
      if (table128_) table128_->rebase(floor);
      if (table64_) table64_->rebase(floor);
      base_ += static_cast<int64_t>(floor) * quantum_;
      floor = 0;
    }
    if (table128_) table128_->set_floor(floor);
    if (table64_) table64_->set_floor(floor);
    const __int128 next = static_cast<__int128>(base_) +
                          (static_cast<__int128>(floor) + 1) * static_cast<__int128>(quantum_);
    next_floor_at_ = next > INT64_MAX ? INT64_MAX : static_cast<int64_t>(next);
    return {};
  }

  Status late(json::Event& event, int64_t t, pipeline::Emitter& out) {
    // A late event whose key is still known is a repeat for certain.
    const bool known = opt_.keep == Keep::kLast ? held_.contains(digest128_)
                       : table128_              ? table128_->contains(digest128_)
                                                : table64_->contains(digest64_);
    if (known) {
      ++duplicates_;
      ++out.report().dropped;
      return write_duplicate(event.raw(), &event);
    }
    ++expired_;
    switch (opt_.late) {
      case Late::kPass:
        return out.emit(event.raw());
      case Late::kDrop:
        ++out.report().dropped;
        return {};
      case Late::kReject:
        return out.reject(event, "late: event time " + time::format_rfc3339_ms(t) +
                                     " is more than --within " + time::format_duration(within_) +
                                     " before the watermark " + time::format_rfc3339_ms(wm_));
    }
    return {};
  }

  // ---- keep last ----

  Status hold(json::Event& event, int64_t t, pipeline::Emitter& out) {
    auto it = held_.find(digest128_);
    if (it != held_.end()) {
      Held& h = it->second;
      ++duplicates_;
      ++out.report().dropped;
      const int64_t last = std::max(h.last, t);
      if (last != h.last) {
        order_.erase(h.order);
        h.order = order_.emplace(last, digest128_);
        h.last = last;
      }
      if (t < h.t) return write_duplicate(event.raw(), &event);  // the held one is newer
      // The new event supersedes the held one, which becomes the repeat.
      if (auto st = write_duplicate(h.line, nullptr); !st) return st;
      held_bytes_ -= h.line.size();
      h.line.assign(event.raw());
      held_bytes_ += h.line.size();
      h.t = t;
      return {};
    }
    insert_held(digest128_, std::string(event.raw()), t, t);
    // Over a bound: the keys nearest expiry go first, emitted early.
    while (!order_.empty() &&
           ((opt_.max_keys > 0 && held_.size() > opt_.max_keys) || held_bytes_ > opt_.max_memory)) {
      ++evicted_held_;
      if (auto st = release(order_.begin()->second, out); !st) return st;
    }
    return {};
  }

  void insert_held(const Hash128& k, std::string line, int64_t t, int64_t last) {
    held_bytes_ += line.size() + kHeldOverhead;
    Held& h = held_[k];
    h.line = std::move(line);
    h.t = t;
    h.last = last;
    h.order = order_.emplace(last, k);
  }

  Status release(Hash128 k, pipeline::Emitter& out) {
    auto it = held_.find(k);
    Held& h = it->second;
    Status st = out.emit(h.line);
    held_bytes_ -= h.line.size() + kHeldOverhead;
    order_.erase(h.order);
    held_.erase(it);
    return st;
  }

  uint64_t evicted() const {
    if (table128_) return table128_->evicted();
    if (table64_) return table64_->evicted();
    return evicted_held_;
  }
  uint64_t key_bytes() const {
    if (table128_) return table128_->bytes();
    if (table64_) return table64_->bytes();
    return held_bytes_;
  }
  uint64_t live_keys() const {
    if (table128_) return table128_->live();
    if (table64_) return table64_->live();
    return held_.size();
  }

  const DedupeOptions opt_;
  std::vector<json::FieldPath> keys_;
  std::optional<json::FieldPath> time_path_;
  time::Clock& clock_;
  const TimeMode mode_;
  const int64_t within_;
  const int64_t quantum_;

  state::KeyHasher hasher_;
  Hash128 digest128_;
  uint64_t digest64_ = 0;
  std::unique_ptr<state::KeyTable<Hash128>> table128_;
  std::unique_ptr<state::KeyTable<uint64_t>> table64_;
  std::unordered_map<Hash128, Held, HashOf128> held_;
  std::multimap<int64_t, Hash128> order_;  // held keys by last sighting
  uint64_t held_bytes_ = 0;

  int64_t max_t_ = kNever;       // the largest event (or processing) time seen
  int64_t control_wm_ = kNever;  // the largest watermark line seen
  int64_t wm_ = kNever;
  int64_t base_ = 0;                // time of tick 0
  int64_t next_floor_at_ = kNever;  // forget_before from which the floor is one tick higher
  bool base_set_ = false;
  uint64_t seq_ = 0;  // the clock of keys without a horizon

  std::unique_ptr<io::LineWriter> dups_;
  uint64_t duplicates_ = 0;
  uint64_t expired_ = 0;
  uint64_t evicted_held_ = 0;
  uint64_t restored_held_ = 0;
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_dedupe(const DedupeOptions& opt) {
  if (opt.hash_bits != 64 && opt.hash_bits != 128) return usage_error("--hash: 64 or 128");
  if (opt.within && *opt.within <= 0) return usage_error("--within must be positive");
  if (opt.processing_time && !opt.within) return usage_error("--processing-time needs --within");
  if (opt.max_delay < 0) return usage_error("--max-delay cannot be negative");
  if (opt.max_memory < (1u << 20)) return usage_error("--max-memory: at least 1M");
  if (opt.checkpoint_every <= 0) return usage_error("--checkpoint-every must be positive");
  std::vector<json::FieldPath> keys;
  if (!opt.key.empty()) {
    auto parsed = json::parse_field_path_list(opt.key);
    if (!parsed) return usage_error("--key: " + parsed.error().message);
    keys = std::move(*parsed);
  }
  std::optional<json::FieldPath> time_path;
  if (opt.within && !opt.processing_time) {
    auto parsed = json::FieldPath::parse(opt.time_field);
    if (!parsed) return std::unexpected(parsed.error());
    time_path = std::move(*parsed);
  }
  time::Clock& clock = opt.clock ? *opt.clock : time::SystemClock::instance();
  auto stage = std::make_unique<Dedupe>(opt, std::move(keys), std::move(time_path), clock);
  if (auto st = stage->restore(); !st) return std::unexpected(st.error());
  if (!opt.state.empty()) {
    // A state file that cannot be written fails now, not after the whole input.
    auto probe = state::SnapshotWriter::create(opt.state, kKind);
    if (!probe) return std::unexpected(probe.error());
  }
  if (auto st = stage->open_duplicates(); !st) return std::unexpected(st.error());
  return stage;
}

}  // namespace ev::stages
