#!/usr/bin/env bash
# The main command: install what the page needs (scripts/setup.sh page), build the WASM module it runs
# (scripts/build.sh page), then serve the demo page, which loads the shipped weights (weights/index.json) by default.
#   scripts/start.sh [--port N]      (default 8080; the page is at http://127.0.0.1:N/web/)
set -euo pipefail
cd "$(dirname "$0")/.."
port=8080
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=${2:?--port needs a number}; shift 2 ;;
    *) echo "usage: scripts/start.sh [--port N]" >&2; exit 2 ;;
  esac
done

scripts/setup.sh page
scripts/build.sh page
# Say which shipped models are there (the page says the same for a missing one, and offers to load a file).
node -e '
  const fs = require("fs");
  let models = [];
  try { models = JSON.parse(fs.readFileSync("weights/index.json", "utf8")).models || []; } catch {}
  for (const m of models) {
    const ok = fs.existsSync("weights/" + m.file);
    console.log(`start: ${m.kind} model weights/${m.file}: ${ok ? "shipped" : "MISSING (the page will say so)"}`);
  }'
echo "start: open http://127.0.0.1:${port}/web/  (Ctrl-C stops the server)"
exec scripts/serve --port "$port"
