# A Python writer feeds two ev-window processes, with and without --idle 1s, two
# events that leave the window [10:00:00, 10:00:10) half a second short of its end,
# then stays quiet (at most 4.5 s) until the --idle one has written the window.
set -eu
/usr/bin/python3 - <<'PY'
import os, subprocess, sys, time

def start(name, extra):
    out = open(name, "wb")
    return subprocess.Popen(["ev-window", "--tumble", "10s", "--by", "id", *extra],
                            stdin=subprocess.PIPE, stdout=out)

idle = start("idle.jsonl", ["--idle", "1s"])
plain = start("plain.jsonl", [])
first = (b'{"id":"a","ts":"2024-05-01T10:00:01Z"}\n'
         b'{"id":"a","ts":"2024-05-01T10:00:09.500Z"}\n')
for p in (idle, plain):
    p.stdin.write(first)
    p.stdin.flush()
t0 = time.monotonic()
fired = None
while time.monotonic() - t0 < 4.5:
    if os.path.getsize("idle.jsonl") > 0:
        fired = time.monotonic() - t0
        break
    time.sleep(0.02)
plain_early = os.path.getsize("plain.jsonl")
for p in (idle, plain):
    p.stdin.write(b'{"id":"b","ts":"2024-05-01T10:00:12Z"}\n')
    p.stdin.close()
status = [p.wait(timeout=10) for p in (idle, plain)]

ok = True
def fail(msg):
    global ok
    print(msg)
    ok = False

if fired is None:
    fail("--idle 1s: no window within 4.5 s of quiet")
elif fired < 0.9:
    fail(f"--idle 1s: the window fired after {fired:.2f} s, before the input was quiet for 1 s")
if plain_early:
    fail("without --idle a window fired before the input went on")
if status != [0, 0]:
    fail(f"exit status {status}")
want = ('{"window_start":"2024-05-01T10:00:00.000Z","window_end":"2024-05-01T10:00:10.000Z","id":"a","count":2}\n'
        '{"window_start":"2024-05-01T10:00:10.000Z","window_end":"2024-05-01T10:00:20.000Z","id":"b","count":1}\n')
for name in ("idle.jsonl", "plain.jsonl"):
    got = open(name).read()
    if got != want:
        fail(f"{name}:\n{got}want:\n{want}")
if ok:
    print(f"--idle 1s fired the window after {fired:.2f} s of quiet")
sys.exit(0 if ok else 1)
PY
