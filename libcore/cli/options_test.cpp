#include "libcore/cli/options.h"

#include <doctest/doctest.h>

#include <vector>

namespace {
// Parses `args` (without the program name); returns the CLI11 error text or "".
std::string parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<const char*> argv{"prog"};
  for (auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("options: inputs as positionals and -i, in order; defaults") {
  ev::pipeline::RunOptions run;
  CLI::App app;
  ev::cli::add_run_options(app, run);
  CHECK(parse(app, {"a.jsonl", "-i", "b.jsonl.gz", "c"}) == "");
  CHECK(run.inputs == std::vector<std::string>{"a.jsonl", "b.jsonl.gz", "c"});
  CHECK(run.output == "-");
  CHECK(run.on_error == ev::pipeline::OnError::kDefault);
  CHECK(run.max_line == ev::io::kDefaultMaxLine);
}

TEST_CASE("options: --on-error, --reject, --stats, --quiet, --max-line") {
  ev::pipeline::RunOptions run;
  CLI::App app;
  ev::cli::add_run_options(app, run);
  CHECK(parse(app, {"--on-error", "reject", "--reject", "bad.jsonl", "--stats", "-q", "--max-line",
                    "1M", "-o", "out.zst"}) == "");
  CHECK(run.on_error == ev::pipeline::OnError::kReject);
  CHECK(run.reject == "bad.jsonl");
  CHECK(run.stats);
  CHECK(run.quiet);
  CHECK(run.max_line == (1u << 20));
  CHECK(run.output == "out.zst");
}

TEST_CASE("options: invalid values are parse errors naming the option") {
  {
    ev::pipeline::RunOptions run;
    CLI::App app;
    ev::cli::add_run_options(app, run);
    CHECK(parse(app, {"--on-error", "explode"}).find("fail, skip or reject") != std::string::npos);
  }
  {
    ev::pipeline::RunOptions run;
    CLI::App app;
    ev::cli::add_run_options(app, run);
    CHECK(parse(app, {"--max-line", "lots"}) != "");
  }
  {
    CLI::App app;
    int64_t d = 0;
    ev::cli::add_duration_option(app, "--within", d, "");
    CHECK(parse(app, {"--within", "1h30m"}) == "");
    CHECK(d == 5400LL * 1'000'000'000);
    CLI::App app2;
    ev::cli::add_duration_option(app2, "--within", d, "");
    CHECK(parse(app2, {"--within", "5x"}) != "");
  }
  {
    CLI::App app;
    double r = 0;
    ev::cli::add_rate_option(app, "--rate", r, "");
    CHECK(parse(app, {"--rate", "60/m"}) == "");
    CHECK(r == doctest::Approx(1.0));
  }
  {
    CLI::App app;
    int64_t t = 0;
    ev::cli::add_time_option(app, "--start", t, "");
    CHECK(parse(app, {"--start", "2024-05-01T10:00:00Z"}) == "");
    CHECK(t == 1714557600LL * 1'000'000'000);
    CLI::App app2;
    ev::cli::add_time_option(app2, "--start", t, "");
    CHECK(parse(app2, {"--start", "1714557600"}) == "");
    CHECK(t == 1714557600LL * 1'000'000'000);
    CLI::App app3;
    ev::cli::add_time_option(app3, "--start", t, "");
    CHECK(parse(app3, {"--start", "yesterday"}) != "");
  }
}
