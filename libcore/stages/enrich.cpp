#include "libcore/stages/enrich.h"

#include <sys/stat.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <thread>

#include "libcore/base/diag.h"
#include "libcore/base/text.h"
#include "libcore/enrich/kafka_table.h"
#include "libcore/enrich/redis_table.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/json/json_writer.h"
#include "libcore/json/splice.h"

namespace ev::stages {
namespace {

using enrich::Table;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// What identifies a version of a file: a replaced or rewritten file changes one.
struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  uint64_t inode = 0;
  uint64_t device = 0;
  bool operator==(const FileStamp&) const = default;
};

std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec, st.st_size,
                   st.st_ino, st.st_dev};
}

// A reload in the background: the new table is built aside and handed over whole.
struct Reload {
  std::thread thread;
  std::atomic<bool> done{false};
  Result<enrich::LoadedTable> result = enrich::LoadedTable{};
  FileStamp stamp;
};

struct TableState {
  enum class Kind { kFile, kKafka, kRedis } kind = Kind::kFile;
  stages::EnrichTableOptions opt;
  json::FieldPath on;
  enrich::FileTableOptions file;
  std::unique_ptr<Table> table;  // file
  FileStamp stamp;
  FileStamp failed_stamp;  // a version that failed to load: not tried again
  std::unique_ptr<Reload> reload;
  std::unique_ptr<enrich::KafkaTable> kafka;
  std::unique_ptr<enrich::RedisTable> redis;
  std::string default_members;
  std::vector<std::string> default_keys;
  std::string reason_prefix;  // "table users: "
  uint64_t matched = 0, missing = 0, duplicates = 0, reloads = 0, reload_failures = 0;

  const Table* lookup_table() const { return kind == Kind::kKafka ? &kafka->table() : table.get(); }
};

// One table's lookup for an event in the lookup pipeline (below).
struct Lookup {
  enum State : uint8_t { kMissingKey, kBadKey, kKey } state = kMissingKey;
  std::string key;  // kKey: the key text; kBadKey: the reason
  uint64_t hash = 0;
  Table::Row row = nullptr;  // after resolve: the candidate row, not yet confirmed
};

// An event between arriving and being written: in the lookup pipeline, or held for
// a Redis batch.
struct Pending {
  std::unique_ptr<char[]> raw;  // the line and SIMDJSON_PADDING bytes
  size_t capacity = 0;
  size_t size = 0;
  std::string source;
  uint64_t line = 0;
  bool kafka = false;
  json::KafkaOrigin origin;
  std::string kafka_key;
  std::vector<Lookup> lookups;  // one per table (the lookup pipeline)
  bool resolved = false;
  bool bad_key = false;  // a bad event: the pipeline is drained through it at once
};

// File and Kafka tables look rows up in a software pipeline three events deep, so
// the two cache misses of a lookup in a big table (its slot, then its row) overlap
// the work on other events instead of stalling: an event's key is hashed and its slot
// prefetched when it arrives; at the next event the candidate row is found and
// prefetched; at the one after, the row is confirmed and the event written. The
// pipeline is drained (in order) before a control line, when the input pauses,
// before a table changes (a Kafka update, a reload), every kDrainEvery events (a
// point where Kafka offsets may be committed) and at the end.
constexpr size_t kPipelineDepth = 3;
constexpr uint64_t kDrainEvery = 4096;

class EnrichStage final : public pipeline::Stage {
 public:
  EnrichStage(EnrichOptions options, std::vector<std::unique_ptr<TableState>> tables)
      : options_(std::move(options)), tables_(std::move(tables)), held_event_(held_parser_) {
    clock_ = options_.clock ? options_.clock : &time::SystemClock::instance();
    for (auto& t : tables_) {
      if (t->kind == TableState::Kind::kRedis) redis_.push_back(t.get());
      if (t->kind == TableState::Kind::kKafka) kafka_.push_back(t.get());
      if (t->opt.reload) reloading_.push_back(t.get());
    }
    next_check_ = clock_->mono_ns();
    pipelined_ = redis_.empty() && options_.pipeline;
    for (auto& p : ring_) p.lookups.resize(tables_.size());
  }

  ~EnrichStage() override {
    for (auto* t : reloading_) {
      if (t->reload && t->reload->thread.joinable()) t->reload->thread.join();
    }
  }

  Status on_event(json::Event& event, pipeline::Emitter& out) override {
    if (auto st = maintain(false, out); !st) return st;
    if (pipelined_) return pipeline(event, out);
    if (redis_.empty()) return enrich(event, out, nullptr, 0);
    return hold(event, out);
  }

  Status on_control(std::string_view line, pipeline::Emitter& out) override {
    if (auto st = flush(out); !st) return st;
    return out.emit_control(line);
  }

  Status on_idle(pipeline::Emitter& out) override {
    if (auto st = flush(out); !st) return st;
    return maintain(true, out);
  }

  Status on_finish(pipeline::Emitter& out) override { return flush(out); }

  Status before_bad_line(pipeline::Emitter& out) override { return flush(out); }

  bool holds_events() const override { return !redis_.empty() || pipelined_; }

  Status on_end(pipeline::RunReport& report, pipeline::Outcome) override {
    for (auto& t : tables_) {
      const std::string& n = t->opt.name;
      report.add_extra(n + "_matched", t->matched);
      report.add_extra(n + "_missing", t->missing);
      switch (t->kind) {
        case TableState::Kind::kFile:
          report.add_extra(n + "_rows", t->table->rows());
          report.add_extra(n + "_bytes", t->table->memory_bytes());
          report.add_extra(n + "_duplicates", t->duplicates);
          if (t->opt.reload) {
            report.add_extra(n + "_reloads", t->reloads);
            report.add_extra(n + "_reload_failures", t->reload_failures);
          }
          break;
        case TableState::Kind::kKafka: {
          auto c = t->kafka->counts();
          report.add_extra(n + "_rows", t->kafka->table().rows());
          report.add_extra(n + "_bytes", t->kafka->table().memory_bytes());
          report.add_extra(n + "_updates", c.messages);
          report.add_extra(n + "_deletes", c.deletes);
          report.add_extra(n + "_bad_rows", c.bad);
          if (t->opt.max_rows != 0) report.add_extra(n + "_refused", c.refused);
          break;
        }
        case TableState::Kind::kRedis: {
          const auto& c = t->redis->counts();
          report.add_extra(n + "_cache_hits", c.cache_hits);
          report.add_extra(n + "_lookups", c.lookups);
          report.add_extra(n + "_round_trips", c.round_trips);
          report.add_extra(n + "_reconnects", c.reconnects);
          break;
        }
      }
    }
    return {};
  }

 private:
  // Kafka updates (every event), file reloads (every reload_every). Events in the
  // lookup pipeline are written first: their rows must not change under them.
  Status maintain(bool idle, pipeline::Emitter& out) {
    for (auto* t : kafka_) {
      if (!t->kafka->has_pending()) continue;
      if (auto st = drain(out); !st) return st;
      if (auto st = t->kafka->apply_pending(); !st) return st;
    }
    if (reloading_.empty()) return {};
    if (!idle && ++since_check_ < 1024) return {};
    since_check_ = 0;
    for (auto* t : reloading_) {
      if (t->reload && t->reload->done.load(std::memory_order_acquire)) {
        if (auto st = drain(out); !st) return st;
        finish_reload(*t);
      }
    }
    const int64_t now = clock_->mono_ns();
    if (now < next_check_) return {};
    next_check_ = now + reloading_.front()->opt.reload_every;
    for (auto* t : reloading_) {
      if (t->reload) continue;
      auto stamp = stamp_of(t->file.path);
      if (!stamp || *stamp == t->stamp || *stamp == t->failed_stamp) continue;
      start_reload(*t, *stamp);
    }
    return {};
  }

  void start_reload(TableState& t, FileStamp stamp) {
    t.reload = std::make_unique<Reload>();
    Reload* r = t.reload.get();
    r->stamp = stamp;
    const enrich::FileTableOptions* file = &t.file;
    r->thread = std::thread([r, file] {
      r->result = enrich::load_file_table(*file);
      r->done.store(true, std::memory_order_release);
    });
  }

  void finish_reload(TableState& t) {
    std::unique_ptr<Reload> r = std::move(t.reload);
    r->thread.join();
    auto now = stamp_of(t.file.path);
    if (!now || !(*now == r->stamp)) return;  // changed while loading: the next check retries
    if (!r->result) {
      ++t.reload_failures;
      t.failed_stamp = r->stamp;
      diag::warning(t.reason_prefix + "reload failed, keeping the previous table (" +
                    std::to_string(t.table->rows()) + " rows): " + r->result.error().to_string());
      return;
    }
    t.table = std::move(r->result->table);
    t.duplicates = r->result->duplicates;
    t.stamp = r->stamp;
    ++t.reloads;
    diag::note(t.reason_prefix + "reloaded " + t.file.path + ": " +
               std::to_string(t.table->rows()) + " rows");
  }

  // The key text of `t` in the event: kYes with the text, kMissing for a missing or
  // null field; a container or malformed JSON is an error (a bad event). An unescaped
  // string key is written to `scratch` (default: the stage's).
  Result<json::Found> event_key(json::Event& event, const json::FieldPath& path,
                                std::string_view& key, std::string* scratch = nullptr) {
    simdjson::ondemand::value v;
    auto found = event.find(path, v);
    if (!found) return std::unexpected(found.error());
    if (*found == json::Found::kMissing) return json::Found::kMissing;
    if (v.is_null()) return json::Found::kMissing;
    auto text = enrich::key_text(v, scratch ? *scratch : key_scratch_);
    if (!text) {
      return data_error("key field " + path.text() + " is " + text.error().message);
    }
    key = *text;
    return json::Found::kYes;
  }

  // Adds the fields of table `t` for this event, or applies --missing. Sets `done`
  // when the event was dropped or rejected. `lookup` is the pipeline's (null: look
  // the key up now); a Redis table's row (or nullptr) and key were looked up for the
  // batch.
  Status add_table(TableState& t, json::Event& event, pipeline::Emitter& out, bool& done,
                   const Lookup* lookup, const enrich::RedisRow* redis_row, std::string_view key) {
    bool found_row = false;
    if (t.kind == TableState::Kind::kRedis) {
      if (redis_row && redis_row->found) {
        append_sep();
        members_.append(redis_row->members);
        for (const auto& k : redis_row->keys) keys_.push_back(k);
        found_row = true;
      }
    } else {
      const Table* table = t.lookup_table();
      Table::Row row = nullptr;
      if (lookup) {
        if (lookup->state == Lookup::kBadKey) {
          done = true;
          return out.reject(event, t.reason_prefix + lookup->key);
        }
        if (lookup->state == Lookup::kKey) {
          key = lookup->key;
          // No candidate: no row has the key's hash, so none has the key.
          if (lookup->row) row = table->has_key(lookup->row, key) ? lookup->row : table->find(key);
        }
      } else {
        std::string_view k;
        auto got = event_key(event, t.on, k);
        if (!got) {
          done = true;
          return out.reject(event, t.reason_prefix + got.error().message);
        }
        if (*got == json::Found::kYes) {
          key = k;
          row = table->find(k);
        }
      }
      if (row) {
        append_sep();
        table->append_members(members_, row, keys_);
        found_row = true;
      }
    }
    if (found_row) {
      ++t.matched;
      return {};
    }
    ++t.missing;
    switch (t.opt.missing) {
      case Missing::kKeep:
        return {};
      case Missing::kDrop:
        done = true;
        ++out.report().dropped;
        return {};
      case Missing::kReject: {
        done = true;
        std::string why = t.reason_prefix + "no row for ";
        if (key.data() == nullptr) {
          why += "an event without its key field";
        } else {
          why += t.kind == TableState::Kind::kRedis ? "key " : t.opt.event_field + " ";
          json::append_json_string(why, key);
        }
        return out.reject(event, why);
      }
      case Missing::kDefault:
        append_sep();
        members_.append(t.default_members);
        for (const auto& k : t.default_keys) keys_.push_back(k);
        return {};
    }
    return {};
  }

  void append_sep() {
    if (!members_.empty()) members_.push_back(',');
  }

  // Enriches one event. `pending` holds its lookups when it went through the lookup
  // pipeline; `batch_index` picks the Redis rows of an event held for a batch.
  Status enrich(json::Event& event, pipeline::Emitter& out, const Pending* pending,
                size_t batch_index) {
    members_.clear();
    keys_.clear();
    size_t r = 0;
    for (size_t k = 0; k < tables_.size(); ++k) {
      auto& t = tables_[k];
      bool done = false;
      const enrich::RedisRow* row = nullptr;
      std::string_view key{};
      if (t->kind == TableState::Kind::kRedis) {
        const size_t slot = r * held_ + batch_index;
        ++r;
        if (!redis_error_[slot].empty()) {
          return out.reject(event, t->reason_prefix + redis_error_[slot]);
        }
        row = redis_rows_[slot];
        if (!redis_key_[slot].empty()) key = redis_key_[slot];
      }
      const Lookup* lookup = pending ? &pending->lookups[k] : nullptr;
      if (auto st = add_table(*t, event, out, done, lookup, row, key); !st || done) return st;
    }
    if (members_.empty()) return out.emit(event.raw());
    std::string& buf = out.line_buffer();
    const size_t mark = buf.size();
    if (auto st = json::append_spliced(buf, event.raw(), members_, keys_, splice_parser_); !st) {
      buf.resize(mark);
      return out.reject(event, st.error().message);
    }
    return out.end_line();
  }

  // The lookup pipeline (see kPipelineDepth).
  Status pipeline(json::Event& event, pipeline::Emitter& out) {
    Pending& p = ring_[(start_ + count_) % kPipelineDepth];
    prepare(p, event);
    ++count_;
    if (p.bad_key) return flush(out);  // written (rejected) in order, now
    if (count_ >= 2) resolve(ring_[(start_ + count_ - 2) % kPipelineDepth]);
    if (count_ == kPipelineDepth) {
      Status st = finish(ring_[start_], out);
      start_ = (start_ + 1) % kPipelineDepth;
      --count_;
      if (!st) return st;
    }
    if (++since_drain_ >= kDrainEvery) return flush(out);
    return {};
  }

  // Copies the event (its line with padding, where it came from).
  static void copy_event(Pending& p, const json::Event& event) {
    p.size = event.raw().size();
    if (p.size + simdjson::SIMDJSON_PADDING > p.capacity) {
      p.capacity = std::max<size_t>(2 * p.capacity, p.size + simdjson::SIMDJSON_PADDING);
      p.raw = std::make_unique_for_overwrite<char[]>(p.capacity);
    }
    std::memcpy(p.raw.get(), event.raw().data(), p.size);
    std::memset(p.raw.get() + p.size, ' ', simdjson::SIMDJSON_PADDING);
    if (p.source != event.source()) p.source.assign(event.source());
    p.line = event.line();
    p.kafka = event.kafka() != nullptr;
    if (p.kafka) {
      p.origin = *event.kafka();
      p.kafka_key.assign(p.origin.key);
    }
  }

  // Points held_event_ at a copied event.
  void point_at(const Pending& p) {
    held_event_.reset(std::string_view(p.raw.get(), p.size), p.source, p.line);
    if (p.kafka) {
      held_origin_ = p.origin;
      held_origin_.key = p.kafka_key;
      held_event_.set_kafka(&held_origin_);
    }
  }

  // Copies the event and its key texts; prefetches the keys' slots.
  void prepare(Pending& p, json::Event& event) {
    copy_event(p, event);
    p.resolved = false;
    p.bad_key = false;
    for (size_t k = 0; k < tables_.size(); ++k) {
      Lookup& l = p.lookups[k];
      l.row = nullptr;
      std::string_view key;
      // A string key is unescaped straight into the lookup: one copy, not two.
      auto got = event_key(event, tables_[k]->on, key, &l.key);
      if (!got) {
        l.state = Lookup::kBadKey;
        l.key = got.error().message;
        p.bad_key = true;
      } else if (*got == json::Found::kMissing) {
        l.state = Lookup::kMissingKey;
      } else {
        l.state = Lookup::kKey;
        if (key.data() != l.key.data()) l.key.assign(key);
        l.hash = Table::hash_of(l.key);
        tables_[k]->lookup_table()->prefetch_slot(l.hash);
      }
    }
  }

  // Finds the candidate rows (the slots are in cache by now) and prefetches them.
  void resolve(Pending& p) {
    if (p.resolved) return;
    p.resolved = true;
    for (size_t k = 0; k < tables_.size(); ++k) {
      Lookup& l = p.lookups[k];
      if (l.state == Lookup::kKey) l.row = tables_[k]->lookup_table()->candidate(l.hash);
    }
  }

  Status finish(Pending& p, pipeline::Emitter& out) {
    resolve(p);
    point_at(p);
    return enrich(held_event_, out, &p, 0);
  }

  // Writes every event in the lookup pipeline, in order.
  Status drain(pipeline::Emitter& out) {
    while (count_ > 0) {
      Status st = finish(ring_[start_], out);
      start_ = (start_ + 1) % kPipelineDepth;
      --count_;
      if (!st) return st;
    }
    return {};
  }

  // Writes everything held (the pipeline, a Redis batch): a point where the Kafka
  // offsets of what was read may be committed.
  Status flush(pipeline::Emitter& out) {
    since_drain_ = 0;
    if (pipelined_) {
      if (count_ == 0) return {};
      if (auto st = drain(out); !st) return st;
      out.checkpointed();
      return {};
    }
    return flush_batch(out);
  }

  // Redis: keeps the event until its batch is looked up.
  Status hold(json::Event& event, pipeline::Emitter& out) {
    if (batch_.size() == held_) batch_.emplace_back();
    copy_event(batch_[held_++], event);
    if (held_ >= options_.batch) return flush_batch(out);
    return {};
  }

  Status flush_batch(pipeline::Emitter& out) {
    if (held_ == 0) return {};
    const size_t n = held_;
    redis_rows_.assign(redis_.size() * n, nullptr);
    redis_error_.resize(redis_.size() * n);
    redis_key_.resize(redis_.size() * n);
    for (size_t slot = 0; slot < redis_.size() * n; ++slot) {
      redis_error_[slot].clear();
      redis_key_[slot].clear();
    }
    for (size_t r = 0; r < redis_.size(); ++r) {
      TableState& t = *redis_[r];
      const auto& fields = t.redis->key_fields();
      redis_keys_.clear();
      owner_.clear();
      for (size_t i = 0; i < n; ++i) {
        point_at(batch_[i]);
        parts_text_.clear();
        part_ends_.clear();
        bool have = true;
        for (const auto& path : fields) {
          std::string_view k;
          auto got = event_key(held_event_, path, k);
          if (!got) {
            redis_error_[r * n + i] = got.error().message;
            have = false;
            break;
          }
          if (*got == json::Found::kMissing) {
            have = false;
            break;
          }
          parts_text_.append(k);
          part_ends_.push_back(parts_text_.size());
        }
        if (!have) continue;
        parts_.clear();
        size_t b = 0;
        for (size_t e : part_ends_) {
          parts_.push_back(std::string_view(parts_text_).substr(b, e - b));
          b = e;
        }
        t.redis->make_key(redis_key_[r * n + i], parts_);
        owner_.push_back(i);
      }
      for (size_t i : owner_) redis_keys_.push_back(redis_key_[r * n + i]);
      rows_.clear();
      errors_.clear();
      auto st = t.redis->lookup(redis_keys_, rows_, errors_);
      if (!st) {
        if (options_.fail_on_error) return st;
        for (size_t i : owner_) redis_error_[r * n + i] = st.error().message;
        continue;
      }
      for (size_t j = 0; j < owner_.size(); ++j) {
        redis_rows_[r * n + owner_[j]] = rows_[j];
        if (j < errors_.size() && !errors_[j].empty()) redis_error_[r * n + owner_[j]] = errors_[j];
      }
    }
    Status result;
    for (size_t i = 0; i < n && result; ++i) {
      point_at(batch_[i]);
      result = enrich(held_event_, out, nullptr, i);
    }
    held_ = 0;
    if (!result) return result;
    out.checkpointed();
    return {};
  }

  EnrichOptions options_;
  std::vector<std::unique_ptr<TableState>> tables_;
  bool pipelined_ = false;
  Pending ring_[kPipelineDepth];
  size_t start_ = 0, count_ = 0;
  uint64_t since_drain_ = 0;
  std::vector<TableState*> redis_, kafka_, reloading_;
  time::Clock* clock_ = nullptr;
  int64_t next_check_ = 0;
  uint64_t since_check_ = 0;
  std::string members_;
  std::vector<std::string_view> keys_;
  std::string key_scratch_;
  simdjson::ondemand::parser splice_parser_;
  // Redis batches
  simdjson::ondemand::parser held_parser_;
  json::Event held_event_;
  json::KafkaOrigin held_origin_;
  std::vector<Pending> batch_;  // the first held_ are the batch
  size_t held_ = 0;
  std::string parts_text_;
  std::vector<size_t> part_ends_, owner_;
  std::vector<std::string_view> parts_, redis_keys_;
  std::vector<const enrich::RedisRow*> redis_rows_, rows_;
  std::vector<std::string> redis_error_, redis_key_, errors_;
};

Status check_default(TableState& t) {
  const auto& opt = t.opt;
  if (opt.missing != Missing::kDefault) return {};
  std::string padded = opt.default_json;
  padded.append(simdjson::SIMDJSON_PADDING, ' ');
  enrich::Selection all({}, "");
  enrich::RowReader reader(all);
  if (auto st = reader.read(std::string_view(padded.data(), opt.default_json.size()), ""); !st) {
    return usage_error("--missing default=" + opt.default_json +
                       ": not a JSON object: " + st.error().message);
  }
  enrich::render_members(t.default_members, opt.placement, reader.fields());
  if (!opt.placement.into.empty()) {
    t.default_keys.push_back(opt.placement.into);
  } else {
    for (const auto& f : reader.fields()) {
      t.default_keys.push_back(opt.placement.prefix + std::string(f.name));
    }
  }
  return {};
}

}  // namespace

Status parse_missing(std::string_view text, EnrichTableOptions& table) {
  if (text == "keep") {
    table.missing = Missing::kKeep;
  } else if (text == "drop") {
    table.missing = Missing::kDrop;
  } else if (text == "reject") {
    table.missing = Missing::kReject;
  } else if (starts_with(text, "default=")) {
    table.missing = Missing::kDefault;
    table.default_json = std::string(text.substr(8));
  } else {
    return usage_error("--missing " + std::string(text) +
                       ": expected keep, drop, reject or default=JSON");
  }
  return {};
}

namespace {

constexpr TableOptionSpec kTableOptions[] = {
    {"--on", true},          {"--select", true},    {"--into", true},     {"--prefix", true},
    {"--missing", true},     {"--format", true},    {"--reload", false},  {"--reload-every", true},
    {"--wait-ready", false}, {"--name", true},      {"--max-rows", true}, {"--cache-size", true},
    {"--cache-ttl", true},   {"--retry-for", true},
};

Result<time::Duration> table_duration(std::string_view name, std::string_view value) {
  auto d = time::parse_duration(value);
  if (!d)
    return usage_error(std::string(name) + " " + std::string(value) + ": " + d.error().message);
  return *d;
}

Result<uint64_t> table_count(std::string_view name, std::string_view value) {
  uint64_t n = 0;
  if (!text::parse_int(value, n)) {
    return usage_error(std::string(name) + " " + std::string(value) + ": not a count");
  }
  return n;
}

}  // namespace

std::span<const TableOptionSpec> table_option_specs() { return kTableOptions; }

Status set_table_option(EnrichTableOptions& t, std::string_view name, std::string_view value) {
  if (name == "--on") {
    size_t eq = value.find('=');
    t.event_field = std::string(value.substr(0, eq));
    t.table_field = eq == std::string_view::npos ? "" : std::string(value.substr(eq + 1));
    if (t.event_field.empty() || (eq != std::string_view::npos && t.table_field.empty())) {
      return usage_error("--on " + std::string(value) + ": expected EVENT_FIELD[=TABLE_FIELD]");
    }
  } else if (name == "--select") {
    t.select.clear();
    size_t b = 0;
    for (;;) {
      size_t e = value.find(',', b);
      std::string_view f = value.substr(b, e == std::string_view::npos ? e : e - b);
      if (f.empty()) return usage_error("--select " + std::string(value) + ": empty field name");
      t.select.emplace_back(f);
      if (e == std::string_view::npos) break;
      b = e + 1;
    }
  } else if (name == "--into") {
    if (value.empty()) return usage_error("--into needs an object name");
    t.placement.into = std::string(value);
  } else if (name == "--prefix") {
    t.placement.prefix = std::string(value);
  } else if (name == "--missing") {
    return parse_missing(value, t);
  } else if (name == "--format") {
    auto f = enrich::parse_file_format(value);
    if (!f) return std::unexpected(f.error());
    t.format = *f;
  } else if (name == "--reload") {
    t.reload = true;
  } else if (name == "--reload-every") {
    auto d = table_duration(name, value);
    if (!d) return std::unexpected(d.error());
    if (*d <= 0) return usage_error("--reload-every must be positive");
    t.reload_every = *d;
    t.reload = true;
  } else if (name == "--wait-ready") {
    t.wait_ready = true;
  } else if (name == "--name") {
    if (value.empty()) return usage_error("--name needs a name");
    t.name = std::string(value);
  } else if (name == "--max-rows") {
    auto n = table_count(name, value);
    if (!n) return std::unexpected(n.error());
    t.max_rows = *n;
  } else if (name == "--cache-size") {
    auto n = table_count(name, value);
    if (!n) return std::unexpected(n.error());
    t.cache_size = *n;
  } else if (name == "--cache-ttl") {
    auto d = table_duration(name, value);
    if (!d) return std::unexpected(d.error());
    t.cache_ttl = *d;
  } else if (name == "--retry-for") {
    auto d = table_duration(name, value);
    if (!d) return std::unexpected(d.error());
    t.retry_for = *d;
  } else {
    return usage_error("unknown table option " + std::string(name));
  }
  return {};
}

Result<std::vector<char*>> take_table_options(int argc, char** argv,
                                              std::vector<EnrichTableOptions>& tables) {
  std::vector<char*> rest;
  rest.push_back(argv[0]);
  bool literal = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (literal || a == "--") {
      literal = true;
      rest.push_back(argv[i]);
      continue;
    }
    if (a == "--table" || a == "-t" || starts_with(a, "--table=")) {
      EnrichTableOptions t;
      if (a.size() > 8 && a[7] == '=') {
        t.spec = std::string(a.substr(8));
      } else if (i + 1 < argc) {
        t.spec = argv[i + 1];
      }
      tables.push_back(std::move(t));
      rest.push_back(argv[i]);
      if (a.find('=') == std::string_view::npos && i + 1 < argc) rest.push_back(argv[++i]);
      continue;
    }
    const TableOptionSpec* spec = nullptr;
    std::string_view value;
    bool inline_value = false;
    for (const auto& s : kTableOptions) {
      if (a == s.name) {
        spec = &s;
      } else if (s.takes_value && a.size() > s.name.size() && starts_with(a, s.name) &&
                 a[s.name.size()] == '=') {
        spec = &s;
        value = a.substr(s.name.size() + 1);
        inline_value = true;
      }
    }
    if (!spec) {
      rest.push_back(argv[i]);
      continue;
    }
    if (tables.empty()) {
      return usage_error(std::string(spec->name) + " must follow the --table it applies to");
    }
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= argc) return usage_error(std::string(spec->name) + " needs a value");
      value = argv[++i];
    }
    if (auto st = set_table_option(tables.back(), spec->name, value); !st) {
      return std::unexpected(
          Error{ErrorKind::kUsage, "table " + tables.back().spec + ": " + st.error().message, ""});
    }
  }
  rest.push_back(nullptr);
  return rest;
}

std::string default_table_name(std::string_view spec) {
  if (starts_with(spec, "redis://")) return "redis";
  if (kafka::is_kafka_uri(spec)) {
    auto uri = kafka::parse_uri(spec, "localhost:9092");
    if (uri && !uri->topics.empty()) return uri->topics.front();
    return "kafka";
  }
  size_t slash = spec.rfind('/');
  std::string_view base = slash == std::string_view::npos ? spec : spec.substr(slash + 1);
  size_t dot = base.find('.');
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  std::string name;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    name.push_back(ok ? c : '_');
  }
  return name.empty() ? "table" : name;
}

Result<std::unique_ptr<pipeline::Stage>> make_enrich(EnrichOptions options) {
  if (options.tables.empty()) return usage_error("no --table given");
  if (options.batch == 0) return usage_error("--batch must be at least 1");
  time::Clock& clock = options.clock ? *options.clock : time::SystemClock::instance();
  std::vector<std::unique_ptr<TableState>> tables;
  for (auto& opt : options.tables) {
    auto t = std::make_unique<TableState>();
    if (opt.name.empty()) opt.name = default_table_name(opt.spec);
    for (const auto& other : tables) {
      if (other->opt.name == opt.name) {
        return usage_error("two tables are named " + opt.name + "; give one --name");
      }
    }
    t->reason_prefix = "table " + opt.name + ": ";
    if (!opt.placement.into.empty() && !opt.placement.prefix.empty()) {
      return usage_error(t->reason_prefix + "--into and --prefix exclude each other");
    }
    const bool is_redis = starts_with(opt.spec, "redis://");
    const bool is_kafka = kafka::is_kafka_uri(opt.spec);
    if (opt.event_field.empty() && !is_redis) {
      return usage_error(t->reason_prefix + "--on FIELD is needed");
    }
    if (!opt.event_field.empty()) {
      auto path = json::FieldPath::parse(opt.event_field);
      if (!path) return usage_error(t->reason_prefix + "--on: " + path.error().message);
      t->on = std::move(*path);
    }
    if (opt.reload && (is_redis || is_kafka)) {
      return usage_error(t->reason_prefix + "--reload is for file tables");
    }
    if (opt.wait_ready && !is_kafka) {
      return usage_error(t->reason_prefix + "--wait-ready is for Kafka tables");
    }
    t->opt = opt;
    if (auto st = check_default(*t); !st) return std::unexpected(st.error());
    if (is_redis) {
      t->kind = TableState::Kind::kRedis;
      enrich::RedisTableOptions r;
      r.uri = opt.spec;
      if (!opt.event_field.empty()) r.key_template = "{" + opt.event_field + "}";
      r.select = opt.select;
      r.placement = opt.placement;
      r.cache_size = opt.cache_size;
      r.cache_ttl = opt.cache_ttl;
      r.retry_for = opt.retry_for;
      if (auto st = enrich::parse_redis_uri(r); !st) return std::unexpected(st.error());
      if (r.key_template.empty()) {
        return usage_error(t->reason_prefix + "--on FIELD or key=TEMPLATE in the URI is needed");
      }
      auto redis = enrich::RedisTable::open(std::move(r), clock);
      if (!redis) return std::unexpected(redis.error());
      t->redis = std::move(*redis);
    } else if (is_kafka) {
      t->kind = TableState::Kind::kKafka;
      enrich::KafkaTableOptions k;
      k.uri = opt.spec;
      k.key_field = opt.table_field;
      k.select = opt.select;
      k.placement = opt.placement;
      k.max_rows = opt.max_rows;
      auto kt = enrich::KafkaTable::open(std::move(k), options.kafka);
      if (!kt) return std::unexpected(kt.error());
      t->kafka = std::move(*kt);
      if (opt.wait_ready) {
        diag::note(t->reason_prefix + "waiting until " + opt.spec + " is read to its end");
        if (auto st = t->kafka->wait_ready(clock); !st) return std::unexpected(st.error());
      }
    } else {
      t->kind = TableState::Kind::kFile;
      t->file.path = opt.spec;
      t->file.format = opt.format;
      t->file.key_field = opt.table_field.empty() ? opt.event_field : opt.table_field;
      t->file.select = opt.select;
      t->file.placement = opt.placement;
      t->file.max_rows = opt.max_rows;
      auto stamp = stamp_of(opt.spec);
      auto loaded = enrich::load_file_table(t->file);
      if (!loaded) {
        return usage_error(t->reason_prefix + loaded.error().to_string());
      }
      t->table = std::move(loaded->table);
      t->duplicates = loaded->duplicates;
      if (stamp) t->stamp = *stamp;
    }
    tables.push_back(std::move(t));
  }
  return std::make_unique<EnrichStage>(std::move(options), std::move(tables));
}

}  // namespace ev::stages
