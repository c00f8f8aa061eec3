set -eu
. "$SRC/tests/e2e/restart-lib.sh"
make_data
run_interrupted TERM ev-dedupe --key event_id --within 1h --state s.state \
  --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 143 ] || { echo "run 1 exit $status1, expected 143"; cat err1.txt; exit 1; }
ev-dedupe --key event_id --within 1h --state s.state in.jsonl > out2.jsonl 2> err2.txt
cat out1.jsonl out2.jsonl | cmp - ref.jsonl || { echo "run 1 + run 2 differ from the reference"; exit 1; }
[ -s out2.jsonl ] || { echo "run 1 read everything: the signal came too late"; exit 1; }
# A third run over the same file: it was read to its end, so it is skipped.
ev-dedupe --key event_id --within 1h --state s.state in.jsonl > out3.jsonl 2> err3.txt
[ ! -s out3.jsonl ] && grep -q 'in.jsonl: read to its end before the checkpoint in s.state; skipping it' err3.txt
