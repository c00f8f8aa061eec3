set -eu
. "$SRC/tests/e2e/stream-lib.sh"
for i in $(seq 1 1000); do echo "u$i,old,$i"; done | sed '1i user_id,tier,n' > users.csv
mkfifo events
ev-enrich --table users.csv --on user_id --reload-every 50ms --stats events \
  > out.jsonl 2> err.txt &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
exec 3> events
# A steady stream while the file is replaced (written aside, then renamed over).
sent=0
send() {  # COUNT
  for _ in $(seq "$1"); do
    sent=$((sent + 1))
    echo "{\"seq\":$sent,\"user_id\":\"u$(( (sent % 1000) + 1 ))\"}"
  done >&3
}
send 500
for i in $(seq 1 1000); do echo "u$i,new,$((i * 10))"; done | sed '1i user_id,tier,n' > users.next
mv users.next users.csv
for _ in $(seq 40); do send 50; sleep 0.02; done
wait_for err.txt 'reloaded users.csv: 1000 rows'
send 500
wait_for out.jsonl "\"seq\":$sent,"
# A broken replacement: the table stays, the reason is given.
printf 'user_id,tier,n\nu1,"broken\n' > users.next
mv users.next users.csv
wait_for err.txt 'reload failed'
send 500
exec 3>&-
wait $pid
grep -q 'keeping the previous table (1000 rows): users.csv:2: unterminated quoted field' err.txt ||
  { cat err.txt; exit 1; }
grep -q '"users_reloads":1,"users_reload_failures":1' err.txt || { cat err.txt; exit 1; }
python3 - out.jsonl "$sent" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sent = int(sys.argv[2])
assert [r["seq"] for r in rows] == list(range(1, sent + 1)), "events lost or reordered"
seen_new = False
for r in rows:
    i = int(r["user_id"][1:])
    if r["tier"] == "new":
        seen_new = True
        assert r["n"] == i * 10, r
    else:
        assert not seen_new, f"old row after the new table: {r}"
        assert r["tier"] == "old" and r["n"] == i, r
assert seen_new
# The last 1000 events came after the swap was reported.
assert all(r["tier"] == "new" for r in rows[-1000:])
PY
