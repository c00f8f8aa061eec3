# Shared by the restart cases: data, a reference, and a run interrupted by a signal.
# Sourced by test.sh; not a case itself.

# 300,000 ev-gen events with 5% duplicates, and the reference output: the first line
# of each event_id (awk), which an uninterrupted ev-dedupe must equal.
make_data() {
  ev-gen --count 300000 --seed 5 --duplicates 0.05 > in.jsonl
  awk -F'"event_id":"' '{ split($2, a, "\""); if (!seen[a[1]]++) print }' in.jsonl > ref.jsonl
}

# A reader that drains a pipe at about 10 MB/s, so that a run is still going when a
# signal comes.
slow_reader() {
  /usr/bin/python3 -c '
import sys, time
src, dst = sys.stdin.buffer, sys.stdout.buffer
while True:
    chunk = src.read1(65536)
    if not chunk:
        break
    dst.write(chunk)
    dst.flush()
    time.sleep(0.006)
'
}

# run_interrupted SIGNAL: ev-dedupe with --state s.state into out1.jsonl through the
# slow reader; sends SIGNAL once the first checkpoint exists and a second has passed.
# Sets status1.
run_interrupted() {
  local signal=$1
  rm -f p && mkfifo p
  slow_reader < p > out1.jsonl &
  local reader=$!
  ev-dedupe --key event_id --within 1h --state s.state --checkpoint-every 200ms \
    in.jsonl > p 2> err1.txt &
  local pid=$!
  for _ in $(seq 200); do [ -s s.state ] && break; sleep 0.05; done
  [ -s s.state ] || { echo "no checkpoint appeared"; cat err1.txt; exit 1; }
  sleep 1
  kill -0 "$pid" 2>/dev/null || { echo "ev-dedupe ended before the signal"; exit 1; }
  kill "-$signal" "$pid"
  status1=0
  wait "$pid" || status1=$?
  wait "$reader"
}

# first_index FILE: the line number in ref.jsonl of FILE's first line.
first_index() {
  grep -nxF -m1 -f <(head -n 1 "$1") ref.jsonl | cut -d: -f1
}
