#include "libcore/enrich/redis_table.h"

#include <absl/container/flat_hash_map.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <limits>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"
#include "libcore/base/text.h"
#include "libcore/json/event.h"
#include "libcore/json/json_writer.h"

namespace ev::enrich {
namespace {

constexpr time::Duration kMs = 1'000'000;
constexpr time::Duration kFirstBackoff = 50 * kMs;
constexpr time::Duration kMaxBackoff = 1000 * kMs;

using text::parse_int;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Why a connection failed, for messages.
std::string reason_of(const redisContext* c, time::Duration timeout) {
  if (c->err == REDIS_ERR_EOF) return "server closed the connection";
  std::string_view err = c->errstr;
  if (c->err == REDIS_ERR_IO &&
      (err == std::strerror(EAGAIN) || err == std::strerror(EWOULDBLOCK) ||
       err == std::strerror(ETIMEDOUT))) {
    return "timed out after " + time::format_duration(timeout);
  }
  return std::string(err);
}

// Error replies that say the server is busy for a while, not that a key is bad.
bool is_transient(std::string_view msg) {
  return starts_with(msg, "LOADING") || starts_with(msg, "BUSY") || starts_with(msg, "TRYAGAIN") ||
         starts_with(msg, "MASTERDOWN");
}

timeval to_timeval(time::Duration d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>((d % 1'000'000'000) / 1000);
  return tv;
}

}  // namespace

bool is_redis_uri(std::string_view name) { return starts_with(name, kRedisScheme); }

Status parse_redis_uri(RedisTableOptions& o) {
  auto bad = [&](const std::string& why) {
    return usage_error("invalid redis uri '" + o.uri + "': " + why);
  };
  o.host = "127.0.0.1";
  o.port = 6379;
  o.db = 0;
  std::string_view u = o.uri;
  if (!is_redis_uri(u)) return bad("it must start with redis://");
  u.remove_prefix(kRedisScheme.size());
  std::string_view query;
  if (size_t q = u.find('?'); q != std::string_view::npos) {
    query = u.substr(q + 1);
    u = u.substr(0, q);
  }
  std::string_view path;
  bool has_path = false;
  if (size_t s = u.find('/'); s != std::string_view::npos) {
    path = u.substr(s + 1);
    has_path = true;
    u = u.substr(0, s);
  }
  std::string_view authority = u;
  if (authority.find('@') != std::string_view::npos) {
    return bad("user info (credentials) is not supported");
  }
  std::string_view host = authority, port;
  bool has_port = false;
  if (starts_with(authority, "[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("unexpected text after ']'");
      port = rest.substr(1);
      has_port = true;
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    if (authority.find(':', colon + 1) != std::string_view::npos) {
      return bad("an IPv6 address must be in brackets ([::1]:6379)");
    }
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (!host.empty()) o.host = std::string(host);
  if (has_port) {
    int p = 0;
    if (!parse_int(port, p) || p < 1 || p > 65535) {
      return bad("bad port '" + std::string(port) + "' (1-65535)");
    }
    o.port = p;
  }
  if (has_path && !path.empty()) {
    int db = 0;
    if (!parse_int(path, db) || db < 0) {
      return bad("bad database '" + std::string(path) + "' (a number, as in redis://host/2)");
    }
    o.db = db;
  }
  std::string value;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    if (eq == std::string_view::npos) return bad("parameter '" + std::string(name) + "' needs =");
    auto decoded = text::percent_decode(item.substr(eq + 1));
    if (!decoded) return bad("bad %-escape in parameter '" + std::string(name) + "'");
    value = std::move(*decoded);
    if (name == "key") {
      if (value.empty()) return bad("key= needs a key template, as in key=user:{user_id}");
      o.key_template = value;
    } else if (name == "value") {
      if (value == "hash") {
        o.value = RedisTableOptions::Value::kHash;
      } else if (value == "json") {
        o.value = RedisTableOptions::Value::kJson;
      } else {
        return bad("value='" + value + "': use value=hash or value=json");
      }
    } else {
      return bad("unknown parameter '" + std::string(name) + "' (key, value)");
    }
  }
  return {};
}

Result<KeyTemplate> KeyTemplate::parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return usage_error("key template '" + std::string(text) + "': " + why);
  };
  KeyTemplate t;
  t.literals_.emplace_back();
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      t.literals_.back().push_back('{');
      i += 2;
    } else if (c == '{') {
      size_t end = text.find('}', i + 1);
      if (end == std::string_view::npos) {
        return bad("unterminated '{' at offset " + std::to_string(i) + " (write '{{' for a brace)");
      }
      std::string_view path = text.substr(i + 1, end - i - 1);
      if (path.empty()) return bad("empty '{}' at offset " + std::to_string(i));
      auto field = json::FieldPath::parse(path);
      if (!field) return bad(field.error().message);
      t.fields_.push_back(std::move(*field));
      t.literals_.emplace_back();
      i = end + 1;
    } else if (c == '}') {
      if (i + 1 >= text.size() || text[i + 1] != '}') {
        return bad("lone '}' at offset " + std::to_string(i) + " (write '}}' for a brace)");
      }
      t.literals_.back().push_back('}');
      i += 2;
    } else {
      t.literals_.back().push_back(c);
      ++i;
    }
  }
  if (t.fields_.empty()) return bad("names no event field (as in user:{user_id})");
  return t;
}

void KeyTemplate::make(std::string& out, std::span<const std::string_view> parts) const {
  out.append(literals_[0]);
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i < parts.size()) out.append(parts[i]);
    out.append(literals_[i + 1]);
  }
}

// The LRU cache of rows, and the rows of the current batch that it does not hold.
class RedisTable::Cache {
 public:
  Cache(uint64_t capacity, time::Duration ttl)
      : capacity_(ttl > 0 ? std::min<uint64_t>(capacity, kNone - 1) : 0), ttl_(ttl) {}

  // A new batch: rows handed out by the last one may go.
  void begin_batch() {
    ++epoch_;
    uncached_.clear();
    batch_misses.clear();
  }

  // The fresh row of `key`, now used by this batch; nullptr when absent or stale (a
  // stale entry is dropped).
  const RedisRow* find(std::string_view key, int64_t now) {
    if (capacity_ == 0) return nullptr;
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    const uint32_t e = it->second;
    Entry& x = entries_[e];
    if (now - x.fetched >= ttl_) {
      index_.erase(it);
      unlink(e);
      x.row = RedisRow{};
      free_.push_back(e);
      return nullptr;
    }
    x.epoch = epoch_;
    unlink(e);
    push_front(e);
    return &x.row;
  }

  // Keeps `row` for `key` (not held); evicts the least recently used entry when full,
  // unless this batch uses it. The row stays valid until the next begin_batch().
  const RedisRow* store(std::string_view key, RedisRow&& row, int64_t now, uint64_t& evictions) {
    uint32_t e;
    if (capacity_ == 0) return keep_uncached(std::move(row));
    if (!free_.empty()) {
      e = free_.back();
      free_.pop_back();
    } else if (entries_.size() < capacity_) {
      entries_.emplace_back();
      e = static_cast<uint32_t>(entries_.size() - 1);
    } else {
      e = tail_;
      if (entries_[e].epoch == epoch_) return keep_uncached(std::move(row));
      index_.erase(std::string_view(entries_[e].key));
      unlink(e);
      ++evictions;
    }
    Entry& x = entries_[e];
    x.key.assign(key);
    x.row = std::move(row);
    x.fetched = now;
    x.epoch = epoch_;
    push_front(e);
    index_.emplace(std::string_view(x.key), e);
    return &x.row;
  }

  size_t size() const { return index_.size(); }

  // The distinct keys of the batch that go to Redis: key -> index in miss_keys_.
  absl::flat_hash_map<std::string_view, uint32_t> batch_misses;

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  struct Entry {
    std::string key;
    RedisRow row;
    int64_t fetched = 0;
    uint64_t epoch = 0;  // the batch that last used it
    uint32_t prev = kNone;
    uint32_t next = kNone;
  };

  const RedisRow* keep_uncached(RedisRow&& row) {
    uncached_.push_back(std::move(row));
    return &uncached_.back();
  }
  void unlink(uint32_t e) {
    Entry& x = entries_[e];
    if (x.prev != kNone) {
      entries_[x.prev].next = x.next;
    } else {
      head_ = x.next;
    }
    if (x.next != kNone) {
      entries_[x.next].prev = x.prev;
    } else {
      tail_ = x.prev;
    }
    x.prev = x.next = kNone;
  }
  void push_front(uint32_t e) {
    Entry& x = entries_[e];
    x.prev = kNone;
    x.next = head_;
    if (head_ != kNone) {
      entries_[head_].prev = e;
    } else {
      tail_ = e;
    }
    head_ = e;
  }

  const uint64_t capacity_;
  const time::Duration ttl_;
  uint64_t epoch_ = 0;
  std::deque<Entry> entries_;  // a deque: keys stay put as it grows (the index views them)
  std::vector<uint32_t> free_;
  absl::flat_hash_map<std::string_view, uint32_t> index_;
  uint32_t head_ = kNone;  // most recently used
  uint32_t tail_ = kNone;
  std::deque<RedisRow> uncached_;
};

RedisTable::RedisTable(RedisTableOptions options, KeyTemplate key_template, time::Clock& clock)
    : options_(std::move(options)),
      template_(std::move(key_template)),
      clock_(clock),
      selection_(options_.select, ""),
      row_reader_(selection_),
      cache_(std::make_unique<Cache>(options_.cache_size, options_.cache_ttl)) {
  if (options_.value == RedisTableOptions::Value::kJson) {
    argv_ = {"GET", ""};
  } else if (options_.select.empty()) {
    argv_ = {"HGETALL", ""};
  } else {
    argv_ = {"HMGET", ""};
    for (const std::string& f : options_.select) argv_.push_back(f.c_str());
  }
  for (const char* a : argv_) argv_len_.push_back(std::strlen(a));
}

RedisTable::~RedisTable() {
  free_replies();
  disconnect();
}

Result<std::unique_ptr<RedisTable>> RedisTable::open(RedisTableOptions options,
                                                     time::Clock& clock) {
  if (auto st = parse_redis_uri(options); !st) return std::unexpected(st.error());
  if (options.key_template.empty()) {
    return usage_error(options.uri + ": no key template (key= in the uri, or --on FIELD)");
  }
  auto key_template = KeyTemplate::parse(options.key_template);
  if (!key_template) return std::unexpected(key_template.error());
  if (options.timeout <= 0) return usage_error(options.uri + ": the timeout must be positive");
  if (options.retry_for < 0 || options.cache_ttl < 0) {
    return usage_error(options.uri + ": negative duration");
  }
  std::unique_ptr<RedisTable> table(
      new RedisTable(std::move(options), std::move(*key_template), clock));
  std::string reason;
  switch (table->connect(reason)) {
    case Attempt::kOk:
      break;
    case Attempt::kFailed:
      return usage_error(table->options_.uri + ": " + reason);
    case Attempt::kLost:
      diag::warning(table->options_.uri + ": cannot connect (" + reason +
                    "); will retry at the first lookup");
      break;
  }
  return table;
}

RedisTable::Attempt RedisTable::connect(std::string& reason) {
  const timeval tv = to_timeval(options_.timeout);
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, tv);
  if (c == nullptr) {
    reason = "cannot allocate a connection";
    return Attempt::kLost;
  }
  if (c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK) {
    reason = reason_of(c, options_.timeout);
    redisFree(c);
    return Attempt::kLost;
  }
  if (options_.db != 0) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "SELECT %d", options_.db));
    if (r == nullptr) {
      reason = reason_of(c, options_.timeout);
      redisFree(c);
      return Attempt::kLost;
    }
    const bool refused = r->type == REDIS_REPLY_ERROR;
    if (refused)
      reason = "SELECT " + std::to_string(options_.db) + ": " + std::string(r->str, r->len);
    freeReplyObject(r);
    if (refused) {
      redisFree(c);
      return Attempt::kFailed;
    }
  }
  if (ever_connected_) ++counts_.reconnects;
  ever_connected_ = true;
  ctx_ = c;
  return Attempt::kOk;
}

void RedisTable::disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

void RedisTable::free_replies() {
  for (redisReply* r : replies_) freeReplyObject(r);
  replies_.clear();
}

// Sends every miss in one pipeline and reads every reply.
RedisTable::Attempt RedisTable::round_trip(std::string& reason) {
  free_replies();
  if (ctx_ == nullptr) {
    if (Attempt a = connect(reason); a != Attempt::kOk) return a;
  }
  const int argc = static_cast<int>(argv_.size());
  for (std::string_view key : miss_keys_) {
    argv_[1] = key.data();
    argv_len_[1] = key.size();
    if (redisAppendCommandArgv(ctx_, argc, argv_.data(), argv_len_.data()) != REDIS_OK) {
      reason = reason_of(ctx_, options_.timeout);
      disconnect();
      return Attempt::kLost;
    }
  }
  argv_[1] = "";
  replies_.reserve(miss_keys_.size());
  for (size_t j = 0; j < miss_keys_.size(); ++j) {
    void* reply = nullptr;
    if (redisGetReply(ctx_, &reply) != REDIS_OK || reply == nullptr) {
      reason = reason_of(ctx_, options_.timeout);
      disconnect();
      free_replies();
      return Attempt::kLost;
    }
    replies_.push_back(static_cast<redisReply*>(reply));
  }
  ++counts_.round_trips;
  for (const redisReply* r : replies_) {
    if (r->type != REDIS_REPLY_ERROR) continue;
    std::string_view msg(r->str, r->len);
    if (starts_with(msg, "WRONGTYPE")) continue;  // about one key
    reason = msg;
    const bool transient = is_transient(msg);
    free_replies();
    if (transient) {
      disconnect();
      return Attempt::kLost;
    }
    return Attempt::kFailed;
  }
  return Attempt::kOk;
}

Status RedisTable::fetch() {
  std::string reason;
  int64_t start = -1;
  time::Duration backoff = kFirstBackoff;
  bool warned = false;
  for (;;) {
    const Attempt a = round_trip(reason);
    if (a == Attempt::kOk) {
      if (warned || down_) diag::note(options_.uri + ": connected again");
      down_ = false;
      return {};
    }
    if (a == Attempt::kFailed) return io_error(reason, options_.uri);
    if (down_) return io_error("still unreachable (" + reason + ")", options_.uri);
    const int64_t now = clock_.mono_ns();
    if (start < 0) {
      start = now;
      diag::warning(options_.uri + ": " + (ever_connected_ ? "connection lost" : "cannot connect") +
                    " (" + reason + "); retrying for " + time::format_duration(options_.retry_for));
      warned = true;
    }
    if (now - start >= options_.retry_for) {
      down_ = true;
      return io_error(
          "gave up after " + time::format_duration(options_.retry_for) + " (" + reason + ")",
          options_.uri);
    }
    const int64_t until = std::min(now + backoff, start + options_.retry_for);
    if (!stop_requested()) clock_.sleep_until_mono(until);
    if (stop_requested() || clock_.mono_ns() < until) {
      return io_error("stopped while reconnecting (" + reason + ")", options_.uri);
    }
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void RedisTable::finish_row(std::span<const Field> fields, RedisRow& row) {
  row.found = true;
  row.members.clear();
  render_members(row.members, options_.placement, fields);
  row.keys.clear();
  if (!options_.placement.into.empty()) {
    row.keys.push_back(options_.placement.into);
    return;
  }
  for (const Field& f : fields) {
    row.keys.push_back(options_.placement.prefix);
    row.keys.back().append(f.name);
  }
}

bool RedisTable::build_row(const redisReply* r, RedisRow& row, std::string& error) {
  row = RedisRow{};
  if (r->type == REDIS_REPLY_NIL) return true;
  if (r->type == REDIS_REPLY_ERROR) {
    error.assign(r->str, r->len);
    return false;
  }
  if (options_.value == RedisTableOptions::Value::kJson) {
    if (r->type != REDIS_REPLY_STRING) {
      error = "unexpected reply type " + std::to_string(r->type) + " to GET";
      return false;
    }
    const size_t len = r->len;
    json_buf_.resize(len + simdjson::SIMDJSON_PADDING);
    std::memcpy(json_buf_.data(), r->str, len);
    simdjson::dom::element root;
    if (auto err = validator_.parse(json_buf_.data(), len, false).get(root); err) {
      error = "value is not valid JSON: " + json::describe(err);
      return false;
    }
    if (!root.is_object()) {
      error = "value is not a JSON object";
      return false;
    }
    if (auto st = row_reader_.read(std::string_view(json_buf_.data(), len), ""); !st) {
      error = "value: " + st.error().message;
      return false;
    }
    finish_row(row_reader_.fields(), row);
    return true;
  }
  if (r->type != REDIS_REPLY_ARRAY) {
    error = "unexpected reply type " + std::to_string(r->type) + " to " + argv_[0];
    return false;
  }
  values_.clear();
  value_ends_.clear();
  fields_.clear();
  const bool all = options_.select.empty();
  const size_t step = all ? 2 : 1;
  if (all && r->elements % 2 != 0) {
    error = "odd number of elements in the HGETALL reply";
    return false;
  }
  for (size_t k = 0; k < r->elements; k += step) {
    const redisReply* v = r->element[all ? k + 1 : k];
    if (v->type == REDIS_REPLY_NIL && !all) continue;
    if (v->type != REDIS_REPLY_STRING || (all && r->element[k]->type != REDIS_REPLY_STRING)) {
      error = "unexpected element in the hash reply";
      return false;
    }
    json::append_json_string(values_, std::string_view(v->str, v->len));
    value_ends_.push_back(values_.size());
    std::string_view name = all ? std::string_view(r->element[k]->str, r->element[k]->len)
                                : std::string_view(options_.select[k]);
    fields_.push_back(Field{name, {}});
  }
  if (fields_.empty()) return true;  // no such hash, or none of the selected fields
  size_t begin = 0;
  for (size_t k = 0; k < fields_.size(); ++k) {
    fields_[k].json = std::string_view(values_).substr(begin, value_ends_[k] - begin);
    begin = value_ends_[k];
  }
  finish_row(fields_, row);
  return true;
}

Status RedisTable::lookup(std::span<const std::string_view> keys,
                          std::vector<const RedisRow*>& rows, std::vector<std::string>& errors) {
  const size_t n = keys.size();
  rows.assign(n, nullptr);
  errors.resize(n);
  for (std::string& e : errors) e.clear();
  cache_->begin_batch();
  const int64_t now = clock_.mono_ns();
  miss_keys_.clear();
  miss_of_.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (const RedisRow* row = cache_->find(keys[i], now)) {
      rows[i] = row;
      ++counts_.cache_hits;
      continue;
    }
    auto [it, added] =
        cache_->batch_misses.try_emplace(keys[i], static_cast<uint32_t>(miss_keys_.size()));
    if (added) miss_keys_.push_back(keys[i]);
    miss_of_[i] = static_cast<int32_t>(it->second);
  }
  if (miss_keys_.empty()) return {};
  counts_.lookups += miss_keys_.size();
  if (auto st = fetch(); !st) {
    ++counts_.failures;
    rows.assign(n, nullptr);
    return st;
  }
  const size_t m = miss_keys_.size();
  miss_rows_.assign(m, nullptr);
  miss_errors_.resize(m);
  std::string error;
  for (size_t j = 0; j < m; ++j) {
    RedisRow row;
    error.clear();
    if (build_row(replies_[j], row, error)) {
      miss_rows_[j] = cache_->store(miss_keys_[j], std::move(row), now, counts_.evictions);
      miss_errors_[j].clear();
    } else {
      ++counts_.errors;
      miss_errors_[j] = "redis key '" + std::string(miss_keys_[j]) + "': " + error;
    }
  }
  free_replies();
  for (size_t i = 0; i < n; ++i) {
    if (miss_of_[i] < 0) continue;
    const auto j = static_cast<size_t>(miss_of_[i]);
    rows[i] = miss_rows_[j];
    if (rows[i] == nullptr) errors[i] = miss_errors_[j];
  }
  return {};
}

}  // namespace ev::enrich
