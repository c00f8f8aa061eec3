set -eu
ev-gen --count 200000 --seed 11 --duplicates 0.05 > in.jsonl
ev-dedupe --key event_id --stats in.jsonl > out.jsonl 2> stats.txt
# Reference 1 (awk): the first line of each event_id.
awk -F'"event_id":"' '{ split($2, a, "\""); if (!seen[a[1]]++) print }' in.jsonl > ref-awk.jsonl
# Reference 2 (sort): line number and event_id, the first line per id (sort -s keeps
# input order within an id), back in input order.
awk -F'"event_id":"' '{ split($2, a, "\""); print a[1] "\t" NR }' in.jsonl |
  sort -s -t "$(printf '\t')" -k1,1 -u | cut -f2 | sort -n > first-lines.txt
awk 'NR == FNR { keep[$1] = 1; next } FNR in keep' first-lines.txt in.jsonl > ref-sort.jsonl
cmp ref-awk.jsonl ref-sort.jsonl
cmp out.jsonl ref-awk.jsonl
dropped=$(( $(wc -l < in.jsonl) - $(wc -l < out.jsonl) ))
[ "$dropped" -gt 9000 ] || { echo "too few duplicates in the data: $dropped"; exit 1; }
jq -e --argjson d "$dropped" '.in == .out + .dropped + .rejected + .skipped
  and .dropped == $d and .duplicates == $d and .evicted == 0' stats.txt > /dev/null ||
  { echo "stats do not add up:"; cat stats.txt; exit 1; }
