# ev-score --set against an independent jq reference, expression by expression.
set -eu
ev-gen --count 12000 --seed 21 --interval 50s --users 500 > gen.jsonl
cat gen.jsonl extra.jsonl > in.jsonl
days=$(jq -r '.ts[0:10]' in.jsonl | sort -u | wc -l)
[ "$days" -ge 6 ] || { echo "the data spans only $days days"; exit 1; }

# NAME = EXPR, one a line; the jq reference below defines the same names.
cat > sets.txt <<'SETS'
amt = coalesce(amount, 0)
a_add = amt + 1.5
a_sub = amt - 100
a_mul = amt * 3.7
a_div = amt / 7
a_div0 = amt / (amt - amt)
a_mod = amt % 3
a_mod0 = 10 % (amt * 0)
a_mix = (amt + 2) * 3 - amt / 4 % 5 - -amt
a_null = amount * 2 + 1
lo = lower(country)
up = upper(type)
plen = len(page)
has = contains(page, "product")
sw = starts_with(referrer, "https://")
ew = ends_with(referrer, ".com/")
sub3 = substr(page, 1, 5)
subneg = substr(page, -3)
subneg2 = substr(session_id, -40, 3)
re = matches(page, "^/products/[0-9]*7$")
cat = coalesce(user_id, "-") + ":" + coalesce(type, "-")
hh = hour(ts)
mi = minute(ts)
wd = dow(ts)
dd = date(ts)
tier = if(amt > 50, "big", if(amt > 0, "small", "none"))
cc = coalesce(device.os, country, "none")
inn = country in ["US", "DE", "GB"]
ninn = type not in ["page_view", "click"]
c1 = amt >= 10 and country == "US"
c2 = type == "purchase" or len(referrer) == 0
c3 = not (amt < 5)
c4 = (hh >= 22 or hh < 6) and wd in [0, 6]
c5 = amount > 20 and true
c6 = amount > 20 or false
c7 = lower(coalesce(country, "")) <= "fr" && page != "/checkout" || amt == 1000
SETS
args=()
while IFS= read -r line; do args+=(--set "$line"); done < sets.txt
ev-score "${args[@]}" --stats -i in.jsonl > out.jsonl 2> stats.txt

[ "$(wc -l < out.jsonl)" -eq "$(wc -l < in.jsonl)" ] || { echo "line counts differ"; exit 1; }
# The reference, in jq: each --set's meaning written out by hand (ref), applied to the
# input line and compared with the output line read next to it (paste): numbers to
# 1e-9 relative, everything else exactly. It also counts how often some cases occur.
pick="{$(sed "s/ = .*//" sets.txt | paste -sd, -)}"
prog='
  def fmod($x; $y): if $y == 0 then null else $x - $y * (($x / $y) | trunc) end;
  def substr($s; $st; $n):
    ($s | length) as $t
    | (if $st < 0 then ([0, $t + $st] | max) else $st end | [., $t] | min) as $b
    | ([([0, $n] | max), $t - $b] | min) as $c
    | $s[$b:$b + $c];
  def or3($a; $b): if $a == true or $b == true then true elif $a == null or $b == null then null else false end;
  def and3($a; $b): if $a == false or $b == false then false elif $a == null or $b == null then null else true end;
  def cmp($a; $b; f): if $a == null or $b == null then null else f end;
  def ref:
    (.ts[0:19] + "Z" | fromdateiso8601) as $t
    | (.amount // 0) as $amt
    | ($amt >= 10) as $ge10
    | (($t % 86400) / 3600 | floor) as $hh
    | ($t | gmtime[6]) as $wd
    | {
      amt: $amt,
      a_add: ($amt + 1.5),
      a_sub: ($amt - 100),
      a_mul: ($amt * 3.7),
      a_div: ($amt / 7),
      a_div0: null,
      a_mod: fmod($amt; 3),
      a_mod0: null,
      a_mix: (($amt + 2) * 3 - fmod($amt / 4; 5) + $amt),
      a_null: (if .amount == null then null else .amount * 2 + 1 end),
      lo: (.country | if . == null then null else ascii_downcase end),
      up: (.type | if . == null then null else ascii_upcase end),
      plen: (.page | length),
      has: (.page | contains("product")),
      sw: (.referrer | startswith("https://")),
      ew: (.referrer | endswith(".com/")),
      sub3: substr(.page; 1; 5),
      subneg: substr(.page; -3; 1e9),
      subneg2: (if .session_id == null then null else substr(.session_id; -40; 3) end),
      re: (.page | test("^/products/[0-9]*7$")),
      cat: ((.user_id // "-") + ":" + (.type // "-")),
      hh: $hh,
      mi: (($t % 3600) / 60 | floor),
      wd: $wd,
      dd: ($t | strftime("%Y-%m-%d")),
      tier: (if $amt > 50 then "big" elif $amt > 0 then "small" else "none" end),
      cc: (.device.os // .country // "none"),
      inn: (.country as $c | if $c == null then null else ["US", "DE", "GB"] | index([$c]) != null end),
      ninn: (.type as $c | if $c == null then null else ["page_view", "click"] | index([$c]) == null end),
      c1: ($ge10 and .country == "US"),
      c2: (.type == "purchase" or (.referrer | length) == 0),
      c3: ($amt < 5 | not),
      c4: (($hh >= 22 or $hh < 6) and ($wd == 0 or $wd == 6)),
      c5: and3(cmp(.amount; 20; .amount > 20); true),
      c6: or3(cmp(.amount; 20; .amount > 20); false),
      c7: ((((.country // "") | ascii_downcase) <= "fr" and .page != "/checkout") or $amt == 1000)
    };
  def close($a; $b):
    if ($a | type) == "number" and ($b | type) == "number"
    then $a == $b or (($a - $b) | fabs) <= 1e-9 * ([($a | fabs), ($b | fabs)] | max)
    else $a == $b end;
  range($n) as $i
  | input as $src | input as $out
  | ($src | ref) as $r
  | (if ($out | keys_unsorted | .[-($r | length):]) != ($r | keys_unsorted) then
       "line \($i + 1): added members \($out | keys_unsorted)"
     elif ($out | PICK) == $r then empty
     else
       ($r | keys_unsorted[]) as $k
       | select(close($r[$k]; $out[$k]) | not)
       | "line \($i + 1): \($k): ev-score \($out[$k] | tojson), jq \($r[$k] | tojson)"
     end),
    (if $out.re then "#re" else empty end),
    (if $out.c4 then "#c4" else empty end),
    (if $out.c5 == null then "#c5null" else empty end),
    (if $out.a_null == null then empty else "#a_null" end)'
paste -d "\\n" in.jsonl out.jsonl |
  jq -n -r --argjson n "$(wc -l < in.jsonl)" "${prog/PICK/$pick}" > compared.txt
if grep -q "^line" compared.txt; then
  echo "$(grep -c "^line" compared.txt) differences, the first:"
  grep "^line" compared.txt | head -n 20
  exit 1
fi
# The data reaches the interesting cases.
for c in re:10 c4:100 c5null:1000 a_null:100; do
  [ "$(grep -cx "#${c%:*}" compared.txt)" -ge "${c#*:}" ] || { echo "#${c%:*} fewer than ${c#*:} times"; exit 1; }
done
# Splice: each input line without its closing brace is the start of its output line,
# followed by the added members in --set order.
awk -v first="$(sed -n '1s/ = .*//p' sets.txt)" '
  NR == FNR { in_line[FNR] = $0; n = FNR; next }
  {
    src = substr(in_line[FNR], 1, length(in_line[FNR]) - 1)
    if (substr($0, 1, length(src)) != src || substr($0, length(src) + 1, length(first) + 4) != ",\"" first "\":") {
      print "line " FNR " is not spliced: " $0; bad = 1; exit 1
    }
  }
  END { if (FNR != n && !bad) { print "line counts differ"; exit 1 } }' in.jsonl out.jsonl
jq -e '.in == 12004 and .out == 12004 and .rejected == 0 and .skipped == 0' stats.txt > /dev/null ||
  { echo "stats:"; cat stats.txt; exit 1; }
