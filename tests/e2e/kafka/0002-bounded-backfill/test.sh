set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
start_broker --topic ev:3
# 3000 events, 10 ms apart from 2024-01-01T00:00:00Z: 30 s of event time.
ev-gen --count 3000 --seed 3 > in.jsonl
ev-emit -o "kafka://$BROKERS/ev?key=user_id" in.jsonl
t1=2024-01-01T00:00:10Z t2=2024-01-01T00:00:20Z
# The reference, by event time (the message timestamps are the event times).
python3 - "$t1" "$t2" <<'PY'
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00"))
t1, t2 = t(sys.argv[1]), t(sys.argv[2])
with open("in.jsonl") as f, open("from.ref", "w") as a, open("between.ref", "w") as b:
    for line in f:
        ts = t(json.loads(line)["ts"])
        if ts >= t1: a.write(line)
        if t1 <= ts < t2: b.write(line)
PY
timeout 30 ev-ingest "kafka://$BROKERS/ev?from=$t1&until=end" > from.out
cmp <(sort from.ref) <(sort from.out) || { echo "from=$t1&until=end: wrong range"; exit 1; }
timeout 30 ev-ingest "kafka://$BROKERS/ev?from=$t1&until=$t2" > between.out
cmp <(sort between.ref) <(sort between.out) || { echo "from=$t1&until=$t2: wrong range"; exit 1; }
# Events produced after the read began are not part of a bounded read: the end is
# taken when the partitions are assigned.
ev-gen --count 100 --seed 4 --start 2024-01-01T01:00:00Z > more.jsonl
ev-emit -o "kafka://$BROKERS/ev?key=user_id" more.jsonl
timeout 30 ev-ingest "kafka://$BROKERS/ev?until=end" > all.out
[ "$(wc -l < all.out)" -eq 3100 ] || { echo "until=end read $(wc -l < all.out) of 3100"; exit 1; }
# Explicit offsets: partition 1 from offset 5 on.
n1=$(timeout 30 ev-ingest "kafka://$BROKERS/ev?partition=1&until=end" | wc -l)
n=$(timeout 30 ev-ingest "kafka://$BROKERS/ev?from=1:5&until=end" | wc -l)
[ "$n" -eq $((n1 - 5)) ] || { echo "from=1:5 read $n, partition 1 has $n1"; exit 1; }
# An empty range ends at once.
[ "$(timeout 30 ev-ingest "kafka://$BROKERS/ev?from=2030-01-01T00:00:00Z&until=end" | wc -l)" -eq 0 ]
# With Kafka input a file output is appended to (offsets are committed once lines are
# in it), by ev-emit's own sink and by the runner's alike; no NAME.partial is left.
for prog in ev-emit ev-ingest; do
  timeout 30 $prog "kafka://$BROKERS/ev?partition=1&until=end" -o "$prog.jsonl"
  timeout 30 $prog "kafka://$BROKERS/ev?partition=1&until=end" -o "$prog.jsonl"
  [ "$(wc -l < "$prog.jsonl")" -eq $((2 * n1)) ] || { echo "$prog -o FILE did not append"; exit 1; }
  [ ! -e "$prog.jsonl.partial" ] || { echo "$prog left $prog.jsonl.partial"; exit 1; }
done
