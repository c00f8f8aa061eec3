// ev: the front door. `ev dedupe ARGS…` runs `ev-dedupe ARGS…`; `ev --list`; `ev --version`.
#include "libcore/cli/front_door.h"

int main(int argc, char** argv) { return ev::cli::front_door(argc, argv); }
