set -eu
ev-gen --count 3000 --seed 7 --duplicates 0.05 > gen.jsonl
ev-gen --profiles --users 1000 --seed 7 > users.jsonl
echo '{"type":"object","required":["event_id"]}' > schema.json
# The last line makes the filter fail: '*' on a string.
odd='{"event_id":"x1","user_id":"u000001","type":"purchase","ts":"2024-01-01T00:00:05Z","amount":"12"}'
{ cat gen.jsonl; echo "$odd"; } > in.jsonl
where='type == "purchase" and amount * 2 > 20'
# The reference filter, in awk: purchases whose amount is above 10.
awk 'index($0, "\"type\":\"purchase\"") && match($0, /"amount":[-0-9.eE+]+/) &&
     substr($0, RSTART + 9, RLENGTH - 9) + 0 > 10' gen.jsonl > kept.jsonl
kept=$(wc -l < kept.jsonl)
[ "$kept" -gt 50 ] && [ "$kept" -lt 500 ] || { echo "the filter keeps $kept lines"; exit 1; }

reason="--where, column 31: '*' needs numbers, got string and number"
printf '%s\n  hour(ts\n         ^\n' "--where: column 8: expected ',' or ')' in hour()" > caret.txt
check() {  # NAME ARGS...: ev-NAME ARGS with --where against ev-NAME ARGS over kept.jsonl
  local name=$1
  shift
  "ev-$name" "$@" --where "$where" --stats --reject rej.jsonl -i in.jsonl > out.jsonl 2> stats.txt ||
    { echo "ev-$name failed:"; cat stats.txt; exit 1; }
  "ev-$name" "$@" -i kept.jsonl > want.jsonl
  cmp out.jsonl want.jsonl || { echo "ev-$name --where differs from ev-$name over the kept lines"; exit 1; }
  jq -e --argjson f "$((3000 - kept))" '.in == 3001 and .filtered == $f and .dropped >= $f and .rejected == 1' \
    stats.txt > /dev/null || { echo "ev-$name --stats:"; cat stats.txt; exit 1; }
  jq -e --arg r "$reason" --arg raw "$odd" --arg p "ev-$name" \
    '.error == $r and .raw == $raw and .program == $p and .line == 3001' rej.jsonl > /dev/null ||
    { echo "ev-$name envelope:"; cat rej.jsonl; exit 1; }
  local status=0
  "ev-$name" "$@" --where 'hour(ts' -i in.jsonl > /dev/null 2> err.txt || status=$?
  [ "$status" -eq 2 ] || { echo "ev-$name with a bad --where: exit $status"; exit 1; }
  { printf 'ev-%s: error: ' "$name"; cat caret.txt; } | cmp - err.txt || { echo "ev-$name:"; cat err.txt; exit 1; }
  echo "ev-$name: $kept of 3000 kept" >&2
}
check ingest
check validate --schema schema.json
check dedupe --key event_id
check enrich --table users.jsonl --on user_id
check window --by user_id --tumble 1m --agg 'count, sum(amount) as revenue'
check emit
check score --set 'x = amount / 2' --rule 'big: amount > 50'
# The rest of --on-error, once: skip warns and goes on, fail stops with status 1.
ev-emit --where "$where" in.jsonl > out.jsonl 2> err.txt
cmp out.jsonl kept.jsonl
[ "$(cat err.txt)" = "ev-emit: warning: in.jsonl:3001: $reason (skipped)" ] || { cat err.txt; exit 1; }
status=0
{ echo "$odd"; cat gen.jsonl; } | ev-dedupe --key event_id --where "$where" --on-error fail > out.jsonl 2> err.txt || status=$?
[ "$status" -eq 1 ] && [ ! -s out.jsonl ] && [ "$(cat err.txt)" = "ev-dedupe: error: stdin:1: $reason" ] ||
  { echo "--on-error fail: status $status"; cat err.txt; exit 1; }

# ev-gen filters the lines it generates (--count counts them all); an expression that
# fails on a generated event is a usage error naming the line.
ev-gen --count 3000 --seed 7 --duplicates 0.05 --where "$where" | cmp - kept.jsonl
status=0
ev-gen --count 3000 --seed 7 --where 'page * 2 > 0' > /dev/null 2> err.txt || status=$?
[ "$status" -eq 2 ] && grep -q "^ev-gen: error: --where, column 6: '\*' needs numbers, got string and number (generated line 1)$" err.txt ||
  { echo "ev-gen with a failing --where: exit $status"; cat err.txt; exit 1; }
status=0
ev-gen --where 'hour(ts' > /dev/null 2> err.txt || status=$?
[ "$status" -eq 2 ] && { printf 'ev-gen: error: '; cat caret.txt; } | cmp - err.txt ||
  { echo "ev-gen with a bad --where: exit $status"; cat err.txt; exit 1; }
