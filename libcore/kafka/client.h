// What the Kafka consumer and producer share: building a librdkafka configuration
// from a URI and the user's settings, error values, and owning handles.
//
// Settings are applied in this order, later ones winning: evkit's defaults for the
// role, then -X / --kafka-config as given. librdkafka's own messages (broker down,
// retries) go to stderr prefixed with the program name, at warning level and above.
// Not thread-safe (librdkafka's handles are; these wrappers add nothing).
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/kafka/uri.h"

namespace ev::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

// A kKafka error: "what: librdkafka's description".
std::unexpected<Error> kafka_error(std::string_view what, rd_kafka_resp_err_t err);
std::unexpected<Error> kafka_error(std::string_view what, const rd_kafka_error_t* err);

// A configuration: bootstrap.servers from `uri`, then `defaults`, then `user`
// (-X, --kafka-config). Fails with kUsage naming a setting librdkafka rejects.
Result<Conf> make_conf(const Uri& uri, const Settings& defaults, const Settings& user);

// The value of `key` in `user` (the last one given), or empty.
std::string_view user_setting(const Settings& user, std::string_view key);

// Creates a handle; takes the configuration. Fails with kKafka.
Result<Handle> make_handle(rd_kafka_type_t type, Conf conf);

}  // namespace ev::kafka
