{ echo '{"a":1}'; sleep 3; echo '{"a":2}'; } | ev-ingest | {
  if IFS= read -r -t 2 first; then echo "$first"; else echo "first line not flushed within 2s"; exit 1; fi
  cat >/dev/null
}
