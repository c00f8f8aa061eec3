set -eu
ev-gen --count 20000 --seed 9 --malformed 0.05 | ev-ingest --check-json --reject rej.jsonl --stats 2>stats.json >good.jsonl
jq -e '.in == 20000 and .rejected > 800 and .rejected < 1200 and .in == .out + .rejected' stats.json
[ "$(wc -l < rej.jsonl)" -eq "$(jq .rejected stats.json)" ]
[ "$(wc -l < good.jsonl)" -eq "$(jq .out stats.json)" ]
jq -r .error rej.jsonl | sort | uniq -c
jq -r .error rej.jsonl | grep -q 'invalid UTF-8'
jq -r .error rej.jsonl | grep -q 'NUL byte'
jq -r .error rej.jsonl | grep -q 'not a JSON object'
