# ev-score's incremental z-scores against the definition, computed the slow way.
set -eu
ev-gen --count 5000 --seed 41 --users 50 --interval 10s --late 0.1 --max-late 30m > gen.jsonl
# A key whose values are all equal for a while (zero variance), and one whose time
# field is missing (counted as late: at the key's newest time).
for i in 1 2 3 4 5 6; do
  printf '{"user_id":"same","ts":"2024-01-02T00:0%d:00Z","amount":%s}\n' "$i" "$([ "$i" -lt 6 ] && echo 7.5 || echo 9)"
done > same.jsonl
echo '{"user_id":"same","amount":8}' >> same.jsonl
cat gen.jsonl same.jsonl same.jsonl > in.jsonl
ev-score --set 'v = coalesce(amount, len(page) * 1.5 + minute(ts) / 7)' \
  --zscore v --zscore amount --by user_id --half-life 10m --warmup 3 --stats \
  -i in.jsonl > out.jsonl 2> stats.txt

# One line per event and field: field, key, ts, value (as ev-score wrote v: its --set
# is checked elsewhere), and ev-score's z.
jq -r '("v", "amount") as $f | [$f, .user_id, .ts, (.[$f] // "null"), (.[$f + "_z"] // "null")] | @tsv' \
  out.jsonl > rows.tsv
# The reference: per field and key, every earlier (time, value); a late event counts at
# the key's newest time. z = (x - mean) / sqrt(var) with weights 2^(-(t - t_i)/H),
# mean and variance in two passes; null while fewer than 3 earlier values, and when
# they are all equal.
awk -F'\t' -v H=600 -v warmup=3 '
  function secs(ts) {  # since 2024-01-01, from "YYYY-MM-DDTHH:MM:SS.fffZ"
    return mktime(substr(ts, 1, 4) " " substr(ts, 6, 2) " " substr(ts, 9, 2) " " substr(ts, 12, 2) " " \
                  substr(ts, 15, 2) " " substr(ts, 18, 2), 1) - 1704067200 + substr(ts, 20, 4)
  }
  {
    f = $1; key = $1 SUBSEP $2; x = $4
    if (x == "null") { print "null"; next }
    t = $3 == "" ? newest[key] : secs($3)
    n = count[key]
    if (n > 0 && t < newest[key]) t = newest[key]
    z = "null"
    if (n >= warmup) {
      W = 0; M = 0; same = 1
      for (i = 1; i <= n; i++) {
        w[i] = 2 ^ (-(t - tt[key, i]) / H)
        W += w[i]; M += w[i] * xx[key, i]
        if (xx[key, i] != xx[key, 1]) same = 0
      }
      M /= W
      V = 0
      for (i = 1; i <= n; i++) V += w[i] * (xx[key, i] - M) ^ 2
      V /= W
      if (!same) z = sprintf("%.17g", (x - M) / sqrt(V))
    }
    count[key] = ++n; tt[key, n] = t; xx[key, n] = x + 0; newest[key] = t
    print z
  }' rows.tsv > ref.txt

paste rows.tsv ref.txt | awk -F'\t' '
  $5 == "null" || $6 == "null" {
    if ($5 != $6) { print "row " NR " (" $1 " " $2 " " $3 "): ev-score " $5 ", reference " $6; if (++bad == 10) exit }
    nulls++; next
  }
  {
    # 1e-9 relative (absolute below 1). A |z| past 1000 comes from a variance that is
    # the remnant of long-decayed weights (e.g. 2^-40): there the two formulas round
    # differently in the cancellation, so 1e-6.
    d = $5 - $6; if (d < 0) d = -d; m = $6 < 0 ? -$6 : $6; if (m < 1) m = 1
    if (d > (m > 1000 ? 1e-6 : 1e-9) * m) { print "row " NR " (" $1 " " $2 " " $3 "): ev-score " $5 ", reference " $6; if (++bad == 10) exit }
    scored[$1]++; if ($6 > 3 || $6 < -3) big++
  }
  END {
    if (bad) exit 1
    if (scored["v"] < 4000 || scored["amount"] < 5 || big < 20) {
      print "too few scores: " scored["v"] " v, " scored["amount"] " amount, " big " beyond 3"; exit 1
    }
  }'
# Late events are in the data, and the key counts add up.
late=$(jq -r '.ts' in.jsonl | awk '$0 < prev { n++ } { if ($0 > prev) prev = $0 } END { print n + 0 }')
[ "$late" -gt 300 ] || { echo "only $late late events"; exit 1; }
keys=$(( $(jq -r '.user_id' in.jsonl | sort -u | wc -l) + $(jq -r 'select(.amount) | .user_id' in.jsonl | sort -u | wc -l) ))
jq -e --argjson k "$keys" '.in == 5014 and .out == 5014 and .keys == $k and .evicted == 0' stats.txt > /dev/null ||
  { echo "stats (expected $keys keys):"; cat stats.txt; exit 1; }
