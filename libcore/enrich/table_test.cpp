#include "libcore/enrich/table.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "libcore/enrich/load.h"
#include "libcore/testing/temp_dir.h"

using ev::enrich::Field;
using ev::enrich::FileFormat;
using ev::enrich::FileTableOptions;
using ev::enrich::Placement;
using ev::enrich::Table;
using ev::testing::TempDir;

namespace {

std::string members(const Table& t, std::string_view key) {
  auto row = t.find(key);
  if (!row) return "<none>";
  std::string out;
  std::vector<std::string_view> keys;
  t.append_members(out, row, keys);
  return out;
}

std::string keys_of(const Table& t, std::string_view key) {
  std::string out;
  std::vector<std::string_view> keys;
  t.append_members(out, t.find(key), keys);
  std::string joined;
  for (auto k : keys) joined += std::string(k) + ";";
  return joined;
}

ev::Result<ev::enrich::LoadedTable> load(const TempDir& dir, const std::string& name,
                                         const std::string& content, std::string key,
                                         std::vector<std::string> select = {},
                                         Placement placement = {}) {
  FileTableOptions o;
  o.path = dir.file(name, content);
  o.key_field = std::move(key);
  o.select = std::move(select);
  o.placement = std::move(placement);
  return ev::enrich::load_file_table(o);
}

}  // namespace

TEST_CASE("table: put, find, replace, erase") {
  Table t({});
  std::vector<Field> f = {{"tier", "\"gold\""}, {"age", "34"}};
  CHECK_FALSE(t.put("u1", f));
  CHECK(members(t, "u1") == R"("tier":"gold","age":34)");
  CHECK(keys_of(t, "u1") == "tier;age;");
  CHECK(members(t, "u2") == "<none>");
  std::vector<Field> g = {{"tier", "\"free\""}};
  CHECK(t.put("u1", g));  // replaced: the last one wins
  CHECK(members(t, "u1") == R"("tier":"free")");
  CHECK(t.rows() == 1);
  CHECK(t.erase("u1"));
  CHECK_FALSE(t.erase("u1"));
  CHECK(t.find("u1") == nullptr);
  CHECK(t.rows() == 0);
}

TEST_CASE("table: placement renders prefixed or nested members") {
  std::vector<Field> f = {{"tier", "\"gold\""}, {"a\"b", "[1,2]"}};
  Table prefixed(Placement{"", "user_"});
  prefixed.put("k", f);
  CHECK(members(prefixed, "k") == R"("user_tier":"gold","user_a\"b":[1,2])");
  CHECK(keys_of(prefixed, "k") == "user_tier;user_a\"b;");
  Table nested(Placement{"user", ""});
  nested.put("k", f);
  CHECK(members(nested, "k") == R"("user":{"tier":"gold","a\"b":[1,2]})");
  CHECK(keys_of(nested, "k") == "user;");
  std::string out;
  ev::enrich::render_members(out, Placement{"u", ""}, {});
  CHECK(out == R"("u":{})");
}

TEST_CASE("table: many keys with deletes agree with a reference map") {
  Table t({});
  std::map<std::string, std::string> ref;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    std::string key = "k" + std::to_string(rng() % 20000);
    if (rng() % 4 == 0) {
      CHECK(t.erase(key) == (ref.erase(key) == 1));
    } else {
      std::string v = std::to_string(i);
      std::vector<Field> f = {{"v", v}};
      CHECK(t.put(key, f) == ref.contains(key));
      ref[key] = R"("v":)" + v;
    }
  }
  REQUIRE(t.rows() == ref.size());
  for (int k = 0; k < 20000; ++k) {
    std::string key = "k" + std::to_string(k);
    auto it = ref.find(key);
    CHECK(members(t, key) == (it == ref.end() ? "<none>" : it->second));
  }
  // Replacements left garbage that compaction reclaimed: far less than all writes.
  CHECK(t.memory_bytes() < (size_t{24} << 20));
}

TEST_CASE("table: a row's memory stays compact") {
  Table t({});
  std::string key, age;
  for (int i = 0; i < 100000; ++i) {
    key = "u" + std::to_string(1000000 + i);
    age = std::to_string(18 + i % 60);
    std::vector<Field> f = {{"tier", "\"gold\""},
                            {"country", "\"DE\""},
                            {"signup", "\"2023-04-05\""},
                            {"age", age},
                            {"lang", "\"de\""}};
    t.put(key, f);
  }
  // About 45 bytes of key and values plus 16-byte slots at most 7/8 full.
  CHECK(t.memory_bytes() / t.rows() < 90);
}

TEST_CASE("key text: strings unescaped, numbers as spelled, containers refused") {
  std::string scratch;
  CHECK(*ev::enrich::key_from_json(R"("u\u0031")", scratch) == "u1");
  CHECK(*ev::enrich::key_from_json("12.50 ", scratch) == "12.50");
  CHECK(*ev::enrich::key_from_json("true", scratch) == "true");
  CHECK(ev::enrich::key_from_json("null", scratch).error().message == "null");
  CHECK(ev::enrich::key_from_json("{}", scratch).error().message == "an object");
  CHECK(ev::enrich::key_from_json("[1]", scratch).error().message == "an array");
}

TEST_CASE("cells: JSON numbers stay numbers, the rest are strings") {
  std::string out;
  for (std::string_view c : {"12", "-0.5", "1e3", "007", "1.", "", "abc", "1,5", "tab\there"}) {
    ev::enrich::append_cell_json(out, c);
    out.push_back('|');
  }
  CHECK(out == R"(12|-0.5|1e3|"007"|"1."|""|"abc"|"1,5"|"tab\there"|)");
}

TEST_CASE("load: CSV with quotes, embedded newlines, CRLF and selection order") {
  TempDir dir;
  auto t = load(dir, "u.csv",
                "user_id,tier,note,age\r\n"
                "u1,gold,\"a, \"\"quoted\"\"\nline\",34\r\n"
                "u2,free,,19\n"
                "u1,plus,x,35\n",
                "user_id", {"age", "tier"});
  REQUIRE(t);
  CHECK(t->duplicates == 1);
  CHECK(t->table->rows() == 2);
  CHECK(members(*t->table, "u1") == R"("age":35,"tier":"plus")");
  CHECK(members(*t->table, "u2") == R"("age":19,"tier":"free")");
  auto all = load(dir, "v.csv", "user_id,tier,note\nu1,gold,\"two\nlines\"\n", "user_id");
  REQUIRE(all);
  CHECK(members(*all->table, "u1") == R"("tier":"gold","note":"two\nlines")");
}

TEST_CASE("load: TSV decodes escapes; JSON Lines keeps values byte for byte") {
  TempDir dir;
  auto t = load(dir, "p.tsv", "sku\tname\tprice\nA1\tred\\tcap\t9.90\n", "sku");
  REQUIRE(t);
  CHECK(members(*t->table, "A1") == R"("name":"red\tcap","price":9.90)");
  auto j = load(dir, "u.jsonl",
                "{\"id\":7,\"tier\":\"gold\",\"geo\":{\"c\": \"DE\"},\"x\":1.50}\n"
                "{\"id\":\"8\",\"tier\":null}\n",
                "id", {}, Placement{"user", ""});
  REQUIRE(j);
  CHECK(members(*j->table, "7") == R"("user":{"tier":"gold","geo":{"c": "DE"},"x":1.50})");
  CHECK(members(*j->table, "8") == R"("user":{"tier":null})");
  // The key field itself is added only when selected.
  auto k = load(dir, "k.jsonl", "{\"id\":7,\"tier\":\"gold\"}\n", "id", {"tier", "id"});
  REQUIRE(k);
  CHECK(members(*k->table, "7") == R"("tier":"gold","id":7)");
}

TEST_CASE("load: errors name the file and line") {
  TempDir dir;
  auto bad = [&](const std::string& name, const std::string& content, const std::string& key) {
    auto t = load(dir, name, content, key);
    REQUIRE_FALSE(t);
    return t.error().to_string();
  };
  CHECK(bad("a.csv", "id,x\n1,2\n3\n", "id").ends_with("a.csv:3: 1 fields where the header has 2"));
  CHECK(bad("b.csv", "id,x\n1,\"open\n", "id").ends_with("b.csv:2: unterminated quoted field"));
  CHECK(bad("c.csv", "id,x\n1,a\"b\n", "id").ends_with("c.csv:2: quote inside an unquoted field"));
  CHECK(bad("d.csv", "x,y\n1,2\n", "id").ends_with("d.csv:1: no column named id in the header"));
  CHECK(bad("e.jsonl", "{\"id\":1}\n{\"x\":2}\n", "id")
            .ends_with("e.jsonl:2: key field id: missing"));
  CHECK(bad("f.jsonl", "{\"id\":[1]}\n", "id").ends_with("f.jsonl:1: key field id: an array"));
  CHECK(bad("g.jsonl", "{\"id\":1,}\n", "id").find("g.jsonl:1:") != std::string::npos);
  CHECK(bad("h.csv", "", "id").ends_with("h.csv: no header row"));
  FileTableOptions o;
  o.path = dir.file("m.csv", "id\n1\n2\n3\n");
  o.key_field = "id";
  o.max_rows = 2;
  auto t = ev::enrich::load_file_table(o);
  REQUIRE_FALSE(t);
  CHECK(t.error().message == "more than --max-rows 2 rows");
  o.path = dir.at("none.csv");
  CHECK(ev::enrich::load_file_table(o).error().kind == ev::ErrorKind::kIo);
}

TEST_CASE("load: format by name, past compression suffixes") {
  CHECK(ev::enrich::format_of("a/users.csv.zst") == FileFormat::kCsv);
  CHECK(ev::enrich::format_of("p.tsv.gz") == FileFormat::kTsv);
  CHECK(ev::enrich::format_of("u.jsonl") == FileFormat::kJsonl);
  CHECK(ev::enrich::format_of("u.data") == FileFormat::kJsonl);
  CHECK(*ev::enrich::parse_file_format("csv") == FileFormat::kCsv);
  CHECK_FALSE(ev::enrich::parse_file_format("xml"));
}
