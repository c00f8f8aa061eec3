// RedisTable: key templates and URIs, and lookups against a real redis-server started
// by the test on a free loopback port (skipped when /usr/bin/redis-server is absent).
#include "libcore/enrich/redis_table.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/base/stop.h"

extern char** environ;

namespace ev::enrich {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr const char* kServerPath = "/usr/bin/redis-server";

bool have_server() { return ::access(kServerPath, X_OK) == 0; }

// A loopback socket bound to a port the kernel picked; listening when asked (a server
// that accepts connections and never answers).
struct Socket {
  int fd = -1;
  int port = 0;
  explicit Socket(bool listen) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    if (listen) ::listen(fd, 64);
  }
  ~Socket() { ::close(fd); }
};

int free_port() { return Socket(false).port; }

// redis-server on 127.0.0.1:port, without persistence; killed by stop() or at the end.
class RedisServer {
 public:
  RedisServer() : port_(free_port()) {
    std::signal(SIGPIPE, SIG_IGN);  // as cli::main does; hiredis writes with write(2)
    start();
  }
  ~RedisServer() { stop(); }

  bool start() {
    const std::string port = std::to_string(port_);
    const char* args[] = {kServerPath, "--port",     port.c_str(),   "--bind", "127.0.0.1",
                          "--save",    "",           "--appendonly", "no",     "--daemonize",
                          "no",        "--loglevel", "warning",      nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc =
        posix_spawn(&pid_, kServerPath, &actions, nullptr, const_cast<char**>(args), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    for (int i = 0; i < 400; ++i) {  // up to 2 s
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 100000});
      if (c != nullptr && c->err == 0) {
        ctx_ = c;
        if (reply("PING") == "PONG") return true;
        redisFree(ctx_);
        ctx_ = nullptr;
      } else if (c != nullptr) {
        redisFree(c);
      }
      ::usleep(5000);
    }
    return false;
  }

  void stop() {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  bool ok() const { return ctx_ != nullptr; }
  int port() const { return port_; }
  std::string uri(std::string_view rest = "") const {
    return "redis://127.0.0.1:" + std::to_string(port_) + std::string(rest);
  }

  // Runs a command on the test's own connection; the reply as text ("" for nil, or
  // "ERR ..." for an error).
  std::string reply(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    REQUIRE(r != nullptr);
    std::string text;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR) {
      text.assign(r->str, r->len);
    } else if (r->type == REDIS_REPLY_INTEGER) {
      text = std::to_string(r->integer);
    }
    freeReplyObject(r);
    return text;
  }
  std::string reply(std::string_view one) { return reply({one}); }

 private:
  int port_;
  pid_t pid_ = -1;
  redisContext* ctx_ = nullptr;
};

// Collects what is written to stderr (fd 2) while it lives, with warnings on (other
// tests in this process may have set --quiet).
class StderrCapture {
 public:
  StderrCapture() : was_quiet_(ev::diag::quiet()) {
    ev::diag::set_quiet(false);
    std::fflush(stderr);
    saved_ = ::dup(2);
    char path[] = "/tmp/ev-stderr.XXXXXX";
    fd_ = ::mkstemp(path);
    ::unlink(path);
    ::dup2(fd_, 2);
  }
  ~StderrCapture() {
    finish();
    ::close(fd_);
  }
  std::string finish() {
    if (saved_ >= 0) {
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
      ev::diag::set_quiet(was_quiet_);
    }
    std::string text;
    char buf[4096];
    ::lseek(fd_, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) text.append(buf, n);
    return text;
  }

 private:
  bool was_quiet_;
  int saved_ = -1;
  int fd_ = -1;
};

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

struct Batch {
  std::vector<const RedisRow*> rows;
  std::vector<std::string> errors;
  Status run(RedisTable& table, std::vector<std::string_view> keys) {
    return table.lookup(keys, rows, errors);
  }
};

RedisTableOptions options_for(const RedisServer& server, std::string_view rest = "") {
  RedisTableOptions o;
  o.uri = server.uri(rest);
  o.key_template = "user:{id}";
  return o;
}

std::unique_ptr<RedisTable> open_table(RedisTableOptions o, time::Clock& clock) {
  auto table = RedisTable::open(std::move(o), clock);
  if (!table) FAIL("open: " << table.error().to_string());
  return std::move(*table);
}

#define REQUIRE_SERVER(server)                                  \
  if (!have_server()) {                                         \
    MESSAGE("skipped: " << kServerPath << " is not installed"); \
    return;                                                     \
  }                                                             \
  RedisServer server;                                           \
  REQUIRE_MESSAGE(server.ok(), "redis-server did not start on port " << server.port())

TEST_CASE("redis key template: fields, literal braces and errors") {
  auto t = KeyTemplate::parse("user:{user_id}");
  REQUIRE(t.has_value());
  REQUIRE(t->fields().size() == 1);
  CHECK(t->fields()[0].text() == "user_id");
  std::string key;
  std::vector<std::string_view> parts{"42"};
  t->make(key, parts);
  CHECK(key == "user:42");

  t = KeyTemplate::parse("{{x}}:{a.b}/{[\"c d\"][0]}:end}}");
  REQUIRE(t.has_value());
  REQUIRE(t->fields().size() == 2);
  CHECK(t->fields()[0].text() == "a.b");
  CHECK(t->fields()[1].segments()[0].key == "c d");
  key = "prefix|";
  parts = {"1", "two"};
  t->make(key, parts);
  CHECK(key == "prefix|{x}:1/two:end}");

  t = KeyTemplate::parse("{id}");
  REQUIRE(t.has_value());
  key.clear();
  parts = {"7"};
  t->make(key, parts);
  CHECK(key == "7");

  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& bad :
       {Bad{"user:{", "unterminated '{' at offset 5"}, Bad{"user:{}", "empty '{}'"},
        Bad{"{}", "empty '{}' at offset 0"}, Bad{"user:}x{id}", "lone '}' at offset 5"},
        Bad{"{id}}", "lone '}' at offset 4"}, Bad{"user:{a..b}", "invalid field path"},
        Bad{"plain", "names no event field"}, Bad{"{{id}}", "names no event"},
        Bad{"", "names no event field"}}) {
    CAPTURE(bad.text);
    auto r = KeyTemplate::parse(bad.text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == ErrorKind::kUsage);
    CHECK(r.error().message.find(bad.why) != std::string::npos);
    CHECK(r.error().message.find("key template '" + std::string(bad.text) + "'") !=
          std::string::npos);
  }
}

TEST_CASE("redis uri: host, port, db, key and value") {
  RedisTableOptions o;
  o.key_template = "user:{id}";
  o.uri = "redis://10.0.0.5:6390/3?key=u%3A{uid}%26x&value=json";
  REQUIRE(parse_redis_uri(o).has_value());
  CHECK(o.host == "10.0.0.5");
  CHECK(o.port == 6390);
  CHECK(o.db == 3);
  CHECK(o.key_template == "u:{uid}&x");
  CHECK(o.value == RedisTableOptions::Value::kJson);

  // Defaults; the caller's template stays when there is no key=, and parsing again
  // resets what the uri no longer says.
  o = RedisTableOptions{};
  o.key_template = "k:{x}";
  o.uri = "redis://";
  REQUIRE(parse_redis_uri(o).has_value());
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 6379);
  CHECK(o.db == 0);
  CHECK(o.key_template == "k:{x}");
  CHECK(o.value == RedisTableOptions::Value::kHash);

  o.uri = "redis://cache.local/?value=hash";
  REQUIRE(parse_redis_uri(o).has_value());
  CHECK(o.host == "cache.local");
  CHECK(o.port == 6379);
  CHECK(o.db == 0);

  o.uri = "redis://[::1]:7000/15";
  REQUIRE(parse_redis_uri(o).has_value());
  CHECK(o.host == "::1");
  CHECK(o.port == 7000);
  CHECK(o.db == 15);

  o.uri = "redis://:6400";
  REQUIRE(parse_redis_uri(o).has_value());
  CHECK(o.host == "127.0.0.1");
  CHECK(o.port == 6400);

  struct Bad {
    const char* uri;
    const char* why;
  };
  for (const Bad& bad :
       {Bad{"http://h:1", "must start with redis://"},
        Bad{"rediss://h:1", "must start with redis://"}, Bad{"redis://h:0", "bad port '0'"},
        Bad{"redis://h:70000", "bad port"}, Bad{"redis://h:", "bad port ''"},
        Bad{"redis://h:abc", "bad port 'abc'"}, Bad{"redis://h/x", "bad database 'x'"},
        Bad{"redis://h/1/2", "bad database '1/2'"}, Bad{"redis://h/-1", "bad database"},
        Bad{"redis://h?foo=1", "unknown parameter 'foo'"},
        Bad{"redis://h?key", "parameter 'key' needs ="},
        Bad{"redis://h?key=", "key= needs a key template"},
        Bad{"redis://h?value=xml", "value='xml'"}, Bad{"redis://h?key=%zz", "bad %-escape"},
        Bad{"redis://h?key=a%2", "bad %-escape"}, Bad{"redis://user:pw@h", "credentials"},
        Bad{"redis://::1:6379", "IPv6"}, Bad{"redis://[::1", "unterminated '['"}}) {
    CAPTURE(bad.uri);
    RedisTableOptions b;
    b.uri = bad.uri;
    auto st = parse_redis_uri(b);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().kind == ErrorKind::kUsage);
    CHECK(st.error().message.find("invalid redis uri '" + std::string(bad.uri) + "'") !=
          std::string::npos);
    CHECK(st.error().message.find(bad.why) != std::string::npos);
  }

  CHECK(is_redis_uri("redis://x"));
  CHECK_FALSE(is_redis_uri("kafka://x"));
}

TEST_CASE("redis table: open refuses a bad template, timeout or db") {
  time::ManualClock clock;
  RedisTableOptions o;
  o.uri = "redis://127.0.0.1:1";
  o.key_template = "user:{";
  auto t = RedisTable::open(o, clock);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().kind == ErrorKind::kUsage);
  o.key_template = "";
  t = RedisTable::open(o, clock);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message.find("no key template") != std::string::npos);
  o.key_template = "user:{id}";
  o.timeout = 0;
  t = RedisTable::open(o, clock);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message.find("timeout") != std::string::npos);
  o.uri = "redis://h?bad=1";
  t = RedisTable::open(o, clock);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message.find("unknown parameter") != std::string::npos);

  REQUIRE_SERVER(server);
  t = RedisTable::open(options_for(server, "/99"), clock);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().kind == ErrorKind::kUsage);
  CHECK(t.error().message.find("SELECT 99: ERR") != std::string::npos);
}

TEST_CASE("redis table: one pipelined round trip answers hits, misses and repeats") {
  REQUIRE_SERVER(server);
  server.reply({"HSET", "user:1", "name", "ann", "tier", "gold"});
  server.reply({"HSET", "user:2", "name", "bob \"b\"\n"});
  server.reply({"HSET", "user:empty", "x", "y"});
  server.reply({"HDEL", "user:empty", "x"});  // an emptied hash is no key at all
  time::ManualClock clock;
  auto o = options_for(server);
  o.placement.prefix = "u_";
  auto table = open_table(o, clock);
  REQUIRE(table->key_fields().size() == 1);
  CHECK(table->key_fields()[0].text() == "id");
  std::string key;
  std::vector<std::string_view> parts{"1"};
  table->make_key(key, parts);
  CHECK(key == "user:1");

  Batch b;
  REQUIRE(b.run(*table, {"user:1", "user:9", "user:2", "user:1", "user:9", "user:empty"}));
  CHECK(table->counts().round_trips == 1);
  CHECK(table->counts().lookups == 4);
  CHECK(table->counts().cache_hits == 0);
  REQUIRE(b.rows.size() == 6);
  REQUIRE(b.errors.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    REQUIRE(b.rows[i] != nullptr);
    CHECK(b.errors[i].empty());
  }
  CHECK(b.rows[0]->found);
  CHECK(b.rows[0]->members == R"("u_name":"ann","u_tier":"gold")");
  CHECK(b.rows[0]->keys == std::vector<std::string>{"u_name", "u_tier"});
  CHECK_FALSE(b.rows[1]->found);
  CHECK(b.rows[1]->members.empty());
  CHECK(b.rows[2]->members == R"("u_name":"bob \"b\"\n")");
  CHECK(b.rows[3] == b.rows[0]);
  CHECK(b.rows[4] == b.rows[1]);
  CHECK_FALSE(b.rows[5]->found);

  // Into one member.
  o.placement = Placement{"user", ""};
  auto nested = open_table(o, clock);
  REQUIRE(b.run(*nested, {"user:2"}));
  CHECK(b.rows[0]->members == R"("user":{"name":"bob \"b\"\n"})");
  CHECK(b.rows[0]->keys == std::vector<std::string>{"user"});

  // An empty batch asks nothing.
  REQUIRE(b.run(*nested, {}));
  CHECK(b.rows.empty());
  CHECK(nested->counts().round_trips == 1);
}

TEST_CASE("redis table: select asks HMGET for those fields, in that order") {
  REQUIRE_SERVER(server);
  server.reply({"HSET", "user:1", "name", "ann", "tier", "gold", "age", "33"});
  server.reply({"HSET", "user:3", "other", "x"});
  time::ManualClock clock;
  auto o = options_for(server);
  o.select = {"tier", "missing", "name"};
  o.placement.into = "user";
  auto table = open_table(o, clock);
  Batch b;
  REQUIRE(b.run(*table, {"user:1", "user:3", "user:4"}));
  REQUIRE(b.rows[0] != nullptr);
  CHECK(b.rows[0]->members == R"("user":{"tier":"gold","name":"ann"})");
  CHECK_FALSE(b.rows[1]->found);  // none of the selected fields
  CHECK_FALSE(b.rows[2]->found);
  CHECK(table->counts().round_trips == 1);
}

TEST_CASE("redis table: json values; a bad value is an error for its key only") {
  REQUIRE_SERVER(server);
  server.reply({"SET", "p:1", R"({"name":"ann","n":2.50,"tags":["a", {"b":null}]})"});
  server.reply({"SET", "p:2", R"({"name":"bob","tags":[1,,2]})"});
  server.reply({"SET", "p:3", "[1,2]"});
  server.reply({"HSET", "p:4", "a", "b"});
  server.reply({"SET", "p:5", R"({"other":1})"});
  time::ManualClock clock;
  RedisTableOptions o;
  o.uri = server.uri("?value=json&key=p:{pid}");
  o.key_template = "ignored:{x}";  // key= in the uri wins
  o.select = {"tags", "name"};
  auto table = open_table(o, clock);
  REQUIRE(table->key_fields().size() == 1);
  CHECK(table->key_fields()[0].text() == "pid");

  Batch b;
  REQUIRE(b.run(*table, {"p:1", "p:2", "p:3", "p:4", "p:9", "p:2", "p:5"}));
  CHECK(table->counts().round_trips == 1);
  CHECK(table->counts().lookups == 6);
  CHECK(table->counts().errors == 3);
  REQUIRE(b.rows[0] != nullptr);
  CHECK(b.rows[0]->members == R"("tags":["a", {"b":null}],"name":"ann")");
  CHECK(b.rows[0]->keys == std::vector<std::string>{"tags", "name"});
  CHECK(b.errors[0].empty());
  CHECK(b.rows[1] == nullptr);
  CHECK(b.errors[1].find("redis key 'p:2'") != std::string::npos);
  CHECK(b.errors[1].find("not valid JSON") != std::string::npos);
  CHECK(b.rows[2] == nullptr);
  CHECK(b.errors[2].find("not a JSON object") != std::string::npos);
  CHECK(b.rows[3] == nullptr);
  CHECK(b.errors[3].find("WRONGTYPE") != std::string::npos);
  REQUIRE(b.rows[4] != nullptr);
  CHECK_FALSE(b.rows[4]->found);
  CHECK(b.errors[4].empty());
  CHECK(b.rows[5] == nullptr);
  CHECK(b.errors[5] == b.errors[1]);
  // An object without the selected members is found, with no members.
  REQUIRE(b.rows[6] != nullptr);
  CHECK(b.rows[6]->found);
  CHECK(b.rows[6]->members.empty());
  CHECK(b.rows[6]->keys.empty());

  // Errors are not cached: a fixed value is seen at once.
  server.reply({"SET", "p:2", R"({"name":"bob"})"});
  REQUIRE(b.run(*table, {"p:2", "p:1"}));
  CHECK(table->counts().round_trips == 2);
  CHECK(table->counts().cache_hits == 1);
  REQUIRE(b.rows[0] != nullptr);
  CHECK(b.rows[0]->members == R"("name":"bob")");
}

TEST_CASE("redis table: the cache answers repeats without Redis until the TTL passes") {
  REQUIRE_SERVER(server);
  server.reply({"HSET", "user:1", "name", "ann"});
  time::ManualClock clock(1'000'000'000);
  auto o = options_for(server);
  o.cache_ttl = 10'000 * kMs;
  auto table = open_table(o, clock);
  Batch b;
  REQUIRE(b.run(*table, {"user:1", "user:9"}));
  CHECK(table->counts().round_trips == 1);
  CHECK(table->counts().lookups == 2);

  REQUIRE(b.run(*table, {"user:1", "user:9", "user:1"}));
  CHECK(table->counts().round_trips == 1);
  CHECK(table->counts().lookups == 2);
  CHECK(table->counts().cache_hits == 3);
  CHECK(b.rows[0]->members == R"("name":"ann")");
  CHECK_FALSE(b.rows[1]->found);  // a known-missing key is cached too
  CHECK(b.rows[2] == b.rows[0]);

  server.reply({"HSET", "user:1", "name", "zed"});
  server.reply({"HSET", "user:9", "name", "new"});
  clock.advance(9'999 * kMs);
  REQUIRE(b.run(*table, {"user:1", "user:9"}));
  CHECK(table->counts().round_trips == 1);
  CHECK(b.rows[0]->members == R"("name":"ann")");
  CHECK_FALSE(b.rows[1]->found);

  clock.advance(1 * kMs);
  REQUIRE(b.run(*table, {"user:1", "user:9"}));
  CHECK(table->counts().round_trips == 2);
  CHECK(table->counts().lookups == 4);
  CHECK(b.rows[0]->members == R"("name":"zed")");
  CHECK(b.rows[1]->found);
  CHECK(b.rows[1]->members == R"("name":"new")");

  // No cache: every batch goes to Redis (still one round trip, repeats asked once).
  o.cache_size = 0;
  auto uncached = open_table(o, clock);
  REQUIRE(b.run(*uncached, {"user:1", "user:1"}));
  REQUIRE(b.run(*uncached, {"user:1"}));
  CHECK(uncached->counts().round_trips == 2);
  CHECK(uncached->counts().lookups == 2);
  CHECK(uncached->counts().cache_hits == 0);
  o.cache_size = 10;
  o.cache_ttl = 0;
  auto no_ttl = open_table(o, clock);
  REQUIRE(b.run(*no_ttl, {"user:1"}));
  REQUIRE(b.run(*no_ttl, {"user:1"}));
  CHECK(no_ttl->counts().round_trips == 2);
}

TEST_CASE("redis table: the least recently used key is evicted at cache_size") {
  REQUIRE_SERVER(server);
  for (std::string_view k : {"1", "2", "3", "4", "5"}) {
    server.reply({"HSET", "user:" + std::string(k), "n", k});
  }
  time::ManualClock clock;
  auto o = options_for(server);
  o.cache_size = 2;
  auto table = open_table(o, clock);
  const auto& c = table->counts();
  Batch b;
  REQUIRE(b.run(*table, {"user:1"}));
  REQUIRE(b.run(*table, {"user:2"}));
  REQUIRE(b.run(*table, {"user:1"}));  // a hit: user:2 is now the least recent
  CHECK(c.round_trips == 2);
  CHECK(c.cache_hits == 1);
  REQUIRE(b.run(*table, {"user:3"}));  // evicts user:2
  CHECK(c.evictions == 1);
  CHECK(c.round_trips == 3);
  REQUIRE(b.run(*table, {"user:1"}));
  CHECK(c.round_trips == 3);
  REQUIRE(b.run(*table, {"user:2"}));
  CHECK(c.round_trips == 4);
  CHECK(b.rows[0]->members == R"("n":"2")");

  // A batch bigger than the cache: the hit it uses and the rows it fetched all stay
  // valid until the next lookup.
  REQUIRE(b.run(*table, {"user:2", "user:3", "user:4", "user:5", "user:1", "user:2"}));
  REQUIRE(b.rows.size() == 6);
  const char* want[] = {"2", "3", "4", "5", "1", "2"};
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    REQUIRE(b.rows[i] != nullptr);
    CHECK(b.rows[i]->members == R"("n":")" + std::string(want[i]) + "\"");
  }
  CHECK(b.rows[5] == b.rows[0]);
  CHECK(c.round_trips == 5);
  CHECK(c.lookups == 7);    // 3, 4 and 5; user:2 and user:1 were cached
  CHECK(c.evictions == 2);  // both cached keys are used by the batch: none evicted
  REQUIRE(b.run(*table, {"user:1", "user:2"}));
  CHECK(c.round_trips == 5);  // still cached
}

TEST_CASE("redis table: a lost connection fails the batch after retry_for; a restart is used") {
  REQUIRE_SERVER(server);
  server.reply({"HSET", "user:1", "name", "ann"});
  time::ManualClock clock;  // sleeps return at once, so the retry loop runs at full speed
  auto o = options_for(server);
  o.cache_size = 0;
  o.retry_for = 300 * kMs;
  auto table = open_table(o, clock);
  const auto& c = table->counts();
  Batch b;
  REQUIRE(b.run(*table, {"user:1"}));
  CHECK(b.rows[0]->found);

  server.stop();
  StderrCapture capture;
  const auto began = std::chrono::steady_clock::now();
  auto st = b.run(*table, {"user:1", "user:2"});
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(1));
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kIo);
  CHECK(st.error().where == server.uri());
  CHECK(st.error().message.find("gave up after 300ms") != std::string::npos);
  CHECK(b.rows == std::vector<const RedisRow*>{nullptr, nullptr});
  CHECK(clock.sleeps() >= 3);  // 50 + 100 + 150 (capped at the end of retry_for)
  CHECK(clock.mono_ns() == 300 * kMs);
  CHECK(c.failures == 1);

  // The next batch tries once and fails fast.
  const int sleeps = clock.sleeps();
  st = b.run(*table, {"user:1"});
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message.find("still unreachable") != std::string::npos);
  CHECK(clock.sleeps() == sleeps);
  const std::string err = capture.finish();
  CHECK(count(err, "connection lost") == 1);
  CHECK(err.find(server.uri() + ": connection lost (") != std::string::npos);
  CHECK(err.find("); retrying for 300ms") != std::string::npos);

  REQUIRE(server.start());
  server.reply({"HSET", "user:1", "name", "bea"});
  StderrCapture capture2;
  REQUIRE(b.run(*table, {"user:1"}));
  REQUIRE(b.rows[0] != nullptr);
  CHECK(b.rows[0]->members == R"("name":"bea")");
  CHECK(c.reconnects == 1);
  CHECK(c.failures == 2);
  CHECK(capture2.finish().find("connected again") != std::string::npos);
}

TEST_CASE("redis table: a server that never answers times out within retry_for") {
  std::signal(SIGPIPE, SIG_IGN);
  Socket silent(true);  // accepts connections (the kernel does) and never replies
  RedisTableOptions o;
  o.uri = "redis://127.0.0.1:" + std::to_string(silent.port);
  o.key_template = "user:{id}";
  o.timeout = 50 * kMs;
  o.retry_for = 100 * kMs;
  auto& clock = time::SystemClock::instance();
  auto table = open_table(o, clock);
  StderrCapture capture;
  Batch b;
  const auto began = std::chrono::steady_clock::now();
  auto st = b.run(*table, {"user:1"});
  const auto took = std::chrono::steady_clock::now() - began;
  CHECK(took < std::chrono::milliseconds(1000));
  CHECK(took >= std::chrono::milliseconds(100));
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kIo);
  const std::string err = capture.finish();
  CHECK(err.find("connection lost (timed out after 50ms); retrying for 100ms") !=
        std::string::npos);
}

TEST_CASE("redis table: unreachable at open is not fatal; a stop request ends retrying") {
  const int port = free_port();  // nothing listens there
  RedisTableOptions o;
  o.uri = "redis://127.0.0.1:" + std::to_string(port);
  o.key_template = "user:{id}";
  o.retry_for = 5'000 * kMs;
  time::ManualClock clock;
  StderrCapture capture;
  auto table = open_table(o, clock);

  request_stop(SIGTERM);
  Batch b;
  auto st = b.run(*table, {"user:1"});
  clear_stop();
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().kind == ErrorKind::kIo);
  CHECK(st.error().message.find("stopped") != std::string::npos);
  CHECK(clock.sleeps() == 0);

  // A clock whose sleep returns early (as SystemClock's does on a stop request).
  struct EarlyClock final : time::Clock {
    int64_t now_ns() override { return 0; }
    int64_t mono_ns() override { return 0; }
    void sleep_until_mono(int64_t) override { ++sleeps; }
    int sleeps = 0;
  } early;
  auto table2 = open_table(o, early);
  st = b.run(*table2, {"user:1"});
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message.find("stopped") != std::string::npos);
  CHECK(early.sleeps == 1);
  const std::string err = capture.finish();
  CHECK(err.find(o.uri + ": cannot connect (Connection refused); will retry at the first lookup") !=
        std::string::npos);
  CHECK(err.find(o.uri + ": cannot connect (Connection refused); retrying for 5s") !=
        std::string::npos);
}

TEST_CASE("redis table: the uri's database is selected") {
  REQUIRE_SERVER(server);
  server.reply({"SELECT", "2"});
  server.reply({"HSET", "user:1", "name", "in db 2"});
  time::ManualClock clock;
  auto in2 = open_table(options_for(server, "/2"), clock);
  auto in0 = open_table(options_for(server, "/0"), clock);
  Batch b;
  REQUIRE(b.run(*in2, {"user:1"}));
  CHECK(b.rows[0]->members == R"("name":"in db 2")");
  REQUIRE(b.run(*in0, {"user:1"}));
  CHECK_FALSE(b.rows[0]->found);
}

}  // namespace
}  // namespace ev::enrich
