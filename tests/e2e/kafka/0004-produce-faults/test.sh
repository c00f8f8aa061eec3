set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
# 8 partitions (the mock keeps only ~5 MB of each), 3 brokers for leader moves.
start_broker --brokers 3 --topic ev:8
ev-gen --count 100000 --seed 21 --users 5000 > in.jsonl
# Retriable errors for the first produce requests: retried, never duplicated.
broker_cmd errors Produce 6 NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT NOT_ENOUGH_REPLICAS \
  _TRANSPORT LEADER_NOT_AVAILABLE REQUEST_TIMED_OUT
# About 4 s of producing at 25k events/s, with faults injected while it runs.
ev-ingest --rate 25000/s in.jsonl |
  ev-emit -o "kafka://$BROKERS/ev?key=user_id" --stats 2> emit.err &
emit=$!
sleep 1
broker_cmd leader ev 0 2
broker_cmd leader ev 1 3
broker_cmd errors Produce 3 REQUEST_TIMED_OUT _TRANSPORT NOT_LEADER_FOR_PARTITION
sleep 0.7
broker_cmd broker-down 3
sleep 0.7
broker_cmd broker-up 3
broker_cmd leader ev 0 1
broker_cmd rtt 2 300
sleep 0.5
broker_cmd rtt 2 0
wait "$emit" || { echo "ev-emit failed:"; cat emit.err; exit 1; }
grep -q '"kafka_produced":100000,"kafka_delivered":100000,"kafka_failed":0' emit.err ||
  { cat emit.err; exit 1; }
kcat_consume ev > out.jsonl
# Every event exactly once, byte for byte.
[ "$(wc -l < out.jsonl)" -eq 100000 ] || { echo "read $(wc -l < out.jsonl) of 100000"; exit 1; }
cmp <(sort in.jsonl) <(sort out.jsonl) || { echo "events differ (lost or repeated)"; exit 1; }
