set -eu
{ ev-gen --count 5 --seed 1; sleep 2; ev-gen --count 5 --seed 2; } | ev-emit -o 'out/t-%Y-{seq}.jsonl' --rotate-every 1s
n=$(ls out | wc -l)
[ "$n" -eq 2 ] || { echo "want 2 files, got $n"; ls out; exit 1; }
year=$(date -u +%Y)
ls out | grep -q "t-$year-000000.jsonl"
[ "$(cat out/*.jsonl | wc -l)" -eq 10 ]
