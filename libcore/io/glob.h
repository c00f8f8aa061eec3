// Input names as users type them: paths, "-", and quoted globs ('logs/*.jsonl.gz').
//
// A name holding *, ? or [ that is not an existing path is expanded with glob(3),
// sorted; a glob matching nothing is a usage error (as `ls` reports it), so a typo
// does not silently read nothing. Pure function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "libcore/base/status.h"

namespace ev::io {

Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& names);

}  // namespace ev::io
