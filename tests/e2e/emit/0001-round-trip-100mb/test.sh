set -eu
{ echo '{"$ev":"barrier","id":1}'; ev-gen --count 180000 --seed 5; echo '{"$ev":"barrier","id":2}'; ev-gen --count 180000 --seed 6 | head -c -1; } > in.jsonl
size=$(stat -c %s in.jsonl)
[ "$size" -gt 95000000 ] || { echo "input only $size bytes"; exit 1; }
[ "$(tail -c 1 in.jsonl | od -An -c | tr -d ' ')" = '}' ] || { echo "input should end without newline"; exit 1; }
cat in.jsonl | ev-ingest | ev-emit -o out.jsonl.zst
zstd -dc out.jsonl.zst | cmp - in.jsonl
[ ! -e out.jsonl.zst.partial ]
