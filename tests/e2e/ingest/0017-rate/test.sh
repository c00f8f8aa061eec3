ev-gen --count 11 > in.jsonl
start=$(date +%s%N)
ev-ingest --rate 20/s in.jsonl > out.jsonl
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
cmp in.jsonl out.jsonl || exit 1
[ $ms -ge 490 ] || { echo "took ${ms} ms, want >= 500"; exit 1; }
