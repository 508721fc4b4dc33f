#!/usr/bin/env bash
# Every malformed weight file in tests/malformed/ must make `CLI info FILE` exit with status 1 or 2 (never a
# signal), print exactly one line on stderr containing the words EXPECTED.tsv lists for it, and nothing on stdout.
# Usage: tests/malformed/check.sh CLI...      e.g. build/native/trm    or    node scripts/trm.mjs
set -u
dir=${MALFORMED_DIR:-$(cd "$(dirname "$0")" && pwd)}  # MALFORMED_DIR: another corpus with its own EXPECTED.tsv
fails=0 count=0
while IFS=$'\t' read -r file words; do
  [ "$file" = file ] && continue
  count=$((count + 1))
  out=$(mktemp) err=$(mktemp)
  timeout 20 "$@" info "$dir/$file" >"$out" 2>"$err"
  rc=$?
  lines=$(wc -l <"$err")
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then echo "FAIL $file: exit status $rc (expected 1 or 2)"; fails=$((fails + 1))
  elif [ "$lines" -ne 1 ]; then echo "FAIL $file: $lines lines on stderr (expected 1)"; cat "$err"; fails=$((fails + 1))
  elif ! grep -qF -- "$words" "$err"; then echo "FAIL $file: message lacks '$words': $(cat "$err")"; fails=$((fails + 1))
  elif [ -s "$out" ]; then echo "FAIL $file: printed on stdout"; fails=$((fails + 1))
  else echo "ok   $file: $(cat "$err")"; fi
  rm -f "$out" "$err"
done <"$dir/EXPECTED.tsv"
echo "$((count - fails)) passed, $fails failed"
[ $fails -eq 0 ] && [ $count -gt 0 ]
