# Shared by the restart cases of the stateful programs (ev-dedupe, ev-window): data, a
# reference, a slow reader, and a run interrupted by a signal once it has checkpointed.
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

# interrupt SIGNAL PID [DELAY]: once s.state exists and DELAY (default 1) more seconds
# have passed, sends SIGNAL to PID (a run writing its stderr to err1.txt) and waits for
# it. Sets status1.
interrupt() {
  local signal=$1 pid=$2 delay=${3:-1}
  for _ in $(seq 200); do [ -s s.state ] && break; sleep 0.05; done
  [ -s s.state ] || { echo "no checkpoint appeared"; cat err1.txt; exit 1; }
  sleep "$delay"
  kill -0 "$pid" 2>/dev/null || { echo "the run ended before the signal"; exit 1; }
  kill "-$signal" "$pid"
  status1=0
  wait "$pid" || status1=$?
}

# run_interrupted SIGNAL COMMAND...: COMMAND (with --state s.state) into out1.jsonl
# through the slow reader, interrupted by SIGNAL. Sets status1.
run_interrupted() {
  local signal=$1
  shift
  rm -f p && mkfifo p
  slow_reader < p > out1.jsonl &
  local reader=$!
  "$@" > p 2> err1.txt &
  interrupt "$signal" $!
  wait "$reader"
}

# drop_partial_line FILE: a write cut by kill -9 may leave a partial last line.
drop_partial_line() {
  if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
    sed -i '$d' "$1"
  fi
}

# first_index FILE: the line number in ref.jsonl of FILE's first line.
first_index() {
  grep -nxF -m1 -f <(head -n 1 "$1") ref.jsonl | cut -d: -f1
}
