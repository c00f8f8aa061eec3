mkfifo pipe
ev-ingest pipe > out.jsonl &
pid=$!
exec 3>pipe
printf '{"a":1}\n{"a":2}\n' >&3
for i in $(seq 50); do [ "$(wc -l < out.jsonl)" -ge 2 ] && break; sleep 0.1; done
kill -TERM $pid
wait $pid
status=$?
exec 3>&-
[ $status -eq 143 ] || { echo "exit status $status, want 143"; exit 1; }
[ "$(cat out.jsonl)" = '{"a":1}
{"a":2}' ] || { echo "output:"; cat out.jsonl; exit 1; }
