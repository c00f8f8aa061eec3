# The reference is sqlite3: the JSON lines are imported whole into a one-column table,
# read with json_extract, and grouped by a window start computed from the ts strings
# (strftime '%s': whole seconds, enough for windows of whole minutes). Hopping windows
# join each event with the SIZE/SLIDE slide offsets it belongs to. Both sides become
# TSV (jq for ev-window) and are compared line by line in awk: window, group and count
# exactly, sums/averages/min/max within 1e-6 (ev-window's sums are compensated,
# sqlite's are not), null only against null.
set -eu
ev-gen --count 50000 --users 500 --late 0.05 --max-late 30s --seed 13 > in.jsonl

ev-window --tumble 1m --by user_id --max-delay 1m --stats \
  --agg 'count, sum(amount) as revenue, avg(amount), min(amount), max(amount)' \
  in.jsonl > tumble.jsonl 2> tumble-stats.txt
ev-window --hop 5m/1m --by country --max-delay 1m --stats --agg 'count, sum(amount)' \
  in.jsonl > hop.jsonl 2> hop-stats.txt

sqlite3 -bail :memory: > /dev/null <<'SQL'
.mode ascii
.separator "\037" "\n"
CREATE TABLE raw(line TEXT);
.import in.jsonl raw
CREATE TABLE ev AS
  SELECT json_extract(line, '$.user_id') AS user_id,
         json_extract(line, '$.country') AS country,
         json_extract(line, '$.amount') AS amount,
         CAST(strftime('%s', json_extract(line, '$.ts')) AS INTEGER) AS sec
  FROM raw;
.mode tabs
.nullvalue null
.output count.tsv
SELECT count(*), sum(json_valid(line)) FROM raw;
.output tumble-ref.tsv
SELECT strftime('%Y-%m-%dT%H:%M:%S.000Z', w, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S.000Z', w + 60, 'unixepoch'),
       user_id, count(*),
       sum(amount), avg(amount), min(amount), max(amount)
FROM (SELECT *, sec - sec % 60 AS w FROM ev)
GROUP BY w, user_id ORDER BY w, user_id;
.output hop-ref.tsv
WITH RECURSIVE slide(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM slide WHERE k < 4)
SELECT strftime('%Y-%m-%dT%H:%M:%S.000Z', w, 'unixepoch'),
       strftime('%Y-%m-%dT%H:%M:%S.000Z', w + 300, 'unixepoch'),
       country, count(*), sum(amount)
FROM (SELECT ev.*, sec - sec % 60 - 60 * k AS w FROM ev, slide)
GROUP BY w, country ORDER BY w, country;
SQL

read -r n valid < count.tsv
[ "$n" = 50000 ] && [ "$valid" = 50000 ] || { echo "sqlite read $n lines ($valid valid JSON), want 50000"; exit 1; }

num='if . == null then "null" else tostring end'
jq -r "[.window_start, .window_end, .user_id, .count, (.revenue, .avg_amount, .min_amount, .max_amount | $num)] | @tsv" \
  tumble.jsonl > tumble.tsv
jq -r "[.window_start, .window_end, .country, .count, (.sum_amount | $num)] | @tsv" hop.jsonl > hop.tsv

# same_tsv GOT WANT EXACT_COLUMNS: line by line, the first EXACT_COLUMNS fields equal,
# the rest numbers within 1e-6 (or both null).
same_tsv() {
  awk -F'\t' -v exact="$3" -v got="$1" '
    NR == FNR { want[FNR] = $0; n = FNR; next }
    {
      if (!(FNR in want)) { print got ": extra line " FNR ": " $0; bad = 1; exit }
      split(want[FNR], w, "\t")
      ok = NF == length(w)
      for (i = 1; ok && i <= NF; i++) {
        if (i <= exact || $i == "null" || w[i] == "null") ok = $i == w[i]
        else { d = $i - w[i]; ok = d <= 1e-6 && d >= -1e-6 }
      }
      if (!ok) { print got " line " FNR ": " $0; print "reference: " want[FNR]; bad = 1; exit }
    }
    END { if (!bad && FNR != n) { print got ": " FNR " lines, reference " n; bad = 1 } exit bad }
  ' "$2" "$1"
}
fail=0
same_tsv tumble.tsv tumble-ref.tsv 4 || fail=1
same_tsv hop.tsv hop-ref.tsv 4 || fail=1

# The data must mean something: many windows and groups, purchases in most windows.
[ "$(wc -l < tumble.tsv)" -gt 3000 ] || { echo "too few tumbling results"; fail=1; }
[ "$(grep -c 'revenue":[0-9]' tumble.jsonl)" -gt 500 ] || { echo "too few revenues"; fail=1; }
[ "$(wc -l < hop.tsv)" -gt 150 ] || { echo "too few hopping results"; fail=1; }
# Out of order, but nothing beyond --max-delay: nothing late or dropped.
for s in tumble-stats.txt hop-stats.txt; do
  jq -e '.in == 50000 and .late == 0 and .dropped == 0 and .skipped == 0 and .rejected == 0
    and .forced == 0' "$s" > /dev/null || { echo "unexpected counts in $s:"; cat "$s"; fail=1; }
done
windows=$(cut -f1 tumble.tsv | sort -u | wc -l)
jq -e --argjson n "$(wc -l < tumble.jsonl)" --argjson w "$windows" '.out == $n and .windows == $w' tumble-stats.txt > /dev/null ||
  { echo "tumble stats do not match the output:"; cat tumble-stats.txt; fail=1; }
late_lines=$(awk -F'"ts":"' '{ t = substr($2, 1, 24); if (t < max) n++; else max = t } END { print n }' in.jsonl)
[ "$late_lines" -gt 2000 ] || { echo "too few out-of-order events: $late_lines"; fail=1; }
echo "$(wc -l < tumble.tsv) tumbling and $(wc -l < hop.tsv) hopping results agree with sqlite3 ($late_lines events out of order)"
exit $fail
