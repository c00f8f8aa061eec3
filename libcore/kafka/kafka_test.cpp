// Kafka URIs and settings, and the producer and consumer against librdkafka's mock
// cluster started in this process (a real Kafka protocol server on loopback).
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "libcore/base/diag.h"
#include "libcore/kafka/consumer.h"
#include "libcore/kafka/producer.h"
#include "libcore/testing/mock_kafka.h"
#include "libcore/testing/temp_dir.h"

namespace ev::kafka {
namespace {

TEST_CASE("kafka uri: brokers, topics and every parameter") {
  auto u = parse_uri("kafka://a:9092,b:9093/clicks,views?group=g1&from=earliest&until=end", "");
  REQUIRE(u.has_value());
  CHECK(u->brokers == "a:9092,b:9093");
  CHECK(u->topics == std::vector<std::string>{"clicks", "views"});
  CHECK(u->group == "g1");
  CHECK(u->from == From::kEarliest);
  CHECK(u->until == Until::kEnd);

  u = parse_uri("kafka://a:1/t?from=2024-01-01T00:00:01Z&until=2024-01-01T00:00:02.5Z", "");
  REQUIRE(u.has_value());
  CHECK(u->from == From::kTime);
  CHECK(u->from_time_ms == 1704067201000);
  CHECK(u->until == Until::kTime);
  CHECK(u->until_time_ms == 1704067202500);

  u = parse_uri("kafka://a:1/t?from=0:5,3:17", "");
  REQUIRE(u.has_value());
  CHECK(u->from == From::kOffsets);
  CHECK(u->from_offsets == std::vector<std::pair<int32_t, int64_t>>{{0, 5}, {3, 17}});

  u = parse_uri("kafka://a:1/out?key=user.id&partition=2&time=", "");
  REQUIRE(u.has_value());
  CHECK(u->key_field == "user.id");
  CHECK(u->partition == 2);
  CHECK(u->time_field.empty());
  CHECK(parse_uri("kafka://a:1/out", "")->time_field == "ts");

  // %-escapes in topics and values.
  u = parse_uri("kafka://a:1/my%2Ctopic?group=a%26b", "");
  REQUIRE(u.has_value());
  CHECK(u->topics == std::vector<std::string>{"my,topic"});
  CHECK(u->group == "a&b");
}

TEST_CASE("kafka uri: EV_KAFKA_BROKERS fills in a missing host list") {
  auto u = parse_uri("kafka:///clicks", "h1:9092,h2:9092");
  REQUIRE(u.has_value());
  CHECK(u->brokers == "h1:9092,h2:9092");
  auto bad = parse_uri("kafka:///clicks", "");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("EV_KAFKA_BROKERS") != std::string::npos);
}

TEST_CASE("kafka uri: mistakes are usage errors naming the URI") {
  for (const char* text :
       {"kafka://a:1", "kafka://a:1/", "kafka://a:1/t,", "kafka://a/t", "kafka://a:1/t?from=soon",
        "kafka://a:1/t?until=forever", "kafka://a:1/t?partition=-1", "kafka://a:1/t?partition=x",
        "kafka://a:1/t?color=red", "kafka://a:1/t?group", "kafka://a:1/t?from=committed",
        "kafka://a:1/t?from=0:x", "kafka://a:1/t,u?from=0:1", "kafka://a:1/t?group=g&from=0:1",
        "kafka://a:1/t?group=g&partition=1", "kafka://a:1/t%zz",
        "kafka://a:1/t?key=", "http://a:1/t"}) {
    auto u = parse_uri(text, "");
    CHECK_MESSAGE(!u.has_value(), text);
    if (!u) {
      CHECK(u.error().kind == ErrorKind::kUsage);
      CHECK(u.error().message.find(text) != std::string::npos);
    }
  }
}

TEST_CASE("kafka settings: -X pairs and a kcat-style file") {
  auto kv = parse_setting("security.protocol=SASL_SSL");
  REQUIRE(kv.has_value());
  CHECK(kv->first == "security.protocol");
  CHECK(kv->second == "SASL_SSL");
  CHECK(parse_setting("a=b=c")->second == "b=c");
  CHECK_FALSE(parse_setting("novalue").has_value());
  CHECK_FALSE(parse_setting("=x").has_value());

  testing::TempDir dir;
  {
    std::ofstream f(dir.at("k.conf"));
    f << "# comment\n\n  linger.ms=10  \nclient.id=evkit\r\n";
  }
  Settings s;
  REQUIRE(read_settings_file(dir.at("k.conf"), s).has_value());
  CHECK(s == Settings{{"linger.ms", "10"}, {"client.id", "evkit"}});
  {
    std::ofstream f(dir.at("bad.conf"));
    f << "a=1\nnot a setting\n";
  }
  auto st = read_settings_file(dir.at("bad.conf"), s);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message.find("bad.conf:2") != std::string::npos);
  CHECK_FALSE(read_settings_file(dir.at("missing.conf"), s).has_value());
}

using testing::MockCluster;

KafkaOptions quiet_options() { return testing::quiet_kafka_options(); }

// The messages read until done() (their views are dangling: values and keys are
// copied into `values` and `keys`).
std::vector<Message> read_all(Consumer& c, std::vector<std::string>& values,
                              std::vector<std::string>* keys = nullptr) {
  std::vector<Message> got;
  for (int i = 0; i < 200 && !c.done(); ++i) {
    Message m;
    auto r = c.poll(m, 100);
    REQUIRE(r.has_value());
    if (!*r) continue;
    values.emplace_back(m.value);
    if (keys) keys->emplace_back(m.origin.key);
    got.push_back(m);
    c.processed(m);
  }
  return got;
}

TEST_CASE("kafka: lines produced with keys and event-time timestamps are read back in order") {
  MockCluster cluster;
  cluster.topic("ev", 1);
  auto p = Producer::open(cluster.uri("ev?key=user"), quiet_options(), false);
  REQUIRE(p.has_value());
  // Two lines, a control line (not produced) and a line without the key field; the
  // held-back newline of a LineWriter chunk arrives with the next write.
  REQUIRE((*p)->write("{\"user\":\"u1\",\"ts\":\"2024-01-01T00:00:01Z\"}\n{\"user\":7}"));
  REQUIRE((*p)->write("\n{\"$ev\":\"watermark\",\"t\":\"2024-01-01T00:00:00Z\"}\n{\"x\":1}"));
  CHECK((*p)->lines() == 4);
  REQUIRE((*p)->wait_acked());
  CHECK((*p)->acked_lines() == 4);
  CHECK((*p)->counts().produced == 3);
  CHECK((*p)->counts().delivered == 3);
  REQUIRE((*p)->close());

  auto c = Consumer::open(cluster.uri("ev?until=end"), quiet_options(), {});
  REQUIRE(c.has_value());
  std::vector<std::string> values;
  auto got = read_all(**c, values);
  CHECK((*c)->done());
  REQUIRE(values.size() == 3);
  CHECK(values[0] == "{\"user\":\"u1\",\"ts\":\"2024-01-01T00:00:01Z\"}");
  CHECK(values[1] == "{\"user\":7}");
  CHECK(values[2] == "{\"x\":1}");
  CHECK(got[0].origin.offset == 0);
  CHECK(got[2].origin.offset == 2);
  CHECK(got[0].origin.timestamp_ms == 1704067201000);
}

TEST_CASE("kafka: keys decide the partition as the Java client's murmur2 does") {
  MockCluster cluster;
  cluster.topic("ev", 4);
  auto p = Producer::open(cluster.uri("ev?key=k"), quiet_options(), false);
  REQUIRE(p.has_value());
  std::string lines;
  for (int i = 0; i < 40; ++i) lines += "{\"k\":\"user" + std::to_string(i % 8) + "\"}\n";
  REQUIRE((*p)->write(lines));
  REQUIRE((*p)->close());
  auto c = Consumer::open(cluster.uri("ev?until=end"), quiet_options(), {});
  REQUIRE(c.has_value());
  std::vector<std::string> values, keys;
  auto got = read_all(**c, values, &keys);
  REQUIRE(got.size() == 40);
  // Where kafka-clients' DefaultPartitioner puts these keys: (Utils.murmur2(key) &
  // 0x7fffffff) % 4, computed outside this code base with a port of Utils.murmur2
  // checked against Kafka's own test vector (murmur2("21") == -973932308).
  const std::map<std::string, int32_t> java = {{"user0", 1}, {"user1", 2}, {"user2", 1},
                                               {"user3", 3}, {"user4", 1}, {"user5", 2},
                                               {"user6", 0}, {"user7", 1}};
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].origin.has_key);
    CHECK(java.at(keys[i]) == got[i].origin.partition);
  }
}

TEST_CASE("kafka: a resume point starts a partition at its offset, after the lines handled") {
  MockCluster cluster;
  cluster.topic("ev", 1);
  auto p = Producer::open(cluster.uri("ev"), quiet_options(), false);
  REQUIRE(p.has_value());
  REQUIRE((*p)->write("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"));
  REQUIRE((*p)->close());
  ConsumerHooks hooks;
  hooks.resume = [](std::string_view topic, int32_t partition) -> std::optional<ResumePoint> {
    CHECK(topic == "ev");
    CHECK(partition == 0);
    return ResumePoint{1, 1};
  };
  auto c = Consumer::open(cluster.uri("ev?until=end"), quiet_options(), hooks);
  REQUIRE(c.has_value());
  std::vector<std::string> values;
  auto got = read_all(**c, values);
  REQUIRE(got.size() == 2);
  CHECK(got[0].origin.offset == 1);
  CHECK(got[0].skip_lines == 1);
  CHECK(got[1].skip_lines == 0);
}

TEST_CASE("kafka: explicit start offsets, one partition, and an empty bounded read") {
  MockCluster cluster;
  cluster.topic("ev", 2);
  cluster.topic("empty", 3);
  auto p = Producer::open(cluster.uri("ev?partition=1"), quiet_options(), false);
  REQUIRE(p.has_value());
  REQUIRE((*p)->write("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"));
  REQUIRE((*p)->close());
  std::vector<std::string> values;
  auto c = Consumer::open(cluster.uri("ev?from=1:2&until=end"), quiet_options(), {});
  REQUIRE(c.has_value());
  read_all(**c, values);
  CHECK(values == std::vector<std::string>{"{\"n\":2}"});
  values.clear();
  c = Consumer::open(cluster.uri("ev?partition=0&until=end"), quiet_options(), {});
  REQUIRE(c.has_value());
  read_all(**c, values);
  CHECK(values.empty());
  CHECK((*c)->done());
  c = Consumer::open(cluster.uri("empty?until=end"), quiet_options(), {});
  REQUIRE(c.has_value());
  read_all(**c, values);
  CHECK((*c)->done());
}

TEST_CASE("kafka: from=TIME and until=TIME read the messages between, by message time") {
  MockCluster cluster;
  cluster.topic("ev", 2);
  auto p = Producer::open(cluster.uri("ev?key=k"), quiet_options(), false);
  REQUIRE(p.has_value());
  std::string lines;
  for (int i = 1; i <= 8; ++i) {
    lines += "{\"k\":\"" + std::to_string(i % 2) + "\",\"ts\":\"2024-01-01T00:00:0" +
             std::to_string(i) + "Z\"}\n";
  }
  REQUIRE((*p)->write(lines));
  REQUIRE((*p)->close());
  auto c = Consumer::open(cluster.uri("ev?from=2024-01-01T00:00:03Z&until=2024-01-01T00:00:06Z"),
                          quiet_options(), {});
  REQUIRE(c.has_value());
  std::vector<std::string> values;
  read_all(**c, values);
  CHECK((*c)->done());
  std::vector<std::string> seconds;
  for (const auto& v : values) seconds.push_back(v.substr(v.find("00:00:0") + 7, 1));
  std::sort(seconds.begin(), seconds.end());
  // From is inclusive, until exclusive.
  CHECK(seconds == std::vector<std::string>{"3", "4", "5"});
}

TEST_CASE("kafka: a missing topic or partition is a kKafka error") {
  MockCluster cluster;
  cluster.topic("ev", 2);
  KafkaOptions o = quiet_options();
  o.settings.emplace_back("allow.auto.create.topics", "false");
  auto c = Consumer::open(cluster.uri("ev?partition=5"), o, {});
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().kind == ErrorKind::kKafka);
  CHECK(c.error().message.find("no partition 5") != std::string::npos);
}

TEST_CASE("kafka: a failed delivery fails the producer, naming topic and partition") {
  MockCluster cluster;
  cluster.topic("ev", 1);
  KafkaOptions o = quiet_options();
  o.settings.emplace_back("message.timeout.ms", "2000");
  auto p = Producer::open(cluster.uri("ev"), o, false);
  REQUIRE(p.has_value());
  // A non-retriable error for every produce request.
  std::vector<rd_kafka_resp_err_t> errs(20, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  rd_kafka_mock_push_request_errors_array(cluster.mc, 0 /* Produce */, errs.size(), errs.data());
  REQUIRE((*p)->write("{\"n\":0}\n"));
  auto st = (*p)->close();
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kKafka);
  CHECK(st.error().message.find("not delivered to ev[0]") != std::string::npos);
  CHECK((*p)->counts().failed == 1);
  CHECK((*p)->acked_lines() == 0);
}

TEST_CASE("kafka: producer options that belong to inputs are usage errors") {
  MockCluster cluster;
  auto p = Producer::open(cluster.uri("a,b"), quiet_options(), false);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().kind == ErrorKind::kUsage);
  p = Producer::open(cluster.uri("a?group=g"), quiet_options(), false);
  REQUIRE_FALSE(p.has_value());
  auto c = Consumer::open(cluster.uri("a?key=k"), quiet_options(), {});
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().kind == ErrorKind::kUsage);
  KafkaOptions bad = quiet_options();
  bad.settings.emplace_back("no.such.setting", "1");
  p = Producer::open(cluster.uri("a"), bad, false);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().kind == ErrorKind::kUsage);
  CHECK(p.error().message.find("no.such.setting") != std::string::npos);
}

}  // namespace
}  // namespace ev::kafka
