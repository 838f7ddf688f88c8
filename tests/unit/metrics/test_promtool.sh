#!/bin/bash
# Description: the rendered canned jobs (canned.json, via metrics_dump) pass
# `promtool check metrics` with no error and no lint warning. promtool comes
# from Debian's prometheus package; without it the test is skipped (77).
# Usage: test_promtool.sh METRICS_DUMP CANNED_JSON
set -euo pipefail

dump=$1
canned=$2
if ! command -v promtool >/dev/null; then
	echo "SKIP: promtool not found (apt-get install prometheus)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$dump" "$canned" >"$tmp/metrics.prom"
test -s "$tmp/metrics.prom"
# promtool exits non-zero on parse errors and on lint problems; it also
# prints lint problems, so any output at all is a failure too.
rc=0
promtool check metrics <"$tmp/metrics.prom" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ]; then
	echo "FAIL: promtool check metrics (exit $rc)"
	exit 1
fi
echo "ok: promtool check metrics: $(grep -c '^# TYPE' "$tmp/metrics.prom") families," \
	"$(grep -vc '^#' "$tmp/metrics.prom") samples, no problems"
