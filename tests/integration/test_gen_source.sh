#!/bin/bash
# Description: the in-process generator source (type: gen) makes the rows
# `sluice-gen write` makes for the same parameters. A keyed tumbling count
# over a gen source with disorder, late rows, 3 partitions and batches of
# 50 rows (punctuated watermarks, 2 workers) equals, row by row and byte
# for byte, sqlite3's computation over the CSV from `sluice-gen write`
# with --records-per-packet 50 --partitions 3; the late rows it drops are
# exactly sqlite3's. A run-to-completion job over a string key agrees the
# same way. Then a paced gen job with checkpoints every 100 ms is killed
# with SIGKILL three times and restored: the committed output is
# byte-identical, so the source's offset (the row index) replays exactly.
. "$(dirname "$0")/lib.sh"

P="--keys 40 --events 30000 --rate 2000 --start-ms 1000 --disorder 700 --late-fraction 0.02 --late-ms 2500 --seed 17"
"$GEN" write --schema user:u64,v:u32,ts:timestamp_ms --key user --ts ts $P \
	--records-per-packet 50 --partitions 3 --csv "$T/in.csv" 2> /dev/null

cat > "$T/job.yaml" <<YAML
job: gen-test
schema: {user: u64, v: u32, ts: timestamp_ms}
source:
  type: gen
  key: user
  keys: 40
  events: 30000
  event_rate: 2000
  start_ms: 1000
  disorder: 700
  late_fraction: 0.02
  late_ms: 2500
  seed: 17
  batch: 50
  partitions: 3
  timestamp: ts
  watermark: {out_of_orderness: 400ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: 1s}
  - aggregate: [count(), sum(v), max(ts)]
sink: {type: csv, path: $T/out.csv}
lcores: {rx: 1, workers: 2}
YAML

q() {
	expected_sql "$T/in.csv" "user INTEGER, v INTEGER, ts INTEGER" 50 400 1000 0 \
		"1" "user" "count(*) AS count, sum(v) AS sum_v, max(ts) AS max_ts" 3
}
expect_csv "$T/expected.csv" q
late=$(expect_late q)
[ "$late" -gt 0 ] || fail "no late rows in the data; the test would prove nothing"
run_dp "$T/job.yaml" --stats-json "$T/s.json"
[ "$(json "$T/s.json" '$.rx[0].rows')" = 30000 ] || fail "rows in: $(json "$T/s.json" '$.rx[0].rows'), want 30000"
got_late=$(( $(json "$T/s.json" '$.workers[0].numLateRecordsDropped') + $(json "$T/s.json" '$.workers[1].numLateRecordsDropped') ))
[ "$got_late" = "$late" ] || fail "late rows: want $late, got $got_late"
same_file "$T/expected.csv" "$T/out.csv"
echo "ok: gen source, 3 partitions, batches of 50: $(($(wc -l < "$T/out.csv") - 1)) results equal sqlite3's over sluice-gen write; $late late rows dropped"

# Run to completion (the benchmark's shape), a string key, defaults for
# batch (256) and partitions (1).
"$GEN" write --schema name:str[5],n:i32,ts:i64 --key name --ts ts --keys 5000 \
	--events 200000 --rate 50000 --seed 3 --csv "$T/in2.csv" 2> /dev/null
cat > "$T/job2.yaml" <<YAML
job: gen-rtc
schema: {name: "str[5]", n: i32, ts: i64}
source: {type: gen, key: name, keys: 5000, events: 200000, event_rate: 50000, seed: 3,
         timestamp: ts, watermark: {out_of_orderness: 0ms}}
pipeline:
  - key_by: name
  - window: {tumbling: 500ms}
  - aggregate: [count(), sum(n)]
sink: {type: csv, path: $T/out2.csv}
lcores: {rx: 1, workers: 1, run_to_completion: true}
YAML
q2() {
	expected_sql "$T/in2.csv" "name TEXT, n INTEGER, ts INTEGER" 256 0 500 0 \
		"1" "name" "count(*) AS count, sum(n) AS sum_n"
}
expect_csv "$T/expected2.csv" q2
run_dp "$T/job2.yaml"
same_file "$T/expected2.csv" "$T/out2.csv"
echo "ok: run to completion, string keys: $(($(wc -l < "$T/out2.csv") - 1)) results equal sqlite3's"

# Checkpoints: a paced gen (20000 rows/s of wall time, 1.5 s of input).
# No late rows here: the watermark is not part of a checkpoint (as in
# Flink), so a row late before a crash may be on time after the restore.
"$GEN" write --schema user:u64,v:u32,ts:timestamp_ms --key user --ts ts --keys 40 \
	--events 30000 --rate 2000 --start-ms 1000 --disorder 300 --seed 17 \
	--csv "$T/in3.csv" 2> /dev/null
q3() {
	expected_sql "$T/in3.csv" "user INTEGER, v INTEGER, ts INTEGER" 50 400 1000 0 \
		"1" "user" "count(*) AS count, sum(v) AS sum_v, max(ts) AS max_ts" 3
}
expect_csv "$T/expected3.csv" q3
cat > "$T/job3.yaml" <<YAML
job: gen-ck
schema: {user: u64, v: u32, ts: timestamp_ms}
source:
  type: gen
  key: user
  keys: 40
  events: 30000
  event_rate: 2000
  start_ms: 1000
  disorder: 300
  seed: 17
  batch: 50
  partitions: 3
  rate: 20000
  timestamp: ts
  watermark: {out_of_orderness: 400ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: 1s}
  - aggregate: [count(), sum(v), max(ts)]
sink: {type: csv, path: $T/out3/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 3
YAML
committed() { cat "$T"/out3/res.csv.part-* > "$1"; }
pid=""
trap 'if [ -n "$pid" ]; then kill -9 $pid 2> /dev/null || true; fi; rm -rf "$T"' EXIT
kills=0
for s in 0.1 0.2 0.3; do
	"$DP" --job "$T/job3.yaml" --restore latest > /dev/null 2> "$T/crash.log" &
	pid=$!
	# Kill only once this run has completed a checkpoint of its own (EAL
	# start-up time varies on a loaded machine), then a little later.
	for _ in $(seq 100); do
		grep -q "checkpoint [0-9]* complete" "$T/crash.log" && break
		sleep 0.05
	done
	sleep "$s"
	kill -9 $pid 2> /dev/null || true
	wait $pid 2> /dev/null || true
	pid=""
	kills=$((kills + 1))
done
run_dp "$T/job3.yaml" --restore latest
[ "$(expect_late q3)" = 0 ] || fail "late rows in the checkpoint data"
grep -q "restore: checkpoint" "$T/dp.err" || fail "the last run did not restore a checkpoint: $(cat "$T/dp.err")"
committed "$T/got3.csv"
same_file "$T/expected3.csv" "$T/got3.csv"
echo "ok: $kills SIGKILLs of a paced gen job; committed output byte-identical to sqlite3's"
