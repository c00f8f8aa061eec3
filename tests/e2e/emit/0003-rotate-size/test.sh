set -eu
ev-gen --count 1000 > in.jsonl
ev-emit -o 'out/part-{seq}.jsonl.zst' --rotate-size 20K in.jsonl
n=$(ls out | wc -l)
[ "$n" -ge 10 ] || { echo "only $n files"; ls out; exit 1; }
! ls out | grep -q partial
for f in out/*.zst; do zstd -dc "$f" | tail -c 1 | od -An -c | grep -q '\\n'; done
zstd -dc out/*.zst | cmp - in.jsonl
