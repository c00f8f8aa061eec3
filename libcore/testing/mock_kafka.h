// MockCluster: librdkafka's mock cluster started in the test process (a real Kafka
// protocol server on loopback), for unit tests of Kafka clients. Header-only; doctest.
#pragma once

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it needs.
#include <librdkafka/rdkafka_mock.h>

#include <optional>
#include <string>
#include <string_view>

#include "libcore/kafka/uri.h"

namespace ev::testing {

// A mock cluster with one broker, for the length of a test.
struct MockCluster {
  MockCluster() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(rk != nullptr);
    mc = rd_kafka_mock_cluster_new(rk, 1);
    REQUIRE(mc != nullptr);
    brokers = rd_kafka_mock_cluster_bootstraps(mc);
  }
  ~MockCluster() {
    if (producer) rd_kafka_destroy(producer);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  void topic(const char* name, int partitions) {
    REQUIRE(rd_kafka_mock_topic_create(mc, name, partitions, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  kafka::Uri uri(const std::string& rest) {
    auto u = kafka::parse_uri("kafka://" + brokers + "/" + rest, "");
    REQUIRE(u.has_value());
    return *u;
  }
  // Produces one message and waits for it to be delivered; no value is a tombstone.
  void produce(const std::string& topic, std::string_view key,
               std::optional<std::string_view> value, int32_t partition = RD_KAFKA_PARTITION_UA) {
    if (!producer) {
      char err[256];
      rd_kafka_conf_t* conf = rd_kafka_conf_new();
      rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
      rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
      producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
      REQUIRE(producer != nullptr);
    }
    // librdkafka's macros cast their arguments unparenthesized: plain variables only.
    char* payload = value ? const_cast<char*>(value->data()) : nullptr;
    const size_t payload_size = value ? value->size() : 0;
    char* key_bytes = const_cast<char*>(key.data());
    const size_t key_size = key.size();
    auto err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                                 RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_KEY(key_bytes, key_size),
                                 RD_KAFKA_V_VALUE(payload, payload_size),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(rd_kafka_flush(producer, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mc = nullptr;
  rd_kafka_t* producer = nullptr;
  std::string brokers;
};

inline kafka::KafkaOptions quiet_kafka_options() {
  kafka::KafkaOptions o;
  o.settings = {{"log_level", "0"}};
  return o;
}

}  // namespace ev::testing
