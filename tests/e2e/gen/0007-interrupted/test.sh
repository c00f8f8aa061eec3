ev-gen --count 100000000 --rate 1000/s > /dev/null &
pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; s=$?
[ $s -eq 143 ] || { echo "bounded: status $s, want 143"; exit 1; }
ev-gen --count 0 --rate 1000/s > /dev/null &
pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; s=$?
[ $s -eq 0 ] || { echo "unbounded: status $s, want 0"; exit 1; }
