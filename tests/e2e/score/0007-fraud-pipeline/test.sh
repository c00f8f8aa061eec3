set -eu
ev-gen --count 20000 --seed 9 --users 50 --interval 1s |
  ev-window --by user_id --tumble 5m --agg 'count, sum(amount) as revenue' |
  tee windows.jsonl |
  ev-score --set 'rev = coalesce(revenue, 0)' --rule 'spike: count > 20' --rule 'spender: rev > 100' \
    --zscore count --zscore rev --by user_id --half-life 1h --time-field window_end \
    --segment 'hot: spike and spender' --segment 'busy: spike' --stats > scored.jsonl 2> stats.txt
# Every window is scored, and the windows hold every event.
n=$(wc -l < windows.jsonl)
[ "$n" -gt 1000 ] && [ "$(wc -l < scored.jsonl)" -eq "$n" ] || { echo "$n windows, $(wc -l < scored.jsonl) scored"; exit 1; }
jq -s -e 'map(.count) | add == 20000' windows.jsonl > /dev/null
jq -e --argjson n "$n" '.in == $n and .out == $n and .keys == 100 and .flagged > 0' stats.txt > /dev/null ||
  { cat stats.txt; exit 1; }
# The flags and segments follow from the window's numbers (jq), and the z-scores
# are null exactly for each user's first 10 windows (warmup) and, for rev, while
# all its earlier values are equal (zero variance).
jq -s -r '
  group_by(.user_id)
  | map(. as $g | to_entries[] | .key as $k | .value + {k: $k, seen: ($g[0:$k] | map(.rev) | unique | length),
                 seenc: ($g[0:$k] | map(.count) | unique | length)})
  | sort_by(.window_end, .user_id)[]
  | (.count > 20) as $spike | ((.revenue // 0) > 100) as $spender
  | [(if $spike then "spike" else empty end), (if $spender then "spender" else empty end)] as $flags
  | (if $spike and $spender then "hot" elif $spike then "busy" else "other" end) as $segment
  | select(.flags != $flags or .segment != $segment or ((.count_z == null) != (.k < 10 or .seenc < 2)) or
           ((.rev_z == null) != (.k < 10 or .seen < 2)))
  | "\(.user_id) \(.window_end) (window \(.k + 1) of the user): flags \(.flags), segment \(.segment), z \(.count_z) \(.rev_z)"' \
  scored.jsonl > wrong.txt
if [ -s wrong.txt ]; then head -n 10 wrong.txt; exit 1; fi
jq -s -e 'map(select(.count_z > 2)) | length > 10' scored.jsonl > /dev/null || { echo "no high count_z"; exit 1; }
# The same pipeline with an alert keeps exactly the windows it names.
ev-score --set 'rev = coalesce(revenue, 0)' --rule 'spike: count > 20' --zscore count --by user_id \
  --half-life 1h --time-field window_end --alert 'spike or count_z > 2' -i windows.jsonl > alerts.jsonl
jq -c 'select((.flags | index("spike")) or .count_z > 2) | {user_id, window_end, count, rev, count_z}' scored.jsonl > want.jsonl
jq -c '{user_id, window_end, count, rev, count_z}' alerts.jsonl | cmp - want.jsonl
[ -s alerts.jsonl ]
