#include "libcore/kafka/consumer.h"

#include <cstring>

#include "libcore/base/diag.h"

namespace ev::kafka {
namespace {

// Offsets for `time_ms` in each partition of `list` (in place): the first message at
// or after it, or -1 when the brokers know none (or cannot look up by time).
Status offsets_for_time(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* list, int64_t time_ms,
                        int timeout_ms) {
  for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = time_ms;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, timeout_ms);
  if (err) return kafka_error("cannot look up offsets by time", err);
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    if (e.err)
      return kafka_error(std::string("cannot look up offsets by time in ") + e.topic, e.err);
    if (e.offset < 0) e.offset = RD_KAFKA_OFFSET_END;
  }
  return {};
}

}  // namespace

Consumer::Consumer(Uri uri, ConsumerHooks hooks) : uri_(std::move(uri)), hooks_(std::move(hooks)) {}

Consumer::~Consumer() {
  hooks_ = {};  // the caller's objects may be gone: no revoke hook from here on
  if (rk_) (void)close();
  if (current_) rd_kafka_message_destroy(current_);
  if (cgmd_) rd_kafka_consumer_group_metadata_destroy(cgmd_);
}

Result<std::unique_ptr<Consumer>> Consumer::open(const Uri& uri, const KafkaOptions& options,
                                                 ConsumerHooks hooks) {
  if (!uri.key_field.empty()) return usage_error(uri.text + ": key= is for outputs");
  std::unique_ptr<Consumer> c(new Consumer(uri, std::move(hooks)));
  Settings defaults = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", uri.from == From::kLatest ? "latest" : "earliest"},
      {"enable.partition.eof", "true"},  // bounded reads end, caught-up partitions are told
      {"isolation.level", "read_committed"},
  };
  if (!uri.group.empty()) {
    defaults.emplace_back("group.id", uri.group);
    defaults.emplace_back("partition.assignment.strategy", "cooperative-sticky");
  } else {
    // librdkafka's consumer needs a group id even to assign partitions itself; this
    // one never joins a group or commits (every start offset is explicit).
    defaults.emplace_back("group.id", "evkit-unused");
  }
  auto conf = make_conf(uri, defaults, options.settings);
  if (!conf) return std::unexpected(conf.error());
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  if (!uri.group.empty()) rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::rebalance_cb);
  auto rk = make_handle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) return std::unexpected(rk.error());
  c->rk_ = std::move(*rk);
  rd_kafka_poll_set_consumer(c->rk_.get());
  if (uri.group.empty()) {
    if (auto st = c->assign_own(); !st) return std::unexpected(st.error());
  } else {
    PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(uri.topics.size())));
    for (const auto& t : uri.topics) {
      rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (auto err = rd_kafka_subscribe(c->rk_.get(), topics.get())) {
      return kafka_error(uri.text + ": cannot subscribe", err);
    }
  }
  return c;
}

Consumer::Part* Consumer::find(std::string_view topic, int32_t partition) {
  if (last_ < parts_.size() && parts_[last_].partition == partition &&
      parts_[last_].topic == topic) {
    return &parts_[last_];
  }
  for (size_t i = 0; i < parts_.size(); ++i) {
    if (parts_[i].partition == partition && parts_[i].topic == topic) {
      last_ = i;
      return &parts_[i];
    }
  }
  return nullptr;
}

Consumer::Part& Consumer::part(std::string_view topic, int32_t partition) {
  if (Part* p = find(topic, partition)) return *p;
  parts_.push_back(Part{std::string(topic), partition});
  last_ = parts_.size() - 1;
  return parts_.back();
}

Status Consumer::assign_own() {
  PartitionList list(rd_kafka_topic_partition_list_new(16));
  for (const auto& topic : uri_.topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk_.get(), 0, rkt, &md, timeout_ms_);
    rd_kafka_topic_destroy(rkt);
    if (err) return kafka_error(uri_.text + ": cannot read the metadata of " + topic, err);
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(
        md, rd_kafka_metadata_destroy);
    if (md->topic_cnt != 1 || md->topics[0].err) {
      return kafka_error(uri_.text + ": topic " + topic,
                         md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
    }
    const auto& t = md->topics[0];
    auto has = [&](int32_t p) {
      for (int i = 0; i < t.partition_cnt; ++i) {
        if (t.partitions[i].id == p) return true;
      }
      return false;
    };
    if (uri_.from == From::kOffsets) {
      for (auto [p, o] : uri_.from_offsets) {
        if (!has(p)) {
          return make_error(ErrorKind::kKafka,
                            "topic " + topic + " has no partition " + std::to_string(p), uri_.text);
        }
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = o;
      }
    } else if (uri_.partition >= 0) {
      if (!has(uri_.partition)) {
        return make_error(ErrorKind::kKafka,
                          "topic " + topic + " has no partition " + std::to_string(uri_.partition),
                          uri_.text);
      }
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), uri_.partition);
    } else {
      for (int i = 0; i < t.partition_cnt; ++i) {
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), t.partitions[i].id);
      }
    }
  }
  if (auto st = on_assign(list.get()); !st) return st;
  if (auto err = rd_kafka_assign(rk_.get(), list.get())) {
    return kafka_error(uri_.text + ": cannot assign partitions", err);
  }
  return {};
}

// Start offsets and ends of newly assigned partitions (set in `parts`).
Status Consumer::on_assign(rd_kafka_topic_partition_list_t* parts) {
  assigned_ = true;
  PartitionList by_time(rd_kafka_topic_partition_list_new(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) {
    auto& e = parts->elems[i];
    Part& p = part(e.topic, e.partition);
    p.active = true;
    p.done = false;
    p.next = -1;
    p.committed = -1;
    p.skip = {-1, 0};
    p.before_from = false;
    if (hooks_.partition_changed) {
      hooks_.partition_changed(e.topic, e.partition, ConsumerHooks::Change::kAssigned);
    }
    std::optional<ResumePoint> rp;
    // A snapshot speaks for the partitions this process had when it stopped: only
    // the first assignment resumes from it; later ones follow the group's commits.
    if (hooks_.resume && first_assignment_) rp = hooks_.resume(e.topic, e.partition);
    if (rp) {
      e.offset = rp->offset;
      p.skip = *rp;
      p.seen_time_start = true;
    } else if (uri_.from == From::kTime && !p.seen_time_start) {
      p.seen_time_start = true;
      p.before_from = true;
      rd_kafka_topic_partition_list_add(by_time.get(), e.topic, e.partition);
    } else if (uri_.from == From::kOffsets) {
      // set by assign_own
    } else if (!grouped()) {
      e.offset = uri_.from == From::kLatest ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
    } else {
      e.offset = RD_KAFKA_OFFSET_INVALID;  // committed, else auto.offset.reset
    }
  }
  first_assignment_ = false;
  if (by_time->cnt > 0 && grouped()) {
    // In a group, from=TIME is where a partition starts that the group has no
    // committed offset for (as from=earliest|latest): a restart goes on from its commits.
    PartitionList committed(rd_kafka_topic_partition_list_copy(by_time.get()));
    if (auto err = rd_kafka_committed(rk_.get(), committed.get(), timeout_ms_)) {
      return kafka_error(uri_.text + ": cannot read the committed offsets", err);
    }
    PartitionList rest(rd_kafka_topic_partition_list_new(by_time->cnt));
    for (int i = 0; i < committed->cnt; ++i) {
      const auto& c = committed->elems[i];
      if (c.offset >= 0) {
        part(c.topic, c.partition).before_from = false;
        rd_kafka_topic_partition_list_find(parts, c.topic, c.partition)->offset = c.offset;
      } else {
        rd_kafka_topic_partition_list_add(rest.get(), c.topic, c.partition);
      }
    }
    by_time = std::move(rest);
  }
  if (by_time->cnt > 0) {
    if (auto st = offsets_for_time(rk_.get(), by_time.get(), uri_.from_time_ms, timeout_ms_); !st) {
      return st;
    }
    for (int i = 0; i < by_time->cnt; ++i) {
      const auto& t = by_time->elems[i];
      // No offset known: scan from the start; poll() skips what is before the time.
      rd_kafka_topic_partition_list_find(parts, t.topic, t.partition)->offset =
          t.offset >= 0 ? t.offset : RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  return set_ends(parts);
}

Status Consumer::set_ends(rd_kafka_topic_partition_list_t* parts) {
  if (uri_.until == Until::kNone) return {};
  PartitionList by_time(rd_kafka_topic_partition_list_new(parts->cnt));
  for (int i = 0; i < parts->cnt; ++i) {
    const auto& e = parts->elems[i];
    int64_t low = 0, high = 0;
    if (auto err = rd_kafka_query_watermark_offsets(rk_.get(), e.topic, e.partition, &low, &high,
                                                    timeout_ms_)) {
      return kafka_error(uri_.text + ": cannot read the end of " + e.topic + "[" +
                             std::to_string(e.partition) + "]",
                         err);
    }
    part(e.topic, e.partition).end = high;
    if (uri_.until == Until::kTime) {
      rd_kafka_topic_partition_list_add(by_time.get(), e.topic, e.partition);
    }
  }
  if (by_time->cnt > 0) {
    if (auto st = offsets_for_time(rk_.get(), by_time.get(), uri_.until_time_ms, timeout_ms_);
        !st) {
      return st;
    }
    for (int i = 0; i < by_time->cnt; ++i) {
      const auto& t = by_time->elems[i];
      Part& p = part(t.topic, t.partition);
      if (t.offset >= 0 && t.offset < p.end) p.end = t.offset;
    }
  }
  return {};
}

Status Consumer::on_revoke(rd_kafka_topic_partition_list_t* parts) {
  Status st;
  if (hooks_.before_revoke) st = hooks_.before_revoke();
  for (int i = 0; i < parts->cnt; ++i) {
    if (Part* p = find(parts->elems[i].topic, parts->elems[i].partition)) p->active = false;
    if (hooks_.partition_changed) {
      hooks_.partition_changed(parts->elems[i].topic, parts->elems[i].partition,
                               ConsumerHooks::Change::kRevoked);
    }
  }
  return st;
}

void Consumer::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  ++self->counts_.rebalances;
  Status st;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    st = self->on_assign(parts);
    if (cooperative) {
      ErrorPtr e(rd_kafka_incremental_assign(rk, parts));
      if (e && st) st = kafka_error(self->uri_.text + ": cannot take partitions", e.get());
    } else if (auto e = rd_kafka_assign(rk, parts); e && st) {
      st = kafka_error(self->uri_.text + ": cannot take partitions", e);
    }
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    st = self->on_revoke(parts);
    if (cooperative) {
      ErrorPtr e(rd_kafka_incremental_unassign(rk, parts));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
    st = kafka_error(self->uri_.text + ": rebalance failed", err);
  }
  if (!st && self->error_) self->error_ = st;
}

void Consumer::mark_done(Part& p) {
  if (p.done) return;
  p.done = true;
  PartitionList one(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(one.get(), p.topic.c_str(), p.partition);
  rd_kafka_pause_partitions(rk_.get(), one.get());
}

bool Consumer::done() const {
  if (uri_.until == Until::kNone || !assigned_) return false;
  for (const auto& p : parts_) {
    if (p.active && !p.done) return false;
  }
  return true;
}

Result<bool> Consumer::poll(Message& m, int timeout_ms) {
  if (current_) {
    rd_kafka_message_destroy(current_);
    current_ = nullptr;
  }
  for (;;) {
    if (!error_) return std::unexpected(error_.error());
    if (done()) return false;
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_.get(), timeout_ms);
    if (!msg) return error_ ? Result<bool>(false) : std::unexpected(error_.error());
    const char* topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
    if (msg->err) {
      const rd_kafka_resp_err_t err = msg->err;
      if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        Part* p = find(topic, msg->partition);
        if (p && p->end >= 0 && msg->offset >= p->end) mark_done(*p);
        if (p && p->active && hooks_.partition_changed) {
          hooks_.partition_changed(topic, msg->partition, ConsumerHooks::Change::kCaughtUp);
        }
        rd_kafka_message_destroy(msg);
        timeout_ms = 0;
        continue;
      }
      std::string what = std::string(topic) +
                         (msg->rkt ? "[" + std::to_string(msg->partition) + "]: " : "") +
                         rd_kafka_message_errstr(msg);
      rd_kafka_message_destroy(msg);
      if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
          err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
          err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR__FATAL) {
        return make_error(ErrorKind::kKafka, what, uri_.text);
      }
      diag::warning("kafka: " + what);  // transient: librdkafka retries
      return false;
    }
    Part* p = find(topic, msg->partition);
    if (!p || !p->active || p->done || (p->end >= 0 && msg->offset >= p->end) ||
        (p->skip.offset >= 0 && msg->offset < p->skip.offset)) {
      if (p && p->active && p->end >= 0 && msg->offset >= p->end) mark_done(*p);
      rd_kafka_message_destroy(msg);
      timeout_ms = 0;
      continue;
    }
    rd_kafka_timestamp_type_t type;
    const int64_t ts = rd_kafka_message_timestamp(msg, &type);
    if (uri_.until == Until::kTime && ts >= uri_.until_time_ms) {
      mark_done(*p);  // the first message at or after until=
      rd_kafka_message_destroy(msg);
      timeout_ms = 0;
      continue;
    }
    if (p->before_from) {
      if (ts >= 0 && ts < uri_.from_time_ms) {
        rd_kafka_message_destroy(msg);
        timeout_ms = 0;
        continue;
      }
      p->before_from = false;  // from here on everything, as offsetsForTimes does
    }
    m.value = std::string_view(static_cast<const char*>(msg->payload), msg->len);
    m.null_value = msg->payload == nullptr;
    m.origin.topic = topic;
    m.origin.partition = msg->partition;
    m.origin.offset = msg->offset;
    m.origin.has_key = msg->key != nullptr;
    m.origin.key = m.origin.has_key
                       ? std::string_view(static_cast<const char*>(msg->key), msg->key_len)
                       : std::string_view();
    m.origin.timestamp_ms = ts;
    m.origin.lines = 1;
    m.skip_lines = 0;
    if (p->skip.offset == msg->offset) {
      m.skip_lines = p->skip.line;
      p->skip.offset = -1;
    }
    if (p->end >= 0 && msg->offset + 1 >= p->end) mark_done(*p);
    current_ = msg;
    ++counts_.messages;
    return true;
  }
}

void Consumer::processed(const Message& m) {
  if (Part* p = find(m.origin.topic, m.origin.partition)) p->next = m.origin.offset + 1;
}

PartitionList Consumer::processed_offsets() const {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(parts_.size())));
  for (const auto& p : parts_) {
    if (p.active && p.next >= 0) {
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = p.next;
    }
  }
  return list;
}

Status Consumer::commit(const rd_kafka_topic_partition_list_t* offsets, bool sync) {
  if (!grouped() || !offsets) return {};
  PartitionList list(rd_kafka_topic_partition_list_new(offsets->cnt));
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    Part* p = find(e.topic, e.partition);
    if (p && p->active && e.offset > p->committed) {
      rd_kafka_topic_partition_list_add(list.get(), e.topic, e.partition)->offset = e.offset;
    }
  }
  if (list->cnt == 0) return {};
  // Partitions this member lost (it missed its session, the group moved on without it)
  // are no longer its to commit: their next owner reads from the last commit again,
  // which at-least-once delivery allows. Not an error that ends the run.
  const bool lost = rd_kafka_assignment_lost(rk_.get()) != 0;
  rd_kafka_resp_err_t err = lost ? RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST
                                 : rd_kafka_commit(rk_.get(), list.get(), sync ? 0 : 1);
  if (err == RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST || err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
      err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    diag::warning("kafka: " + uri_.text + ": offsets not committed, the group moved on (" +
                  rd_kafka_err2str(err) + "); their next owner reads them again");
    return {};
  }
  if (err && sync) return kafka_error(uri_.text + ": cannot commit offsets", err);
  for (int i = 0; i < list->cnt; ++i) {
    part(list->elems[i].topic, list->elems[i].partition).committed = list->elems[i].offset;
  }
  ++counts_.commits;
  return {};
}

rd_kafka_consumer_group_metadata_t* Consumer::group_metadata() {
  if (!grouped()) return nullptr;
  if (cgmd_) rd_kafka_consumer_group_metadata_destroy(cgmd_);
  cgmd_ = rd_kafka_consumer_group_metadata(rk_.get());
  return cgmd_;
}

Status Consumer::close() {
  if (closed_) return {};
  closed_ = true;
  if (current_) {
    rd_kafka_message_destroy(current_);
    current_ = nullptr;
  }
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get());
  if (err) return kafka_error(uri_.text + ": cannot leave the consumer group", err);
  return error_;
}

}  // namespace ev::kafka
