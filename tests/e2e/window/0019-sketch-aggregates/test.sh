# Group "small": values 0..99 each seen 3 times; group "big": 20,000 distinct values;
# latency 1..10,000 ms in group "small" so the exact percentiles are known.
set -eu
awk 'BEGIN {
  for (i = 0; i < 300; i++)
    printf "{\"ts\":\"2024-05-01T10:00:%02dZ\",\"g\":\"small\",\"v\":\"x%d\",\"page\":\"/p%d\",\"ms\":%d}\n", i % 60, i % 100, (i % 7 == 0 ? 1 : (i % 3 == 0 ? 2 : 3)), i + 1
  for (i = 0; i < 20000; i++)
    printf "{\"ts\":\"2024-05-01T10:00:%02dZ\",\"g\":\"big\",\"v\":%d,\"ms\":%d}\n", i % 60, i, (i % 10000) + 1
}' > in.jsonl

ev-window --tumble 1m --by g \
  --agg 'count_distinct(v) as d, p50(ms), p95(ms), percentile(ms, 0.99) as p99, top(page, 2)' \
  in.jsonl > out.jsonl
ev-window --tumble 1m --by g --exact --agg 'count_distinct(v) as d' in.jsonl > exact.jsonl

fail=0
# check FILE GROUP EXPR: EXPR holds for the result of GROUP (one window here).
check() {
  if ! jq -s -e "map(select(.g == \"$2\"))[0] | $3" "$1" > /dev/null; then
    echo "FAIL: $1: $2: $3"; jq -c . "$1"; fail=1
  fi
}
# Exact under the limit, approximate (1.6% standard error: 3 of them is 4.9%) above it.
check out.jsonl small '.d == 100'
check out.jsonl big '(.d - 20000 | fabs) <= 20000 * 0.049'
check out.jsonl big '.d != 20000'
check exact.jsonl big '.d == 20000'
# big: ms is 1..10000 twice: the lower-rank quantile at rank floor(q * 39999).
check out.jsonl big '(.p50_ms - 5000 | fabs) <= 50'
check out.jsonl big '(.p95_ms - 9500 | fabs) <= 95'
check out.jsonl big '(.p99 - 9900 | fabs) <= 99'
# small: ms 1..300; pages: /p1 for i % 7 == 0 (43), /p2 for i % 3 == 0 but not 7 (85), /p3 the rest (172).
check out.jsonl small '(.p50_ms - 150 | fabs) <= 1.5'
check out.jsonl small '.top_page == [{"value":"/p3","count":172},{"value":"/p2","count":85}]'
check out.jsonl big '.top_page == [] and .p50_ms != null'
exit $fail
