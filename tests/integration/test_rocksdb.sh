#!/bin/bash
# Description: state larger than the heap backend's memory. The same job,
# 600,000 events over about 380,000 keys in one window, runs with
# state.backend.type: heap and 32mb of state memory, which refuses rows
# (counted as state-full, never lost silently), then with rocksdb, which
# holds it all: its results equal sqlite3's exactly, and its instance
# directory is removed at exit.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user:u64,amount:i64,ts:timestamp_ms --key user --ts ts \
	--keys 600000 --events 600000 --rate 1000000 --start-ms 0 --seed 5 \
	--csv "$T/in.csv" 2> /dev/null

job() {	# job BACKEND MEMORY [extra yaml]
	cat <<YAML
job: big-state
schema: {user: u64, amount: i64, ts: timestamp_ms}
source: {type: csv, path: $T/in.csv, timestamp: ts, watermark: {out_of_orderness: 0ms}}
pipeline:
  - key_by: user
  - window: {tumbling: 1h}
  - aggregate: [count(), sum(amount), min(amount), max(amount), avg(amount)]
sink: {type: csv, path: $T/out-$1.csv}
lcores: {rx: 1, workers: 1}
state.backend.type: $1
state.backend.heap.memory: $2
state.backend.rocksdb.localdir: $T/rdb
${3:-}
YAML
}

job heap 32mb > "$T/heap.yaml"
run_dp "$T/heap.yaml" --stats-json "$T/heap.json"
full=$(json "$T/heap.json" '$.workers[0].state_full_dropped')
out=$(($(wc -l < "$T/out-heap.csv") - 1))
[ "$full" -gt 0 ] || fail "the heap backend held everything in 32mb: the test proves nothing"
grep -q "the state backend is full; raise state.backend.heap.memory or use state.backend.type: rocksdb" "$T/dp.err" ||
	fail "no advice in the log: $(cat "$T/dp.err")"
# Every row is either in a result or counted.
sum=$(awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$T/out-heap.csv")
[ $((sum + full)) = 600000 ] || fail "heap: $sum rows in results + $full refused != 600000"
echo "ok: heap with 32mb refused $full rows (counted), $out results"

job rocksdb 32mb > "$T/rocks.yaml"
run_dp "$T/rocks.yaml" --stats-json "$T/rocks.json"
[ "$(json "$T/rocks.json" '$.workers[0].state_full_dropped')" = 0 ] || fail "rocksdb refused rows"
[ "$(json "$T/rocks.json" '$.workers[0].state_errors')" = 0 ] || fail "rocksdb I/O errors"
[ ! -e "$T/rdb/sluice-rocksdb-big-state-"* ] || fail "the rocksdb directory was left behind"
bad=$({ expected_sql "$T/in.csv" "user INTEGER, amount INTEGER, ts INTEGER" 1 0 3600000 0 1 user \
	"count(*) AS count, sum(amount) AS sum_amount, min(amount) AS min_amount, max(amount) AS max_amount, avg(amount) AS avg_amount"
	cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, min_amount INTEGER, max_amount INTEGER, avg_amount REAL);
.import --csv --skip 1 $T/out-rocksdb.csv actual
SELECT (SELECT count(*) FROM expected) - (SELECT count(*) FROM actual)
	+ (SELECT count(*) FROM expected e LEFT JOIN actual a
	   ON a.rowid = e.rowid AND a.user = e.user AND a.window_start = e.window_start
	   AND a.window_end = e.window_end AND a.count = e.count AND a.sum_amount = e.sum_amount
	   AND a.min_amount = e.min_amount AND a.max_amount = e.max_amount
	   AND abs(a.avg_amount - e.avg_amount) <= 1e-9 * max(1, abs(e.avg_amount))
	   WHERE a.rowid IS NULL);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad rocksdb result rows differ from sqlite3's"
rows=$(($(wc -l < "$T/out-rocksdb.csv") - 1))
[ "$rows" -gt 300000 ] || fail "only $rows keys: the state is not larger than the heap's memory"
echo "ok: rocksdb held $rows (window, key) entries; results equal sqlite3's"
