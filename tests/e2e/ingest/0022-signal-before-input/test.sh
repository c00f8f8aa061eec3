mkfifo pipe
exec 3<>pipe
ev-ingest < pipe > out.jsonl &
pid=$!
sleep 0.5
start=$(date +%s%N)
kill -TERM $pid
wait $pid
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
exec 3>&-
[ $status -eq 143 ] || { echo "exit status $status, want 143"; exit 1; }
[ $ms -lt 2000 ] || { echo "took ${ms} ms to stop"; exit 1; }
