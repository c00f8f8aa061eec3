set -eu
. "$SRC/tests/e2e/restart-lib.sh"
make_data
run_interrupted KILL ev-dedupe --key event_id --within 1h --state s.state \
  --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 137 ] || { echo "run 1 exit $status1, expected 137"; exit 1; }
drop_partial_line out1.jsonl
ev-dedupe --key event_id --within 1h --state s.state in.jsonl > out2.jsonl 2> err2.txt
grep -q 'in.jsonl: resuming after line [0-9]* (checkpoint in s.state)' err2.txt ||
  { echo "no resume note:"; cat err2.txt; exit 1; }
k=$(wc -l < out1.jsonl)
j=$(first_index out2.jsonl)
[ -n "$j" ] && [ "$j" -gt 1 ] || { echo "run 2 did not start after a checkpoint (j=$j)"; exit 1; }
# Run 1 wrote a prefix of the reference; run 2 wrote the rest from line j on.
cmp out1.jsonl <(head -n "$k" ref.jsonl) || { echo "run 1 is not a prefix of the reference"; exit 1; }
cmp out2.jsonl <(tail -n "+$j" ref.jsonl) || { echo "run 2 is not the rest of the reference"; exit 1; }
# Nothing lost: run 2 starts at or before the line after run 1's last.
[ "$j" -le $((k + 1)) ] || { echo "lost lines $((k + 1))..$((j - 1))"; exit 1; }
# The documented window: what run 1 wrote after its last checkpoint is written again
# (at-least-once); nothing from before that checkpoint is.
echo "run 1 wrote $k events; run 2 resumed at reference line $j; $((k - j + 1)) events written by both (after the last checkpoint)" >&2
