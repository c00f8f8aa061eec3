# --emit update writes a result per event, so the output is as long as the input and a
# slow reader (restart-lib.sh) keeps the run going until the kill; and a count that
# was lost or doubled at the checkpoint shows in every later result of its group.
set -eu
. "$SRC/tests/e2e/restart-lib.sh"
W=(--tumble 1m --by user_id --max-delay 1m --agg 'count, sum(amount)' --emit update)
ev-gen --count 150000 --users 500 --late 0.05 --max-late 30s --seed 5 > in.jsonl
ev-window "${W[@]}" in.jsonl > ref.jsonl

run_interrupted KILL ev-window "${W[@]}" --state s.state --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 137 ] || { echo "run 1 exit $status1, expected 137"; exit 1; }
drop_partial_line out1.jsonl

ev-window "${W[@]}" --state s.state in.jsonl > out2.jsonl 2> err2.txt
grep -q '^ev-window: note: in.jsonl: resuming after line [0-9]* (checkpoint in s.state)$' err2.txt ||
  { echo "no resume note:"; cat err2.txt; exit 1; }
k=$(wc -l < out1.jsonl)
j=$(first_index out2.jsonl)
[ -n "$j" ] && [ "$j" -gt 1 ] || { echo "run 2 did not start after a checkpoint (j=$j)"; exit 1; }
# Run 1 wrote a prefix of the reference; run 2 wrote the rest from line j on, so the
# runs together, without what run 1 wrote after its last checkpoint, are the reference.
cmp out1.jsonl <(head -n "$k" ref.jsonl) || { echo "run 1 is not a prefix of the reference"; exit 1; }
cmp out2.jsonl <(tail -n "+$j" ref.jsonl) || {
  echo "run 2 is not the rest of the reference (from line $j):"
  diff <(tail -n "+$j" ref.jsonl) out2.jsonl | head -n 6
  exit 1
}
[ "$j" -le $((k + 1)) ] || { echo "lost lines $((k + 1))..$((j - 1))"; exit 1; }
# Open windows continued: run 2 updated groups that had results before the checkpoint.
continued=$(awk -F'"' -v j="$j" 'NR == FNR { if (FNR < j) seen[$4 " " $12] = 1; next }
  ($4 " " $12) in seen { n++ } END { print n + 0 }' ref.jsonl out2.jsonl)
[ "$continued" -gt 100 ] || { echo "run 2 continued only $continued results of open windows"; exit 1; }
echo "run 1 wrote $k results; run 2 resumed at reference line $j; $((k - j + 1)) written by both (after the last checkpoint)" >&2
