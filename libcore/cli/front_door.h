// The `ev` front door: `ev dedupe ARGS…` runs `ev-dedupe ARGS…`.
//
// Programs are looked up first beside the `ev` executable (so an uninstalled build
// tree works), then on PATH. `ev --list` prints every ev-* program found, one per
// line with its one-line description; `ev --version` prints the version. An unknown
// program is a usage error (exit 2) that lists the known ones.
#pragma once

namespace ev::cli {

int front_door(int argc, char** argv);

}  // namespace ev::cli
