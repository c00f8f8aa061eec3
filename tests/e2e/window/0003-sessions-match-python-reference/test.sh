# The reference reads the same lines with Python's json module: per user_id it sorts
# the events by time and starts a new session where the gap to the previous event is
# GAP or more (window.h: "events less than GAP apart share one and a gap of GAP or
# more starts a new one"); a session is [first, last + GAP), with
# the number of events and the sum of amount (null without amounts). ev-window's
# results are compared as a set (their order depends on when sessions fire), sums
# within 1e-6.
set -eu
ev-gen --count 30000 --users 3000 --late 0.05 --max-late 30s --seed 21 > in.jsonl
ev-window --session 20s --by user_id --max-delay 1m --agg 'count, sum(amount) as spent' \
  --stats in.jsonl > out.jsonl 2> stats.txt
# Hand-made edges (GAP 10s): a's first two events are exactly GAP apart, its next
# GAP - 1ms after, its last GAP + 1ms after that; b's third event arrives last and
# bridges its first two sessions; c's two events are GAP - 1ms apart.
ev-window --session 10s --by user_id --max-delay 1m --agg 'count, sum(amount) as spent' \
  edge.jsonl > edge-out.jsonl

cat > reference.py <<'PY'
import calendar, json, math, sys

def ms(ts):
    # 2024-01-01T00:00:00.123Z (ev-gen) or without the fraction (edge.jsonl)
    whole, _, frac = ts.rstrip("Z").partition(".")
    sec = calendar.timegm(tuple(int(x) for x in
                                whole.replace("-", " ").replace("T", " ").replace(":", " ").split()))
    return sec * 1000 + (int((frac + "000")[:3]) if frac else 0)

def rfc3339(t):
    sec, milli = divmod(t, 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (*__import__("time").gmtime(sec)[:6], milli)

def sessions(path, gap_ms):
    by_user = {}
    for line in open(path, encoding="utf-8"):
        e = json.loads(line)
        by_user.setdefault(e["user_id"], []).append((ms(e["ts"]), e.get("amount")))
    out = {}
    for user, evs in by_user.items():
        evs.sort(key=lambda e: e[0])
        cur = None
        for t, amount in evs:
            if cur is None or t - cur["last"] >= gap_ms:
                cur = {"first": t, "last": t, "count": 0, "amounts": []}
                out.setdefault(user, []).append(cur)
            cur["last"] = t
            cur["count"] += 1
            if amount is not None:
                cur["amounts"].append(amount)
    result = {}
    for user, ss in out.items():
        for s in ss:
            key = (rfc3339(s["first"]), rfc3339(s["last"] + gap_ms), user)
            result[key] = (s["count"], math.fsum(s["amounts"]) if s["amounts"] else None)
    return result

def check(path, gap_ms, got_path):
    want = sessions(path, gap_ms)
    got = {}
    for line in open(got_path, encoding="utf-8"):
        r = json.loads(line)
        key = (r["window_start"], r["window_end"], r["user_id"])
        if key in got:
            print(f"{got_path}: session {key} twice")
            return False, want
        got[key] = (r["count"], r["spent"])
    ok = True
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key), got.get(key)
        if w is None or g is None or w[0] != g[0] or (w[1] is None) != (g[1] is None) or \
                (w[1] is not None and abs(w[1] - g[1]) > 1e-6):
            print(f"{got_path}: session {key}: got {g}, reference {w}")
            ok = False
    print(f"{got_path}: {len(got)} sessions, reference {len(want)}")
    return ok, want

ok1, want = check("in.jsonl", 20_000, "out.jsonl")
ok2, _ = check("edge.jsonl", 10_000, "edge-out.jsonl")
# The data must mean something: many sessions, many of more than one event.
multi = sum(1 for c, _ in want.values() if c > 1)
ok3 = len(want) > 10000 and multi > 3000
if not ok3:
    print(f"too few sessions to mean anything: {len(want)}, {multi} with more than one event")
sys.exit(0 if ok1 and ok2 and ok3 else 1)
PY
fail=0
/usr/bin/python3 reference.py || fail=1
jq -e --argjson n "$(wc -l < out.jsonl)" '.in == 30000 and .out == $n and .windows == $n
  and .late == 0 and .dropped == 0' stats.txt > /dev/null || { echo "unexpected stats:"; cat stats.txt; fail=1; }
# The edges, spelled out: a [00, 10) of 1, [10, 29.999) of 2 and [30, 40) of 1; b one
# session [00, 28) of 3 (2.75); c one session [05, 24.999) of 2.
jq -r '"\(.user_id) \(.window_start[14:23])-\(.window_end[14:23]) \(.count) \(.spent)"' edge-out.jsonl | sort > edge.txt
cat > edge-want.txt <<'TXT'
a 00:00.000-00:10.000 1 1
a 00:10.000-00:29.999 2 4
a 00:30.000-00:40.000 1 8
b 00:00.000-00:28.000 3 2.75
c 00:05.000-00:24.999 2 null
TXT
diff edge-want.txt edge.txt || fail=1
exit $fail
