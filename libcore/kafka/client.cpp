#include "libcore/kafka/client.h"

#include "libcore/base/diag.h"

namespace ev::kafka {
namespace {

// librdkafka logs (level 0-7, syslog style): warnings and worse reach stderr.
// -X settings go to the consumer and the producer alike, so one of them always
// ignores the other's properties: that is not worth a warning.
void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level > 4) return;
  std::string_view text(buf);
  if (std::string_view(fac) == "CONFWARN" &&
      (text.find("is a consumer property and will be ignored by this producer") !=
           std::string_view::npos ||
       text.find("is a producer property and will be ignored by this consumer") !=
           std::string_view::npos)) {
    return;
  }
  diag::warning(std::string("kafka: ") + fac + ": " + buf);
}

// Errors reach log_cb too (as FAIL and the like); only fatal ones are worth a second
// line. Without an error callback librdkafka would log every error twice.
void error_cb(rd_kafka_t*, int err, const char* reason, void*) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) diag::warning(std::string("kafka: fatal: ") + reason);
}

Status set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return usage_error("Kafka setting " + key + "=" + value + ": " + err);
  }
  return {};
}

}  // namespace

std::unexpected<Error> kafka_error(std::string_view what, rd_kafka_resp_err_t err) {
  return make_error(ErrorKind::kKafka, std::string(what) + ": " + rd_kafka_err2str(err));
}

std::unexpected<Error> kafka_error(std::string_view what, const rd_kafka_error_t* err) {
  return make_error(ErrorKind::kKafka, std::string(what) + ": " + rd_kafka_error_string(err));
}

std::string_view user_setting(const Settings& user, std::string_view key) {
  std::string_view v;
  for (const auto& [k, value] : user) {
    if (k == key) v = value;
  }
  return v;
}

Result<Conf> make_conf(const Uri& uri, const Settings& defaults, const Settings& user) {
  Conf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  if (auto st = set(conf.get(), "bootstrap.servers", uri.brokers); !st) {
    return std::unexpected(st.error());
  }
  for (const auto* list : {&defaults, &user}) {
    for (const auto& [k, v] : *list) {
      if (auto st = set(conf.get(), k, v); !st) return std::unexpected(st.error());
    }
  }
  return conf;
}

Result<Handle> make_handle(rd_kafka_type_t type, Conf conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) return make_error(ErrorKind::kKafka, std::string("cannot create Kafka client: ") + err);
  conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

}  // namespace ev::kafka
