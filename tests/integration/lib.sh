#!/bin/bash
# Shared helpers for the integration tests. Every expected result is
# computed by sqlite3 from the CSV form of the same events, independently of
# sluice: the watermark in force for a row is recomputed from the rows that
# came before it, exactly as semantics.md R1.3/R1.6 define it.
set -euo pipefail

: "${SLUICE_BUILD:?set by meson}"
: "${SLUICE_SRC:?set by meson}"
DP="$SLUICE_BUILD/dataplane/sluice-dp"
GEN="$SLUICE_BUILD/perf/sluice-gen/sluice-gen"
T=$(mktemp -d /tmp/sluice-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$SLUICE_SRC"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run_dp JOB [args...]: run sluice-dp, keep its stderr in $T/dp.err.
run_dp() {
	local job=$1
	shift
	if ! timeout 120 "$DP" --job "$job" "$@" 2> "$T/dp.err"; then
		cat "$T/dp.err" >&2
		fail "sluice-dp --job $job exited non-zero"
	fi
}

# json FILE EXPR: read one number from a stats JSON file (sqlite's JSON1).
json() {
	sqlite3 -batch :memory: "SELECT json_extract(readfile('$1'), '$2');"
}

# expected_sql CSV COLS PER B SIZE OFFSET FILTER KEYS AGGS [PARTS [SLIDE]]
# Window results as sluice must produce them: rows grouped into batches of
# PER consecutive rows (one packet, or one CSV line when PER is 1); batch j
# belongs to partition j % PARTS; the watermark before batch j is, over the
# partitions seen in earlier batches, the minimum of their largest
# timestamp, minus B, minus 1. A row is late when its window's end - 1 is at
# or below that watermark; late rows that pass the filter are dropped.
# SLIDE (default SIZE: tumbling) gives sliding windows (semantics.md R2.4,
# R3.2): a row goes to every window of it that is not late, and is counted
# as dropped when its newest window is late, or, in none (gaps), when the
# row itself is.
expected_sql() {
	local csv=$1 cols=$2 per=$3 b=$4 size=$5 off=$6 filter=$7 keys=$8 aggs=$9
	local parts=${10:-1} sl=${11:-$5} n j vals=""
	n=$(( sl < size ? (size - 1) / sl + 1 : 1 ))
	for ((j = 0; j < n; j++)); do vals="$vals${vals:+,}($j)"; done
	cat <<SQL
CREATE TABLE ev($cols);
.import --csv --skip 1 $csv ev
CREATE TABLE p AS SELECT (rowid - 1) / $per AS pkt, ((rowid - 1) / $per) % $parts AS part, * FROM ev;
CREATE TABLE pm AS SELECT pkt, part, max(ts) AS mx FROM p GROUP BY pkt;
$(if [ "$parts" = 1 ]; then cat <<ONE
CREATE TABLE pw AS SELECT pkt,
	max(mx) OVER (ORDER BY pkt ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - $b - 1 AS wm
	FROM pm;
ONE
else cat <<MANY
CREATE TABLE pw AS SELECT a.pkt AS pkt,
	(SELECT min(m) FROM (SELECT max(b.mx) AS m FROM pm b WHERE b.pkt < a.pkt GROUP BY b.part)) - $b - 1 AS wm
	FROM pm a;
MANY
fi)
CREATE TABLE x AS SELECT p.*, ts - ((((ts - ($off)) % $sl) + $sl) % $sl) AS pane, pw.wm AS wm
	FROM p JOIN pw USING (pkt);
CREATE VIEW kept AS SELECT * FROM x WHERE ($filter);
CREATE VIEW late AS SELECT * FROM kept WHERE wm IS NOT NULL AND
	CASE WHEN pane > ts - $size THEN pane + $size - 1 <= wm ELSE ts <= wm END;
CREATE TABLE js(j INTEGER);
INSERT INTO js VALUES $vals;
CREATE VIEW win AS SELECT kept.*, pane - js.j * $sl AS ws FROM kept JOIN js
	WHERE pane - js.j * $sl > ts - $size;
CREATE TABLE expected AS SELECT $keys, ws AS window_start, ws + $size AS window_end, $aggs
	FROM win WHERE NOT (wm IS NOT NULL AND ws + $size - 1 <= wm)
	GROUP BY $keys, ws ORDER BY ws, $keys;
SQL
}

# The demo job (configs/jobs/demo.yaml) over the bundled sample, as
# sqlite3 computes it: for expect_csv and expect_late.
demo_sql() {
	expected_sql configs/samples/clicks.csv "user_id INTEGER, url_id INTEGER, ts INTEGER" 72 1000 10000 0 \
		"url_id != 0" "user_id" "count(*) AS count, min(ts) AS first_click, max(ts) AS last_click"
}

# expect_csv OUT SQL...: write the expected rows as CSV with a header.
expect_csv() {
	local out=$1
	shift
	{ "$@"; printf '.headers on\n.mode csv\nSELECT * FROM expected;\n'; } |
		sqlite3 -batch | tr -d '\r' > "$out"
}

# expect_late SQL...: number of late rows sluice must drop.
expect_late() {
	{ "$@"; printf 'SELECT count(*) FROM late;\n'; } | sqlite3 -batch
}

# kill_and_restore JOB N: N times, start sluice-dp on JOB from its latest
# checkpoint and SIGKILL it 0-0.3 s after this run completed a checkpoint
# of its own (start-up time varies with the machine's load: a fixed delay
# could kill every run before any checkpoint); then run it to the end from
# the latest checkpoint (which must exist).
kill_and_restore() {
	local job=$1 n=$2 pid=""
	trap 'if [ -n "${pid:-}" ]; then kill -9 "$pid" 2> /dev/null || true; fi; rm -rf "$T"' EXIT
	for ((i = 0; i < n; i++)); do
		"$DP" --job "$job" --restore latest > /dev/null 2> "$T/crash.log" &
		pid=$!
		for _ in $(seq 200); do
			grep -q "checkpoint [0-9]* complete" "$T/crash.log" && break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.05
		done
		sleep "0.$((RANDOM % 4))"
		kill -9 "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
		pid=""
	done
	trap 'rm -rf "$T"' EXIT
	run_dp "$job" --restore latest
	grep -q "restore: checkpoint" "$T/dp.err" || fail "the last run restored no checkpoint"
}

same_file() {
	if ! cmp -s "$1" "$2"; then
		diff "$1" "$2" | head -20 >&2
		fail "$1 and $2 differ"
	fi
}

# crash_after_ckpt JOB: run JOB and SIGKILL it as soon as its first
# checkpoint in $T/chk is complete (a manifest), mid-stream, so a restore
# after it has one (a fixed delay may come before any on a loaded machine).
crash_after_ckpt() {
	local pid i
	"$DP" --job "$1" > /dev/null 2> "$T/crash.log" &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		ls "$T"/chk/chk-*/_manifest > /dev/null 2>&1 && break
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	ls "$T"/chk/chk-*/_manifest > /dev/null 2>&1 ||
		fail "no checkpoint completed: $(tail -3 "$T/crash.log")"
}
