// KafkaTable: a lookup table kept from a Kafka topic (a stream-table join).
//
// Every partition of the topic is read from its start (no consumer group; nothing is
// committed) by a background thread for as long as the run lasts. Each message is a
// row: its key is the message key, or the value's field `key_field` when one is
// named; the value is a JSON object (the selected fields are kept); the last value
// of a key wins and a tombstone (null value) deletes the key. A message without a
// key or whose value is not a JSON object is counted and warned about (the first
// ten), never fatal.
//
// The thread only parses; the table itself belongs to the caller's thread, which
// applies the rows that arrived with apply_pending() (one atomic load when there are
// none) before it looks a key up, so an event sees every update that arrived before
// it. Bounds: rows waiting to be applied hold at most 64 MiB (the thread then waits);
// the table holds at most max_rows keys (0: no bound): beyond, new keys are refused
// and counted (updates of keys already held still apply). ready() turns true once
// every partition has been read to the end it had (--wait-ready).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/enrich/load.h"
#include "libcore/enrich/table.h"
#include "libcore/kafka/uri.h"
#include "libcore/time/clock.h"

namespace ev::kafka {
class Consumer;
}

namespace ev::enrich {

struct KafkaTableOptions {
  std::string uri;        // kafka://host:port/topic (no group=)
  std::string key_field;  // empty: the message key
  std::vector<std::string> select;
  Placement placement;
  uint64_t max_rows = 0;
};

class KafkaTable {
 public:
  struct Counts {
    uint64_t messages = 0;
    uint64_t deletes = 0;
    uint64_t bad = 0;      // no key, or a value that is not a JSON object
    uint64_t refused = 0;  // new keys beyond max_rows
  };

  // Connects and starts reading. Fails with kUsage (bad URI, group=) or kKafka (topic
  // unknown, brokers unreachable within the metadata timeout).
  static Result<std::unique_ptr<KafkaTable>> open(KafkaTableOptions options,
                                                  const kafka::KafkaOptions& kafka);
  ~KafkaTable();  // stops the thread

  // Rows (or an error) arrived since the last apply_pending().
  bool has_pending() const { return pending_flag_.load(std::memory_order_acquire); }
  // Applies the rows that arrived. Fails with kKafka when the reader failed.
  Status apply_pending() {
    if (!pending_flag_.load(std::memory_order_acquire)) return {};
    return apply_now();
  }
  // Blocks until ready(), applying rows as they arrive; says what it waits for on
  // stderr every 10 s. Returns early, with no error, when a stop is requested.
  Status wait_ready(time::Clock& clock);
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  const Table& table() const { return table_; }
  Counts counts() const;
  const std::string& name() const { return options_.uri; }

 private:
  struct Update {
    std::string key;
    bool erase = false;
    std::string values;                                  // field JSON texts back to back
    std::vector<std::pair<std::string, size_t>> fields;  // name, end offset in values
  };

  explicit KafkaTable(KafkaTableOptions options);
  void run();
  Status apply_now();

  KafkaTableOptions options_;
  Selection selection_;
  Table table_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> pending_flag_{false};

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable drained_;
  std::vector<Update> pending_;
  size_t pending_bytes_ = 0;
  Status error_;
  Counts counts_;
  size_t partitions_ = 0;
  size_t caught_up_ = 0;
  std::vector<std::pair<std::string, int32_t>> seen_end_;
  std::vector<Field> fields_;  // caller thread scratch
};

}  // namespace ev::enrich
