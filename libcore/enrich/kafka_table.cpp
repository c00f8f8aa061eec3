#include "libcore/enrich/kafka_table.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/kafka/consumer.h"

namespace ev::enrich {
namespace {

constexpr size_t kMaxPendingBytes = size_t{64} << 20;
constexpr uint64_t kMaxWarnings = 10;

}  // namespace

KafkaTable::KafkaTable(KafkaTableOptions options)
    : options_(std::move(options)),
      selection_(options_.select, options_.key_field),
      table_(options_.placement) {}

Result<std::unique_ptr<KafkaTable>> KafkaTable::open(KafkaTableOptions options,
                                                     const kafka::KafkaOptions& kafka) {
  auto uri = kafka::parse_uri(options.uri);
  if (!uri) return std::unexpected(uri.error());
  if (!uri->group.empty()) {
    return usage_error(options.uri + ": a table reads every partition; group= is for inputs");
  }
  if (uri->until != kafka::Until::kNone) {
    return usage_error(options.uri + ": a table keeps reading; until= is for inputs");
  }
  std::unique_ptr<KafkaTable> t(new KafkaTable(std::move(options)));
  kafka::ConsumerHooks hooks;
  KafkaTable* self = t.get();
  hooks.partition_changed = [self](std::string_view topic, int32_t partition,
                                   kafka::ConsumerHooks::Change change) {
    std::lock_guard lock(self->mu_);
    if (change == kafka::ConsumerHooks::Change::kAssigned) {
      ++self->partitions_;
      return;
    }
    if (change != kafka::ConsumerHooks::Change::kCaughtUp) return;
    std::pair<std::string, int32_t> id{std::string(topic), partition};
    if (std::find(self->seen_end_.begin(), self->seen_end_.end(), id) != self->seen_end_.end()) {
      return;
    }
    self->seen_end_.push_back(std::move(id));
    if (++self->caught_up_ >= self->partitions_) {
      // Rows read so far are queued: the table is ready once they are applied.
      self->pending_flag_.store(true, std::memory_order_release);
    }
  };
  auto consumer = kafka::Consumer::open(*uri, kafka, std::move(hooks));
  if (!consumer) return std::unexpected(consumer.error());
  t->consumer_ = std::move(*consumer);
  t->thread_ = std::thread([self] { self->run(); });
  return t;
}

KafkaTable::~KafkaTable() {
  stop_.store(true);
  drained_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void KafkaTable::run() {
  RowReader rows(selection_);
  std::string padded;
  kafka::Message m;
  while (!stop_.load(std::memory_order_relaxed)) {
    auto got = consumer_->poll(m, 100);
    if (!got) {
      std::lock_guard lock(mu_);
      error_ = std::unexpected(got.error());
      pending_flag_.store(true, std::memory_order_release);
      return;
    }
    if (!*got) continue;
    Update u;
    std::string bad;
    if (m.null_value) {
      u.erase = true;
      u.key.assign(m.origin.key);
      if (!m.origin.has_key) bad = "a tombstone without a key";
    } else {
      padded.assign(m.value);
      padded.append(simdjson::SIMDJSON_PADDING, '\0');
      auto st = rows.read(std::string_view(padded.data(), m.value.size()), options_.key_field);
      if (!st) {
        bad = st.error().message;
      } else {
        u.key.assign(options_.key_field.empty() ? m.origin.key : rows.key());
        if (options_.key_field.empty() && !m.origin.has_key) bad = "no message key";
        for (const Field& f : rows.fields()) {
          u.values.append(f.json);
          u.fields.emplace_back(std::string(f.name), u.values.size());
        }
      }
    }
    std::unique_lock lock(mu_);
    ++counts_.messages;
    if (!bad.empty()) {
      if (counts_.bad++ < kMaxWarnings) {
        diag::warning(json::kafka_where(m.origin, 1) + ": table row skipped: " + bad);
      }
      continue;
    }
    pending_bytes_ += u.key.size() + u.values.size() + 64;
    pending_.push_back(std::move(u));
    pending_flag_.store(true, std::memory_order_release);
    drained_.wait(lock, [this] {
      return pending_bytes_ < kMaxPendingBytes || stop_.load(std::memory_order_relaxed);
    });
  }
}

Status KafkaTable::apply_now() {
  std::vector<Update> batch;
  bool now_ready = false;
  {
    std::lock_guard lock(mu_);
    pending_flag_.store(false, std::memory_order_relaxed);
    if (!error_) return std::unexpected(error_.error());
    batch.swap(pending_);
    pending_bytes_ = 0;
    now_ready = partitions_ > 0 && caught_up_ >= partitions_;
  }
  drained_.notify_all();
  uint64_t deletes = 0, refused = 0;
  for (Update& u : batch) {
    if (u.erase) {
      if (table_.erase(u.key)) ++deletes;
      continue;
    }
    fields_.clear();
    size_t begin = 0;
    for (auto& [name, end] : u.fields) {
      fields_.push_back(Field{name, std::string_view(u.values).substr(begin, end - begin)});
      begin = end;
    }
    if (options_.max_rows != 0 && table_.rows() >= options_.max_rows && !table_.find(u.key)) {
      if (refused++ == 0) {
        diag::warning(options_.uri + ": table is full (--max-rows " +
                      std::to_string(options_.max_rows) + "); new keys are refused");
      }
      continue;
    }
    table_.put(u.key, fields_);
  }
  {
    std::lock_guard lock(mu_);
    counts_.deletes += deletes;
    counts_.refused += refused;
  }
  // Ready only once the rows read before every partition's end are in the table.
  if (now_ready) ready_.store(true, std::memory_order_release);
  return {};
}

Status KafkaTable::wait_ready(time::Clock& clock) {
  int64_t next_note = clock.mono_ns() + int64_t{10} * 1000000000;
  for (;;) {
    if (auto st = apply_now(); !st) return st;
    if (ready() || stop_requested()) return {};
    const int64_t now = clock.mono_ns();
    if (now >= next_note) {
      next_note = now + int64_t{10} * 1000000000;
      std::lock_guard lock(mu_);
      diag::note("waiting for table " + options_.uri + ": " + std::to_string(caught_up_) + " of " +
                 std::to_string(partitions_) + " partitions read to their end, " +
                 std::to_string(table_.rows()) + " rows");
    }
    clock.sleep_until_mono(now + 20 * 1000000);
  }
}

KafkaTable::Counts KafkaTable::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace ev::enrich
