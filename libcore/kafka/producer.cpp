#include "libcore/kafka/producer.h"

#include <charconv>

#include "libcore/base/stop.h"
#include "libcore/io/line_reader.h"
#include "libcore/json/canonical.h"
#include "libcore/json/event_time.h"
#include "libcore/pipeline/control.h"

namespace ev::kafka {
namespace {

constexpr int kDefaultTimeoutMs = 60000;

int timeout_of(const Settings& user) {
  std::string_view v = user_setting(user, "message.timeout.ms");
  int ms = kDefaultTimeoutMs;
  if (!v.empty()) std::from_chars(v.data(), v.data() + v.size(), ms);
  return ms > 0 ? ms : kDefaultTimeoutMs;
}

}  // namespace

Producer::Producer(Uri uri, Handle rk, bool transactional, int timeout_ms)
    : uri_(std::move(uri)),
      rk_(std::move(rk)),
      transactional_(transactional),
      timeout_ms_(timeout_ms) {}

Producer::~Producer() {
  if (topic_) rd_kafka_topic_destroy(topic_);
}

Result<std::unique_ptr<Producer>> Producer::open(const Uri& uri, const KafkaOptions& options,
                                                 bool transactional) {
  if (uri.topics.size() != 1) {
    return usage_error(uri.text + ": an output names exactly one topic");
  }
  if (!uri.group.empty() || uri.from != From::kDefault || uri.until != Until::kNone) {
    return usage_error(uri.text + ": group=, from= and until= are for inputs");
  }
  const int timeout_ms = timeout_of(options.settings);
  Settings defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", "zstd"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"partitioner", "murmur2_random"},
      {"message.timeout.ms", std::to_string(kDefaultTimeoutMs)},
  };
  if (transactional) {
    defaults.emplace_back("transactional.id", "evkit-" + uri.topics[0]);
  }
  // -X transactional.id is for the --exactly-once output, not for a dead-letter producer.
  Settings user = options.settings;
  if (!transactional)
    std::erase_if(user, [](const auto& kv) { return kv.first == "transactional.id"; });
  auto conf = make_conf(uri, defaults, user);
  if (!conf) return std::unexpected(conf.error());
  // The handle needs the callback's opaque before it exists: make the object first.
  std::unique_ptr<Producer> p(new Producer(uri, nullptr, transactional, timeout_ms));
  if (!uri.key_field.empty()) {
    auto path = json::FieldPath::parse(uri.key_field);
    if (!path) return usage_error(uri.text + ": key=: " + path.error().message);
    p->key_path_ = std::move(*path);
  }
  if (!uri.time_field.empty()) {
    auto path = json::FieldPath::parse(uri.time_field);
    if (!path) return usage_error(uri.text + ": time=: " + path.error().message);
    p->time_path_ = std::move(*path);
  }
  rd_kafka_conf_set_opaque(conf->get(), p.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::delivery_report);
  auto rk = make_handle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return std::unexpected(rk.error());
  p->rk_ = std::move(*rk);
  p->topic_ = rd_kafka_topic_new(p->rk_.get(), uri.topics[0].c_str(), nullptr);
  if (!p->topic_) return kafka_error(uri.text, rd_kafka_last_error());
  if (transactional) {
    ErrorPtr err(rd_kafka_init_transactions(p->rk_.get(), timeout_ms));
    if (err) return kafka_error(uri.text + ": cannot start transactions", err.get());
    err.reset(rd_kafka_begin_transaction(p->rk_.get()));
    if (err) return kafka_error(uri.text + ": cannot begin a transaction", err.get());
    p->in_txn_ = true;
  }
  return p;
}

void Producer::delivery_report(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  const auto seq = reinterpret_cast<uintptr_t>(msg->_private);
  if (msg->err) {
    ++self->counts_.failed;
    if (self->first_failure_.empty()) {
      self->first_failure_ = std::string("message not delivered to ") +
                             rd_kafka_topic_name(msg->rkt) + "[" + std::to_string(msg->partition) +
                             "]: " + rd_kafka_err2str(msg->err);
    }
    return;  // never acknowledged: offsets after it are not committed
  }
  ++self->counts_.delivered;
  if (seq >= self->acked_ && seq - self->acked_ < self->done_.size()) {
    self->done_[seq - self->acked_] = 1;
    self->advance();
  }
}

void Producer::advance() {
  while (!done_.empty() && done_.front()) {
    done_.pop_front();
    ++acked_;
  }
}

Status Producer::check_failed() const {
  if (first_failure_.empty()) return {};
  std::string more =
      counts_.failed > 1 ? " (and " + std::to_string(counts_.failed - 1) + " more)" : "";
  return make_error(ErrorKind::kKafka, first_failure_ + more, uri_.text);
}

void Producer::extract(std::string_view line, bool padded) {
  has_key_ = false;
  timestamp_ms_ = 0;
  if (!key_path_ && !time_path_) return;
  if (!padded) {
    // The last lines of a chunk: copied, so that simdjson may read past their end.
    padded_.assign(line);
    padded_.append(io::kLinePadding, '\0');
    line = std::string_view(padded_.data(), line.size());
  }
  event_.reset(line, uri_.text, 0);
  simdjson::ondemand::value v;
  if (key_path_) {
    auto found = event_.find(*key_path_, v);
    if (found && *found == json::Found::kYes) {
      simdjson::ondemand::json_type type;
      if (!v.type().get(type) && type != simdjson::ondemand::json_type::null) {
        Result<std::string_view> text = type == simdjson::ondemand::json_type::string
                                            ? json::string_bytes(v)
                                            : json::raw_text(v);
        if (text) {
          // string_bytes may point into the parser, which the time lookup reuses.
          key_copy_.assign(*text);
          key_ = key_copy_;
          has_key_ = true;
        }
      }
    }
  }
  if (time_path_) {
    auto found = event_.find(*time_path_, v);
    if (found && *found == json::Found::kYes) {
      auto t = json::time_of(v, time::EpochUnit::kAuto);
      if (t && *t > 0) timestamp_ms_ = *t / 1000000;
    }
  }
}

Status Producer::produce_line(std::string_view line, bool padded) {
  const uint64_t seq = lines_++;
  if (pipeline::is_control_line(line)) {
    done_.push_back(1);
    advance();
    return {};
  }
  extract(line, padded);
  done_.push_back(0);
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic_),
        RD_KAFKA_V_PARTITION(uri_.partition >= 0 ? uri_.partition : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_VALUE(const_cast<char*>(line.data()), line.size()),
        RD_KAFKA_V_KEY(has_key_ ? key_.data() : nullptr, has_key_ ? key_.size() : 0),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // librdkafka's queue is the bound: wait for deliveries to make room.
      rd_kafka_poll(rk_.get(), 50);
      if (auto st = check_failed(); !st) return st;
      continue;
    }
    return kafka_error(uri_.text + ": cannot produce", err);
  }
  ++counts_.produced;
  return {};
}

Status Producer::write(std::string_view data) {
  if (auto st = check_failed(); !st) return st;
  size_t b = 0;
  while (b < data.size()) {
    size_t e = data.find('\n', b);
    if (e == std::string_view::npos) e = data.size();
    if (e > b) {
      // Most lines are followed by enough of the chunk for simdjson's padding.
      const bool padded = data.size() - e >= io::kLinePadding;
      if (auto st = produce_line(data.substr(b, e - b), padded); !st) return st;
    }
    b = e + 1;
  }
  rd_kafka_poll(rk_.get(), 0);
  return check_failed();
}

Status Producer::flush() {
  rd_kafka_poll(rk_.get(), 0);
  return check_failed();
}

Status Producer::wait_acked() {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), timeout_ms_ + 5000);
  if (auto st = check_failed(); !st) return st;
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return make_error(ErrorKind::kKafka,
                      std::to_string(rd_kafka_outq_len(rk_.get())) +
                          " messages still not delivered after " +
                          std::to_string(timeout_ms_ + 5000) + " ms",
                      uri_.text);
  }
  return {};
}

Status Producer::commit_transaction(const rd_kafka_topic_partition_list_t* offsets,
                                    const rd_kafka_consumer_group_metadata_t* group_metadata,
                                    bool last) {
  if (!in_txn_) return {};
  if (offsets && offsets->cnt > 0 && group_metadata) {
    ErrorPtr err(
        rd_kafka_send_offsets_to_transaction(rk_.get(), offsets, group_metadata, timeout_ms_));
    if (err) return kafka_error(uri_.text + ": cannot add offsets to the transaction", err.get());
  }
  ErrorPtr err(rd_kafka_commit_transaction(rk_.get(), timeout_ms_));
  if (err) return kafka_error(uri_.text + ": cannot commit the transaction", err.get());
  in_txn_ = false;
  // Committed: every message of it is delivered.
  acked_ = lines_;
  done_.clear();
  if (auto st = check_failed(); !st) return st;
  if (!last) {
    err.reset(rd_kafka_begin_transaction(rk_.get()));
    if (err) return kafka_error(uri_.text + ": cannot begin a transaction", err.get());
    in_txn_ = true;
  }
  return {};
}

Status Producer::close() {
  if (closed_) return check_failed();
  closed_ = true;
  if (in_txn_) {
    // The caller commits the last transaction with its offsets; one still open here
    // holds output whose input was not committed, so it is aborted.
    ErrorPtr err(rd_kafka_abort_transaction(rk_.get(), timeout_ms_));
    in_txn_ = false;
    if (err) return kafka_error(uri_.text + ": cannot abort the transaction", err.get());
    return {};
  }
  return wait_acked();
}

Status Producer::abandon() { return close(); }

}  // namespace ev::kafka
