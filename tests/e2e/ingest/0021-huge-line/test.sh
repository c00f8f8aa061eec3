{ echo '{"a":1}'; printf '{"big":"'; head -c 20000000 /dev/zero | tr '\0' x; printf '"}\n'; echo '{"a":3}'; } > in.jsonl
ev-ingest in.jsonl > out.jsonl 2> err.txt || exit 1
[ "$(cat out.jsonl)" = '{"a":1}
{"a":3}' ] || { echo "bad output"; head -c 300 out.jsonl; exit 1; }
grep -q 'in.jsonl:2: line too long: 20000010 bytes (--max-line 16777216) (skipped)' err.txt || { cat err.txt; exit 1; }
