set -eu
ev-gen --count 100000 --seed 3 --duplicates 0.05 --late 0.05 --max-late 30s > g.jsonl
[ "$(wc -l < g.jsonl)" -eq 100000 ]
dups=$(sort g.jsonl | uniq -d -c | awk '{s += $1 - 1} END {print s}')
awk -v d="$dups" 'BEGIN { if (d < 4500 || d > 5500) { print "duplicates: " d; exit 1 } }'
# every duplicate repeats an event_id seen before; distinct event_ids = lines - duplicates
ids=$(jq -r .event_id g.jsonl | sort -u | wc -l)
[ "$ids" -eq $((100000 - dups)) ] || { echo "ids $ids, dups $dups"; exit 1; }
# lateness: ts never more than 30s behind the running maximum
jq -r .ts g.jsonl | awk '{ if ($0 > max) max = $0; else late++ } END { if (late < 3000) { print "late " late; exit 1 } }'
python3 - <<'EOF'
import json, datetime
mx = None; worst = 0; seen = set()
for line in open('g.jsonl'):
    if line in seen:  # a duplicate repeats an older event, ts and all
        continue
    seen.add(line)
    t = datetime.datetime.fromisoformat(json.loads(line)['ts'].replace('Z', '+00:00')).timestamp()
    mx = t if mx is None or t > mx else mx
    worst = max(worst, mx - t)
assert worst <= 30.0, worst
