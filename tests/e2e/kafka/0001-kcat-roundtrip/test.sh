set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
start_broker --brokers 3 --topic in:4 --topic out:4
ev-gen --count 5000 --seed 11 --users 300 > in.jsonl
kcat_produce in -l in.jsonl
# Kafka in, a pipe, Kafka out: both ends bounded by what is there now.
ev-ingest "kafka://$BROKERS/in?until=end" --stats 2> ingest.err |
  ev-emit -o "kafka://$BROKERS/out?key=user_id" --stats 2> emit.err
grep -q '"in":5000,"out":5000' ingest.err || { cat ingest.err; exit 1; }
grep -q '"kafka_delivered":5000,"kafka_failed":0' emit.err || { cat emit.err; exit 1; }
kcat_consume out > out.jsonl
# Byte for byte the same events (order across partitions is not defined).
cmp <(sort in.jsonl) <(sort out.jsonl) || { echo "events differ"; exit 1; }
# Each message's key is its user_id, and a key lives on one partition.
kcat_consume out -f '%k\t%p\t%s\n' > keyed.tsv
awk -F'\t' '{ split($3, a, "\"user_id\":\""); split(a[2], b, "\""); if (b[1] != $1) bad++;
              if (($1 in p) && p[$1] != $2) moved++; p[$1] = $2 }
            END { if (bad || moved) { print "bad keys " bad+0 ", keys on two partitions " moved+0; exit 1 } }' keyed.tsv
# The partition of a key is the Java client's: (murmur2(key) & 0x7fffffff) % 4,
# computed here independently.
python3 - keyed.tsv <<'PY'
import sys
def murmur2(data):
    m, h = 0x5bd1e995, (0x9747b28c ^ len(data)) & 0xffffffff
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff; k ^= k >> 24; k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    rest = data[4 * n:]
    if len(rest) == 3: h ^= rest[2] << 16
    if len(rest) >= 2: h ^= rest[1] << 8
    if len(rest) >= 1: h ^= rest[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
assert murmur2(b"21") - (1 << 32) == -973932308  # Kafka's own test vector
bad = 0
for line in open(sys.argv[1], encoding="utf-8"):
    key, part, _ = line.split("\t", 2)
    if (murmur2(key.encode()) & 0x7fffffff) % 4 != int(part):
        bad += 1
if bad:
    sys.exit(f"{bad} messages not on the Java client's partition")
PY
# Message timestamps are the events' times.
kcat_consume out -f '%T\t%s\n' 2> /dev/null | head -n 50 | python3 -c '
import sys, json, datetime
for line in sys.stdin:
    ms, ev = line.split("\t", 1)
    ts = datetime.datetime.fromisoformat(json.loads(ev)["ts"].replace("Z", "+00:00"))
    if int(ms) != int(ts.timestamp() * 1000):
        sys.exit(f"timestamp {ms} is not the event time {ts}")
'
