#!/bin/bash
# Description: sliding event-time windows end to end (semantics.md R2.4,
# R3.1, R3.2): a CSV source with disorder and late rows through two
# workers, for a slide that divides the size, one that does not (with an
# offset), and a slide larger than the size (rows in the gaps vanish).
# Every result row and the late-dropped count are compared with sqlite3's.
# Then a checkpointed sliding job survives three SIGKILLs byte for byte.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 20 --events 8000 --rate 400 \
	--start-ms -3000 --disorder 900 --late-fraction 0.03 --late-ms 2500 \
	--seed 23 --csv "$T/in.csv" 2> /dev/null

check() {	# check NAME SIZE_MS SLIDE_MS OFFSET_MS
	local name=$1 size=$2 slide=$3 off=$4 late got_late bad rows
	cat > "$T/$name.yaml" <<YAML
job: sliding-$name
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: 400ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {sliding: ${size}ms, slide: ${slide}ms, offset: ${off}ms}
  - aggregate: [count(), sum(amount), min(amount), max(ts)]
sink: {type: csv, path: $T/$name.csv}
lcores: {rx: 1, workers: 2}
YAML
	q() {
		expected_sql "$T/in.csv" "user INTEGER, amount INTEGER, ts INTEGER" 1 400 "$size" "$off" \
			"1" "user" "count(*) AS count, sum(amount) AS sum_amount, min(amount) AS min_amount, max(ts) AS max_ts" \
			1 "$slide"
	}
	late=$(expect_late q)
	[ "$late" -gt 0 ] || fail "$name: no late rows in the data; the test would prove nothing"
	run_dp "$T/$name.yaml" --stats-json "$T/$name.json"
	got_late=$(( $(json "$T/$name.json" '$.workers[0].numLateRecordsDropped') +
		     $(json "$T/$name.json" '$.workers[1].numLateRecordsDropped') ))
	[ "$got_late" = "$late" ] || fail "$name: late rows: want $late, got $got_late"
	bad=$({ q; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, min_amount INTEGER, max_ts INTEGER);
.import --csv --skip 1 $T/$name.csv actual
SELECT (SELECT count(*) FROM expected) - (SELECT count(*) FROM actual)
	+ (SELECT count(*) FROM expected e LEFT JOIN actual a
	   ON a.rowid = e.rowid AND a.user = e.user AND a.window_start = e.window_start
	   AND a.window_end = e.window_end AND a.count = e.count AND a.sum_amount = e.sum_amount
	   AND a.min_amount = e.min_amount AND a.max_ts = e.max_ts
	   WHERE a.rowid IS NULL);
SQL
	} | sqlite3 -batch)
	[ "$bad" = 0 ] || fail "$name: $bad result rows differ from sqlite3's"
	rows=$(($(wc -l < "$T/$name.csv") - 1))
	[ "$rows" -gt 100 ] || fail "$name: only $rows results"
	echo "ok: sliding $size/$slide offset $off: $rows results and $late late rows equal sqlite3's"
}

check divisible 3000 1000 0
check non_divisible 2500 1000 200
check gapped 1000 1500 -300

# Checkpoints of sliding windows: a paced capture replay with a checkpoint
# every 100 ms is killed with SIGKILL three times and restored from the
# latest checkpoint each time (the open windows sit on the slide's grid,
# not the size's); the committed output is byte-identical to a
# failure-free run's.
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms --key user --ts ts \
	--keys 30 --events 12000 --rate 1000 --disorder 300 --seed 29 \
	--capture "$T/in.slc" 2> /dev/null
cat > "$T/ck.yaml" <<YAML
job: sliding-ck
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 8000
  timestamp: ts
  watermark: {out_of_orderness: 400ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {sliding: 2500ms, slide: 1s, offset: 200ms}
  - aggregate: [count(), sum(amount)]
sink: {type: csv, path: $T/ckout/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 2
YAML
run_dp "$T/ck.yaml"
cat "$T"/ckout/res.csv.part-* > "$T/ck-ref.csv"
rm -rf "$T/ckout" "$T/chk"
kill_and_restore "$T/ck.yaml" 3
cat "$T"/ckout/res.csv.part-* > "$T/ck-got.csv"
same_file "$T/ck-ref.csv" "$T/ck-got.csv"
echo "ok: sliding windows through 3 SIGKILLs and restores: $(($(wc -l < "$T/ck-ref.csv") - 1)) rows byte-identical"
