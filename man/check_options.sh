#!/bin/sh
# check_options.sh PROGRAM PAGE.scd
#
# Fails when the long options that PROGRAM --help lists and the long options that the
# OPTIONS section of PAGE.scd documents differ, naming each one that is in one but not
# the other.
#
# From --help, options are taken only where they are defined: the option column of
# CLI11's listing ("  -i,--input INPUT ...") and synopsis lines that give an option
# right after the program name ("       ev --list"); the text before "Examples:" only.
# From the page, options are taken from the term lines of OPTIONS: the lines that are
# followed by a tab-indented description (prose paragraphs in OPTIONS do not count). --help and --version must be documented; they are checked
# by running them (exit 0) rather than by looking for them in the help text.
set -eu

[ $# -eq 2 ] || { echo "usage: check_options.sh PROGRAM PAGE.scd" >&2; exit 2; }
program=$1
page=$2
name=$(basename "$program")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$program" --help > "$tmp/help" 2> "$tmp/help.err"; then
  echo "$name --help failed:" >&2
  cat "$tmp/help.err" >&2
  exit 1
fi

awk '
  /^Examples?:/ { exit }
  /^ +-/ {
    n = split($1, names, ",")
    for (i = 1; i <= n; i++) if (names[i] ~ /^--[A-Za-z0-9]/) print names[i]
    next
  }
  match($0, /^(Usage:)? +[^ ]+ +--[A-Za-z0-9][A-Za-z0-9-]*/) {
    s = substr($0, 1, RLENGTH)
    sub(/.* /, "", s)
    print s
  }
' "$tmp/help" | sort -u > "$tmp/from_help"

awk '
  function terms(text) {
    while (match(text, /--[A-Za-z0-9][A-Za-z0-9-]*/)) {
      print substr(text, RSTART, RLENGTH)
      text = substr(text, RSTART + RLENGTH)
    }
  }
  # A term line is a line of OPTIONS followed by its tab-indented description.
  /^\t/ && term != "" { terms(term) }
  { term = "" }
  /^# / { in_options = ($0 == "# OPTIONS"); next }
  in_options && !/^[\t#;]/ && !/^$/ { term = $0 }
' "$page" | sort -u > "$tmp/from_page"

if [ ! -s "$tmp/from_page" ]; then
  echo "$page: no options found in its OPTIONS section" >&2
  exit 1
fi

status=0
for builtin in --help --version; do
  if ! grep -qx -- "$builtin" "$tmp/from_page"; then
    echo "$page: $builtin is not documented in OPTIONS" >&2
    status=1
  elif ! "$program" "$builtin" > /dev/null 2>&1; then
    echo "$page documents $builtin, but $name $builtin fails" >&2
    status=1
  fi
  echo "$builtin" >> "$tmp/from_help"
done
sort -u -o "$tmp/from_help" "$tmp/from_help"

for option in $(comm -23 "$tmp/from_help" "$tmp/from_page"); do
  echo "$option: listed by $name --help but not documented in $page" >&2
  status=1
done
for option in $(comm -13 "$tmp/from_help" "$tmp/from_page"); do
  echo "$option: documented in $page but not an option of $name (not in --help)" >&2
  status=1
done
[ $status -eq 0 ] && echo "$name: $(wc -l < "$tmp/from_page") long options, --help and $page agree"
exit $status
