# The reference is python3-jsonschema (Debian's, hence /usr/bin/python3), an
# independent Draft 2020-12 implementation. Its JSON reader is more lenient than
# evkit's by design, so the reference first applies evkit's documented input rules:
# UTF-8, no duplicate keys, no NaN/Infinity, integers within 64 bits, finite doubles.
# It has no date-time checker of its own, so one is written here from RFC 3339.
set -eu
schema="$SRC/bench/event.schema.json"
ev-gen --count 20000 --seed 7 --malformed 0.01 --late 0.02 > events.jsonl
ev-validate --schema "$schema" --reject rejected.jsonl --stats events.jsonl > valid.jsonl 2> stats.json

/usr/bin/python3 - "$schema" <<'PY' > reference.jsonl
import calendar, json, re, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
checker = jsonschema.FormatChecker()
DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$")

@checker.checks("date-time")
def date_time(s):
    if not isinstance(s, str):
        return True
    m = DT.match(s)
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(m.group(k)) for k in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
        return False
    if h > 23 or mi > 59 or sec > 60:
        return False
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return False
    if sec == 60:  # a leap second: only the last second of a UTC day
        off = 0 if not m.group(9) else (oh * 60 + om) * (1 if m.group(9) == "+" else -1)
        if (h * 60 + mi - off) % 1440 != 23 * 60 + 59:
            return False
    return True

validator = jsonschema.Draft202012Validator(schema, format_checker=checker)

class Bad(Exception):
    pass

def pairs(items):
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        raise Bad("duplicate key")
    return dict(items)

def const(name):
    raise Bad(name)

def integer(text):
    v = int(text)
    if not (-2**63 <= v < 2**64):
        raise Bad("integer out of range")
    return v

def real(text):
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise Bad("double out of range")
    return v

for raw in open("events.jsonl", "rb"):
    line = raw.rstrip(b"\n")
    if not line.strip():
        continue
    try:
        text = line.decode("utf-8")
        doc = json.loads(text, object_pairs_hook=pairs, parse_constant=const,
                         parse_int=integer, parse_float=real)
    except (Bad, ValueError):
        continue
    if isinstance(doc, dict) and validator.is_valid(doc):
        sys.stdout.buffer.write(line + b"\n")
PY

fail=0
if ! cmp -s valid.jsonl reference.jsonl; then
  echo "ev-validate and python3-jsonschema disagree:" >&2
  diff valid.jsonl reference.jsonl | head -10 >&2
  fail=1
fi
read -r in out rejected < <(jq -r '"\(.in) \(.out) \(.rejected)"' stats.json)
[ "$in" = "$((out + rejected))" ] || { echo "counts do not add up: $in != $out + $rejected" >&2; fail=1; }
[ "$(wc -l < rejected.jsonl)" = "$rejected" ] || { echo "rejected count differs from the sink" >&2; fail=1; }
[ "$rejected" -gt 50 ] || { echo "too few bad events to mean anything: $rejected" >&2; fail=1; }
echo "in $in, valid $out, rejected $rejected; reference agrees"
exit $fail
