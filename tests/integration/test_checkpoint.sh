#!/bin/bash
# Description: exactly-once through checkpoints (issue [3]). A paced
# capture replay with checkpoints every 100 ms is killed with SIGKILL at
# random moments six times and restarted with --restore latest; the
# committed output is byte-identical to a failure-free run, which itself
# equals sqlite3's computation. The same holds when a checkpoint taken on 2
# workers restores onto 1 and onto 3, and when the newest checkpoint is
# corrupt (recovery uses the previous one and says why).
# With the argument "native" the job keeps its state in rocksdb with
# native (incremental) checkpoints: the same runs must give the same
# bytes, checkpoints share SST files, restores adopt or read them, and
# the corrupted file is an SST.
. "$(dirname "$0")/lib.sh"
mode=${1:-heap}

"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 50 --events 20000 --rate 1000 --disorder 500 --seed 5 \
	--csv "$T/in.csv" --capture "$T/in.slc" 2> /dev/null

job() {	# job WORKERS -> a job file
	cat > "$T/job$1.yaml" <<YAML
job: ck-test
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 10000
  timestamp: ts
  watermark: {out_of_orderness: 1s, emit: punctuated}
pipeline:
  - key_by: user_id
  - window: {tumbling: 2s}
  - aggregate: [count(), sum(url_id), max(ts)]
sink: {type: csv, path: $T/out/res.csv}
lcores: {rx: 1, workers: $1}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 3
YAML
	if [ "$mode" = native ]; then
		cat >> "$T/job$1.yaml" <<YAML
state.backend.type: rocksdb
state.backend.rocksdb.localdir: $T/rdb
state.backend.incremental: true
YAML
	fi
	echo "$T/job$1.yaml"
}
committed() { cat "$T"/out/res.csv.part-* > "$1"; }
pid=""
trap 'if [ -n "$pid" ]; then kill -9 $pid 2> /dev/null || true; fi; rm -rf "$T"' EXIT
# crash JOB SECONDS: run with --restore latest, SIGKILL after SECONDS.
# crash JOB SECONDS [N]: SIGKILL after SECONDS, and not before N
# checkpoints completed (a loaded machine runs the job slower than the
# fixed delay assumes; the kill must still find something to restore).
crash() {
	"$DP" --job "$1" --restore latest > /dev/null 2> "$T/crash.log" &
	pid=$!
	sleep "$2"
	for _ in $(seq 600); do
		[ "$(grep -c "checkpoint [0-9]* complete" "$T/crash.log")" -ge "${3:-0}" ] && break
		kill -0 $pid 2> /dev/null || break
		sleep 0.1
	done
	kill -9 $pid 2> /dev/null || true
	wait $pid 2> /dev/null || true
	pid=""
}
fresh() { rm -rf "$T/out" "$T/chk"; }

# The failure-free run, checked against sqlite3.
q() {
	expected_sql "$T/in.csv" "user_id INTEGER, url_id INTEGER, ts INTEGER" 72 1000 2000 0 \
		"1" "user_id" "count(*) AS count, sum(url_id) AS sum_url_id, max(ts) AS max_ts"
}
expect_csv "$T/expected.csv" q
fresh
run_dp "$(job 2)"
n=$(grep -c "checkpoint [0-9]* complete" "$T/dp.err")
[ "$n" -ge 5 ] || fail "only $n checkpoints completed"
committed "$T/ref.csv"
same_file "$T/expected.csv" "$T/ref.csv"
echo "ok: failure-free run with $n checkpoints equals sqlite3's ($(($(wc -l < "$T/ref.csv") - 1)) rows)"
if [ "$mode" = native ]; then
	# This state stays in the memtables: each checkpoint holds the
	# copied log (SST sharing is checked by it-chaos_native and the
	# state unit test).
	last=$(ls -d "$T"/chk/chk-* | sort -t- -k2 -n | tail -1)
	ls "$last"/worker-0.db/*.log > /dev/null 2>&1 || fail "no log copy in $last/worker-0.db"
	grep -q '"task":"native"' "$last/_manifest" || fail "the manifest lists no native files"
	echo "ok: native checkpoints: $(basename "$last") lists $(grep -o '"task":"native"' "$last/_manifest" | wc -l) files of worker-N.db"
fi

# Six SIGKILLs at random moments, each restart from the latest checkpoint.
fresh
kills=0
for i in 1 2 3 4 5 6; do
	# the first kill waits for a checkpoint, so the last run has one
	crash "$(job 2)" "0.$((RANDOM % 5 + 3))" $((i == 1))
	kills=$((kills + 1))
done
run_dp "$(job 2)" --restore latest
grep -q "restore: checkpoint" "$T/dp.err" || fail "the last run did not restore a checkpoint"
committed "$T/got.csv"
same_file "$T/ref.csv" "$T/got.csv"
echo "ok: $kills SIGKILLs survived; committed output byte-identical to the failure-free run"

# Rescaling: a checkpoint of 2 workers restored onto 1 and onto 3.
for w in 1 3; do
	fresh
	crash "$(job 2)" 0.9 1
	run_dp "$(job $w)" --restore latest
	grep -q "2 workers then, $w now" "$T/dp.err" || fail "no 2 -> $w restore: $(grep restore "$T/dp.err")"
	if [ "$mode" = native ]; then
		grep -q "from native checkpoints: 1 adopted" "$T/dp.err" ||
			fail "no native checkpoint adopted: $(grep -i native "$T/dp.err")"
		grep "from native checkpoints" "$T/dp.err" | sed 's/^.*worker/  worker/'
	fi
	committed "$T/got$w.csv"
	same_file "$T/ref.csv" "$T/got$w.csv"
	echo "ok: checkpoint of 2 workers restored onto $w: identical output"
done

# Corruption: flip a byte of the newest checkpoint; the previous one is used.
fresh
crash "$(job 2)" 0.9 2
newest=$(ls -d "$T"/chk/chk-* | sort -t- -k2 -n | tail -1)
[ -f "$newest/_manifest" ] || newest=$(ls -d "$T"/chk/chk-* | sort -t- -k2 -n | tail -2 | head -1)
victim="$newest/worker-0"
why="crc mismatch"
if [ "$mode" = native ]; then
	# SST files are hard links shared with older checkpoints: flip a
	# file only the newest holds (not marked shared: its log copy).
	f=$(sqlite3 -batch :memory: "SELECT json_extract(value, '\$.name') FROM
		json_each(readfile('$newest/_manifest'), '\$.files')
		WHERE json_extract(value, '\$.task') = 'native' AND
		json_extract(value, '\$.shared') IS NULL AND
		json_extract(value, '\$.name') LIKE 'worker-0.db/%.log' LIMIT 1;")
	[ -n "$f" ] || fail "$newest has no log copy of its own"
	victim="$newest/$f"
	why="$f: file crc32c"
fi
size=$(stat -c %s "$victim")
printf '\xff' | dd of="$victim" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
run_dp "$(job 2)" --restore latest
grep -q "passed over newer checkpoints" "$T/dp.err" && grep -q "$why" "$T/dp.err" ||
	fail "corruption not reported: $(grep restore "$T/dp.err")"
committed "$T/gotc.csv"
same_file "$T/ref.csv" "$T/gotc.csv"
echo "ok: corrupt newest checkpoint passed over:"
grep -A1 "passed over" "$T/dp.err" | tail -1
