#include "libcore/enrich/kafka_table.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/testing/mock_kafka.h"

using ev::enrich::KafkaTable;
using ev::enrich::KafkaTableOptions;
using ev::testing::MockCluster;

namespace {

std::string members(const KafkaTable& t, std::string_view key) {
  auto row = t.table().find(key);
  if (!row) return "<none>";
  std::string out;
  std::vector<std::string_view> keys;
  t.table().append_members(out, row, keys);
  return out;
}

// Applies updates until `key` reads `want` (bounded).
bool eventually(KafkaTable& t, std::string_view key, const std::string& want) {
  for (int i = 0; i < 200; ++i) {
    REQUIRE(t.apply_pending());
    if (members(t, key) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("kafka table: read from the start, last value wins, tombstones delete, updates flow") {
  ev::diag::set_quiet(true);
  MockCluster cluster;
  cluster.topic("profiles", 2);
  cluster.produce("profiles", "u1", R"({"tier":"free","n":1})");
  cluster.produce("profiles", "u2", R"({"tier":"plus","n":2})");
  cluster.produce("profiles", "u1", R"({"tier":"pro","n":1,"extra":[1]})");
  cluster.produce("profiles", "u3", R"({"tier":"free","n":3})");
  cluster.produce("profiles", "u3", std::nullopt);  // deleted again
  cluster.produce("profiles", "bad", "not json");
  KafkaTableOptions o;
  o.uri = "kafka://" + cluster.brokers + "/profiles";
  o.select = {"tier", "n"};
  auto t = KafkaTable::open(o, ev::testing::quiet_kafka_options());
  REQUIRE(t);
  ev::time::SystemClock& clock = ev::time::SystemClock::instance();
  REQUIRE((*t)->wait_ready(clock));
  CHECK((*t)->ready());
  // Ready means everything before each partition's end at start is in the table.
  CHECK(members(**t, "u1") == R"("tier":"pro","n":1)");
  CHECK(members(**t, "u2") == R"("tier":"plus","n":2)");
  CHECK(members(**t, "u3") == "<none>");
  CHECK((*t)->table().rows() == 2);
  // While the run goes on: an update, a new key and a tombstone.
  cluster.produce("profiles", "u2", R"({"tier":"pro","n":20})");
  cluster.produce("profiles", "u4", R"({"n":4})");
  cluster.produce("profiles", "u1", std::nullopt);
  CHECK(eventually(**t, "u2", R"("tier":"pro","n":20)"));
  CHECK(eventually(**t, "u4", R"("n":4)"));
  CHECK(eventually(**t, "u1", "<none>"));
  auto c = (*t)->counts();
  CHECK(c.messages == 9);
  CHECK(c.bad == 1);
  CHECK(c.deletes == 2);
}

TEST_CASE("kafka table: the key from a value field; --max-rows refuses new keys") {
  ev::diag::set_quiet(true);
  MockCluster cluster;
  cluster.topic("accounts", 1);
  cluster.produce("accounts", "", R"({"id":"a1","plan":"pro"})");
  cluster.produce("accounts", "", R"({"id":"a2","plan":"free"})");
  cluster.produce("accounts", "", R"({"id":"a3","plan":"free"})");
  cluster.produce("accounts", "", R"({"id":"a1","plan":"team"})");
  cluster.produce("accounts", "", R"({"plan":"none"})");  // no key field
  KafkaTableOptions o;
  o.uri = "kafka://" + cluster.brokers + "/accounts";
  o.key_field = "id";
  o.max_rows = 2;
  auto t = KafkaTable::open(o, ev::testing::quiet_kafka_options());
  REQUIRE(t);
  REQUIRE((*t)->wait_ready(ev::time::SystemClock::instance()));
  CHECK(members(**t, "a1") == R"("plan":"team")");  // updates of held keys still apply
  CHECK(members(**t, "a2") == R"("plan":"free")");
  CHECK(members(**t, "a3") == "<none>");
  CHECK((*t)->counts().refused == 1);
  CHECK((*t)->counts().bad == 1);
}

TEST_CASE("kafka table: usage errors") {
  KafkaTableOptions o;
  o.uri = "kafka://127.0.0.1:1/t?group=g";
  auto t = KafkaTable::open(o, ev::testing::quiet_kafka_options());
  REQUIRE_FALSE(t);
  CHECK(t.error().kind == ev::ErrorKind::kUsage);
  o.uri = "kafka://127.0.0.1:1/t?until=end";
  CHECK(KafkaTable::open(o, ev::testing::quiet_kafka_options()).error().kind ==
        ev::ErrorKind::kUsage);
}
