// Micro-benchmarks of libcore's hot paths: line splitting, field extraction, time
// parsing, key hashing, splicing. Input: synthetic events from the generator, in memory.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "libcore/gen/generator.h"
#include "libcore/io/line_reader.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/json/splice.h"
#include "libcore/state/key_hash.h"
#include "libcore/time/timestamp.h"

namespace {

// 100k generated events as one NDJSON buffer (about 28 MB), made once.
const std::string& corpus() {
  static const std::string data = [] {
    ev::gen::Generator gen(ev::gen::GenOptions{});
    std::string out, line;
    for (int i = 0; i < 100000; ++i) {
      line.clear();
      gen.next(line);
      out += line;
      out += '\n';
    }
    return out;
  }();
  return data;
}

// Line views into one padded buffer, as the runner hands them to stages.
const std::vector<std::string_view>& lines() {
  static const std::string padded = corpus() + std::string(64, ' ');
  static const std::vector<std::string_view> views = [] {
    std::vector<std::string_view> v;
    size_t pos = 0;
    while (pos < corpus().size()) {
      size_t nl = padded.find('\n', pos);
      v.emplace_back(padded.data() + pos, nl - pos);
      pos = nl + 1;
    }
    return v;
  }();
  return views;
}

void BM_line_split(benchmark::State& state) {
  for (auto _ : state) {
    ev::io::LineReader reader(ev::io::memory_source(corpus()));
    ev::io::Line line;
    size_t n = 0;
    while (*reader.next(line)) n += line.text.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_line_split)->Unit(benchmark::kMillisecond);

// Two fields per event (user_id and ts as strings), what dedupe and window read.
// range(0): 1 = also parse ts (RFC 3339) to ns.
void BM_field_extraction(benchmark::State& state) {
  const bool parse_time = state.range(0) == 1;
  simdjson::ondemand::parser parser;
  ev::json::Event event(parser);
  auto user = *ev::json::FieldPath::parse("user_id");
  auto ts = *ev::json::FieldPath::parse("ts");
  int64_t sum = 0;
  for (auto _ : state) {
    for (auto l : lines()) {
      event.reset(l, "bench", 0);
      simdjson::ondemand::value v;
      std::string_view s;
      if (*event.find(user, v) == ev::json::Found::kYes && !v.get_string().get(s)) {
        sum += static_cast<int64_t>(s.size());
      }
      if (*event.find(ts, v) == ev::json::Found::kYes && !v.get_string().get(s)) {
        sum += parse_time ? *ev::time::parse_rfc3339(s) : static_cast<int64_t>(s.size());
      }
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines().size()));
}
BENCHMARK(BM_field_extraction)
    ->ArgName("parse_time")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

void BM_parse_rfc3339(benchmark::State& state) {
  std::string_view text = "2024-05-01T10:00:00.123Z";
  for (auto _ : state) benchmark::DoNotOptimize(ev::time::parse_rfc3339(text));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_rfc3339);

void BM_parse_epoch_ms(benchmark::State& state) {
  std::string_view text = "1714557600123";
  for (auto _ : state) {
    benchmark::DoNotOptimize(ev::time::parse_epoch_text(text, ev::time::EpochUnit::kAuto));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_epoch_ms);

void BM_format_rfc3339_ms(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    ev::time::append_rfc3339_ms(out, 1714557600123000000);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_format_rfc3339_ms);

// Key of one field per event, 64 and 128 bit: dedupe's per-event cost without the table.
void BM_key_hash(benchmark::State& state) {
  const bool wide = state.range(0) == 128;
  simdjson::ondemand::parser parser;
  ev::json::Event event(parser);
  auto id = *ev::json::FieldPath::parse("event_id");
  ev::state::KeyHasher hasher;
  uint64_t acc = 0;
  for (auto _ : state) {
    for (auto l : lines()) {
      event.reset(l, "bench", 0);
      simdjson::ondemand::value v;
      hasher.reset();
      if (*event.find(id, v) == ev::json::Found::kYes) (void)hasher.add(v);
      acc += wide ? hasher.digest128().low : hasher.digest64();
    }
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines().size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_key_hash)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond);

void BM_splice(benchmark::State& state) {
  simdjson::ondemand::parser parser;
  std::string out;
  for (auto _ : state) {
    for (auto l : lines()) {
      out.clear();
      (void)ev::json::append_spliced(out, l, "\"_src\":{\"file\":\"f\",\"line\":1}", {"_src"},
                                     parser);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_splice)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
