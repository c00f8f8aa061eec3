set -u
{ ev-gen --count 5; sleep 4; } | ev-emit -o 'out/t-{seq}.jsonl' --rotate-every 1s &
pid=$!
for i in $(seq 30); do [ -e out/t-000000.jsonl ] && break; sleep 0.1; done
[ -e out/t-000000.jsonl ] || { echo "file not finished while input was quiet"; ls out; kill $pid; exit 1; }
[ "$(wc -l < out/t-000000.jsonl)" -eq 5 ] || exit 1
wait $pid
