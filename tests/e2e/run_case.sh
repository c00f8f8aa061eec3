#!/usr/bin/env bash
# Runs one end-to-end case directory against a build.
#
#   run_case.sh CASE_DIR BIN_DIR SOURCE_DIR
#
# A case is either
#   cmd      a shell command line, run in a scratch copy of the case directory, with
#            expout (stdout, byte for byte), experr (stderr; omitted: must be empty)
#            and status (exit status; omitted: 0); or
#   test.sh  a script that checks everything itself and exits 0 on success.
# Both see the build's programs first on PATH, $SRC (the source tree) and $SHARED
# (the shared corpora). `about` says in one line what the case pins.
set -u
case_dir=$1
bin_dir=$2
src_dir=$3
export PATH="$bin_dir:$PATH"
export SRC="$src_dir"
export SHARED="$src_dir/../shared"
export LC_ALL=C

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ev-e2e.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -R "$case_dir"/. "$scratch"/
cd "$scratch" || exit 1

if [ -f test.sh ]; then
  bash ./test.sh
  exit $?
fi

if [ ! -f cmd ]; then
  echo "case $case_dir has neither cmd nor test.sh" >&2
  exit 1
fi

bash ./cmd >actual.out 2>actual.err </dev/null
got_status=$?
want_status=0
[ -f status ] && want_status=$(cat status)
fail=0
if [ "$got_status" != "$want_status" ]; then
  echo "exit status: got $got_status, want $want_status" >&2
  fail=1
fi
# compare WANT_FILE GOT_FILE NAME: the expected file must match byte for byte; without
# one, nothing may have been written.
compare() {
  if [ -f "$1" ]; then
    if ! cmp -s "$1" "$2"; then
      echo "$3 differs from $1:" >&2
      diff "$1" "$2" | head -40 >&2
      fail=1
    fi
  elif [ -s "$2" ]; then
    echo "unexpected $3:" >&2
    head -20 "$2" >&2
    fail=1
  fi
}
compare expout actual.out stdout
compare experr actual.err stderr
exit $fail
