// ev-test-broker: a librdkafka mock cluster on loopback for end-to-end tests, with a
// line-oriented control protocol on stdin for fault injection.
//
// The program prints the bootstrap list as one line on stdout (and, with --port-file,
// writes it to that file atomically), then serves until SIGTERM, SIGINT or a `quit`
// command. End of input on stdin does not stop it, so a test may run it with stdin on
// /dev/null and only kill it; --quit-on-eof and --exit-with-parent make it end with the
// test shell instead (kafka-lib.sh uses both, and keeps a FIFO open on its stdin). Each
// command line is answered with one line, `ok` or `error: ...`, flushed at once. Blank
// lines and lines starting with `#` are ignored and get no answer.
//
// The mock cluster is librdkafka's (rdkafka_mock.h), an experimental API: it supports
// produce, fetch, consumer groups with committed offsets, idempotent and transactional
// producers, and keeps everything in memory. Measured limits of librdkafka 2.0.2's mock:
// each partition keeps only about its last 5 MiB of record batches (older ones are
// dropped and the log start offset moves); transactions are accepted but have no effect
// on readers (aborted and open transactions are visible to read_committed consumers, and
// offsets sent with a transaction are not stored); ListOffsets by timestamp answers -1.
// It is a test helper, not part of evkit; it is not installed.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: ev-test-broker [--brokers N] [--topic NAME:PARTITIONS]... [--port-file FILE]\n"
    "                      [--quit-on-eof] [--exit-with-parent]\n";

constexpr const char* kHelp =
    "Run a librdkafka mock Kafka cluster on loopback for tests.\n"
    "\n"
    "Prints the bootstrap list (host:port,...) as one line on stdout, then serves until\n"
    "SIGTERM, SIGINT or the `quit` command. End of input on stdin does not stop it,\n"
    "unless --quit-on-eof is given.\n"
    "\n"
    "Options:\n"
    "  --brokers N              number of brokers, ids 1..N (default 3)\n"
    "  --topic NAME:PARTITIONS  create a topic (repeatable); replication factor min(N,3)\n"
    "  --port-file FILE         also write the bootstrap line to FILE (atomically)\n"
    "  --quit-on-eof            exit 0 at end of input on stdin, as after `quit`; for a\n"
    "                           FIFO held open by a test shell, so that the broker\n"
    "                           does not outlive it\n"
    "  --exit-with-parent       exit 0 when the parent process dies (even by kill -9)\n"
    "  --help                   print this help and exit\n"
    "\n"
    "Commands on stdin, one per line, each answered by `ok` or `error: ...`:\n"
    "  topic NAME PARTITIONS [REPLICATION]   create a topic\n"
    "  broker-down ID | broker-up ID         close / reopen a broker's listener (-1: all)\n"
    "  leader TOPIC PARTITION BROKER_ID      move a partition's leader (-1: none)\n"
    "  errors APIKEY CNT ERR...              the next CNT requests of APIKEY fail with the\n"
    "                                        ERRs in order (cluster-wide)\n"
    "  clear-errors APIKEY                   drop the pending errors of APIKEY\n"
    "  rtt BROKER_ID MS                      delay a broker's responses (-1: all)\n"
    "  coordinator group|transaction KEY BROKER_ID\n"
    "                                        pin a group's or transactional id's coordinator\n"
    "  quit                                  answer ok and exit 0\n"
    "APIKEY is a number or a name (Produce, Fetch, ListOffsets, Metadata, OffsetCommit,\n"
    "OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, SyncGroup, InitProducerId,\n"
    "AddPartitionsToTxn, EndTxn, ...). ERR is a number or a name such as\n"
    "NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT or _TRANSPORT (disconnect), as printed\n"
    "by rd_kafka_err2name; case does not matter.\n"
    "\n"
    "Exit status: 0 after a signal or `quit`, 2 on bad usage, 3 if the cluster could\n"
    "not be started or the port file not written.\n";

void complain(const std::string& message) {
  std::fprintf(stderr, "ev-test-broker: error: %s\n", message.c_str());
}

// Kafka protocol request types by name; matched without regard to case.
constexpr std::pair<std::string_view, int16_t> kApiKeys[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"WriteTxnMarkers", 27},
    {"TxnOffsetCommit", 28},
    {"DescribeConfigs", 32},
    {"AlterConfigs", 33},
    {"SaslAuthenticate", 36},
    {"CreatePartitions", 37},
    {"DeleteGroups", 42},
    {"OffsetDelete", 47},
};

// Kafka's current names for codes that librdkafka still spells the old way.
constexpr std::pair<std::string_view, int> kErrorAliases[] = {
    {"NOT_LEADER_OR_FOLLOWER", 6},
    {"UNKNOWN_TOPIC_OR_PARTITION", 3},
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int16_t> parse_api_key(std::string_view text) {
  if (auto number = parse_int<int16_t>(text)) return number;
  for (auto [name, key] : kApiKeys) {
    if (equals_ignoring_case(name, text)) return key;
  }
  return std::nullopt;
}

// A number, a name from rd_kafka_err2name (e.g. NOT_LEADER_FOR_PARTITION, _TRANSPORT),
// optionally prefixed with RD_KAFKA_RESP_ERR_, or one of kErrorAliases.
std::optional<rd_kafka_resp_err_t> parse_error(std::string_view text) {
  if (auto number = parse_int<int>(text)) return static_cast<rd_kafka_resp_err_t>(*number);
  constexpr std::string_view kPrefix = "RD_KAFKA_RESP_ERR_";
  if (text.size() > kPrefix.size() && equals_ignoring_case(text.substr(0, kPrefix.size()), kPrefix))
    text.remove_prefix(kPrefix.size());
  for (auto [name, code] : kErrorAliases) {
    if (equals_ignoring_case(name, text)) return static_cast<rd_kafka_resp_err_t>(code);
  }
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (const auto& desc : std::span(descs, count)) {
    if (desc.name != nullptr && equals_ignoring_case(desc.name, text)) return desc.code;
  }
  return std::nullopt;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

struct Options {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;  // name, partitions
  std::string port_file;
  bool quit_on_eof = false;
  bool exit_with_parent = false;
};

// Parses argv into `opt`. Returns nothing to go on, or the exit status: 0 after --help,
// 2 on bad usage.
std::optional<int> parse_args(int argc, char** argv, Options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_inline_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (arg == "--quit-on-eof" && !has_inline_value) {
      opt.quit_on_eof = true;
      continue;
    }
    if (arg == "--exit-with-parent" && !has_inline_value) {
      opt.exit_with_parent = true;
      continue;
    }
    if (arg != "--brokers" && arg != "--topic" && arg != "--port-file") {
      complain("unknown option " + std::string(arg));
      std::fputs(kUsage, stderr);
      return 2;
    }
    if (!has_inline_value) {
      if (i + 1 >= argc) {
        complain(std::string(arg) + " needs a value");
        return 2;
      }
      value = argv[++i];
    }
    if (arg == "--brokers") {
      auto n = parse_int<int>(value);
      if (!n || *n < 1 || *n > 100) {
        complain("--brokers: expected a number from 1 to 100, got '" + std::string(value) + "'");
        return 2;
      }
      opt.brokers = *n;
    } else if (arg == "--topic") {
      auto colon = value.rfind(':');
      auto partitions =
          colon == std::string_view::npos ? std::nullopt : parse_int<int>(value.substr(colon + 1));
      if (colon == 0 || !partitions || *partitions < 1) {
        complain("--topic: expected NAME:PARTITIONS, got '" + std::string(value) + "'");
        return 2;
      }
      opt.topics.emplace_back(std::string(value.substr(0, colon)), *partitions);
    } else {
      opt.port_file = value;
    }
  }
  return std::nullopt;
}

// Writes `line` and a newline to FILE through a temporary file and rename, so a
// reader never sees a partial line.
bool write_port_file(const std::string& path, const std::string& line) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    complain(tmp + ": " + std::strerror(errno));
    return false;
  }
  bool ok = std::fprintf(f, "%s\n", line.c_str()) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    complain(path + ": " + std::strerror(errno));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

// librdkafka's log lines go to stderr with our prefix, except the warning that the idle
// handle below has no bootstrap servers: it is meant not to have any.
void log_line(const rd_kafka_t*, int level, const char* facility, const char* message) {
  if (std::strcmp(facility, "CONFWARN") == 0 && std::strstr(message, "bootstrap.servers")) return;
  std::fprintf(stderr, "ev-test-broker: rdkafka %d %s: %s\n", level, facility, message);
}

// A stdout write fails only if the test stopped reading; the broker keeps serving.
void say(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

class Broker {
 public:
  Broker(rd_kafka_mock_cluster_t* cluster, int brokers) : cluster_(cluster), brokers_(brokers) {}

  int default_replication() const { return std::min(brokers_, 3); }

  std::string create_topic(const std::string& name, int partitions, int replication) {
    auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication);
    return err ? rd_kafka_err2str(err) : "";
  }

  // Runs one command line. Sets `quit` for the quit command. Returns the answer.
  std::string execute(std::string_view line, bool& quit) {
    auto words = split_words(line);
    if (words.empty()) return "";
    std::string_view cmd = words[0];
    auto args = std::span(words).subspan(1);
    auto want = [&](size_t n, const char* usage) -> std::optional<std::string> {
      if (args.size() != n) return std::string("error: usage: ") + usage;
      return std::nullopt;
    };
    if (cmd == "quit") {
      quit = true;
      return "ok";
    }
    if (cmd == "topic") {
      if (args.size() != 2 && args.size() != 3)
        return "error: usage: topic NAME PARTITIONS [REPLICATION]";
      auto partitions = parse_int<int>(args[1]);
      if (!partitions || *partitions < 1) return "error: bad partition count";
      auto replication = args.size() == 3 ? parse_int<int>(args[2]) : default_replication();
      if (!replication || *replication < 1) return "error: bad replication factor";
      return answer(create_topic(std::string(args[0]), *partitions, *replication));
    }
    if (cmd == "broker-down" || cmd == "broker-up" || cmd == "rtt") {
      bool is_rtt = cmd == "rtt";
      if (auto e = want(is_rtt ? 2 : 1, is_rtt ? "rtt BROKER_ID MS" : "broker-down|up ID"))
        return *e;
      auto id = parse_int<int32_t>(args[0]);
      if (!id || *id < -1 || *id == 0 || *id > brokers_)
        return "error: no broker " + std::string(args[0]);
      if (is_rtt) {
        auto ms = parse_int<int>(args[1]);
        if (!ms || *ms < 0) return "error: bad rtt " + std::string(args[1]);
        return answer(rd_kafka_mock_broker_set_rtt(cluster_, *id, *ms));
      }
      return answer(cmd == "broker-down" ? rd_kafka_mock_broker_set_down(cluster_, *id)
                                         : rd_kafka_mock_broker_set_up(cluster_, *id));
    }
    if (cmd == "leader") {
      if (auto e = want(3, "leader TOPIC PARTITION BROKER_ID")) return *e;
      auto partition = parse_int<int32_t>(args[1]);
      auto id = parse_int<int32_t>(args[2]);
      if (!partition || *partition < 0) return "error: bad partition " + std::string(args[1]);
      if (!id || *id < -1 || *id == 0 || *id > brokers_)
        return "error: no broker " + std::string(args[2]);
      return answer(rd_kafka_mock_partition_set_leader(cluster_, std::string(args[0]).c_str(),
                                                       *partition, *id));
    }
    if (cmd == "errors") {
      if (args.size() < 3) return "error: usage: errors APIKEY CNT ERR...";
      auto key = parse_api_key(args[0]);
      if (!key) return "error: unknown api key " + std::string(args[0]);
      auto count = parse_int<size_t>(args[1]);
      if (!count || *count != args.size() - 2)
        return "error: CNT is " + std::string(args[1]) + " but " + std::to_string(args.size() - 2) +
               " errors follow";
      std::vector<rd_kafka_resp_err_t> errors;
      for (auto word : args.subspan(2)) {
        auto err = parse_error(word);
        if (!err) return "error: unknown error code " + std::string(word);
        errors.push_back(*err);
      }
      rd_kafka_mock_push_request_errors_array(cluster_, *key, errors.size(), errors.data());
      return "ok";
    }
    if (cmd == "clear-errors") {
      if (auto e = want(1, "clear-errors APIKEY")) return *e;
      auto key = parse_api_key(args[0]);
      if (!key) return "error: unknown api key " + std::string(args[0]);
      rd_kafka_mock_clear_request_errors(cluster_, *key);
      return "ok";
    }
    if (cmd == "coordinator") {
      if (auto e = want(3, "coordinator group|transaction KEY BROKER_ID")) return *e;
      if (args[0] != "group" && args[0] != "transaction")
        return "error: coordinator type must be group or transaction";
      auto id = parse_int<int32_t>(args[2]);
      if (!id) return "error: bad broker id " + std::string(args[2]);
      return answer(rd_kafka_mock_coordinator_set(cluster_, std::string(args[0]).c_str(),
                                                  std::string(args[1]).c_str(), *id));
    }
    return "error: unknown command " + std::string(cmd);
  }

 private:
  static std::string answer(rd_kafka_resp_err_t err) {
    return err ? std::string("error: ") + rd_kafka_err2str(err) : "ok";
  }
  static std::string answer(const std::string& error) {
    return error.empty() ? "ok" : "error: " + error;
  }

  rd_kafka_mock_cluster_t* cluster_;
  int brokers_;
};

// Reads stdin and signals until a signal, `quit`, or with `quit_on_eof` the end of
// stdin. Returns the exit status.
int serve(Broker& broker, int signal_fd, bool quit_on_eof) {
  bool stdin_open = true;
  std::string pending;
  char buffer[4096];
  for (;;) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      complain(std::string("poll: ") + std::strerror(errno));
      return 3;
    }
    if (fds[0].revents & POLLIN) return 0;
    if (!stdin_open || fds[1].revents == 0) continue;
    ssize_t n = read(0, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      // End of input (or an unreadable stdin): keep serving until a signal, unless
      // told otherwise.
      stdin_open = false;
      if (pending.empty()) {
        if (quit_on_eof) return 0;
        continue;
      }
      pending.push_back('\n');
    } else {
      pending.append(buffer, static_cast<size_t>(n));
    }
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (auto first = line.find_first_not_of(" \t");
          first == std::string_view::npos || line[first] == '#')
        continue;
      bool quit = false;
      say(broker.execute(line, quit));
      if (quit) return 0;
    }
    pending.erase(0, start);
    if (!stdin_open && quit_on_eof) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (auto status = parse_args(argc, argv, opt)) return *status;
  std::signal(SIGPIPE, SIG_IGN);

  // Signals are taken through a signalfd; block them first so librdkafka's threads,
  // which inherit this mask, never receive them. A shell starts background jobs with
  // SIGINT ignored; restore the default so that `kill -INT` still stops us.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  pid_t parent = getppid();
  if (opt.exit_with_parent) {
    // The parent's death arrives as SIGTERM, through the signalfd like any other; the
    // parent may have died before prctl.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 0;
  }
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    complain(std::string("signalfd: ") + std::strerror(errno));
    return 3;
  }

  // The mock cluster needs a handle for its bookkeeping; an idle producer without
  // bootstrap servers is enough.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", "ev-test-broker", errstr, sizeof errstr);
  rd_kafka_conf_set_log_cb(conf, log_line);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    complain(std::string("rd_kafka_new: ") + errstr);
    return 3;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, opt.brokers);
  if (cluster == nullptr) {
    complain("could not create the mock cluster");
    rd_kafka_destroy(rk);
    return 3;
  }
  Broker broker(cluster, opt.brokers);

  int status = 0;
  for (const auto& [name, partitions] : opt.topics) {
    if (auto error = broker.create_topic(name, partitions, broker.default_replication());
        !error.empty()) {
      complain("topic " + name + ": " + error);
      status = 3;
    }
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
  if (status == 0 && !opt.port_file.empty() && !write_port_file(opt.port_file, bootstraps))
    status = 3;
  if (status == 0) {
    say(bootstraps);
    status = serve(broker, signal_fd, opt.quit_on_eof);
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  close(signal_fd);
  return status;
}
