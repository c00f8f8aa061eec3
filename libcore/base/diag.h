// Diagnostics to stderr: one line each, "ev-ingest: error: in.jsonl:12: reason".
//
// The program name is set once by cli::main; --quiet silences warnings (errors
// are always printed). Writes go straight to fd 2 with one write(2) per line, so
// lines from concurrent processes in a pipeline do not interleave mid-line.
// Not thread-safe to configure; safe to call from one thread.
#pragma once

#include <string_view>

namespace ev::diag {

void set_program(std::string_view name);
std::string_view program();
void set_quiet(bool quiet);
bool quiet();

void error(std::string_view message);
void warning(std::string_view message);  // suppressed by --quiet
void note(std::string_view message);     // suppressed by --quiet
// Writes `line` and a newline to stderr as it is (the --stats JSON line).
void raw_line(std::string_view line);

}  // namespace ev::diag
