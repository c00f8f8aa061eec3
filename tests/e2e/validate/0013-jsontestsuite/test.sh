# Each document of JSONTestSuite's test_parsing becomes one event, {"doc":<document>},
# so that every top-level form (arrays, scalars) is an event's value. A line break
# inside a document is whitespace in a y_ document (joined with a space); an n_
# document holding one cannot be carried as one line and is left out (counted below).
set -eu
suite="$SHARED/corpora/jsontestsuite/test_parsing"
[ -d "$suite" ] || { echo "missing $suite" >&2; exit 1; }
echo '{"type": "object", "required": ["doc"]}' > schema.json

python3 - "$suite" <<'PY'
import os, sys
suite = sys.argv[1]
y, n, skipped = [], [], []
for name in sorted(os.listdir(suite)):
    data = open(os.path.join(suite, name), "rb").read()
    if name.startswith("y_"):
        y.append(b'{"doc":' + data.replace(b"\r", b" ").replace(b"\n", b" ") + b"}")
    elif name.startswith("n_"):
        body = data[:-1] if data.endswith(b"\n") else data
        if b"\n" in body or b"\r" in body:
            skipped.append(name)
            continue
        n.append(b'{"doc":' + body + b"}")
open("y.jsonl", "wb").write(b"\n".join(y) + b"\n")
open("n.jsonl", "wb").write(b"\n".join(n) + b"\n")
open("n-skipped.txt", "w").write("\n".join(skipped) + "\n")
print(len(y), "y_ documents,", len(n), "n_ documents,", len(skipped), "n_ with line breaks left out")
PY

fail=0
# y_: all accepted, byte for byte, once repeated keys are allowed (RFC 8259 permits
# them; by default they are bad events, and exactly the two y_ documents holding one
# are rejected as such).
ev-validate --schema schema.json --allow-duplicate-keys --on-error fail y.jsonl > y.out ||
  { echo "y_: a document was rejected" >&2; fail=1; }
cmp -s y.jsonl y.out || { echo "y_: output differs from input" >&2; fail=1; }
ev-validate --schema schema.json --reject y.rej y.jsonl > /dev/null
dups=$(jq -r '.error' y.rej | sort | uniq -c | sed 's/^ *//')
[ "$dups" = "2 duplicate key /doc/a" ] || { echo "y_: unexpected rejections: $dups" >&2; fail=1; }

# n_: none accepted; each rejected with a reason saying what is wrong with the JSON.
ev-validate --schema schema.json --reject n.rej --stats n.jsonl > n.out 2> n.err || true
if [ -s n.out ]; then echo "n_: accepted:" >&2; head -5 n.out >&2; fail=1; fi
want=$(wc -l < n.jsonl)
got=$(wc -l < n.rej)
[ "$got" = "$want" ] || { echo "n_: $got of $want rejected" >&2; fail=1; }
# Reasons: a parse error (invalid JSON / invalid UTF-8), a NUL byte, or a duplicate key;
# never a schema violation (the wrapped document must not parse at all).
bad=$(jq -r '.error' n.rej | grep -Ecv '^(invalid JSON|invalid UTF-8|NUL byte|not a JSON object)' || true)
[ "$bad" = 0 ] || { echo "n_: $bad rejections without a parse reason:" >&2;
  jq -r '.error' n.rej | grep -Ev '^(invalid JSON|invalid UTF-8|NUL byte|not a JSON object)' | head >&2; fail=1; }
echo "n_ rejected: $got of $want"
exit $fail
