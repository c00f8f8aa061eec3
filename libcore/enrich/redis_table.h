// RedisTable: a lookup table served by Redis (ev-enrich), fetched on demand and cached.
//
//   redis://host[:port][/db][?key=TEMPLATE&value=hash|json]
//
// Host defaults to 127.0.0.1, port to 6379, db to 0 (SELECT db is sent on each
// connection when it is not 0). Parameter values may be %-encoded (key=a%26b).
//
// An event's Redis key is made from a template: "user:{user_id}" is "user:" followed by
// the key text (key_text(): a string's content, a number's spelling) of the event's
// field user_id; any field path may go in braces, and "{{" / "}}" are literal braces.
// A value is a hash (value=hash, the default: HGETALL, or HMGET of the selected fields,
// each hash value becoming a JSON string, in HGETALL's or the selection's order; a
// missing field is omitted) or a string holding a JSON object (value=json: GET; the
// selected members, byte for byte; an object with none of them is found, with no
// members). A missing key, an empty hash or a hash holding none of the selected fields
// is "not found".
//
// Lookups are batched: lookup() takes the keys of a batch of events, answers what it
// can from the cache, and sends the remaining distinct keys to Redis in one pipelined
// round trip. A key whose value is not a JSON object (json) or has the wrong type
// (WRONGTYPE) is an error for that key only. When the connection fails (refused,
// closed, timed out after `timeout`), one warning naming the URI goes to stderr, the
// table reconnects with backoff (50 ms doubling to 1 s) and re-sends the whole batch
// for up to `retry_for`, then fails the batch with kIo. The next lookup after such a
// failure tries one connection (bounded by `timeout`) and fails fast if it fails, so
// a recovered server is picked up without stalling every batch. Busy replies (LOADING,
// BUSY, TRYAGAIN, MASTERDOWN) are retried the same way; any other error reply that is
// not WRONGTYPE (NOAUTH, ...) fails the batch at once. A stop request ends the waiting.
// SIGPIPE must be ignored (cli::main does) as hiredis writes with write(2).
//
// Cache: LRU over up to `cache_size` keys, found and not-found alike; an entry older
// than `cache_ttl` (processing time, the clock's monotonic time) is fetched again.
// When the cache is full, the least recently used key is evicted, but never one used
// by the current batch (a batch larger than the cache gets its surplus rows uncached).
// Errors are not cached. cache_size 0 or cache_ttl 0 turns the cache off.
//
// Memory: the cache holds at most cache_size rows of their rendered size plus about
// 150 bytes each; a batch holds its keys' replies until lookup() returns. There is no
// bound on the size of one value. Not thread-safe; one thread owns a table.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/enrich/load.h"
#include "libcore/enrich/table.h"
#include "libcore/json/field_path.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"

struct redisContext;
struct redisReply;

namespace ev::enrich {

inline constexpr std::string_view kRedisScheme = "redis://";

// True for names that start with "redis://".
bool is_redis_uri(std::string_view name);

struct RedisTableOptions {
  enum class Value { kHash, kJson };

  std::string uri;           // as given; also used in messages
  std::string key_template;  // "user:{user_id}"; the uri's key= wins
  Value value = Value::kHash;
  std::vector<std::string> select;  // hash fields / object members; empty: all
  Placement placement;
  uint64_t cache_size = 100000;               // keys; 0: no cache
  time::Duration cache_ttl = 60'000'000'000;  // 0: no cache
  time::Duration retry_for = 10'000'000'000;  // reconnecting before a batch fails
  time::Duration timeout = 2'000'000'000;     // connect, and each reply; > 0

  // Filled in from `uri` by parse_redis_uri.
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
};

// Parses options.uri into host, port and db, and key= / value= into key_template and
// value. Fails with kUsage naming the URI: no "redis://", a bad port or db, a bad
// %-escape, an unknown parameter or value, user info (credentials are not supported).
Status parse_redis_uri(RedisTableOptions& options);

// A parsed key template: literal text around event field paths.
class KeyTemplate {
 public:
  // Fails with kUsage: an unterminated or empty "{...}", a lone "}", a bad field path,
  // or no field at all ("key template 'k': names no event field ...").
  static Result<KeyTemplate> parse(std::string_view text);

  // The field paths in braces, in template order.
  const std::vector<json::FieldPath>& fields() const { return fields_; }
  // Appends the key for key texts parts[i] of fields()[i].
  void make(std::string& out, std::span<const std::string_view> parts) const;

 private:
  std::vector<std::string> literals_;  // fields_.size() + 1, unescaped
  std::vector<json::FieldPath> fields_;
};

// What one key resolves to.
struct RedisRow {
  bool found = false;
  std::string members;            // render_members() text, when found
  std::vector<std::string> keys;  // the top-level keys members defines: into, or prefix+name
};

class RedisTable {
 public:
  struct Counts {
    uint64_t cache_hits = 0;   // keys of events answered from the cache
    uint64_t lookups = 0;      // distinct keys asked of Redis (once per batch, not per resend)
    uint64_t round_trips = 0;  // pipelined round trips completed
    uint64_t reconnects = 0;   // connections made after the first one
    uint64_t errors = 0;       // keys whose value was an error (bad JSON, WRONGTYPE)
    uint64_t failures = 0;     // batches failed (connection not regained, server errors)
    uint64_t evictions = 0;    // cached keys evicted to make room
  };

  // Parses the uri and template and connects. A failed connection is not fatal: it
  // warns and is retried by the first lookup. Fails with kUsage for a bad uri,
  // template or timeout, or a db the server refuses.
  static Result<std::unique_ptr<RedisTable>> open(RedisTableOptions options, time::Clock& clock);
  ~RedisTable();
  RedisTable(const RedisTable&) = delete;
  RedisTable& operator=(const RedisTable&) = delete;

  // The event fields the key template names, in template order.
  const std::vector<json::FieldPath>& key_fields() const { return template_.fields(); }
  // Appends the Redis key for the key texts parts[i] of key_fields()[i].
  void make_key(std::string& out, std::span<const std::string_view> parts) const {
    template_.make(out, parts);
  }

  // Resolves keys[i] into rows[i] (valid until the next lookup), or, for a key whose
  // value is bad, rows[i] = nullptr and errors[i] = the reason (errors[i] is empty
  // otherwise). Fails with kIo when Redis cannot be reached within retry_for, or on a
  // stop request while waiting, or when the server answers with an error that is not
  // about one key (e.g. NOAUTH); rows are then all nullptr.
  Status lookup(std::span<const std::string_view> keys, std::vector<const RedisRow*>& rows,
                std::vector<std::string>& errors);

  const Counts& counts() const { return counts_; }
  const RedisTableOptions& options() const { return options_; }

 private:
  class Cache;
  enum class Attempt { kOk, kLost, kFailed };

  RedisTable(RedisTableOptions options, KeyTemplate key_template, time::Clock& clock);
  Attempt connect(std::string& reason);
  void disconnect();
  void free_replies();
  Attempt round_trip(std::string& reason);
  Status fetch();
  // Builds the row of miss_keys_[j] from its reply; false and `error` on a bad value.
  bool build_row(const redisReply* reply, RedisRow& row, std::string& error);
  void finish_row(std::span<const Field> fields, RedisRow& row);

  RedisTableOptions options_;
  KeyTemplate template_;
  time::Clock& clock_;
  Selection selection_;
  RowReader row_reader_;
  simdjson::dom::parser validator_;  // a json value is checked whole before it is used
  std::unique_ptr<Cache> cache_;
  redisContext* ctx_ = nullptr;
  bool ever_connected_ = false;
  bool down_ = false;  // the last batch gave up: try once, then fail fast
  Counts counts_;

  // Per batch, reused.
  std::vector<const char*> argv_;
  std::vector<size_t> argv_len_;
  std::vector<std::string_view> miss_keys_;
  std::vector<int32_t> miss_of_;      // per key: index into miss_keys_, or -1
  std::vector<redisReply*> replies_;  // owned; freed by free_replies()
  std::vector<const RedisRow*> miss_rows_;
  std::vector<std::string> miss_errors_;
  std::string json_buf_;
  std::string values_;
  std::vector<size_t> value_ends_;
  std::vector<Field> fields_;
};

}  // namespace ev::enrich
