#include "libcore/io/glob.h"

#include <glob.h>
#include <sys/stat.h>

namespace ev::io {

Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    struct stat st {};
    bool has_magic = name.find_first_of("*?[") != std::string::npos;
    if (name == "-" || !has_magic || ::stat(name.c_str(), &st) == 0) {
      out.push_back(name);
      continue;
    }
    glob_t g{};
    int r = ::glob(name.c_str(), GLOB_ERR, nullptr, &g);
    if (r == GLOB_NOMATCH) {
      globfree(&g);
      return usage_error("no input matches '" + name + "'");
    }
    if (r != 0) {
      globfree(&g);
      return io_error("cannot expand '" + name + "'");
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  if (out.empty()) out.emplace_back("-");
  return out;
}

}  // namespace ev::io
