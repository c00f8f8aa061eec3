#include "libcore/stages/window.h"

#include <absl/container/flat_hash_map.h>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <map>
#include <set>

#include "libcore/io/byte_sink.h"
#include "libcore/io/line_writer.h"
#include "libcore/json/canonical.h"
#include "libcore/json/event.h"
#include "libcore/json/event_time.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/pipeline/stateful_stage.h"
#include "libcore/state/key_hash.h"
#include "libcore/state/snapshot.h"
#include "libcore/window/aggregates.h"

namespace ev::stages {
namespace {

namespace od = simdjson::ondemand;
using state::Hash128;

constexpr std::string_view kKind = "ev-window";
constexpr uint32_t kStateVersion = 2;  // 2: Kafka partition positions
constexpr int64_t kNever = INT64_MIN;
constexpr int64_t kForever = INT64_MAX;
constexpr size_t kGroupOverhead = 96;  // bytes per group besides its row and values

struct HashOf128 {
  size_t operator()(const Hash128& h) const { return h.low; }
};

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}
int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

// The group's --by values: canonical JSON texts, one per field, separated by '\n'
// (canonical JSON holds no raw newline).
int type_rank(std::string_view v) {
  switch (v.empty() ? 'n' : v[0]) {
    case 'n':
      return 0;
    case 'f':
      return 1;
    case 't':
      return 2;
    case '"':
      return 4;
    case '[':
    case '{':
      return 5;
    default:
      return 3;  // a number
  }
}

int compare_value(std::string_view a, std::string_view b) {
  const int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 3) {
    double x = 0, y = 0;
    std::from_chars(a.data(), a.data() + a.size(), x);
    std::from_chars(b.data(), b.data() + b.size(), y);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.compare(b) < 0 ? -1 : a.compare(b) > 0 ? 1 : 0;
}

bool values_less(std::string_view a, std::string_view b, bool one_field) {
  if (one_field) return compare_value(a, b) < 0;
  for (;;) {
    const size_t ea = a.find('\n'), eb = b.find('\n');
    const int c = compare_value(a.substr(0, ea), b.substr(0, eb));
    if (c != 0) return c < 0;
    if (ea == std::string_view::npos || eb == std::string_view::npos) {
      return ea == std::string_view::npos && eb != std::string_view::npos;
    }
    a.remove_prefix(ea + 1);
    b.remove_prefix(eb + 1);
  }
}

// One group's aggregates in one window (or one session).
struct Group {
  Hash128 key;
  uint32_t row = 0;
  bool emitted = false;  // a result was written
  bool dirty = false;    // changed since the last result
  std::string values;
};

struct Window {
  int64_t start = 0, end = 0;
  bool fired = false;
  absl::flat_hash_map<Hash128, uint32_t, HashOf128> index;  // into groups
  std::vector<Group> groups;
};

// Tumbling and hopping windows by start, then end (a DST change can give two windows
// one start).
using Windows = std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Window>>;

struct Session {
  int64_t start = 0, end = 0;
  uint32_t row = 0;
  bool fired = false, emitted = false, dirty = false;
};

struct KeySessions {
  std::string values;
  std::vector<Session> sessions;
  int64_t queued = kForever;  // the earliest time this key has in the timer heap
};

// A result waiting to be written in order.
struct Due {
  int64_t start, end;
  const std::string* values;
  Group* group;      // a window's group, or
  Session* session;  // a session (with `values` of its key)
};

// Where a result goes in a firing, compact so that sorting moves 32 bytes, not the
// result: its window, then its first group value reduced to the type rank and 64 bits
// that order like the value (a number's double with its order kept, or the first 8
// bytes of the text, big-endian). Ties read the texts.
struct SortKey {
  int64_t start, end;
  uint64_t bits;
  uint32_t rank, index;
};

SortKey sort_key_of(const Due& d, uint32_t index) {
  std::string_view v = *d.values;
  v = v.substr(0, v.find('\n'));
  SortKey k{d.start, d.end, 0, static_cast<uint32_t>(type_rank(v)), index};
  if (k.rank == 3) {
    double x = 0;
    std::from_chars(v.data(), v.data() + v.size(), x);
    const uint64_t b = std::bit_cast<uint64_t>(x);
    k.bits = (b >> 63) != 0 ? ~b : b | (1ull << 63);
  } else {
    for (size_t i = 0; i < 8; ++i) {
      k.bits = (k.bits << 8) | (i < v.size() ? static_cast<unsigned char>(v[i]) : 0u);
    }
  }
  return k;
}

class WindowStage final : public pipeline::StatefulStage {
 public:
  WindowStage(const WindowOptions& opt, std::vector<json::FieldPath> by, json::FieldPath time_path,
              std::optional<window::Assigner> assigner, std::unique_ptr<window::Aggregates> aggs,
              time::Clock& clock)
      : StatefulStage(opt.state, opt.checkpoint_every, clock),
        opt_(opt),
        by_(std::move(by)),
        time_path_(std::move(time_path)),
        assigner_(std::move(assigner)),
        aggs_(std::move(aggs)),
        clock_(clock),
        lateness_(opt.allowed_lateness),
        markers_(opt.emit != EmitMode::kFinal || opt.allowed_lateness > 0) {
    for (const auto& path : by_) {
      // The member is named as the path is written, without the optional leading dot.
      std::string_view name = path.text();
      if (name.size() > 1 && name[0] == '.') name.remove_prefix(1);
      by_keys_.push_back(json::JsonWriter::key_json_of(name));
    }
  }

  std::string fingerprint() const {
    std::string f;
    if (opt_.kind == WindowKind::kSession) {
      f = "--session " + time::format_duration(opt_.gap);
    } else {
      f = opt_.kind == WindowKind::kTumble ? "--tumble " + time::format_duration(opt_.spec.size)
                                           : "--hop " + time::format_duration(opt_.spec.size) +
                                                 "/" + time::format_duration(opt_.spec.slide);
      if (opt_.spec.align != 0) f += " --align " + time::format_duration(opt_.spec.align);
      if (!opt_.spec.tz.empty()) f += " --tz " + opt_.spec.tz;
    }
    f += " --by " + (opt_.by.empty() ? std::string("(none)") : opt_.by);
    f += " --agg " + window::describe_aggregates(aggs_->specs());
    if (opt_.exact) f += " --exact";
    return f;
  }

  Status open_late() {
    if (opt_.late.empty()) return {};
    if (auto st = io::check_side_output(opt_.late, "--late", opt_.events_on_stdout); !st) {
      return st;
    }
    auto sink = io::open_sink(opt_.late);
    if (!sink) return std::unexpected(sink.error());
    late_out_ = std::make_unique<io::LineWriter>(std::move(*sink), 64 * 1024);
    return {};
  }

  // ---- events ----

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    if (auto st = before_event(event, out); !st) return st;
    if (opt_.max_future && ++since_now_ >= kClockEvery) {
      since_now_ = 0;
      now_ = clock_.now_ns();
    }
    auto et = json::event_time(event, time_path_, opt_.time_unit);
    if (!et) return out.reject(event, et.error().message);
    const int64_t t = *et;
    if (opt_.max_future) {
      if (now_ == kNever) now_ = clock_.now_ns();
      if (t > sat_add(now_, *opt_.max_future)) {
        ++future_;
        return out.reject(
            event, "event time " + time::format_rfc3339_ms(t) + " is more than --max-future " +
                       time::format_duration(*opt_.max_future) + " ahead of the wall clock (" +
                       time::format_rfc3339_ms(now_) + ")");
      }
    }
    if (auto st = hash_key(event); !st) return out.reject(event, st.error().message);
    if (auto st = aggs_->extract(event); !st) return out.reject(event, st.error().message);

    if (opt_.idle) last_event_mono_ = clock_.mono_ns(), idle_base_ = std::max(max_t_, t);
    const int64_t frontier = event.kafka() ? partition_frontier(*event.kafka(), t) : t;
    if (frontier > max_t_) {
      max_t_ = frontier;
      if (auto st = advance(out); !st) return st;
    }
    Status st =
        opt_.kind == WindowKind::kSession ? add_session(event, t, out) : add_windows(event, t, out);
    if (!st) return st;
    if (over_bounds()) return relieve(out);
    return {};
  }

  Status on_watermark(int64_t t, pipeline::Emitter& out) override {
    if (t <= control_wm_) return {};
    control_wm_ = t;
    return advance(out);
  }

  Status on_idle(pipeline::Emitter& out) override {
    // A slow stream reads the clock here, not once per kClockEvery events.
    if (opt_.max_future) now_ = clock_.now_ns();
    if (!parts_.empty() && (parts_changed_ || opt_.idle)) {
      // Kafka partitions caught up, assigned, taken away or gone quiet.
      const int64_t frontier = frontier_now();
      if (frontier > max_t_) {
        max_t_ = frontier;
        if (auto st = advance(out); !st) return st;
      }
    }
    if (opt_.idle && last_event_mono_ != kNever) {
      const int64_t quiet = clock_.mono_ns() - last_event_mono_;
      if (quiet >= *opt_.idle) {
        const int64_t t = sat_add(idle_base_, quiet);
        if (t > max_t_) {
          max_t_ = t;
          if (auto st = advance(out); !st) return st;
        }
      }
    }
    return maybe_checkpoint(out);
  }

  Status on_finish(pipeline::Emitter& out) override {
    // The end of the input closes every window.
    return fire_until(kForever, out);
  }

  // After a failure what the open windows hold is not their result: nothing is fired
  // (with --state the last checkpoint stands).
  Status on_failure(pipeline::Emitter&) override { return {}; }

  Status on_stop(pipeline::Emitter& out) override {
    // With a state file the open windows wait in the snapshot for the next run.
    return opt_.state.empty() ? on_finish(out) : Status{};
  }

  Status on_end(pipeline::RunReport& report, pipeline::Outcome outcome) override {
    report.add_extra("windows", windows_fired_);
    report.add_extra("late", late_);
    if (future_ > 0) report.add_extra("future", future_);
    report.add_extra("forced", forced_);
    report.add_extra("groups", groups_);
    report.add_extra("state_bytes", bytes_);
    Status st;
    if (late_out_) st = late_out_->close();
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
    uint64_t n = 0;
    if (auto st = r.read(max_t_, control_wm_, floor_, next_every_); !st) return st;
    if (auto st = positions().load(r); !st) return st;
    if (auto st = r.read(n); !st) return st;
    if (n > r.remaining() / 16) return r.corrupt("more windows than bytes");
    wm_ = watermark();
    for (uint64_t i = 0; i < n; ++i) {
      if (opt_.kind == WindowKind::kSession) {
        if (auto st = load_key(r); !st) return st;
      } else {
        if (auto st = load_window(r); !st) return st;
      }
    }
    if (r.remaining() != 0) return r.corrupt("bytes after the last record");
    refresh_due();
    return {};
  }

 private:
  // ---- keys ----

  Status hash_key(json::Event& event) {
    if (by_.empty()) {
      key_ = Hash128{};
      return {};
    }
    hasher_.reset();
    // The values' text, while it is their canonical form already (numbers, literals and
    // strings without escapes), so a new group does not look them up again.
    key_text_.clear();
    key_text_ok_ = true;
    for (const auto& path : by_) {
      od::value value;
      auto found = event.find(path, value);
      if (!found) return std::unexpected(found.error());
      if (*found == json::Found::kMissing) {
        return data_error("--by field " + path.text() + ": missing");
      }
      if (key_text_ok_) capture_key_text(value, &path == &by_.front());
      if (auto st = hasher_.add(value); !st) {
        return data_error("--by field " + path.text() + ": " + st.error().message);
      }
    }
    key_ = hasher_.digest128();
    return {};
  }

  void capture_key_text(od::value& value, bool first) {
    std::string_view token = value.raw_json_token();
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' ||
                              token.back() == '\n')) {
      token.remove_suffix(1);
    }
    const char c = token.empty() ? '{' : token[0];
    if (c == '{' || c == '[' || (c == '"' && token.find('\\') != std::string_view::npos)) {
      key_text_ok_ = false;
      return;
    }
    if (!first) key_text_ += '\n';
    key_text_.append(token);
  }

  // The --by values of `event`, for a new group.
  Status group_values(json::Event& event, std::string& out) {
    if (key_text_ok_) {
      out.assign(key_text_);
      return {};
    }
    out.clear();
    for (const auto& path : by_) {
      od::value value;
      auto found = event.find(path, value);
      if (!found) return std::unexpected(found.error());
      if (&path != &by_.front()) out += '\n';
      if (auto st = json::append_canonical(value, out); !st) return st;
    }
    return {};
  }

  // ---- time ----

  int64_t watermark() const {
    const int64_t from_events = max_t_ == kNever ? kNever : sat_sub(max_t_, opt_.max_delay);
    return std::max({from_events, control_wm_, forced_wm_});
  }

  // A window [.., end) takes no more events: it fired and its lateness ran out, or the
  // end of an input or a memory bound closed it for good.
  bool closed(int64_t end) const {
    return end <= floor_ || (wm_ != kNever && sat_add(end, lateness_) <= wm_);
  }

  Status advance(pipeline::Emitter& out) {
    const int64_t wm = watermark();
    if (wm <= wm_) return {};
    wm_ = wm;
    if (wm_ >= next_due_) {
      if (auto st = fire_until(wm_, out); !st) return st;
    }
    if (opt_.emit == EmitMode::kEvery && wm_ >= next_every_) {
      if (auto st = emit_partials(out); !st) return st;
      const int64_t every = opt_.emit_every;
      const int64_t k = wm_ / every - (wm_ % every < 0 ? 1 : 0);
      next_every_ = sat_add(k * every, every);
    }
    return {};
  }

  // ---- tumbling and hopping windows ----

  Status add_windows(json::Event& event, int64_t t, pipeline::Emitter& out) {
    assigner_->windows_of(t, spans_);
    bool taken = false;
    for (const auto& span : spans_) {
      if (closed(span.end)) continue;
      taken = true;
      Window& w = window_at(span);
      auto [it, inserted] = w.index.try_emplace(key_, static_cast<uint32_t>(w.groups.size()));
      if (inserted) {
        Group& g = w.groups.emplace_back();
        g.key = key_;
        g.row = aggs_->new_row();
        if (auto st = group_values(event, g.values); !st) return st;
        ++groups_;
        bytes_ += aggs_->fixed_row_bytes() + g.values.capacity() + kGroupOverhead;
      }
      Group& g = w.groups[it->second];
      bytes_ += aggs_->add(g.row, t);
      g.dirty = true;
      if (w.fired) {
        if (inserted && w.groups.size() == 1) ++windows_fired_;
        // A correction within --allowed-lateness.
        if (auto st = write_result(w.start, w.end, g.values, g.row, true, g.emitted, out); !st) {
          return st;
        }
        g.emitted = true;
        g.dirty = false;
      } else if (opt_.emit == EmitMode::kUpdate) {
        if (auto st = write_result(w.start, w.end, g.values, g.row, false, g.emitted, out); !st) {
          return st;
        }
        g.emitted = true;
        g.dirty = false;
      }
    }
    if (!taken) return late(event, out);
    return {};
  }

  Window& window_at(const window::Span& span) {
    if (last_window_ != nullptr && last_window_->start == span.start &&
        last_window_->end == span.end) {
      return *last_window_;
    }
    auto [it, inserted] = windows_.try_emplace(std::pair(span.start, span.end));
    if (inserted) {
      if (spare_windows_.empty()) {
        it->second = std::make_unique<Window>();
      } else {
        it->second = std::move(spare_windows_.back());
        spare_windows_.pop_back();
      }
      Window& w = *it->second;
      w.start = span.start;
      w.end = span.end;
      // Created within --allowed-lateness after its end: fired from the start, so its
      // result goes out with the event.
      w.fired = wm_ != kNever && span.end <= wm_;
      // A window that ends before the next one due fires first.
      next_due_ = std::min(next_due_, span.end);
    }
    last_window_ = it->second.get();
    return *last_window_;
  }

  void free_window(Windows::iterator it) {
    Window& w = *it->second;
    for (auto& g : w.groups) {
      bytes_ -= aggs_->row_bytes(g.row) + g.values.capacity() + kGroupOverhead;
      aggs_->free_row(g.row);
      --groups_;
    }
    w.groups.clear();
    w.index.clear();
    if (last_window_ == &w) last_window_ = nullptr;
    if (spare_windows_.size() < 4) spare_windows_.push_back(std::move(it->second));
    windows_.erase(it);
  }

  // ---- sessions ----

  Status add_session(json::Event& event, int64_t t, pipeline::Emitter& out) {
    auto found = keys_.find(key_);
    const int64_t own_end = sat_add(t, opt_.gap);
    int64_t start = t, end = own_end;
    // The sessions this event overlaps: [t, t + gap) meets [start, end), so events less
    // than --session apart share one. They lie between the first and the last
    // overlapped, so merging them needs no second pass.
    hits_.clear();
    if (found != keys_.end()) {
      const auto& sessions = found->second.sessions;
      for (size_t i = 0; i < sessions.size(); ++i) {
        const Session& s = sessions[i];
        if (s.start < own_end && t < s.end) {
          hits_.push_back(i);
          start = std::min(start, s.start);
          end = std::max(end, s.end);
        }
      }
    }
    if (closed(end)) return late(event, out);
    if (found == keys_.end()) {
      found = keys_.try_emplace(key_).first;
      if (auto st = group_values(event, found->second.values); !st) {
        keys_.erase(found);
        return st;
      }
      bytes_ += found->second.values.capacity() + kGroupOverhead;
    }
    KeySessions& k = found->second;
    Session* target = nullptr;
    if (hits_.empty()) {
      k.sessions.push_back(Session{start, end, aggs_->new_row(), false, false, false});
      ++groups_;
      bytes_ += aggs_->fixed_row_bytes();
      target = &k.sessions.back();
    } else {
      target = &k.sessions[hits_[0]];
      // A late event bridged sessions: fold the later ones into the first.
      for (size_t j = hits_.size() - 1; j > 0; --j) {
        Session& s = k.sessions[hits_[j]];
        target->emitted = target->emitted || s.emitted;
        bytes_ += aggs_->merge(target->row, s.row);
        --groups_;
        k.sessions.erase(k.sessions.begin() + static_cast<ptrdiff_t>(hits_[j]));
      }
    }
    target->start = start;
    target->end = end;
    // A fired session that grows past the watermark opens again.
    target->fired = wm_ != kNever && end <= wm_;
    bytes_ += aggs_->add(target->row, t);
    target->dirty = true;
    if (target->fired || opt_.emit == EmitMode::kUpdate) {
      if (auto st = write_result(target->start, target->end, k.values, target->row, target->fired,
                                 target->emitted, out);
          !st) {
        return st;
      }
      target->emitted = true;
      target->dirty = false;
    }
    schedule(key_, k);
    return {};
  }

  // When a key next needs attention: its first open session's end, or a fired one's
  // end of lateness.
  int64_t due_of(const KeySessions& k) const {
    int64_t due = kForever;
    for (const auto& s : k.sessions)
      due = std::min(due, s.fired ? sat_add(s.end, lateness_) : s.end);
    return due;
  }

  void schedule(const Hash128& key, KeySessions& k) {
    const int64_t due = due_of(k);
    if (due == kForever) return;
    if (due < k.queued || (wm_ != kNever && k.queued <= wm_)) {
      timers_.push_back({due, key});
      std::push_heap(timers_.begin(), timers_.end(), later);
      k.queued = due;
    }
    next_due_ = std::min(next_due_, due);
  }

  static bool later(const std::pair<int64_t, Hash128>& a, const std::pair<int64_t, Hash128>& b) {
    return a.first > b.first;
  }

  // ---- firing ----

  // Fires every window that ends at or before `wm` and frees those past lateness;
  // kForever (the end of the input) fires and frees all.
  Status fire_until(int64_t wm, pipeline::Emitter& out) {
    due_.clear();
    std::vector<Hash128> emptied;
    int64_t last_end = kNever;
    if (opt_.kind != WindowKind::kSession) {
      // By start, then end; near a DST change a later start may end sooner, so only a
      // start past the watermark ends the scan.
      for (auto& [span, w] : windows_) {
        if (span.first >= wm) break;
        if (w->fired || w->end > wm) continue;
        w->fired = true;
        ++windows_fired_;
        if (forcing_) ++forced_;
        last_end = std::max(last_end, w->end);
        for (auto& g : w->groups) due_.push_back({w->start, w->end, &g.values, &g, nullptr});
      }
    } else {
      while (!timers_.empty() && timers_.front().first <= wm) {
        std::pop_heap(timers_.begin(), timers_.end(), later);
        const Hash128 key = timers_.back().second;
        timers_.pop_back();
        auto it = keys_.find(key);
        if (it == keys_.end()) continue;
        KeySessions& k = it->second;
        if (k.queued <= wm) k.queued = kForever;
        for (auto& s : k.sessions) {
          if (s.fired || s.end > wm) continue;
          s.fired = true;
          ++windows_fired_;
          if (forcing_) ++forced_;
          last_end = std::max(last_end, s.end);
          due_.push_back({s.start, s.end, &k.values, nullptr, &s});
        }
        emptied.push_back(key);
      }
    }
    sort_due();
    for (const Due& d : due_) {
      bool& emitted = d.group ? d.group->emitted : d.session->emitted;
      bool& dirty = d.group ? d.group->dirty : d.session->dirty;
      const uint32_t row = d.group ? d.group->row : d.session->row;
      if (auto st = write_result(d.start, d.end, *d.values, row, true, emitted, out); !st) {
        return st;
      }
      emitted = true;
      dirty = false;
    }
    due_.clear();
    // Free what lateness no longer keeps.
    const int64_t keep_after = wm == kForever ? kForever : sat_sub(wm, lateness_);
    if (opt_.kind != WindowKind::kSession) {
      for (auto it = windows_.begin(); it != windows_.end();) {
        auto next = std::next(it);
        if (it->second->fired && (it->second->end <= keep_after || it->second->end <= floor_)) {
          last_end = std::max(last_end, it->second->end);
          free_window(it);
        } else if (it->first.first >= wm) {
          break;
        }
        it = next;
      }
    } else {
      for (const Hash128& key : emptied) {
        auto it = keys_.find(key);
        if (it == keys_.end()) continue;
        KeySessions& k = it->second;
        std::erase_if(k.sessions, [&](const Session& s) {
          const bool gone = s.fired && (s.end <= keep_after || s.end <= floor_);
          if (gone) {
            last_end = std::max(last_end, s.end);
            bytes_ -= aggs_->row_bytes(s.row);
            aggs_->free_row(s.row);
            --groups_;
          }
          return gone;
        });
        if (k.sessions.empty()) {
          bytes_ -= k.values.capacity() + kGroupOverhead;
          keys_.erase(it);
        } else {
          schedule(key, k);
        }
      }
    }
    // After the end of the input or a forced firing, nothing reopens these windows.
    if (wm == kForever || forcing_) floor_ = std::max(floor_, last_end);
    refresh_due();
    return {};
  }

  // The next time the watermark must stop by: the first end of an open window, or of
  // a fired one's lateness.
  void refresh_due() {
    next_due_ = kForever;
    if (opt_.kind == WindowKind::kSession) {
      if (!timers_.empty()) next_due_ = timers_.front().first;
      return;
    }
    for (const auto& [span, w] : windows_) {
      if (span.first >= next_due_) break;
      next_due_ = std::min(next_due_, w->fired ? sat_add(w->end, lateness_) : w->end);
    }
  }

  // --emit every: the groups that changed since their last result, not yet final.
  Status emit_partials(pipeline::Emitter& out) {
    due_.clear();
    if (opt_.kind != WindowKind::kSession) {
      for (auto& [start, w] : windows_) {
        if (w->fired) continue;
        for (auto& g : w->groups) {
          if (g.dirty) due_.push_back({w->start, w->end, &g.values, &g, nullptr});
        }
      }
    } else {
      for (auto& [key, k] : keys_) {
        for (auto& s : k.sessions) {
          if (!s.fired && s.dirty) due_.push_back({s.start, s.end, &k.values, nullptr, &s});
        }
      }
    }
    sort_due();
    for (const Due& d : due_) {
      bool& emitted = d.group ? d.group->emitted : d.session->emitted;
      bool& dirty = d.group ? d.group->dirty : d.session->dirty;
      const uint32_t row = d.group ? d.group->row : d.session->row;
      if (auto st = write_result(d.start, d.end, *d.values, row, false, emitted, out); !st) {
        return st;
      }
      emitted = true;
      dirty = false;
    }
    due_.clear();
    return {};
  }

  void sort_due() {
    sort_keys_.clear();
    for (size_t i = 0; i < due_.size(); ++i) {
      sort_keys_.push_back(sort_key_of(due_[i], static_cast<uint32_t>(i)));
    }
    const bool one_field = by_.size() == 1;
    const std::vector<Due>& due = due_;
    std::sort(sort_keys_.begin(), sort_keys_.end(),
              [one_field, &due](const SortKey& a, const SortKey& b) {
                if (a.start != b.start) return a.start < b.start;
                if (a.end != b.end) return a.end < b.end;
                if (a.rank != b.rank) return a.rank < b.rank;
                if (a.bits != b.bits) return a.bits < b.bits;
                return values_less(*due[a.index].values, *due[b.index].values, one_field);
              });
    sorted_.clear();
    for (const SortKey& k : sort_keys_) sorted_.push_back(due_[k.index]);
    due_.swap(sorted_);
  }

  // {"window_start":…,"window_end":…,<by fields>,<aggregates>[,"final":…][,"update":true]}
  Status write_result(int64_t start, int64_t end, std::string_view values, uint32_t row, bool final,
                      bool update, pipeline::Emitter& out) {
    if (start != stamped_start_ || end != stamped_end_) {
      // One firing writes many groups of the same window: format its bounds once.
      stamp_ = "{\"window_start\":\"";
      time::append_rfc3339_ms(stamp_, start);
      stamp_ += "\",\"window_end\":\"";
      time::append_rfc3339_ms(stamp_, end);
      stamp_ += '"';
      stamped_start_ = start;
      stamped_end_ = end;
    }
    std::string& b = out.line_buffer();
    b += stamp_;
    json::JsonWriter w(b, json::JsonWriter::InObject{});
    for (size_t i = 0; i < by_.size(); ++i) {
      const size_t nl = i + 1 < by_.size() ? values.find('\n') : values.size();
      w.key_json(by_keys_[i]).raw(values.substr(0, nl));
      values.remove_prefix(std::min(values.size(), nl + 1));
    }
    aggs_->write(row, w);
    if (markers_) {
      w.key("final").value(final);
      if (update) w.key("update").value(true);
    }
    w.end_object();
    return out.end_line();
  }

  Status late(json::Event& event, pipeline::Emitter& out) {
    ++late_;
    ++out.report().dropped;
    if (!late_out_) return {};
    late_out_->buffer().append(event.raw());
    return late_out_->end_line();
  }

  // ---- bounds ----

  bool over_bounds() const {
    return (opt_.max_groups > 0 && groups_ > opt_.max_groups) || bytes_ > opt_.max_memory;
  }

  // Fires the windows that end first, raising the watermark to their end, until the
  // state fits again.
  Status relieve(pipeline::Emitter& out) {
    forcing_ = true;
    Status st;
    while (st && over_bounds() && next_due_ != kForever) {
      forced_wm_ = std::max(forced_wm_, next_due_);
      const int64_t wm = watermark();
      wm_ = std::max(wm_, wm);
      st = fire_until(wm_, out);
    }
    forcing_ = false;
    return st;
  }

  // ---- state ----

  Status write_state() override {
    auto created = state::create_stage_snapshot(opt_.state, kKind, kStateVersion, fingerprint());
    if (!created) return std::unexpected(created.error());
    state::SnapshotWriter& w = **created;
    w.i64(max_t_);
    w.i64(std::max(control_wm_, forced_wm_));
    w.i64(floor_);
    w.i64(next_every_);
    positions().save(w);
    if (opt_.kind == WindowKind::kSession) {
      w.u64(keys_.size());
      for (const auto& [key, k] : keys_) {
        w.u64(key.low);
        w.u64(key.high);
        w.bytes(k.values);
        w.u64(k.sessions.size());
        for (const auto& s : k.sessions) {
          w.i64(s.start);
          w.i64(s.end);
          w.u32((s.fired ? 1 : 0) | (s.emitted ? 2 : 0) | (s.dirty ? 4 : 0));
          aggs_->save(s.row, w);
        }
      }
    } else {
      w.u64(windows_.size());
      for (const auto& [span, win] : windows_) {
        w.i64(win->start);
        w.i64(win->end);
        w.u32(win->fired ? 1 : 0);
        w.u64(win->groups.size());
        for (const auto& g : win->groups) {
          w.u64(g.key.low);
          w.u64(g.key.high);
          w.bytes(g.values);
          w.u32((g.emitted ? 2 : 0) | (g.dirty ? 4 : 0));
          aggs_->save(g.row, w);
        }
      }
    }
    return w.commit();
  }

  Status load_window(state::SnapshotReader& r) {
    int64_t start = 0, end = 0;
    uint32_t fired = 0;
    uint64_t n = 0;
    if (auto st = r.read(start, end, fired, n); !st) return st;
    if (end <= start || fired > 1 || windows_.contains(std::pair(start, end))) {
      return r.corrupt("a bad window");
    }
    if (n > r.remaining() / 24) return r.corrupt("more groups than bytes");
    Window& w = window_at({start, end});
    w.fired = fired != 0;
    for (uint64_t i = 0; i < n; ++i) {
      Group g;
      uint32_t flags = 0;
      if (auto st = r.read(g.key.low, g.key.high, g.values, flags); !st) return st;
      if (flags > 7) return r.corrupt("bad group flags");
      g.emitted = (flags & 2) != 0;
      g.dirty = (flags & 4) != 0;
      auto row = aggs_->load(r);
      if (!row) return std::unexpected(row.error());
      g.row = *row;
      if (!w.index.try_emplace(g.key, static_cast<uint32_t>(w.groups.size())).second) {
        return r.corrupt("a repeated group");
      }
      bytes_ += aggs_->row_bytes(g.row) + g.values.capacity() + kGroupOverhead;
      ++groups_;
      w.groups.push_back(std::move(g));
    }
    last_window_ = nullptr;
    return {};
  }

  Status load_key(state::SnapshotReader& r) {
    Hash128 key;
    std::string values;
    uint64_t n = 0;
    if (auto st = r.read(key.low, key.high, values, n); !st) return st;
    if (n == 0 || n > r.remaining() / 20) return r.corrupt("a bad session count");
    auto [it, inserted] = keys_.try_emplace(key);
    if (!inserted) return r.corrupt("a repeated session key");
    KeySessions& k = it->second;
    k.values = std::move(values);
    bytes_ += k.values.capacity() + kGroupOverhead;
    for (uint64_t i = 0; i < n; ++i) {
      Session s;
      uint32_t flags = 0;
      if (auto st = r.read(s.start, s.end, flags); !st) return st;
      if (flags > 7 || s.end < s.start) return r.corrupt("a bad session");
      s.fired = (flags & 1) != 0;
      s.emitted = (flags & 2) != 0;
      s.dirty = (flags & 4) != 0;
      auto row = aggs_->load(r);
      if (!row) return std::unexpected(row.error());
      s.row = *row;
      bytes_ += aggs_->row_bytes(s.row);
      ++groups_;
      k.sessions.push_back(s);
    }
    schedule(key, k);
    return {};
  }

  Status flush_side_outputs() override { return late_out_ ? late_out_->flush() : Status{}; }

  // Kafka input: partitions are read interleaved, so event time is the smallest of
  // the partitions' largest event times. A partition counts from its assignment (one
  // that has sent nothing yet holds event time back) until it is taken away; while it
  // is caught up (read to its end) or quiet for --idle it does not hold time back.
  // When none counts, everything assigned has been read: the largest time is safe.
  static constexpr size_t kMaxPartitions = 4096;
  struct PartitionTime {
    std::string topic;
    int32_t partition = 0;
    int64_t max = kNever;    // the largest event time from it
    int64_t heard = kNever;  // when it last sent an event (monotonic; with --idle)
    bool caught_up = false;  // read to its end: nothing from it is pending
  };

  PartitionTime& part_time(std::string_view topic, int32_t partition) {
    if (last_part_ < parts_.size() && parts_[last_part_].partition == partition &&
        parts_[last_part_].topic == topic) {
      return parts_[last_part_];
    }
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (parts_[i].partition == partition && parts_[i].topic == topic) {
        last_part_ = i;
        return parts_[i];
      }
    }
    if (parts_.size() >= kMaxPartitions) parts_.erase(parts_.begin());  // the oldest
    parts_.push_back(PartitionTime{std::string(topic), partition});
    last_part_ = parts_.size() - 1;
    return parts_.back();
  }

  void on_kafka_partition(std::string_view topic, int32_t part,
                          pipeline::Stage::PartitionChange change) override {
    using C = pipeline::Stage::PartitionChange;
    if (change == C::kRevoked) {
      std::erase_if(
          parts_, [&](const PartitionTime& p) { return p.partition == part && p.topic == topic; });
      last_part_ = 0;
    } else {
      PartitionTime& p = part_time(topic, part);
      p.caught_up = change == C::kCaughtUp;
      if (opt_.idle && change == C::kAssigned) p.heard = clock_.mono_ns();
    }
    parts_changed_ = true;
  }

  int64_t partition_frontier(const json::KafkaOrigin& k, int64_t t) {
    PartitionTime& p = part_time(k.topic, k.partition);
    p.heard = last_event_mono_;  // kNever without --idle: never quiet
    const bool was_counted = !p.caught_up;
    p.caught_up = false;
    if (t <= p.max && was_counted && !parts_changed_) return max_t_;
    if (t > p.max) p.max = t;
    return frontier_now();
  }

  int64_t frontier_now() {
    parts_changed_ = false;
    const int64_t now = opt_.idle ? clock_.mono_ns() : 0;
    int64_t least = kForever, most = kNever;
    for (const auto& q : parts_) {
      most = std::max(most, q.max);
      const bool quiet = opt_.idle && q.heard != kNever && now - q.heard >= *opt_.idle;
      if (!q.caught_up && !quiet) least = std::min(least, q.max);
    }
    return least == kForever ? most : least;
  }

 public:
  // Open windows hold events not yet in any result.
  bool holds_events() const override { return true; }

 private:
  const WindowOptions opt_;
  std::vector<json::FieldPath> by_;
  json::FieldPath time_path_;
  std::optional<window::Assigner> assigner_;
  std::unique_ptr<window::Aggregates> aggs_;
  time::Clock& clock_;
  const int64_t lateness_;
  const bool markers_;

  state::KeyHasher hasher_;
  Hash128 key_;
  std::vector<window::Span> spans_;
  std::string stamp_;  // '{"window_start":"…","window_end":"…"' of the last window written
  int64_t stamped_start_ = kNever, stamped_end_ = kNever;
  std::vector<std::string> by_keys_;
  std::string key_text_;
  bool key_text_ok_ = false;
  std::vector<Due> due_, sorted_;
  std::vector<SortKey> sort_keys_;
  std::vector<size_t> hits_;

  Windows windows_;                                     // by start, then end
  std::vector<std::unique_ptr<Window>> spare_windows_;  // freed, to reuse their memory
  Window* last_window_ = nullptr;
  absl::flat_hash_map<Hash128, KeySessions, HashOf128> keys_;
  std::vector<std::pair<int64_t, Hash128>> timers_;  // a min-heap of (due, key)

  int64_t max_t_ = kNever;
  bool parts_changed_ = false;
  std::vector<PartitionTime> parts_;  // Kafka input only
  size_t last_part_ = 0;
  int64_t control_wm_ = kNever;
  int64_t forced_wm_ = kNever;
  int64_t wm_ = kNever;
  int64_t floor_ = kNever;  // windows ending at or before this are closed for good
  int64_t next_due_ = kForever;
  int64_t next_every_ = kNever;
  int64_t now_ = kNever;
  int64_t last_event_mono_ = kNever;
  int64_t idle_base_ = kNever;
  bool forcing_ = false;

  std::unique_ptr<io::LineWriter> late_out_;
  uint64_t groups_ = 0;
  uint64_t bytes_ = 0;
  uint64_t windows_fired_ = 0;
  uint64_t late_ = 0;
  uint64_t future_ = 0;
  uint64_t forced_ = 0;
  uint64_t since_now_ = 0;  // events since now_ was read
};

}  // namespace

Result<std::unique_ptr<pipeline::Stage>> make_window(const WindowOptions& opt) {
  if (opt.max_delay < 0) return usage_error("--max-delay cannot be negative");
  if (opt.allowed_lateness < 0) return usage_error("--allowed-lateness cannot be negative");
  if (opt.max_future && *opt.max_future < 0) return usage_error("--max-future cannot be negative");
  if (opt.idle && *opt.idle <= 0) return usage_error("--idle must be positive");
  if (opt.emit == EmitMode::kEvery && opt.emit_every <= 0) {
    return usage_error("--emit every needs a positive duration, e.g. --emit every 1m");
  }
  if (opt.max_memory < (1u << 20)) return usage_error("--max-memory: at least 1M");
  if (opt.checkpoint_every <= 0) return usage_error("--checkpoint-every must be positive");
  std::optional<window::Assigner> assigner;
  if (opt.kind == WindowKind::kSession) {
    if (opt.gap <= 0) return usage_error("--session: the gap must be positive");
    if (opt.spec.align != 0 || !opt.spec.tz.empty()) {
      return usage_error("--align and --tz apply to --tumble and --hop, not to --session");
    }
  } else {
    auto made = window::Assigner::make(opt.spec);
    if (!made) return std::unexpected(made.error());
    assigner = std::move(*made);
  }
  std::vector<json::FieldPath> by;
  if (!opt.by.empty()) {
    auto parsed = json::parse_field_path_list(opt.by);
    if (!parsed) return usage_error("--by: " + parsed.error().message);
    by = std::move(*parsed);
  }
  std::vector<window::AggSpec> specs;
  for (const auto& text : opt.aggs) {
    auto parsed = window::parse_aggregates(text);
    if (!parsed) return std::unexpected(parsed.error());
    for (auto& s : *parsed) specs.push_back(std::move(s));
  }
  if (specs.empty()) specs.push_back(window::AggSpec{window::AggFn::kCount, "", 0, 0, "count"});
  std::set<std::string> taken = {"window_start", "window_end", "final", "update"};
  for (const auto& path : by) {
    if (!taken.insert(path.text()).second) {
      return usage_error("--by " + path.text() + ": the output already has a member of that name");
    }
  }
  for (const auto& s : specs) {
    if (taken.contains(s.name)) {
      return usage_error("--agg: '" + s.name +
                         "' would clash with another output member (use 'as NAME')");
    }
  }
  auto aggs = window::Aggregates::make(std::move(specs), opt.exact);
  if (!aggs) return std::unexpected(aggs.error());
  auto time_path = json::FieldPath::parse(opt.time_field);
  if (!time_path) return usage_error("--time-field: " + time_path.error().message);
  time::Clock& clock = opt.clock ? *opt.clock : time::SystemClock::instance();
  auto stage = std::make_unique<WindowStage>(opt, std::move(by), std::move(*time_path),
                                             std::move(assigner), std::move(*aggs), clock);
  if (auto st = stage->restore(); !st) return std::unexpected(st.error());
  if (!opt.state.empty()) {
    auto probe = state::SnapshotWriter::create(opt.state, kKind);
    if (!probe) return std::unexpected(probe.error());
  }
  if (auto st = stage->open_late(); !st) return std::unexpected(st.error());
  return stage;
}

}  // namespace ev::stages
