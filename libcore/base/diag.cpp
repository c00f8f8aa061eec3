#include "libcore/base/diag.h"

#include <unistd.h>

#include <string>

namespace ev::diag {
namespace {
std::string g_program = "ev";
bool g_quiet = false;

void write_all(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(2, p, left);
    if (n <= 0) return;  // nowhere left to report to
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void emit(std::string_view severity, std::string_view message) {
  std::string line;
  line.reserve(g_program.size() + severity.size() + message.size() + 6);
  line.append(g_program).append(": ").append(severity).append(": ").append(message);
  line.push_back('\n');
  write_all(line);
}
}  // namespace

void set_program(std::string_view name) { g_program = std::string(name); }
std::string_view program() { return g_program; }
void set_quiet(bool quiet) { g_quiet = quiet; }
bool quiet() { return g_quiet; }

void error(std::string_view message) { emit("error", message); }
void raw_line(std::string_view line) {
  std::string s(line);
  s.push_back('\n');
  write_all(s);
}
void warning(std::string_view message) {
  if (!g_quiet) emit("warning", message);
}
void note(std::string_view message) {
  if (!g_quiet) emit("note", message);
}

}  // namespace ev::diag
