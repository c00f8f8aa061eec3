set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
. "$SRC/tests/e2e/stream-lib.sh"
start_broker --topic profiles:2 --topic accounts:1
# 300 profiles keyed by user id (kcat -K: splits key and value).
for i in $(seq 1 300); do echo "u$i:{\"tier\":\"t$((i % 3))\",\"n\":$i}"; done > profiles.txt
kcat_produce profiles -K: -l profiles.txt

mkfifo events
ev-enrich --table "kafka://$BROKERS/profiles" --on user_id --wait-ready --into p \
  --stats events > out.jsonl 2> err.txt &
pid=$!
cleanup_add "kill $pid 2>/dev/null"
exec 3> events
# Every event after the start sees the table as it was: all 300 rows.
for i in $(seq 1 300); do echo "{\"user_id\":\"u$i\"}"; done >&3
wait_for out.jsonl '"u300"'
python3 - out.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 300, len(rows)
for r in rows:
    i = int(r["user_id"][1:])
    assert r["p"] == {"tier": f"t{i % 3}", "n": i}, r
PY
# An update and a tombstone arrive while the stream runs (kcat -Z: empty is null).
printf 'u1:{"tier":"gold","n":1}\n' | kcat_produce profiles -K:
printf 'u2:\n' | kcat_produce profiles -K: -Z
# probe LINE PATTERN: sends LINE until an output line matches PATTERN (bounded): the
# update reaches ev-enrich at some point after kcat returns.
probe() {
  for _ in $(seq 200); do
    echo "$1" >&3
    sleep 0.05
    grep -q -- "$2" out.jsonl && return 0
  done
  echo "never saw $2"; tail -n 5 out.jsonl err.txt; exit 1
}
probe '{"user_id":"u1","probe":1}' '"probe":1,"p":{"tier":"gold","n":1}'
probe '{"user_id":"u2","probe":2}' '^{"user_id":"u2","probe":2}$'
# Events for untouched users still get their rows.
echo '{"user_id":"u3","last":true}' >&3
wait_for out.jsonl '"last":true,"p":{"tier":"t0","n":3}'
exec 3>&-
wait $pid
grep -q '"profiles_deletes":1' err.txt || { cat err.txt; exit 1; }
grep -q '"profiles_rows":299' err.txt || { cat err.txt; exit 1; }

# The key from a field of the value (--on EVENT_FIELD=TABLE_FIELD), selected fields,
# and a bad message that is skipped with a warning naming where it was.
printf '{"id":"a1","plan":"pro","owner":"x"}\nnot json\n{"id":"a2","plan":"free"}\n' |
  kcat_produce accounts
printf '{"account":"a2"}\n{"account":"a1"}\n{"account":"a3"}\n' > acc.jsonl
ev-enrich --table "kafka://$BROKERS/accounts" --on account=id --select plan --wait-ready \
  --missing reject --reject rej.jsonl acc.jsonl > acc.out 2> acc.err
cat > acc.want <<'W'
{"account":"a2","plan":"free"}
{"account":"a1","plan":"pro"}
W
diff acc.want acc.out
grep -q 'accounts\[0\]@1: table row skipped: invalid JSON' acc.err || { cat acc.err; exit 1; }
grep -q 'no row for account \\"a3\\"' rej.jsonl || { cat rej.jsonl; exit 1; }
