set -eu
. "$SRC/tests/e2e/stream-lib.sh"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_redis() {
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$PWD" \
    --dbfilename dump.rdb --daemonize no > redis.log 2>&1 3>&- &
  redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start"; cat redis.log; exit 1
}
pids=""
trap 'kill $pids ${redis_pid:-} 2>/dev/null || true' EXIT
start_redis
{
  for i in $(seq 1 500); do echo "HSET user:u$i tier t$((i % 4)) n $i"; done
  echo 'SET prod:A "{\"cat\":\"shoes\",\"price\":9.50,\"tags\":[1,2]}"'
  echo 'SET prod:B notjson'
} | redis-cli -p "$port" > /dev/null

# JSON values, selected members, a bad value rejected, a missing key kept.
printf '{"sku":"A"}\n{"sku":"B"}\n{"sku":"C"}\n' > skus.jsonl
ev-enrich --table "redis://127.0.0.1:$port?key=prod:{sku}&value=json" --select price,cat \
  --into product --reject rej.jsonl --stats skus.jsonl > skus.out 2> skus.err
printf '%s\n' '{"sku":"A","product":{"price":9.50,"cat":"shoes"}}' '{"sku":"C"}' > skus.want
diff skus.want skus.out
grep -q 'table redis: ' rej.jsonl || { cat rej.jsonl; exit 1; }
grep -q '"redis_lookups":3,"redis_round_trips":1' skus.err || { cat skus.err; exit 1; }

# A stream through a restart: events sent while the server is down wait for it.
mkfifo events
ev-enrich --table "redis://127.0.0.1:$port?key=user:{user_id}" --cache-ttl 0 \
  --retry-for 30s --stats events > out.jsonl 2> err.txt &
pid=$!
pids="$pid"
exec 3> events
for i in $(seq 1 500); do echo "{\"seq\":$i,\"user_id\":\"u$i\"}"; done >&3
wait_for out.jsonl '"seq":500,'
redis-cli -p "$port" shutdown save > /dev/null || true
wait "$redis_pid" 2>/dev/null || true
for i in $(seq 501 600); do echo "{\"seq\":$i,\"user_id\":\"u$((i - 500))\"}"; done >&3
wait_for err.txt 'connection'
sleep 0.5
start_redis
for i in $(seq 601 700); do echo "{\"seq\":$i,\"user_id\":\"u$((i - 600))\"}"; done >&3
exec 3>&-
wait $pid
python3 - out.jsonl <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == list(range(1, 701)), "events lost or reordered"
for r in rows:
    i = int(r["user_id"][1:])
    assert r.get("tier") == f"t{i % 4}" and r.get("n") == str(i), r
PY
grep -q '"redis_reconnects":[1-9]' err.txt || { cat err.txt; exit 1; }

# A server that stays down: after --retry-for the events follow --on-error.
redis-cli -p "$port" shutdown nosave > /dev/null || true
wait "$redis_pid" 2>/dev/null || true
printf '{"user_id":"u1"}\n{"user_id":"u2"}\n' > two.jsonl
start=$(date +%s)
ev-enrich --table "redis://127.0.0.1:$port?key=user:{user_id}" --retry-for 1s \
  --reject down.jsonl --stats two.jsonl > down.out 2> down.err
[ $(( $(date +%s) - start )) -lt 10 ] || { echo "waited too long"; exit 1; }
[ ! -s down.out ]
[ "$(wc -l < down.jsonl)" = 2 ] || { cat down.jsonl; exit 1; }
grep -q "redis://127.0.0.1:$port" down.err || { cat down.err; exit 1; }
set +e
ev-enrich --table "redis://127.0.0.1:$port?key=user:{user_id}" --retry-for 1s \
  --on-error fail two.jsonl > fail.out 2> fail.err
status=$?
set -e
[ "$status" = 3 ] || { echo "exit $status"; cat fail.err; exit 1; }
grep -q "ev-enrich: error: .*redis://127.0.0.1:$port" fail.err || { cat fail.err; exit 1; }
