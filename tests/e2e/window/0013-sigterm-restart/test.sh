# As the kill -9 case: --emit update and the slow reader of restart-lib.sh keep the
# run going until the signal, and a count lost or doubled at the stop shows in every
# later result of its group.
set -eu
. "$SRC/tests/e2e/restart-lib.sh"
W=(--tumble 1m --by user_id --max-delay 1m --agg 'count, sum(amount) as revenue, max(amount)' --emit update)
ev-gen --count 150000 --users 500 --late 0.05 --max-late 30s --seed 8 > in.jsonl
ev-window "${W[@]}" in.jsonl > ref.jsonl

run_interrupted TERM ev-window "${W[@]}" --state s.state --checkpoint-every 200ms in.jsonl
[ "$status1" -eq 143 ] || { echo "run 1 exit $status1, expected 143"; cat err1.txt; exit 1; }
[ ! -s err1.txt ] || { echo "run 1 complained:"; cat err1.txt; exit 1; }

ev-window "${W[@]}" --state s.state in.jsonl > out2.jsonl 2> err2.txt
n=$(sed -n 's/^ev-window: note: in.jsonl: resuming after line \([0-9]*\) (checkpoint in s.state)$/\1/p' err2.txt)
[ -n "$n" ] || { echo "no resume note:"; cat err2.txt; exit 1; }
[ -s out2.jsonl ] || { echo "run 1 read everything: the signal came too late"; exit 1; }
cat out1.jsonl out2.jsonl | cmp - ref.jsonl || {
  echo "run 1 + run 2 differ from the reference:"
  diff ref.jsonl <(cat out1.jsonl out2.jsonl) | head -n 6
  exit 1
}
# Open windows continued: run 2 updated groups that run 1 had results for.
continued=$(awk -F'"' 'NR == FNR { seen[$4 " " $12] = 1; next }
  ($4 " " $12) in seen { n++ } END { print n + 0 }' out1.jsonl out2.jsonl)
[ "$continued" -gt 100 ] || { echo "run 2 continued only $continued results of open windows"; exit 1; }

# A third run over the same file: it was read to its end, so it is skipped.
ev-window "${W[@]}" --state s.state in.jsonl > out3.jsonl 2> err3.txt
[ ! -s out3.jsonl ] && grep -qx 'ev-window: note: in.jsonl: read to its end before the checkpoint in s.state; skipping it' err3.txt ||
  { echo "third run:"; cat err3.txt out3.jsonl; exit 1; }
echo "run 1 stopped after line $n with $(wc -l < out1.jsonl) results, $continued continued by run 2" >&2
