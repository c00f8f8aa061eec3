#!/usr/bin/env bash
# Rewrites expout/experr/status of end-to-end cases from the current build, so the
# change in behaviour shows up as a diff to review.
#   scripts/update-expected.sh tests/e2e/ingest/0001-pass-through [...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${EV_BIN:-$root/build/tools}"
for case_dir in "$@"; do
  case_dir=$(cd "$case_dir" && pwd)
  [ -f "$case_dir/cmd" ] || { echo "skip $case_dir (no cmd)"; continue; }
  scratch=$(mktemp -d)
  cp -R "$case_dir"/. "$scratch"/
  (cd "$scratch" && export PATH="$bin:$PATH" SRC="$root" SHARED="$root/../shared" LC_ALL=C &&
     st=0 && { bash ./cmd >actual.out 2>actual.err </dev/null || st=$?; } && echo $st >actual.status)
  cp "$scratch/actual.out" "$case_dir/expout"
  if [ -s "$scratch/actual.err" ]; then cp "$scratch/actual.err" "$case_dir/experr"; else rm -f "$case_dir/experr"; fi
  if [ "$(cat "$scratch/actual.status")" != 0 ]; then cp "$scratch/actual.status" "$case_dir/status"; else rm -f "$case_dir/status"; fi
  [ -s "$case_dir/expout" ] || rm -f "$case_dir/expout"
  rm -rf "$scratch"
  echo "updated $case_dir"
done
