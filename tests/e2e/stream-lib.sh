# Shared by the end-to-end cases that feed a running program through a FIFO and
# watch what it writes. Sourced by test.sh; not a case itself. Every wait is bounded.
#
#   wait_for FILE PATTERN   until FILE holds a line matching the grep PATTERN (at most
#                           ${WAIT_FOR_TIMEOUT:-15} s); else prints the end of FILE and
#                           of err.txt (if any) and fails the test.

wait_for() {
  local file=$1 pattern=$2 i
  for ((i = 0; i < ${WAIT_FOR_TIMEOUT:-15} * 20; i++)); do
    grep -q -- "$pattern" "$file" 2> /dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for $pattern in $file"
  tail -n 5 "$file" 2> /dev/null
  [ -f err.txt ] && tail -n 5 err.txt
  exit 1
}
