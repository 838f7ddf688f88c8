#!/bin/bash
# Description: processing-time tumbling, sliding and session windows, and
# count and continuous triggers on them, end to end
# (semantics.md R4.1, R4.2; window time: processing): a CSV source paced at
# 1000 rows/s of wall time through two workers, and once run to
# completion. Which window a row lands in depends on the clock, so the
# checks are the invariants that are exact: per key, the counts and sums
# over all windows equal sqlite3's over the input (times size / slide for
# sliding windows, where every row is in that many); every window_start
# lies on the grid (start - offset a multiple of the slide), window_end =
# start + size; each (key, window) appears once; no row is dropped as
# late; the windows lie within the run's wall-clock time (epoch ms) and
# span at least most of it. Then exactly-once through checkpoints: a
# checkpointed job killed twice with SIGKILL and restored each time
# (R4.7: its open windows come back and fire by the clock) commits per key
# exactly sqlite3's count and sum, each (key, window) once.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 17 --events 2500 --rate 1000 \
	--disorder 900 --late-fraction 0.05 --late-ms 5000 \
	--seed 31 --csv "$T/in.csv" 2> /dev/null

check() {	# check NAME WINDOW SIZE_MS SLIDE_MS OFFSET_MS LCORES
	local name=$1 window=$2 size=$3 slide=$4 off=$5 lcores=$6 t0 t1 bad span late
	local per=$((size / slide))
	cat > "$T/$name.yaml" <<YAML
job: ptime-$name
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  rate: 1000
  timestamp: ts
  watermark: {out_of_orderness: 100ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: $window
  - aggregate: [count(), sum(amount)]
sink: {type: csv, path: $T/$name.csv}
lcores: $lcores
YAML
	t0=$(date +%s%3N)
	run_dp "$T/$name.yaml" --stats-json "$T/$name.json"
	t1=$(date +%s%3N)
	late=$(json "$T/$name.json" '$.workers[0].numLateRecordsDropped')
	[ "$late" = 0 ] || fail "$name: $late rows dropped as late in processing time"
	bad=$(sqlite3 -batch <<SQL
CREATE TABLE input(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/in.csv input
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER);
.import --csv --skip 1 $T/$name.csv actual
SELECT
  (SELECT count(*) FROM (SELECT user, count(*) AS c, sum(amount) AS s FROM input GROUP BY user) e
     LEFT JOIN (SELECT user, sum(count) AS c, sum(sum_amount) AS s FROM actual GROUP BY user) a
     ON a.user = e.user AND a.c = e.c * $per AND a.s = e.s * $per WHERE a.user IS NULL)
  + (SELECT count(DISTINCT user) FROM actual) - (SELECT count(DISTINCT user) FROM input)
  + (SELECT count(*) FROM actual WHERE ((window_start - $off) % $slide + $slide) % $slide != 0
       OR window_end != window_start + $size OR count < 1)
  + (SELECT count(*) - count(DISTINCT user || ',' || window_start) FROM actual)
  + (SELECT count(*) FROM actual WHERE window_start < $t0 - $size OR window_end > $t1 + $size);
SQL
	)
	[ "$bad" = 0 ] || fail "$name: $bad checks differ (sums per key, grid, duplicates or wall time; see $T)"
	span=$(sqlite3 -batch <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER);
.import --csv --skip 1 $T/$name.csv actual
SELECT max(window_end) - min(window_start) FROM actual;
SQL
	)
	# 2500 rows at 1000/s take 2.5 s of wall time at least.
	[ "$span" -ge 2000 ] || fail "$name: the windows span $span ms of a run of $((t1 - t0)) ms"
	echo "ok: $name: $(($(wc -l < "$T/$name.csv") - 1)) windows over $span ms of a $((t1 - t0)) ms run; sums per key equal sqlite3's"
}

check tumbling "{tumbling: 300ms, time: processing}" 300 300 0 "{rx: 1, workers: 2}"
check tumbling_offset "{tumbling: 250ms, offset: 100ms, time: processing}" 250 250 100 "{rx: 1, workers: 2}"
check sliding "{sliding: 600ms, slide: 200ms, offset: -50ms, time: processing}" 600 200 -50 "{rx: 1, workers: 2}"
check rtc "{tumbling: 400ms, time: processing}" 400 400 0 "{rx: 1, workers: 1, run_to_completion: true}"

# Processing-time sessions (W4.1): a row's window is [clock, clock + gap),
# merged with its key's sessions it touches; a session fires once the
# clock passes its end - 1. Exact invariants: per key the counts and sums
# over its sessions equal sqlite3's; every session is at least gap long;
# a key's sessions do not overlap (one that starts at another's end came
# after that one fired); each (key, session) once; none late; all within
# the run's wall-clock time; and with a gap shorter than a key's mean
# spacing, keys have several sessions.
check_session() {	# check_session NAME GAP_MS LCORES
	local name=$1 gap=$2 lcores=$3 t0 t1 bad late n
	cat > "$T/$name.yaml" <<YAML
job: ptime-$name
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  rate: 1000
  timestamp: ts
  watermark: {out_of_orderness: 100ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {session: ${gap}ms, time: processing}
  - aggregate: [count(), sum(amount)]
sink: {type: csv, path: $T/$name.csv}
lcores: $lcores
YAML
	t0=$(date +%s%3N)
	run_dp "$T/$name.yaml" --stats-json "$T/$name.json"
	t1=$(date +%s%3N)
	late=$(json "$T/$name.json" '$.workers[0].numLateRecordsDropped')
	[ "$late" = 0 ] || fail "$name: $late rows dropped as late in processing time"
	bad=$(sqlite3 -batch <<SQL
CREATE TABLE input(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/in.csv input
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER);
.import --csv --skip 1 $T/$name.csv actual
SELECT
  (SELECT count(*) FROM (SELECT user, count(*) AS c, sum(amount) AS s FROM input GROUP BY user) e
     LEFT JOIN (SELECT user, sum(count) AS c, sum(sum_amount) AS s FROM actual GROUP BY user) a
     ON a.user = e.user AND a.c = e.c AND a.s = e.s WHERE a.user IS NULL)
  + (SELECT count(DISTINCT user) FROM actual) - (SELECT count(DISTINCT user) FROM input)
  + (SELECT count(*) FROM actual WHERE window_end - window_start < $gap OR count < 1)
  + (SELECT count(*) FROM (SELECT window_start, lag(window_end) OVER
       (PARTITION BY user ORDER BY window_start) AS prev_end FROM actual)
     WHERE window_start < prev_end)
  + (SELECT count(*) - count(DISTINCT user || ',' || window_start) FROM actual)
  + (SELECT count(*) FROM actual WHERE window_start < $t0 OR window_end > $t1 + $gap);
SQL
	)
	[ "$bad" = 0 ] || fail "$name: $bad checks differ (sums per key, length, overlap, duplicates or wall time; see $T)"
	n=$(($(wc -l < "$T/$name.csv") - 1))
	[ "$n" -ge 50 ] || fail "$name: only $n sessions for 17 keys over 2.5 s with a ${gap} ms gap"
	echo "ok: $name: $n processing-time sessions; sums per key equal sqlite3's, none overlap"
}

check_session session 20 "{rx: 1, workers: 2}"
check_session session_rtc 30 "{rx: 1, workers: 1, run_to_completion: true}"

# A count trigger (CountTrigger.of(5)) and a continuous one
# (ContinuousProcessingTimeTrigger.of(100ms)) in place of the
# processing-time trigger. Count: every row's count is a multiple of 5, a
# (key, window)'s rows are 5, 10, ... up to its largest, and per key the
# largest counts add up to at most its rows (a window's remainder never
# fires). Continuous: a (key, window)'s last firing is its end's, with
# everything, so per key the largest counts and their sums equal
# sqlite3's (an early firing just before the end may repeat it); a window
# fires at most size / interval + 1 times per key.
check_trigger() {	# check_trigger NAME WINDOW SIZE_MS (0: sessions) COUNT INTERVAL_MS
	local name=$1 window=$2 size=$3 n=$4 iv=$5 bad late rows
	cat > "$T/$name.yaml" <<YAML
job: ptime-$name
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  rate: 1000
  timestamp: ts
  watermark: {out_of_orderness: 100ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: $window
  - aggregate: [count(), sum(amount)]
sink: {type: csv, path: $T/$name.csv}
lcores: {rx: 1, workers: 2}
YAML
	run_dp "$T/$name.yaml" --stats-json "$T/$name.json"
	late=$(json "$T/$name.json" '$.workers[0].numLateRecordsDropped')
	[ "$late" = 0 ] || fail "$name: $late rows dropped as late in processing time"
	bad=$(sqlite3 -batch <<SQL
CREATE TABLE input(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/in.csv input
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER);
.import --csv --skip 1 $T/$name.csv actual
CREATE TABLE fin AS SELECT user, window_start, max(count) AS c, count(*) AS firings,
	count(DISTINCT count) AS dc FROM actual GROUP BY user, window_start;
CREATE TABLE fin_sum AS SELECT a.user, max(a.sum_amount) AS s FROM actual a JOIN fin f
	ON a.user = f.user AND a.window_start = f.window_start AND a.count = f.c
	GROUP BY a.user, a.window_start;
SELECT (SELECT count(*) FROM actual WHERE $size > 0 AND (window_start % $size != 0
		OR window_end != window_start + $size))
$(if [ "$n" -gt 0 ]; then cat <<COUNT
  + (SELECT count(*) FROM actual WHERE count % $n != 0)
  + (SELECT count(*) FROM fin WHERE firings != c / $n OR dc != firings)
  + (SELECT count(*) FROM (SELECT user, sum(c) AS c FROM fin GROUP BY user) a
       JOIN (SELECT user, count(*) AS c FROM input GROUP BY user) e USING (user) WHERE a.c > e.c)
COUNT
else cat <<CONT
  + (SELECT count(*) FROM fin WHERE firings > $size / $iv + 1)
  + (SELECT count(*) FROM (SELECT user, count(*) AS c, sum(amount) AS s FROM input GROUP BY user) e
       LEFT JOIN (SELECT f.user, sum(f.c) AS c, (SELECT sum(s) FROM fin_sum x WHERE x.user = f.user) AS s
                  FROM fin f GROUP BY f.user) a
       ON a.user = e.user AND a.c = e.c AND a.s = e.s WHERE a.user IS NULL)
CONT
fi);
SQL
	)
	[ "$bad" = 0 ] || fail "$name: $bad checks differ (see $T)"
	rows=$(($(wc -l < "$T/$name.csv") - 1))
	[ "$rows" -gt 50 ] || fail "$name: only $rows firings"
	echo "ok: $name: $rows firings of processing-time windows, their invariants hold"
}

check_trigger count_trigger "{tumbling: 300ms, time: processing, trigger: {count: 5}}" 300 5 0
# Sessions (size 0: no grid); rows come in clock order, so a session only
# grows at its end and keeps its start: its firings are its 4th, 8th, ...
check_trigger session_count_trigger "{session: 40ms, time: processing, trigger: {count: 4}}" 0 4 0
check_trigger continuous_trigger "{tumbling: 400ms, time: processing, trigger: {continuous: 100ms}}" 400 0 100

# Checkpoints: paced capture, a checkpoint every 100 ms, SIGKILL twice,
# restore latest each time; the committed (two-phase) output counts every
# row exactly once.
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 17 --events 4000 --rate 1000 \
	--seed 37 --csv "$T/ck.csv" --capture "$T/ck.slc" 2> /dev/null
cat > "$T/ck.yaml" <<YAML
job: ptime-ck
schema: {user: u32, amount: i64, ts: timestamp_ms}
source: {type: capture, path: $T/ck.slc, rate: 2000, timestamp: ts,
         watermark: {out_of_orderness: 100ms, emit: punctuated}}
pipeline:
  - key_by: user
  - window: {tumbling: 200ms, time: processing}
  - aggregate: [count(), sum(amount)]
sink: {type: csv, path: $T/ck-out/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/ck-chk
YAML
pid=""
trap 'if [ -n "$pid" ]; then kill -9 $pid 2> /dev/null || true; fi; rm -rf "$T"' EXIT
for s in 0.7 0.9; do
	"$DP" --job "$T/ck.yaml" --restore latest > /dev/null 2> "$T/crash.log" &
	pid=$!
	sleep $s
	kill -9 $pid 2> /dev/null || true
	wait $pid 2> /dev/null || true
	pid=""
done
run_dp "$T/ck.yaml" --restore latest
grep -q "restore: checkpoint" "$T/dp.err" || fail "ck: the last run did not restore a checkpoint"
cat "$T"/ck-out/res.csv.part-* > "$T/ck-res.csv"
bad=$(sqlite3 -batch <<SQL
CREATE TABLE input(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/ck.csv input
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER);
.import --csv --skip 1 $T/ck-res.csv actual
SELECT
  (SELECT count(*) FROM (SELECT user, count(*) AS c, sum(amount) AS s FROM input GROUP BY user) e
     LEFT JOIN (SELECT user, sum(count) AS c, sum(sum_amount) AS s FROM actual GROUP BY user) a
     ON a.user = e.user AND a.c = e.c AND a.s = e.s WHERE a.user IS NULL)
  + (SELECT count(DISTINCT user) FROM actual) - (SELECT count(DISTINCT user) FROM input)
  + (SELECT count(*) FROM actual WHERE window_start % 200 != 0 OR window_end != window_start + 200)
  + (SELECT count(*) - count(DISTINCT user || ',' || window_start) FROM actual);
SQL
)
[ "$bad" = 0 ] || fail "ck: $bad checks differ after two SIGKILLs and restores"
echo "ok: checkpointed processing-time windows, killed twice and restored: every row counted once ($(($(wc -l < "$T/ck-res.csv") - 1)) windows)"
