set -eu
mkfifo pipe
ev-emit -o out.jsonl pipe &
pid=$!
exec 3>pipe
echo '{"a":1}' >&3
sleep 0.5
[ -e out.jsonl.partial ] && [ ! -e out.jsonl ] || { echo "expected only out.jsonl.partial"; ls; exit 1; }
exec 3>&-
wait $pid
[ -e out.jsonl ] && [ ! -e out.jsonl.partial ]
[ "$(cat out.jsonl)" = '{"a":1}' ]
