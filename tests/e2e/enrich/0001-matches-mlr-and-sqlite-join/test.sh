# Two independent references compute the join that ev-enrich --missing keep does:
#   - mlr: join -f users.csv (-i csv) --ur, so the events without a row (unpaired
#     right, in mlr's terms: the -f file is its left side) pass as they are; mlr parses
#     the CSV and infers numbers itself;
#   - sqlite3: .import of the CSV (every column text) and of the lines whole, each cell
#     spelled as a JSON number turned into a number (json_type), then a LEFT JOIN that
#     json_patch'es the row's fields into the line.
# Python's json module compares per line: ev-enrich's object equals each reference's as
# a dict (numbers as numbers: 36 is not "36"), the added fields come in the table's
# (or --select's) order, and ev-enrich's line with the added members cut out is the
# input line byte for byte. Matched/missing counts are checked against --stats.
set -eu
ev-gen --count 20000 --users 3000 --seed 11 > events.jsonl
ev-gen --profiles --users 2500 --seed 11 > users.jsonl
mlr --ijsonl --ocsv cat users.jsonl > users.csv
[ "$(head -n 1 users.csv)" = "user_id,tier,signup,age,lang,ltv" ] || { head -n 2 users.csv; exit 1; }
[ "$(wc -l < users.csv)" -eq 2501 ]

ev-enrich --table users.csv --on user_id --stats events.jsonl > all.jsonl 2> all-stats.txt
ev-enrich --table users.csv --on user_id --select ltv,tier,signup --into profile --stats \
  events.jsonl > into.jsonl 2> into-stats.txt
ev-enrich --table users.csv --on user_id --select age,lang --prefix u_ \
  events.jsonl > prefix.jsonl

# mlr: all fields, and --select ltv,tier,signup nested under profile.
mlr --ijsonl --ojsonl join --ur -j user_id -i csv -f users.csv events.jsonl > all-mlr.jsonl
mlr --icsv --ocsv cut -o -f user_id,ltv,tier,signup users.csv > users-select.csv
mlr --ijsonl --ojsonl join --ur -j user_id -i csv -f users-select.csv \
  then put 'if (is_present($tier)) {
      $profile = {"ltv": $ltv, "tier": $tier, "signup": $signup};
      unset $ltv, $tier, $signup
    }' events.jsonl > into-mlr.jsonl

# sqlite3: the same three joins, in input order.
cell() { echo "CASE WHEN json_valid($1) THEN CASE json_type($1) WHEN 'integer' THEN CAST($1 AS INTEGER) WHEN 'real' THEN CAST($1 AS REAL) ELSE $1 END ELSE $1 END AS $1"; }
cols=$(head -n 1 users.csv | tr ',' ' ')
typed=user_id patch=
for c in $cols; do
  [ "$c" = user_id ] && continue
  typed="$typed, $(cell "$c")"
  patch="$patch${patch:+, }'$c', $c"
done
sqlite3 -bail :memory: > /dev/null <<SQL
.import --csv users.csv users_text
CREATE TABLE users AS SELECT $typed FROM users_text;
CREATE UNIQUE INDEX users_key ON users(user_id);
.mode ascii
.separator "\037" "\n"
CREATE TABLE ev(line TEXT);
.import events.jsonl ev
CREATE TABLE j AS
  SELECT ev.rowid AS n, ev.line AS line, u.*
  FROM ev LEFT JOIN users u ON u.user_id = json_extract(ev.line, '\$.user_id');
.mode list
.output all-sqlite.jsonl
SELECT CASE WHEN user_id IS NULL THEN line ELSE json_patch(line, json_object($patch)) END
FROM j ORDER BY n;
.output into-sqlite.jsonl
SELECT CASE WHEN user_id IS NULL THEN line
  ELSE json_set(line, '\$.profile', json_object('ltv', ltv, 'tier', tier, 'signup', signup)) END
FROM j ORDER BY n;
.output prefix-sqlite.jsonl
SELECT CASE WHEN user_id IS NULL THEN line
  ELSE json_patch(line, json_object('u_age', age, 'u_lang', lang)) END
FROM j ORDER BY n;
.output count.txt
SELECT count(*), count(user_id), (SELECT count(*) FROM users) FROM j;
SQL

python3 - <<'PY'
import json, sys

dec = json.JSONDecoder()
WS = " \t\r\n"

def members(line):
    """(key, start, end) of each top-level member of the object `line`."""
    assert line[0] == "{", line
    out, i = [], 1
    while True:
        while line[i] in WS: i += 1
        if line[i] == "}" and not out: return out
        start = i
        key, i = dec.raw_decode(line, i)
        while line[i] in WS: i += 1
        assert line[i] == ":", line
        i += 1
        while line[i] in WS: i += 1
        _, i = dec.raw_decode(line, i)
        out.append((key, start, i))
        while line[i] in WS: i += 1
        if line[i] == "}": return out
        assert line[i] == ",", line
        i += 1

def without(line, keys):
    """`line` with the top-level members named in `keys` cut out, the rest as it is."""
    ms = members(line)
    kept = [line[s:e] for k, s, e in ms if k not in keys]
    return line[:ms[0][1]] + ",".join(kept) + line[ms[-1][2]:]

def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]

events = lines("events.jsonl")
table_fields = [c for c in lines("users.csv")[0].split(",") if c != "user_id"]
stats = json.loads(open("all-stats.txt").read().strip().splitlines()[-1])
into_stats = json.loads(open("into-stats.txt").read().strip().splitlines()[-1])
n, matched_sql, rows = map(int, open("count.txt").read().split("|"))
assert n == len(events) == 20000, (n, len(events))
assert rows == 2500, rows

fail = 0
def bad(msg):
    global fail
    fail += 1
    if fail <= 10: print(msg)

def compare(name, got_path, refs, added):
    got = lines(got_path)
    ref_lines = {r: lines(r) for r in refs}
    if len(got) != len(events): bad(f"{name}: {len(got)} lines, want {len(events)}")
    for r, rl in ref_lines.items():
        if len(rl) != len(events): bad(f"{r}: {len(rl)} lines, want {len(events)}")
    matched = 0
    for i, (src, line) in enumerate(zip(events, got)):
        obj = json.loads(line)
        for r, rl in ref_lines.items():
            want = json.loads(rl[i])
            if obj != want:
                bad(f"{name} line {i + 1} differs from {r}:\n  got  {line}\n  want {rl[i]}")
        before = json.loads(src)
        new = [k for k in obj if k not in before]
        if new:
            matched += 1
            if new != added:
                bad(f"{name} line {i + 1}: added {new}, want {added} in this order")
        if line != src and without(line, set(added)) != src:
            bad(f"{name} line {i + 1}: not the input line plus {added}:\n  got {line}\n  in  {src}")
    return matched

matched = compare("all", "all.jsonl", ["all-mlr.jsonl", "all-sqlite.jsonl"], table_fields)
into_matched = compare("into", "into.jsonl", ["into-mlr.jsonl", "into-sqlite.jsonl"], ["profile"])
for i, line in enumerate(lines("into.jsonl")):
    p = json.loads(line).get("profile")
    if p is not None and list(p) != ["ltv", "tier", "signup"]:
        bad(f"into line {i + 1}: profile keys {list(p)}, want ltv, tier, signup")
prefix_matched = compare("prefix", "prefix.jsonl", ["prefix-sqlite.jsonl"], ["u_age", "u_lang"])

missing = len(events) - matched
for name, m in [("into", into_matched), ("prefix", prefix_matched), ("sqlite3", matched_sql)]:
    if m != matched: bad(f"{name}: {m} events matched, all fields: {matched}")
for name, s in [("all", stats), ("into", into_stats)]:
    if (s.get("users_matched"), s.get("users_missing")) != (matched, missing):
        bad(f"{name} --stats: {s}, want users_matched {matched}, users_missing {missing}")
    if (s.get("in"), s.get("out")) != (len(events), len(events)):
        bad(f"{name} --stats: {s}, want in and out {len(events)}")
# The data must mean something: most events match, enough do not.
if not (15000 < matched and 1000 < missing):
    bad(f"matched {matched}, missing {missing}: the data set does not test the join")
if fail:
    print(f"{fail} differences")
    sys.exit(1)
print(f"{matched} events matched and {missing} missing, as mlr and sqlite3 join them; "
      "the rest of every line byte for byte")
PY
