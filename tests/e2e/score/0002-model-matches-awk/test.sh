# ev-score --model against the model's formula written out in awk.
set -eu
ev-gen --count 20000 --seed 31 --interval 3s > in.jsonl
ev-score --set 'spend = coalesce(amount, 0)' --model logistic.json -i in.jsonl > logistic.out
ev-score --model linear.json --as value -i in.jsonl > linear.out

# The inputs of the reference: the raw fields, one event a line (jq only extracts).
jq -r '[(.amount // "null"), .type, .device.os, .country, .ts, .referrer] | @tsv' in.jsonl > fields.tsv
# awk: the score of each event from the models' numbers above.
awk -F'\t' '
  function std(x, m, s) { return (x - m) / s }
  {
    amount = $1; type = $2; os = $3; country = $4; ts = $5; ref = $6
    spend = amount == "null" ? 0 : amount
    hour = substr(ts, 12, 2) + 0; minute = substr(ts, 15, 2) + 0
    s = -3.2
    s += 0.004 * std(spend, 35.2, 80.1)
    s += 0.7 * std(amount == "null" ? 5 : amount, 20, 15)
    if (amount != "null") s += 0.3 * std(amount * 2, 10, 4)
    s += 1.1 * (type == "purchase")
    s += -0.35 * (os == "ios")
    s += country == "US" ? 0.4 : country == "IN" ? -0.2 : country == "BR" ? 0.15 : -0.05
    s += 0.05 * std(hour, 12, 6.9)
    k = hour % 4 + 0.5 * (minute % 2)
    s += k == 0 ? 0.2 : k == 1 ? -0.1 : k == 2.5 ? 0.9 : 0
    s += length(ref) > 0 ? 0.3 : -0.3
    if (spend > 100) s += 0.5
    logistic = 1 / (1 + exp(-s))
    v = 12.5 + 2.25 * spend
    if (amount != "null") v += -1.5 * std(amount, 30, 12.5)
    v += (type == "click" || type == "search") ? -4 : 0
    v += os == "android" ? 1.75 : os == "web" ? -0.5 : 0
    printf "%.17g\t%.17g\n", logistic, v
  }' fields.tsv > ref.tsv

jq -r '.score' logistic.out | paste - <(jq -r '.value' linear.out) > got.tsv
[ "$(wc -l < got.tsv)" -eq 20000 ] || { echo "$(wc -l < got.tsv) output lines"; exit 1; }
# Equal within 1e-9, absolute for small values and relative for large ones.
paste ref.tsv got.tsv | awk -F'\t' '
  function far(a, b, d, m) { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a; if (m < 1) m = 1; return d > 1e-9 * m }
  far($1, $3) || far($2, $4) { print "line " NR ": awk " $1 " " $2 ", ev-score " $3 " " $4; if (++bad == 10) exit }
  $3 + 0 > 0.5 { high++ }
  $3 + 0 < 0.05 { low++ }
  END { if (bad) exit 1; if (high < 50 || low < 1000) { print "scores do not spread: " high " high, " low " low"; exit 1 } }'

# The score is the last member, spliced after the line's own (and after spend).
sed 's/,"spend":[^,]*,"score":[^,]*}$/}/' logistic.out | cmp - in.jsonl
sed 's/,"value":[^,]*}$/}/' linear.out | cmp - in.jsonl
