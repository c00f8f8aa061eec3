// Consumer: reads events from Kafka topics (-i kafka://...), as a member of a
// consumer group or from partitions it assigns itself.
//
// With group=ID the consumer subscribes; the group's members share the partitions
// (cooperative-sticky rebalancing unless partition.assignment.strategy says
// otherwise) and offsets are committed to the group by the caller, never
// automatically: only what the caller says is processed (and, for Kafka output,
// acknowledged) is committed. A partition starts at, in this order: the position in
// the caller's state snapshot (resume hook; on the process's first assignment only),
// the group's committed offset, then from=TIME|earliest|latest (default earliest).
// Without group= every partition of the topics (or partition=N, or the partitions
// of from=P:O,...) is read, from from= (default earliest); nothing is committed.
// until=end|TIME makes the read bounded: each partition ends at its end offset as
// of its assignment (or at the first message at or after TIME), and done() turns
// true when all have. Times are looked up with ListOffsets; where the brokers know
// no offset for a time, the partition is scanned from its start and the messages
// before from=TIME are skipped (the first at or after it, and all after, are read).
// A message is valid until the next poll(). Memory: librdkafka's fetch queue
// (queued.max.messages.kbytes) and one record per partition. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libcore/json/event.h"
#include "libcore/kafka/client.h"

namespace ev::kafka {

struct Message {
  std::string_view value;
  bool null_value = false;  // a tombstone
  json::KafkaOrigin origin;
  uint64_t skip_lines = 0;  // lines of it handled by the run being resumed
};

// Where a snapshot says a partition was read to (json/event.h).
using ResumePoint = json::PartitionPosition;

struct ConsumerHooks {
  // The caller's snapshot position for a partition, if it has one.
  std::function<std::optional<ResumePoint>(std::string_view topic, int32_t partition)> resume;
  // Partitions are about to be taken away: the caller makes its output durable and
  // commits (commit()) what it may, now.
  std::function<Status()> before_revoke;
  // A partition was assigned, was taken away, or has been read to its current end
  // (everything it holds now was delivered).
  enum class Change { kAssigned, kRevoked, kCaughtUp };
  std::function<void(std::string_view topic, int32_t partition, Change)> partition_changed;
};

struct ConsumerCounts {
  uint64_t messages = 0;
  uint64_t commits = 0;
  uint64_t rebalances = 0;
};

class Consumer {
 public:
  // Fails with kUsage (bad settings) or kKafka (no such topic or partition, brokers
  // unreachable within the metadata timeout when assigning partitions itself).
  static Result<std::unique_ptr<Consumer>> open(const Uri& uri, const KafkaOptions& options,
                                                ConsumerHooks hooks);
  ~Consumer();

  // The next message, waiting up to `timeout_ms`. False when none came (or done()).
  // Fails with kKafka on a fatal consumer error or a failed rebalance.
  Result<bool> poll(Message& m, int timeout_ms);
  // True when a bounded read (until=) has reached every partition's end.
  bool done() const;
  bool bounded() const { return uri_.until != Until::kNone; }
  bool grouped() const { return !uri_.group.empty(); }

  // Every line of `m` has been handled.
  void processed(const Message& m);
  // The next offsets of what was processed, for the partitions assigned now.
  PartitionList processed_offsets() const;
  // Commits `offsets` (those of partitions still assigned) to the group; a no-op
  // without a group. `sync` waits for the broker's answer.
  Status commit(const rd_kafka_topic_partition_list_t* offsets, bool sync);
  // For transactions (--exactly-once); null without a group.
  rd_kafka_consumer_group_metadata_t* group_metadata();
  // Leaves the group (the revoke hook runs once more). Idempotent.
  Status close();

  const std::string& name() const { return uri_.text; }
  const ConsumerCounts& counts() const { return counts_; }

 private:
  struct Part {
    std::string topic;
    int32_t partition = 0;
    int64_t next = -1;       // offset after the last processed message; -1: none
    int64_t committed = -1;  // last committed by us
    int64_t end = -1;        // bounded read: first offset not to read; -1: none
    bool done = false;
    bool seen_time_start = false;
    bool before_from = false;  // from=TIME: skip messages before it (brokers that
                               // cannot look offsets up by time start at the start)
    ResumePoint skip{-1, 0};
    bool active = false;
  };

  Consumer(Uri uri, ConsumerHooks hooks);
  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque);
  Status assign_own();
  Status on_assign(rd_kafka_topic_partition_list_t* parts);
  Status on_revoke(rd_kafka_topic_partition_list_t* parts);
  Status set_ends(rd_kafka_topic_partition_list_t* parts);
  Part& part(std::string_view topic, int32_t partition);
  Part* find(std::string_view topic, int32_t partition);
  void mark_done(Part& p);

  Uri uri_;
  ConsumerHooks hooks_;
  Handle rk_;
  rd_kafka_message_t* current_ = nullptr;
  std::vector<Part> parts_;
  size_t last_ = 0;  // index of the last part looked up
  bool assigned_ = false;
  bool first_assignment_ = true;
  bool closed_ = false;
  Status error_;  // from a callback
  rd_kafka_consumer_group_metadata_t* cgmd_ = nullptr;
  ConsumerCounts counts_;
  int timeout_ms_ = 10000;
};

}  // namespace ev::kafka
