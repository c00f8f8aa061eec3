#!/bin/sh
# Generates the roff man pages from their scdoc sources.
#
#   gen-man.sh PAGE.scd...        write PAGE (the .scd name minus .scd) next to each source
#   gen-man.sh -c PAGE.scd...     check: regenerate into a temporary directory and fail,
#                                 showing the diff, when a committed page differs
#
# The pages are `scdoc < PAGE.scd` with two fixed adjustments, so that they are the same
# on every machine and pass `mandoc -Tlint -W warning`:
#   - the date in .TH is EV_MAN_DATE below (SOURCE_DATE_EPOCH), not today's date;
#   - scdoc 1.11 writes an empty paragraph macro (.P) before and after every .SH and
#     before every .RE, which mandoc reports as "skipping paragraph macro: PP empty" /
#     "PP after SH". Those are dropped, and a .P that ended an indented block is moved
#     after its .RE; groff and mandoc render that exactly as before. The blank line
#     scdoc leaves after the last item of a list (a second empty line on the page)
#     is dropped too.
#   - scdoc turns hyphenation off (.nh) before .TH, but groff's .TH turns it back on,
#     so `man` would break words and options at line ends ("--mal-" / "formed"); the
#     .nh is repeated after .TH.
# It also refuses a source text line that starts with "." or "'": scdoc copies such a
# line as it is, so roff takes it for a request and the line vanishes from the page.
# SCDOC names the scdoc binary (default: scdoc on PATH).
set -eu

# The date printed in every page: 2026-11-21. Change it when the pages change materially.
EV_MAN_DATE=1795219200

scdoc_bin=${SCDOC:-scdoc}

render() {  # render SOURCE > roff
  awk -v src="$1" '
    /^```/ { literal = !literal; next }
    !literal && /^[.\047]/ {
      printf "%s:%d: a line starting with . or \047 is taken for a roff request; rewrap it\n", src, NR
      bad = 1
    }
    END { exit bad }
  ' "$1" >&2 || return 1
  SOURCE_DATE_EPOCH=$EV_MAN_DATE "$scdoc_bin" < "$1" > "$tmp/raw" || return 1
  awk '
    { line[n++] = $0 }
    END {
      changed = 1
      while (changed) {
        changed = 0
        m = 0
        for (i = 0; i < n; i++) {
          cur = line[i]
          nxt = (i + 1 < n) ? line[i + 1] : ""
          prv = (m > 0) ? out[m - 1] : ""
          if (cur == "" && nxt == ".RE") {
            changed = 1
            continue
          }
          if (cur == ".P") {
            if (i + 1 >= n || nxt ~ /^\.(SH|SS|P|PP|TH)( |$)/ || prv ~ /^\.(SH|SS|TH)( |$)/) {
              changed = 1
              continue
            }
            if (nxt == ".RE") {
              out[m++] = ".RE"
              out[m++] = ".P"
              i++
              changed = 1
              continue
            }
          }
          out[m++] = cur
        }
        n = m
        for (i = 0; i < n; i++) line[i] = out[i]
      }
      for (i = 0; i < n; i++) {
        print line[i]
        if (line[i] ~ /^\.TH /) print ".nh"
      }
    }' "$tmp/raw"
}

check=0
if [ "${1:-}" = "-c" ]; then
  check=1
  shift
fi
[ $# -gt 0 ] || { echo "usage: gen-man.sh [-c] PAGE.scd..." >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for src in "$@"; do
  page=${src%.scd}
  name=$(basename "$page")
  render "$src" > "$tmp/$name" || { echo "gen-man.sh: scdoc failed on $src" >&2; exit 1; }
  if [ $check -eq 1 ]; then
    if ! cmp -s "$tmp/$name" "$page"; then
      echo "$page is stale: regenerate it from $src (cmake --build BUILD --target man)" >&2
      diff -u "$page" "$tmp/$name" >&2 || true
      status=1
    fi
  elif ! cmp -s "$tmp/$name" "$page"; then
    cp "$tmp/$name" "$page"
    echo "wrote $page"
  fi
done
exit $status
