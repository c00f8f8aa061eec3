set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
start_broker --topic bad:1
pad=$(head -c 2000 /dev/zero | tr '\0' x)
# Messages separated by '#' (offsets 0..5), then with keys: a tombstone (a null value,
# offset 6) and one more event (7).
printf '{"n":1}#{"n":2,#{"n":3}\n{"n":4}#{"n":5}\nnot json#{"pad":"%s"}#{"n":6}' "$pad" |
  kcat_produce bad -D '#'
printf 'k:\nk:{"n":7}\n' | kcat_produce bad -K : -Z
uri="kafka://$BROKERS/bad?until=end"
ev-ingest "$uri" --max-line 1K --reject rej.jsonl > out.jsonl 2> err.txt
[ ! -s err.txt ] || { echo "unexpected stderr:"; cat err.txt; exit 1; }
printf '{"n":1}\n{"n":3}\n{"n":4}\n{"n":5}\n{"n":6}\n{"n":7}\n' | cmp - out.jsonl ||
  { echo "good events:"; cat out.jsonl; exit 1; }
# One envelope per bad message or line, in order, with where it came from.
python3 - "$uri" <<'PY'
import json, sys
uri = sys.argv[1]
got = [json.loads(l) for l in open("rej.jsonl")]
want = [(1, "not a JSON object", None), (3, "not a JSON object", 2),
        (4, "line too long: 2010 bytes (--max-line 1024)", None),
        (6, "empty message (null value)", None)]
assert len(got) == len(want), got
for g, (offset, error, line) in zip(got, want):
    assert g["program"] == "ev-ingest" and g["source"] == uri, g
    assert (g["topic"], g["partition"], g["offset"]) == ("bad", 0, offset), g
    assert g["error"] == error, g
    assert g.get("line") == line, g
assert got[0]["raw"] == '{"n":2,'
assert got[1]["raw"] == "not json"
assert got[3]["raw"] == ""
assert got[2]["raw_truncated"] is True and got[2]["length"] == 2010
PY
# skip: warnings name topic[partition]@offset (and #line within a message).
ev-ingest "$uri" --max-line 1K --on-error skip > /dev/null 2> err.txt
grep -q 'bad\[0\]@1: not a JSON object (skipped)' err.txt || { cat err.txt; exit 1; }
grep -q 'bad\[0\]@3#2: not a JSON object (skipped)' err.txt || { cat err.txt; exit 1; }
grep -q 'bad\[0\]@6: empty message (null value) (skipped)' err.txt || { cat err.txt; exit 1; }
# fail: exit 1 at the first one, naming it.
set +e
ev-ingest "$uri" --on-error fail > /dev/null 2> err.txt
status=$?
set -e
[ "$status" -eq 1 ] || { echo "--on-error fail: exit $status"; cat err.txt; exit 1; }
grep -q 'bad\[0\]@1: not a JSON object' err.txt || { cat err.txt; exit 1; }
# --meta stamps where each event came from.
ev-ingest "$uri" --meta --on-error skip 2> /dev/null | head -n 1 > meta.jsonl
python3 -c '
import json
e = json.loads(open("meta.jsonl").read())
k = e["_kafka"]
assert (k["topic"], k["partition"], k["offset"], k["key"]) == ("bad", 0, 0, None), k
assert isinstance(k["ts"], int) and k["ts"] > 0, k
'
