#include "libcore/cli/front_door.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/diag.h"
#include "libcore/cli/main.h"

namespace ev::cli {
namespace {

constexpr const char* kUsage =
    "Usage: ev PROGRAM [ARGS...]   run ev-PROGRAM with ARGS\n"
    "       ev --list              list the programs\n"
    "       ev --version           print the version\n"
    "\n"
    "evkit: small Unix programs for streams of user events (NDJSON on stdin/stdout,\n"
    "files and Kafka). Example:\n"
    "  ev gen --count 1000 | ev ingest --meta | ev emit -o events.jsonl.zst\n"
    "See ev(1) and ev(7).\n";

struct Known {
  const char* name;
  const char* about;
};
constexpr Known kKnown[] = {
    {"ingest", "bring events in: files, globs, .zst/.gz, --follow, paced replay"},
    {"validate", "JSON Schema validation, dead letters, data-quality reports"},
    {"dedupe", "drop repeated events by key within a time horizon"},
    {"enrich", "join events with lookup tables"},
    {"window", "event-time windowed aggregation"},
    {"score", "expressions, rules, models and anomaly scores"},
    {"emit", "send events out: stdout, files with rotation and compression"},
    {"gen", "generate synthetic user-event streams"},
};

std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  if (auto d = self_dir(); !d.empty()) dirs.push_back(d);
  if (const char* path = std::getenv("PATH")) {
    std::string_view p(path);
    while (!p.empty()) {
      auto colon = p.find(':');
      std::string_view d = p.substr(0, colon);
      if (!d.empty()) dirs.emplace_back(d);
      if (colon == std::string_view::npos) break;
      p.remove_prefix(colon + 1);
    }
  }
  return dirs;
}

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string find_program(const std::string& name) {
  for (const auto& dir : search_dirs()) {
    std::string candidate = dir + "/ev-" + name;
    if (is_executable(candidate)) return candidate;
  }
  return {};
}

std::set<std::string> list_programs() {
  std::set<std::string> found;
  for (const auto& dir : search_dirs()) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      if (n.size() > 3 && n.substr(0, 3) == "ev-" && is_executable(dir + "/" + std::string(n))) {
        found.emplace(n.substr(3));
      }
    }
    ::closedir(d);
  }
  return found;
}

void print(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(1, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

int front_door(int argc, char** argv) {
  diag::set_program("ev");
  if (argc < 2) {
    diag::error("no program given (see ev --help)");
    return 2;
  }
  std::string_view first(argv[1]);
  if (first == "-h" || first == "--help") {
    print(kUsage);
    return 0;
  }
  if (first == "--version") {
    print(version_line("ev") + "\n");
    return 0;
  }
  if (first == "--list") {
    std::string out;
    for (const auto& name : list_programs()) {
      out += name;
      for (const auto& k : kKnown) {
        if (name == k.name)
          out += std::string(12 - std::min<size_t>(name.size(), 11), ' ') + k.about;
      }
      out += '\n';
    }
    print(out);
    return 0;
  }
  if (first.starts_with("-")) {
    diag::error("unknown option '" + std::string(first) + "' (see ev --help)");
    return 2;
  }
  std::string name(first);
  std::string path = find_program(name);
  if (path.empty()) {
    std::string known;
    for (const auto& n : list_programs()) known += (known.empty() ? "" : ", ") + n;
    diag::error("no program ev-" + name + " (known: " + known + ")");
    return 2;
  }
  std::vector<char*> args;
  std::string argv0 = "ev-" + name;
  args.push_back(argv0.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(path.c_str(), args.data());
  diag::error("cannot run " + path + ": " + std::strerror(errno));
  return 3;
}

}  // namespace ev::cli
