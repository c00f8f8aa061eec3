set -eu
. "$SRC/tests/e2e/restart-lib.sh"
# 200,000 events of 300 users (z-scores for most of them) with 2% late ones, and
# the reference: one uninterrupted run. Every line is distinct (event_id).
ev-gen --count 200000 --seed 5 --users 300 --interval 100ms --late 0.02 > in.jsonl
opts=(--set 'v = coalesce(amount, len(page))' --zscore v --by user_id --half-life 5m --warmup 3)
ev-score "${opts[@]}" in.jsonl > ref.jsonl
scored=$(grep -c '"v_z":[-0-9]' ref.jsonl)
[ "$scored" -gt 150000 ] || { echo "only $scored z-scores in the reference"; exit 1; }

# kill -9: run 2 resumes after the last checkpoint of run 1.
run_interrupted KILL ev-score "${opts[@]}" --state s.state --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 137 ] || { echo "run 1 exit $status1, expected 137"; cat err1.txt; exit 1; }
drop_partial_line out1.jsonl
ev-score "${opts[@]}" --state s.state in.jsonl > out2.jsonl 2> err2.txt
grep -q 'in.jsonl: resuming after line [0-9]* (checkpoint in s.state)' err2.txt ||
  { echo "no resume note:"; cat err2.txt; exit 1; }
k=$(wc -l < out1.jsonl)
j=$(first_index out2.jsonl)
[ -n "$j" ] && [ "$j" -gt 1 ] || { echo "run 2 did not start after a checkpoint (j=$j)"; exit 1; }
grep -q "resuming after line $((j - 1)) " err2.txt || { echo "run 2 starts at line $j:"; cat err2.txt; exit 1; }
cmp out1.jsonl <(head -n "$k" ref.jsonl) || { echo "run 1 is not a prefix of the reference"; exit 1; }
# The z-scores after the restart are those of the uninterrupted run: the statistics
# came back from the checkpoint as they were.
cmp out2.jsonl <(tail -n "+$j" ref.jsonl) || { echo "run 2 is not the rest of the reference"; exit 1; }
[ "$j" -le $((k + 1)) ] || { echo "lost lines $((k + 1))..$((j - 1))"; exit 1; }
echo "kill -9: run 1 wrote $k events; run 2 resumed at line $j" >&2

# SIGTERM: drains and snapshots; run 2 continues exactly where run 1 stopped.
rm -f s.state out1.jsonl out2.jsonl
run_interrupted TERM ev-score "${opts[@]}" --state s.state --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 143 ] || { echo "run 1 exit $status1, expected 143"; cat err1.txt; exit 1; }
ev-score "${opts[@]}" --state s.state in.jsonl > out2.jsonl 2> err2.txt
[ -s out2.jsonl ] || { echo "run 1 read everything: the signal came too late"; exit 1; }
cat out1.jsonl out2.jsonl | cmp - ref.jsonl || { echo "run 1 + run 2 differ from the reference"; exit 1; }
grep -q '"v_z":[-0-9]' out2.jsonl || { echo "no z-scores after the restart"; exit 1; }
