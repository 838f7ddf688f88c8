#!/bin/bash
# Description: event-time session windows end to end (semantics.md R2.5,
# R3.1-R3.6): a CSV source with disorder and late rows through two
# workers, window: {session: G}, every result row and every late row
# checked against sqlite3, two ways:
#
# 1. Offline sessions, as window functions: per key, the rows ordered by
#    timestamp start a new session when ts - previous ts > G (touching
#    windows merge), each session is [first ts, last ts + G); a row is
#    dropped as late when its own window [ts, ts + G) has end - 1 <= the
#    watermark in force. That is what Flink's incremental merging gives
#    when no row depends on what was still in flight when it came: rows
#    with wm - 4 s < ts <= wm are removed from the generated CSV (they are
#    never a partition's maximum, so no watermark changes), and sqlite3
#    asserts that no kept row touches a session that had already fired
#    and no dropped row meets a session still in flight. first(amount)
#    and last(amount) are the session's rows first and last in arrival
#    order, across the merges that out-of-order rows cause.
# 2. Flink's rules step by step, on the unfiltered data, with L = 0 and
#    L = 3 s: a recursive query walks each key's rows in arrival order
#    with the watermark before each, keeping the key's sessions as JSON:
#    the watermark fires the sessions whose end - 1 it passed and drops
#    those past end - 1 + L; a row merges with every session it touches;
#    with none and ts + G - 1 + L <= wm it is late; a merged session whose
#    end - 1 is already passed fires at once (late firings, R3.3, and
#    late rows absorbed by a session still kept, R3.6).
#
# The same job on rocksdb writes the same bytes. Then a checkpointed
# session job with allowed lateness and a late sink survives four
# SIGKILLs byte for byte, and its checkpoint of 2 workers restores onto 1
# and onto 3.
. "$(dirname "$0")/lib.sh"

G=250
B=400
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 100 --events 8000 --rate 400 \
	--disorder 300 --late-fraction 0.04 --late-ms 9000 \
	--seed 41 --csv "$T/gen.csv" 2> /dev/null

# The rows whose watermark is known before them (expected_sql's x).
x() {	# x CSV
	expected_sql "$1" "user INTEGER, amount INTEGER, ts INTEGER" 1 "$B" 1000 0 "1" "user" "count(*)"
}
{ x "$T/gen.csv"; cat <<SQL
.headers on
.mode csv
SELECT user, amount, ts FROM x WHERE NOT (wm IS NOT NULL AND ts <= wm AND ts > wm - 4000) ORDER BY pkt;
SQL
} | sqlite3 -batch | tr -d '\r' > "$T/in.csv"

q() {
	x "$T/in.csv"
	cat <<SQL
CREATE INDEX x_user ON x(user, pkt);
CREATE TABLE acc AS SELECT * FROM x WHERE wm IS NULL OR ts + $G - 1 > wm;
CREATE TABLE dropped AS SELECT * FROM x WHERE wm IS NOT NULL AND ts + $G - 1 <= wm;
CREATE TABLE s0 AS SELECT *, ts - lag(ts) OVER (PARTITION BY user ORDER BY ts, pkt) AS d FROM acc;
CREATE TABLE s1 AS SELECT *, CASE WHEN d <= $G THEN 0 ELSE 1 END AS new FROM s0;
CREATE TABLE s2 AS SELECT *, sum(new) OVER (PARTITION BY user ORDER BY ts, pkt ROWS UNBOUNDED PRECEDING) AS sid
	FROM s1;
CREATE TABLE sess AS SELECT user, sid, min(ts) AS window_start, max(ts) + $G AS window_end,
	count(*) AS count, sum(amount) AS sum_amount, min(amount) AS min_amount, max(ts) AS max_ts,
	min(pkt) AS first_pkt, max(pkt) AS last_pkt FROM s2 GROUP BY user, sid;
CREATE TABLE want AS SELECT user, window_start, window_end, count, sum_amount, min_amount, max_ts,
	(SELECT amount FROM acc WHERE pkt = first_pkt) AS first_amount,
	(SELECT amount FROM acc WHERE pkt = last_pkt) AS last_amount
	FROM sess ORDER BY window_start, user;
-- Where the offline sessions would not be Flink's: a kept row that
-- touches (ts = an earlier row's ts + G) a session fired before it came,
-- or a dropped row that meets a session of its key still in flight.
CREATE VIEW touch AS SELECT b.* FROM acc b WHERE b.wm = b.ts - 1 AND EXISTS
	(SELECT 1 FROM acc a WHERE a.user = b.user AND a.pkt < b.pkt AND a.ts + $G = b.ts);
CREATE VIEW absorbed AS SELECT r.* FROM dropped r WHERE EXISTS
	(SELECT 1 FROM sess s WHERE s.user = r.user AND s.first_pkt < r.pkt
	 AND s.window_start <= r.ts + $G AND s.window_end >= r.ts AND s.window_end - 1 > r.wm);
SQL
}
pre=$({ q; echo "SELECT (SELECT count(*) FROM touch) || ' ' || (SELECT count(*) FROM absorbed);"; } | sqlite3 -batch)
[ "$pre" = "0 0" ] || fail "the data does not pin the result (touching, absorbed: $pre); change the seed"
stat=$({ q; echo "SELECT (SELECT count(*) FROM dropped) || ' ' || (SELECT count(*) FROM want) || ' ' || (SELECT count(*) FROM want WHERE count > 1) || ' ' || (SELECT count(*) FROM s1 WHERE d = $G);"; } | sqlite3 -batch)
read -r dropped sessions merged touching <<< "$stat"
[ "$dropped" -gt 20 ] || fail "only $dropped late rows in the data; the test would prove little"
# Sessions whose first row to arrive is not their earliest: first() must
# follow arrival across merges, not time.
ooo=$({ q; echo "SELECT count(*) FROM sess WHERE (SELECT ts FROM acc WHERE pkt = first_pkt) != window_start;"; } | sqlite3 -batch)
[ "$ooo" -gt 50 ] || fail "only $ooo sessions whose first arrival is not their earliest row"
[ "$sessions" -gt 500 ] && [ "$merged" -gt 200 ] ||
	fail "only $sessions sessions ($merged of several rows); the test would prove little"

job() {	# job NAME BACKEND
	cat > "$T/$1.yaml" <<YAML
job: session-$1
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {session: ${G}ms}
  - aggregate: [count(), sum(amount), min(amount), max(ts), first(amount), last(amount)]
sink: {type: csv, path: $T/$1.csv}
late_sink: {type: csv, path: $T/$1-late.csv}
lcores: {rx: 1, workers: 2}
state.backend.type: $2
state.backend.rocksdb.localdir: $T/rdb
YAML
}
job heap heap
run_dp "$T/heap.yaml" --stats-json "$T/heap.json"
got=$(( $(json "$T/heap.json" '$.workers[0].numLateRecordsDropped') +
	$(json "$T/heap.json" '$.workers[1].numLateRecordsDropped') ))
[ "$got" = "$dropped" ] || fail "rows dropped as late: want $dropped, got $got"
[ "$(json "$T/heap.json" '$.late_sink_rows')" = "$dropped" ] ||
	fail "late_sink_rows: want $dropped, got $(json "$T/heap.json" '$.late_sink_rows')"
for w in 0 1; do
	for k in state_errors state_full_dropped sessions_full_dropped; do
		[ "$(json "$T/heap.json" "\$.workers[$w].$k")" = 0 ] ||
			fail "worker $w: $k = $(json "$T/heap.json" "\$.workers[$w].$k")"
	done
done
[ "$(head -1 "$T/heap.csv")" = "user,window_start,window_end,count,sum_amount,min_amount,max_ts,first_amount,last_amount" ] ||
	fail "result header: $(head -1 "$T/heap.csv")"
bad=$({ q; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, min_amount INTEGER, max_ts INTEGER, first_amount INTEGER,
	last_amount INTEGER);
.import --csv --skip 1 $T/heap.csv actual
CREATE TABLE a AS SELECT * FROM actual ORDER BY window_start, user;
SELECT (SELECT count(*) FROM want) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM want e LEFT JOIN a
	   ON a.rowid = e.rowid AND a.user = e.user AND a.window_start = e.window_start
	   AND a.window_end = e.window_end AND a.count = e.count AND a.sum_amount = e.sum_amount
	   AND a.min_amount = e.min_amount AND a.max_ts = e.max_ts
	   AND a.first_amount = e.first_amount AND a.last_amount = e.last_amount
	   WHERE a.rowid IS NULL);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad session rows differ from sqlite3's"
bad=$({ q; cat <<SQL
CREATE TABLE side(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/heap-late.csv side
CREATE TABLE e AS SELECT user, amount, ts FROM dropped ORDER BY user, ts, amount;
CREATE TABLE a AS SELECT user, amount, ts FROM side ORDER BY user, ts, amount;
SELECT (SELECT count(*) FROM e) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM e LEFT JOIN a ON a.rowid = e.rowid AND a.user = e.user
	   AND a.amount = e.amount AND a.ts = e.ts WHERE a.rowid IS NULL);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad rows of the late side output differ from the dropped rows sqlite3 finds"
echo "ok: session ${G}ms: $sessions sessions ($merged merged from several rows, $touching joined by a gap of exactly ${G}ms) and $dropped late rows equal sqlite3's"

job rocksdb rocksdb
run_dp "$T/rocksdb.yaml"
same_file "$T/heap.csv" "$T/rocksdb.csv"
echo "ok: the same bytes on rocksdb"

# sim CSV G L: Flink's rules step by step (2. above) into tables want (the
# result rows) and late (the late rows). Per key, three steps a row in
# the recursion: the watermark (ph 0), the merge of the row's window with
# the sessions it touches (ph 1: m), the new set (ph 2). A session is
# [start, end, count, sum, min, max_ts, fired].
sim() {
	local g=$2 l=$3
	cat <<SQL
CREATE TABLE ev(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $1 ev
CREATE TABLE x AS SELECT rowid AS pkt, user, amount, ts,
	coalesce(max(ts) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - $B - 1,
		 -9000000000000000000) AS wm FROM ev;
CREATE TABLE r AS SELECT row_number() OVER (ORDER BY user, pkt) AS n, * FROM x;
CREATE TABLE st AS WITH RECURSIVE st(k, ph, user, ss, m, out, late) AS (
	SELECT 0, 2, NULL, '[]', NULL, '[]', 0
	UNION ALL
	SELECT r.n, (st.ph + 1) % 3, r.user,
		CASE (st.ph + 1) % 3
		WHEN 0 THEN (SELECT json_group_array(json_array(j.value->>0, j.value->>1, j.value->>2,
				j.value->>3, j.value->>4, j.value->>5,
				CASE WHEN (j.value->>1) - 1 <= r.wm THEN 1 ELSE j.value->>6 END))
			FROM json_each(CASE WHEN st.user = r.user THEN st.ss ELSE '[]' END) j
			WHERE (j.value->>1) - 1 + $l > r.wm)
		WHEN 1 THEN st.ss
		ELSE CASE WHEN st.m->>7 THEN st.ss ELSE
			json_insert((SELECT json_group_array(json(j.value)) FROM json_each(st.ss) j
				WHERE NOT ((j.value->>0) <= r.ts + $g AND (j.value->>1) >= r.ts)),
				'\$[#]', json_array(st.m->>0, st.m->>1, st.m->>2, st.m->>3, st.m->>4, st.m->>5,
				(st.m->>1) - 1 <= r.wm)) END
		END,
		CASE (st.ph + 1) % 3 WHEN 1 THEN
			(SELECT json_array(min(r.ts, coalesce(min(j.value->>0), r.ts)),
				max(r.ts + $g, coalesce(max(j.value->>1), r.ts + $g)),
				1 + coalesce(sum(j.value->>2), 0), r.amount + coalesce(sum(j.value->>3), 0),
				min(r.amount, coalesce(min(j.value->>4), r.amount)),
				max(r.ts, coalesce(max(j.value->>5), r.ts)), count(*),
				count(*) = 0 AND r.ts + $g - 1 + $l <= r.wm)
			FROM json_each(st.ss) j WHERE (j.value->>0) <= r.ts + $g AND (j.value->>1) >= r.ts)
		WHEN 2 THEN st.m END,
		CASE (st.ph + 1) % 3
		WHEN 0 THEN (SELECT json_group_array(json_array(r.user, j.value->>0, j.value->>1, j.value->>2,
				j.value->>3, j.value->>4, j.value->>5))
			FROM json_each(CASE WHEN st.user = r.user THEN st.ss ELSE '[]' END) j
			WHERE j.value->>6 = 0 AND (j.value->>1) - 1 <= r.wm)
		WHEN 2 THEN CASE WHEN NOT (st.m->>7) AND (st.m->>1) - 1 <= r.wm THEN
			json_array(json_array(r.user, st.m->>0, st.m->>1, st.m->>2, st.m->>3, st.m->>4, st.m->>5))
			ELSE '[]' END
		ELSE '[]' END,
		(st.ph + 1) % 3 = 2 AND st.m->>7
	FROM st JOIN r ON r.n = st.k + (st.ph = 2)
)
SELECT * FROM st;
CREATE TABLE want AS SELECT j.value->>0 AS user, j.value->>1 AS window_start, j.value->>2 AS window_end,
	j.value->>3 AS count, j.value->>4 AS sum_amount, j.value->>5 AS min_amount, j.value->>6 AS max_ts,
	st.ph = 2 AS at_once
	FROM st, json_each(st.out) j;
-- End of input: WM(MAX) fires what is left.
INSERT INTO want SELECT s.user, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4,
	j.value->>5, 0
	FROM st s, json_each(s.ss) j WHERE s.ph = 2 AND j.value->>6 = 0
	AND s.k = (SELECT max(n) FROM r WHERE r.user = s.user);
CREATE TABLE late AS SELECT r.user, r.amount, r.ts FROM st JOIN r ON r.n = st.k WHERE st.late;
SQL
}

for l in 0 3000; do
	cat > "$T/sim$l.yaml" <<YAML
job: session-sim
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/gen.csv
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {session: ${G}ms, allowed_lateness: ${l}ms}
  - aggregate: [count(), sum(amount), min(amount), max(ts)]
sink: {type: csv, path: $T/sim$l.csv}
late_sink: {type: csv, path: $T/sim$l-late.csv}
lcores: {rx: 1, workers: 2}
YAML
	run_dp "$T/sim$l.yaml" --stats-json "$T/sim$l.json"
	res=$({ sim "$T/gen.csv" "$G" "$l"; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, min_amount INTEGER, max_ts INTEGER);
.import --csv --skip 1 $T/sim$l.csv actual
CREATE TABLE side(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/sim$l-late.csv side
CREATE TABLE e AS SELECT user, window_start, window_end, count, sum_amount, min_amount, max_ts
	FROM want ORDER BY 1, 2, 3, 4, 5, 6, 7;
CREATE TABLE a AS SELECT * FROM actual ORDER BY 1, 2, 3, 4, 5, 6, 7;
CREATE TABLE el AS SELECT * FROM late ORDER BY 1, 3, 2;
CREATE TABLE al AS SELECT * FROM side ORDER BY 1, 3, 2;
SELECT ((SELECT count(*) FROM e) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM e LEFT JOIN a ON a.rowid = e.rowid AND a.user = e.user
	   AND a.window_start = e.window_start AND a.window_end = e.window_end AND a.count = e.count
	   AND a.sum_amount = e.sum_amount AND a.min_amount = e.min_amount AND a.max_ts = e.max_ts
	   WHERE a.rowid IS NULL)
	+ (SELECT count(*) FROM el) - (SELECT count(*) FROM al)
	+ (SELECT count(*) FROM el LEFT JOIN al ON al.rowid = el.rowid AND al.user = el.user
	   AND al.amount = el.amount AND al.ts = el.ts WHERE al.rowid IS NULL))
	|| ' ' || (SELECT count(*) FROM e) || ' ' || (SELECT count(*) FROM late)
	|| ' ' || (SELECT count(*) FROM want WHERE at_once)
	|| ' ' || (SELECT count(*) FROM (SELECT DISTINCT user, window_start FROM want WHERE count > 1));
SQL
	} | sqlite3 -batch)
	read -r bad rows late once multi <<< "$res"
	[ "$bad" = 0 ] || fail "L=$l: $bad result or late rows differ from sqlite3's step-by-step sessions"
	got=$(( $(json "$T/sim$l.json" '$.workers[0].numLateRecordsDropped') +
		$(json "$T/sim$l.json" '$.workers[1].numLateRecordsDropped') ))
	[ "$got" = "$late" ] || fail "L=$l: rows dropped as late: want $late, got $got"
	got=$(( $(json "$T/sim$l.json" '$.workers[0].late_firings') +
		$(json "$T/sim$l.json" '$.workers[1].late_firings') ))
	[ "$got" = "$once" ] || fail "L=$l: late firings: want $once, got $got"
	[ "$late" -gt 50 ] && [ "$multi" -gt 500 ] || fail "L=$l: only $late late rows, $multi sessions of several rows"
	[ "$l" = 0 ] || [ "$once" -gt 50 ] || fail "L=$l: only $once late firings; the test would prove little"
	echo "ok: session ${G}ms, allowed_lateness ${l}ms, step by step: $rows rows ($once fired at once by a late row) and $late late rows equal sqlite3's"
done

# Checkpoints: a paced capture replay with allowed lateness (late firings
# of merged sessions, late rows to the late sink) and a checkpoint every
# 100 ms, killed with SIGKILL three times and restored from the latest
# checkpoint each time: the sessions' sets, accumulators and timers come
# back from the keyed state, a restored key group's rows are judged by its
# checkpoint's watermark, and both outputs equal a failure-free run's.
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms --key user --ts ts \
	--keys 60 --events 12000 --rate 1000 --disorder 500 \
	--late-fraction 0.04 --late-ms 2000 --seed 43 --capture "$T/in.slc" 2> /dev/null
cat > "$T/ck.yaml" <<YAML
job: session-ck
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 8000
  timestamp: ts
  watermark: {out_of_orderness: 300ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {session: 100ms, allowed_lateness: 700ms}
  - aggregate: [count(), sum(amount), max(ts)]
sink: {type: csv, path: $T/ckout/res.csv}
late_sink: {type: csv, path: $T/ckout/late.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 2
YAML
run_dp "$T/ck.yaml" --stats-json "$T/ck.json"
lf=$(( $(json "$T/ck.json" '$.workers[0].late_firings') + $(json "$T/ck.json" '$.workers[1].late_firings') ))
[ "$lf" -gt 20 ] || fail "only $lf late firings in the checkpointed job"
cat "$T"/ckout/res.csv.part-* > "$T/ck-ref.csv"
cat "$T"/ckout/late.csv.part-* | sort > "$T/late-ref.csv"
[ "$(wc -l < "$T/late-ref.csv")" -gt 20 ] || fail "only $(wc -l < "$T/late-ref.csv") late rows in the checkpointed job"
rm -rf "$T/ckout" "$T/chk"
# kill_and_restore's kills (0.4 to 0.7 s in) may all come before any
# checkpoint; crash_after_ckpt makes sure the runs after it have one.
crash_after_ckpt "$T/ck.yaml"
kill_and_restore "$T/ck.yaml" 3
cat "$T"/ckout/res.csv.part-* > "$T/ck-got.csv"
cat "$T"/ckout/late.csv.part-* | sort > "$T/late-got.csv"
same_file "$T/ck-ref.csv" "$T/ck-got.csv"
same_file "$T/late-ref.csv" "$T/late-got.csv"
echo "ok: sessions with allowed lateness through 4 SIGKILLs and restores: $(($(wc -l < "$T/ck-ref.csv") - 1)) rows ($lf late firings) byte-identical, $(($(wc -l < "$T/late-ref.csv") - 1)) late rows the same"

# Rescaling: a checkpoint of that job on 2 workers, mid-stream, restored
# onto 1 and onto 3 workers: each worker loads the sessions'
# sets, accumulators and timers of its key groups from both files, and
# the outputs are the failure-free run's.
for wk in 1 3; do
	rm -rf "$T/ckout" "$T/chk"
	crash_after_ckpt "$T/ck.yaml"
	sed "s/workers: 2/workers: $wk/" "$T/ck.yaml" > "$T/ck$wk.yaml"
	run_dp "$T/ck$wk.yaml" --restore latest
	grep -q "2 workers then, $wk now" "$T/dp.err" || fail "no 2 -> $wk restore: $(grep restore "$T/dp.err")"
	cat "$T"/ckout/res.csv.part-* > "$T/ck-got$wk.csv"
	cat "$T"/ckout/late.csv.part-* | sort > "$T/late-got$wk.csv"
	same_file "$T/ck-ref.csv" "$T/ck-got$wk.csv"
	same_file "$T/late-ref.csv" "$T/late-got$wk.csv"
	echo "ok: a checkpoint of sessions on 2 workers restored onto $wk: identical output"
done
