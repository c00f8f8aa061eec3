set -u
touch app.log
ev-ingest --follow app.log > out.jsonl 2>err.txt &
pid=$!
wait_lines() { for i in $(seq 100); do [ "$(wc -l < out.jsonl)" -ge "$1" ] && return 0; sleep 0.1; done; echo "timeout waiting for $1 lines"; cat out.jsonl; return 1; }
echo '{"n":1}' >> app.log
wait_lines 1 || exit 1
printf '{"n":2}\n{"n":3}' >> app.log      # the partial last line waits for its newline
wait_lines 2 || exit 1
printf '\n' >> app.log
wait_lines 3 || exit 1
mv app.log app.log.1 && echo '{"n":4}' >> app.log.1   # written to the old file after rotation
echo '{"n":5}' > app.log                             # the new file
wait_lines 5 || exit 1
: > app.log                                          # truncated in place
sleep 0.3
echo '{"n":6}' >> app.log
wait_lines 6 || exit 1
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 0 ] || { echo "exit status $status, want 0"; exit 1; }
want='{"n":1}
{"n":2}
{"n":3}
{"n":4}
{"n":5}
{"n":6}'
[ "$(cat out.jsonl)" = "$want" ] || { echo "got:"; cat out.jsonl; exit 1; }
[ ! -s err.txt ] || { cat err.txt; exit 1; }
