# The input is a named pipe fed by the slow reader of restart-lib.sh (so the run is
# mid-file when the signal comes), and fed again whole for the restart, which skips
# the lines run 1 read. Default --emit final: results only for closed windows.
set -eu
. "$SRC/tests/e2e/restart-lib.sh"
W=(--tumble 1m --by user_id --max-delay 1m --agg 'count, sum(amount) as revenue, max(amount)')
ev-gen --count 80000 --users 500 --late 0.05 --max-late 30s --seed 8 > data.jsonl
ev-window "${W[@]}" data.jsonl > ref.jsonl

rm -f in.jsonl && mkfifo in.jsonl
slow_reader < data.jsonl > in.jsonl 2> /dev/null &
writer=$!
ev-window "${W[@]}" --state s.state --checkpoint-every 200ms in.jsonl > out1.jsonl 2> err1.txt &
interrupt TERM $! 0.5
wait "$writer" || true  # the slow reader meets a closed pipe
[ "$status1" -eq 143 ] || { echo "run 1 exit $status1, expected 143"; cat err1.txt; exit 1; }
fail=0
# The signal came while a line was half read: that line is not a bad event, it is for
# the next run.
[ ! -s err1.txt ] || { echo "run 1 complained:"; cat err1.txt; fail=1; }

cat data.jsonl > in.jsonl &
writer=$!
ev-window "${W[@]}" --state s.state in.jsonl > out2.jsonl 2> err2.txt || { cat err2.txt; kill "$writer"; exit 1; }
wait "$writer"
n=$(sed -n 's/^ev-window: note: in.jsonl: resuming after line \([0-9]*\) (checkpoint in s.state)$/\1/p' err2.txt)
[ -n "$n" ] || { echo "no resume note:"; cat err2.txt; exit 1; }
[ -s out1.jsonl ] && [ -s out2.jsonl ] || { echo "the signal did not come mid-file (line $n)"; exit 1; }
cat out1.jsonl out2.jsonl | cmp - ref.jsonl || {
  echo "run 1 + run 2 differ from the reference:"
  diff ref.jsonl <(cat out1.jsonl out2.jsonl) | head -n 6
  fail=1
}
# The window of the last event run 1 read was open at the stop: its results are all
# run 2's, and they count run 1's events too (the reference says so).
last=$(sed -n "${n}p" data.jsonl | sed 's/.*"ts":"\([^"]*:\)[0-9.]*Z".*/\100.000Z/')
! grep -q "\"window_start\":\"$last\"" out1.jsonl && grep -q "\"window_start\":\"$last\"" out2.jsonl ||
  { echo "the window $last of line $n was not continued by run 2"; fail=1; }

# A third run over the same input: it was read to its end, so it is skipped unopened.
timeout 10 ev-window "${W[@]}" --state s.state in.jsonl > out3.jsonl 2> err3.txt
[ ! -s out3.jsonl ] && grep -qx 'ev-window: note: in.jsonl: read to its end before the checkpoint in s.state; skipping it' err3.txt ||
  { echo "third run:"; cat err3.txt out3.jsonl; fail=1; }
echo "run 1 stopped after line $n with $(wc -l < out1.jsonl) results; run 2 wrote $(wc -l < out2.jsonl)" >&2
exit $fail
