set -eu
. "$SRC/tests/e2e/kafka-lib.sh"
start_broker --brokers 1 --topic ev:2
ev-gen --count 1000 --seed 61 > in.jsonl
ev-emit -o "kafka://$BROKERS/ev" in.jsonl
# expect STATUS TEXT COMMAND...: COMMAND exits STATUS within 30 s and says TEXT on stderr.
expect() {
  local want=$1 text=$2 status=0
  shift 2
  timeout 30 "$@" > out.txt 2> err.txt < /dev/null || status=$?
  if [ "$status" -ne "$want" ] || ! grep -qF -- "$text" err.txt; then
    echo "$*: exit $status (want $want), stderr:"; cat err.txt; echo "(wanted: $text)"; exit 1
  fi
}
b=$BROKERS
# Usage: exit 2.
expect 2 "unknown parameter 'colour'" ev-ingest "kafka://$b/ev?colour=red"
expect 2 "from=committed needs group=" ev-ingest "kafka://$b/ev?from=committed"
expect 2 "a Kafka input is read alone" ev-ingest "kafka://$b/ev" in.jsonl
expect 2 "--follow is for files" ev-ingest -f "kafka://$b/ev"
expect 2 "an output names exactly one topic" ev-emit -o "kafka://$b/a,b" in.jsonl
expect 2 "group=, from= and until= are for inputs" ev-emit -o "kafka://$b/a?group=g" in.jsonl
expect 2 "key= is for outputs" ev-ingest "kafka://$b/ev?key=user_id&until=end"
expect 2 "--exactly-once needs a Kafka input and a Kafka output" \
  ev-ingest --exactly-once "kafka://$b/ev?group=g"
expect 2 "--exactly-once needs group= on the input" \
  ev-ingest --exactly-once "kafka://$b/ev" -o "kafka://$b/out"
expect 2 "--exactly-once: this program keeps events or state" \
  ev-window --by user_id --tumble 1m --exactly-once "kafka://$b/ev?group=g" -o "kafka://$b/out"
expect 2 "not key=value" ev-ingest -X linger.ms "kafka://$b/ev"
expect 2 "Kafka setting no.such.thing=1" ev-ingest -X no.such.thing=1 "kafka://$b/ev?until=end"
expect 2 "cannot read missing.conf" ev-ingest --kafka-config missing.conf "kafka://$b/ev"
expect 2 "no brokers" env -u EV_KAFKA_BROKERS ev-ingest "kafka:///ev"
expect 2 "--rotate-size/--rotate-every are for files" ev-emit -o "kafka://$b/x" --rotate-size 1M in.jsonl
# EV_KAFKA_BROKERS fills in the host list.
[ "$(EV_KAFKA_BROKERS=$b timeout 30 ev-ingest 'kafka:///ev?until=end' | wc -l)" -eq 1000 ]
# A --kafka-config file, with -X winning over it.
printf '# for ev\nclient.id=from-file\nno.such.thing=1\n' > k.conf
expect 2 "no.such.thing" ev-ingest --kafka-config k.conf "kafka://$b/ev?until=end"
# Runtime failures: exit 3, with a message, bounded.
expect 3 "not delivered to x[" ev-emit -o "kafka://127.0.0.1:1/x" -X message.timeout.ms=1500 in.jsonl
expect 3 "cannot read the metadata of ev" ev-ingest -X socket.timeout.ms=2000 \
  "kafka://127.0.0.1:1/ev?until=end"
# (A missing topic cannot be shown here: the mock cluster creates any topic asked for.)
expect 3 "has no partition 9" ev-ingest "kafka://$b/ev?partition=9&until=end"
# A closed pipe downstream: a quiet end, exit 0.
status=0
timeout 30 ev-ingest "kafka://$b/ev?until=end" 2> err.txt | head -n 1 > /dev/null || status=$?
[ "$status" -eq 0 ] && [ ! -s err.txt ] || { echo "closed pipe: exit $status"; cat err.txt; exit 1; }
# A bounded read stopped by SIGTERM is interrupted (128+15); an unbounded one drains
# (exit 0, tested with a consumer group in 0005).
ev-ingest --rate 100/s "kafka://$b/ev?until=end" > /dev/null 2> err.txt &
pid=$!
sleep 1
kill -TERM $pid
status=0
wait $pid || status=$?
[ "$status" -eq 143 ] || { echo "SIGTERM on a bounded read: exit $status"; exit 1; }
ev-ingest "kafka://$b/ev" > /dev/null 2> err.txt &
pid=$!
sleep 1
kill -TERM $pid
status=0
wait $pid || status=$?
[ "$status" -eq 0 ] || { echo "SIGTERM on an unbounded read: exit $status"; cat err.txt; exit 1; }
