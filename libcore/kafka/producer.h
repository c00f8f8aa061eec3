// Producer: a ByteSink that writes each line as one Kafka message (-o kafka://...).
//
// Delivery (DESIGN.md, "Delivery"): the producer is idempotent (acks=all, retries
// without duplicates or reordering) and compresses with zstd; librdkafka batches.
// Every delivery report is checked: a message librdkafka could not deliver within
// message.timeout.ms (default here 60s) fails the run (kKafka, exit 3), naming the
// topic, partition and reason; nothing is dropped silently. close() waits for every
// queued message, bounded by message.timeout.ms, and fails if any is left.
//
// The message key is the value of the URI's key=FIELD (a string's bytes, or a
// number's or boolean's text; missing or null: no key), and partitions are chosen as
// the Java client does (murmur2 of the key; partitioner=murmur2_random), so
// consumers of either client agree on where a key lives; partition=N overrides.
// The message timestamp is the event time in time=FIELD (default ts) when it holds
// a valid time, else the producer's clock. Control lines ({"$ev":...}) belong to the
// pipe, not the topic: they are not produced.
//
// Lines are numbered in the order written (control lines included); acked_lines()
// is how many of them, counted from the first, are known delivered, so a caller can
// commit input offsets only after the output derived from them is acknowledged.
// With `transactional` (--exactly-once) the producer uses Kafka transactions: the
// caller commits each transaction together with its input offsets.
// Memory: librdkafka's queue, bounded by queue.buffering.max.messages/kbytes (a full
// queue makes write() wait), plus one flag per unacknowledged line. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "libcore/io/byte_sink.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/kafka/client.h"

namespace ev::kafka {

struct DeliveryCounts {
  uint64_t produced = 0;   // messages handed to librdkafka
  uint64_t delivered = 0;  // acknowledged by the brokers
  uint64_t failed = 0;     // reported as not delivered
};

class Producer final : public io::ByteSink {
 public:
  // Fails with kUsage (a URI with several topics, a bad key= path, a bad setting) or
  // kKafka (cannot create the client; with `transactional`, cannot initialize
  // transactions within the timeout).
  static Result<std::unique_ptr<Producer>> open(const Uri& uri, const KafkaOptions& options,
                                                bool transactional);
  ~Producer() override;

  Status write(std::string_view data) override;
  // Serves delivery reports without waiting; fails on a failed delivery.
  Status flush() override;
  // Waits for every message (bounded), then fails if any was not delivered.
  Status close() override;
  // A failed run: an open transaction is aborted; otherwise like close().
  Status abandon() override;
  const std::string& name() const override { return uri_.text; }

  // Lines written so far, and how many of them from the first are delivered.
  uint64_t lines() const { return lines_; }
  uint64_t acked_lines() const { return acked_; }
  // Waits until every line written so far is acknowledged (bounded by
  // message.timeout.ms); fails on a failed delivery.
  Status wait_acked();

  // Transactions (--exactly-once): commits the open transaction with `offsets`
  // (the consumer's next offsets) for the consumer group of `group_metadata`, then
  // begins the next one unless `last`.
  Status commit_transaction(const rd_kafka_topic_partition_list_t* offsets,
                            const rd_kafka_consumer_group_metadata_t* group_metadata, bool last);
  bool transactional() const { return transactional_; }

  const DeliveryCounts& counts() const { return counts_; }

 private:
  Producer(Uri uri, Handle rk, bool transactional, int timeout_ms);
  static void delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);
  // `padded`: at least kLinePadding readable bytes follow `line` in memory.
  Status produce_line(std::string_view line, bool padded);
  Status check_failed() const;
  void advance();
  void extract(std::string_view line, bool padded);  // fills key_/has_key_/timestamp_ms_

  Uri uri_;
  Handle rk_;
  rd_kafka_topic_t* topic_ = nullptr;
  bool transactional_;
  bool in_txn_ = false;
  int timeout_ms_;
  std::optional<json::FieldPath> key_path_;
  std::optional<json::FieldPath> time_path_;
  simdjson::ondemand::parser parser_;
  json::Event event_{parser_};
  std::string padded_;  // a copy of the line with simdjson's padding
  std::string key_copy_;
  std::string_view key_;
  bool has_key_ = false;
  int64_t timestamp_ms_ = 0;
  uint64_t lines_ = 0;
  uint64_t acked_ = 0;
  std::deque<uint8_t> done_;  // lines acked_.. lines_-1: 1 when delivered
  DeliveryCounts counts_;
  std::string first_failure_;
  bool closed_ = false;
};

}  // namespace ev::kafka
