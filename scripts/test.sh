#!/usr/bin/env bash
# The whole test suite: set-up (engine, router, images, build), then unit and
# integration tests against the real Docker engine, git and HAProxy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "-----> type-checking src, tests and benchmarks"
npm run -s typecheck
results=$(mktemp /tmp/minpaas-test-results.XXXXXX.json)
trap 'rm -f "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
# One plain closing line, the same whatever the runner prints above it.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$results" 2>/dev/null || true
exit "$status"
