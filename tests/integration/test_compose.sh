# Checkpoints: the composed window job from a paced capture (the same
# events, 64 a batch as in the pcap), a checkpoint every 100 ms,
# unaligned (the in-flight rows kept as channel state are the map's rows),
# on 2 workers: killed with SIGKILL three times and restored from the
# latest checkpoint, its committed output is byte-identical to a
# failure-free run's, which is sqlite3's; a checkpoint of 2 workers
# restored onto 3 (N -> M: the key groups move) gives the same rows.
#!/bin/bash
# Description: pipeline composition end to end through a real DPDK port
# (net_pcap reading sluice-gen's capture): Flink's source -> filter -> map
# (a renamed key, a computed column) -> filter on the map's column ->
# keyBy -> window -> aggregate (over the computed column) -> filter on the
# aggregate -> map (computed columns of the window's results) -> sink. The
# map and its filters run chained to the source, the filter after the
# aggregate on the workers, the last map where the sink writes; on 1 and 2
# workers and run to completion, every row must equal sqlite3's computation
# over the same events, and the late rows dropped must be those it finds.
# Then the same steps around dedup (rows written as they come) and after
# an interval join (pairs written in join_ts order), on 1 and 2 workers,
# and the window job through SIGKILLs and a 2 -> 3 worker restore; then
# a second keyed stage over the first one's results on 1, 2 and 3
# workers; a union with a map before key_by.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 40 --events 20000 --rate 1000 --disorder 800 --late-fraction 0.02 --late-ms 3000 \
	--records-per-packet 64 --seed 11 --csv "$T/in.csv" --pcap "$T/in.pcap" 2> /dev/null

# sqlite3: the window over the filtered rows (one packet of 64 rows per
# watermark), keyed by user_id and summing url_id * 2, then the steps
# after the aggregate, in the sink's order (window_start, key).
q() {
	expected_sql "$T/in.csv" "user_id INTEGER, url_id INTEGER, ts INTEGER" 64 500 2000 0 \
		"url_id != 0 AND url_id * 2 < 180" "user_id" \
		"count(*) AS n, sum(url_id * 2) AS s2, max(ts) AS last"
	cat <<'SQL'
CREATE TABLE final AS SELECT user_id AS user, window_end, n, s2,
	last - window_start AS span, s2 / n AS mean
	FROM expected WHERE n > 42 AND s2 >= 3600 ORDER BY window_start, user_id;
SQL
}
{ q; printf '.headers on\n.mode csv\nSELECT * FROM final;\n'; } | sqlite3 -batch | tr -d '\r' > "$T/expected.csv"
late=$(expect_late q)
rows=$(($(wc -l < "$T/expected.csv") - 1))
all=$({ q; printf 'SELECT count(*) FROM expected;\n'; } | sqlite3 -batch)
[ "$rows" -gt 50 ] || fail "expected result is suspiciously small ($rows rows)"
[ "$all" -gt "$rows" ] || fail "the filter after the aggregate removes nothing; the test would prove nothing"
[ "$late" -gt 0 ] || fail "the sample has no late events; the test would prove nothing"

job() {	# job LCORES_YAML
	cat <<YAML
job: compose
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: ethdev
  port: "net_pcap0,rx_pcap=$T/in.pcap"
  timestamp: ts
  watermark: {out_of_orderness: 500ms, emit: punctuated}
pipeline:
  - filter: "url_id != 0"
  - map: {user: user_id, ts: ts, u2: "url_id * 2"}
  - filter: "u2 < 180"
  - key_by: user
  - window: {tumbling: 2s}
  - aggregate: [count() as n, sum(u2) as s2, max(ts) as last]
  - filter: "n > 42"
  - filter: "s2 >= 3600"
  - map: {user: user, window_end: window_end, n: n, s2: s2, span: "last - window_start", mean: "s2 / n"}
sink: {type: csv, path: $T/out.csv}
lcores: $1
YAML
}

for lc in "{rx: 1, workers: 1}" "{rx: 1, workers: 2}" "{rx: 1, workers: 1, run_to_completion: true}"; do
	job "$lc" > "$T/job.yaml"
	run_dp "$T/job.yaml" --stats-json "$T/s.json"
	# the sink orders rows by (window_start, key) before its map: the
	# same bytes whatever the number of workers
	same_file "$T/expected.csv" "$T/out.csv"
	[ "$(head -1 "$T/out.csv")" = "user,window_end,n,s2,span,mean" ] || fail "$lc: header $(head -1 "$T/out.csv")"
	sum=0
	n=$(sqlite3 -batch :memory: "SELECT json_array_length(json_extract(readfile('$T/s.json'), '\$.workers'));")
	for ((i = 0; i < n; i++)); do
		sum=$((sum + $(json "$T/s.json" "\$.workers[$i].numLateRecordsDropped")))
	done
	[ "$sum" = "$late" ] || fail "$lc: late rows: want $late, got $sum"
	sum=0
	for ((i = 0; i < n; i++)); do
		sum=$((sum + $(json "$T/s.json" "\$.workers[$i].post_filtered")))
	done
	[ "$sum" = $((all - rows)) ] || fail "$lc: removed after the aggregate: want $((all - rows)), got $sum"
	echo "ok: $lc: $rows rows (of $all windows) and $late late rows equal sqlite3's"
done

# dedup, then a filter and a map over the rows it keeps (written as they
# come): with a bound longer than the stream, the first row of each key
# in arrival order, as sqlite3 finds it; the map before key_by renames
# the key and computes the column the filter after dedup reads.
cat > "$T/dedup.yaml" <<YAML
job: compose-dedup
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: ethdev
  port: "net_pcap0,rx_pcap=$T/in.pcap"
  timestamp: ts
  watermark: {out_of_orderness: 500ms, emit: punctuated}
pipeline:
  - map: {user: user_id, ts: ts, u3: "url_id * 3"}
  - key_by: user
  - dedup: {within: 1h}
  - filter: "u3 % 2 == 0"
  - map: {user: user, at: ts, half: "u3 / 2"}
sink: {type: csv, path: $T/out.csv}
lcores: {rx: 1, workers: WORKERS}
YAML
sqlite3 -batch :memory: <<SQL | LC_ALL=C sort > "$T/want.rows"
.mode csv
.import $T/in.csv ev
SELECT CAST(user_id AS INTEGER), CAST(ts AS INTEGER), CAST(url_id AS INTEGER) * 3 / 2 FROM ev
WHERE rowid IN (SELECT min(rowid) FROM ev GROUP BY user_id) AND (CAST(url_id AS INTEGER) * 3) % 2 = 0;
SQL
kept=$(wc -l < "$T/want.rows")
[ "$kept" -gt 5 ] && [ "$kept" -lt 40 ] || fail "dedup: $kept rows expected of 40 keys; the filter proves little"
for w in 1 2; do
	sed "s/WORKERS/$w/" "$T/dedup.yaml" > "$T/job.yaml"
	run_dp "$T/job.yaml" --stats-json "$T/s.json"
	[ "$(head -1 "$T/out.csv")" = "user,at,half" ] || fail "dedup: header $(head -1 "$T/out.csv")"
	tail -n +2 "$T/out.csv" | LC_ALL=C sort > "$T/got.rows"
	same_file "$T/want.rows" "$T/got.rows"
	echo "ok: map, key_by, dedup, filter, map on $w worker(s): sqlite3's $kept rows"
done

# An interval join, then a filter and a map over its pairs (semantics.md
# R7.1, bounds inclusive): orders through the DPDK port, payments from a
# CSV file, no late rows; sqlite3's BETWEEN join, filtered, mapped and
# filtered on the map's column (where the sink writes).
"$GEN" write --schema order_id:u64,amount:i64,ts:timestamp_ms --key order_id --ts ts \
	--keys 300 --events 12000 --rate 1200 --disorder 300 --seed 11 \
	--csv "$T/o.csv" --pcap "$T/o.pcap" 2> /dev/null
"$GEN" write --schema pay_id:u32,ts:timestamp_ms,order_id:u64 --key order_id --ts ts \
	--keys 300 --events 9000 --rate 900 --disorder 200 --seed 12 --csv "$T/p.csv" 2> /dev/null
sqlite3 -batch :memory: <<SQL | LC_ALL=C sort > "$T/want.rows"
.mode csv
.import $T/o.csv oi
.import $T/p.csv pi
CREATE TABLE o AS SELECT CAST(order_id AS INTEGER) AS order_id, CAST(amount AS INTEGER) AS amount,
	CAST(ts AS INTEGER) AS ts FROM oi;
CREATE TABLE p AS SELECT CAST(pay_id AS INTEGER) AS pay_id, CAST(ts AS INTEGER) AS ts,
	CAST(order_id AS INTEGER) AS order_id FROM pi;
CREATE TABLE j AS SELECT o.order_id, p.pay_id, p.ts - o.ts AS lag, o.amount * 100 AS cents
FROM o JOIN p ON o.order_id = p.order_id AND p.ts BETWEEN o.ts - 100 AND o.ts + 50
WHERE o.amount >= 50 AND p.ts != o.ts;
SELECT * FROM j WHERE lag > -60;
SELECT count(*) FROM j WHERE lag <= -60;
SQL
sinkf=$(grep -v , "$T/want.rows")
grep , "$T/want.rows" > "$T/want.tmp" && mv "$T/want.tmp" "$T/want.rows"
[ "$sinkf" -gt 0 ] || fail "join: the filter after the map removes nothing"
pairs=$(wc -l < "$T/want.rows")
[ "$pairs" -gt 1000 ] || fail "join: $pairs pairs expected; the data proves little"
for w in 1 2; do
	cat > "$T/job.yaml" <<YAML
job: compose-join
sources:
  orders:
    schema: {order_id: u64, amount: i64, ts: timestamp_ms}
    type: ethdev
    port: "net_pcap0,rx_pcap=$T/o.pcap"
    timestamp: ts
    watermark: {out_of_orderness: 300ms, emit: punctuated}
  payments:
    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}
    type: csv
    path: $T/p.csv
    timestamp: ts
    watermark: {out_of_orderness: 200ms, emit: punctuated}
pipeline:
  - join: {left: orders, right: payments, key: order_id, interval: {lower: -100ms, upper: 50ms}}
  - filter: "amount >= 50"
  - filter: "payments_ts != ts"
  - map: {order_id: order_id, pay_id: pay_id, lag: "payments_ts - ts", cents: "amount * 100"}
  - filter: "lag > -60"
sink: {type: csv, path: $T/out.csv}
lcores: {workers: $w}
YAML
	run_dp "$T/job.yaml" --stats-json "$T/s.json"
	[ "$(head -1 "$T/out.csv")" = "order_id,pay_id,lag,cents" ] || fail "join: header $(head -1 "$T/out.csv")"
	tail -n +2 "$T/out.csv" | LC_ALL=C sort > "$T/got.rows"
	same_file "$T/want.rows" "$T/got.rows"
	[ "$(json "$T/s.json" '$.sink_filtered')" = "$sinkf" ] ||
		fail "join: removed after the map: want $sinkf, got $(json "$T/s.json" '$.sink_filtered')"
	cp "$T/out.csv" "$T/join-$w.csv"
	echo "ok: interval join, filter, filter, map, filter on $w worker(s): sqlite3's $pairs pairs"
done
# the sink orders the pairs by (join_ts, row) before its map
same_file "$T/join-1.csv" "$T/join-2.csv"

# Checkpoints: the composed window job from a paced capture (the same
# events, 64 a batch as in the pcap), a checkpoint
# every 100 ms, unaligned (the in-flight rows kept as channel state are
# the map's rows) on 2 workers, killed with SIGKILL three times and
# restored from the latest checkpoint, the last time onto 3 workers
# (N -> M: the key groups move); the committed output is byte-identical
# to a failure-free run's, which is sqlite3's.
"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 40 --events 20000 --rate 1000 --disorder 800 --late-fraction 0.02 --late-ms 3000 \
	--records-per-packet 64 --seed 11 --capture "$T/in.slc" 2> /dev/null
ckjob() {	# ckjob WORKERS
	job "{rx: 1, workers: $1}" | sed -e "s|^  type: ethdev|  type: capture\n  path: $T/in.slc\n  rate: 10000|" \
		-e '/^  port:/d' -e "s|^sink: .*|sink: {type: csv, path: $T/ckout/res.csv}|"
	cat <<YAML
execution.checkpointing.interval: 100ms
execution.checkpointing.unaligned: true
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 2
YAML
}
ckjob 2 > "$T/ck.yaml"
ckjob 3 > "$T/ck3.yaml"
grep -q 'type: capture' "$T/ck.yaml" || fail "could not make the checkpointed job"
run_dp "$T/ck.yaml"
cat "$T"/ckout/res.csv.part-* > "$T/ck-ref.csv"
same_file "$T/expected.csv" "$T/ck-ref.csv"
rm -rf "$T/ckout" "$T/chk"
kill_and_restore "$T/ck.yaml" 3
cat "$T"/ckout/res.csv.part-* > "$T/ck-got.csv"
same_file "$T/ck-ref.csv" "$T/ck-got.csv"
echo "ok: composed window job through 3 SIGKILLs (unaligned checkpoints, 2 workers): $(($(wc -l < "$T/ck-ref.csv") - 1)) rows byte-identical"
# 2 -> 3 workers: killed once a checkpoint of 2 workers is complete
rm -rf "$T/ckout" "$T/chk"
crash_after_ckpt "$T/ck.yaml"
run_dp "$T/ck3.yaml" --restore latest
grep -q "2 workers then, 3 now" "$T/dp.err" || fail "no 2 -> 3 restore: $(grep restore "$T/dp.err")"
cat "$T"/ckout/res.csv.part-* > "$T/ck-got.csv"
same_file "$T/ck-ref.csv" "$T/ck-got.csv"
echo "ok: a checkpoint of 2 workers restored onto 3: the same rows"

# A second keyed stage (semantics.md R9.1, R2.9): per user and 2 s the
# clicks, the windows with more than 40, then per region (user_id % 4,
# computed before key_by) and 6 s over those results, each at its
# window_time = window_end - 1; then a filter and a map over the second
# stage's results. On 1, 2 and 3 workers (the first stage's results
# re-partitioned by region through rings between the workers) and run to
# completion, through the DPDK port: the same bytes, which are sqlite3's
# (the first stage as above, its results grouped by window_end - 1).
q2() {
	expected_sql "${Q2CSV:-$T/in.csv}" "user_id INTEGER, url_id INTEGER, ts INTEGER" 64 500 2000 0 \
		"url_id != 0" "user_id" "count(*) AS n, sum(url_id * 2) AS s2"
	cat <<'SQL'
CREATE TABLE s1 AS SELECT user_id % 4 AS region, window_end - 1 AS wt, n, s2 FROM expected WHERE n > 40;
CREATE TABLE s2 AS SELECT region, ws AS window_start, ws + 6000 AS window_end, count(*) AS users,
	sum(n) AS clicks, max(n) AS top, sum(s2) AS s2, min(wt) AS first_wt
	FROM (SELECT *, wt - (((wt % 6000) + 6000) % 6000) AS ws FROM s1) GROUP BY region, ws;
CREATE TABLE final2 AS SELECT region, window_end, users, clicks, top, s2 / clicks AS mean_u2, first_wt
	FROM s2 WHERE users > 12 ORDER BY window_start, region;
SQL
}
{ q2; printf '.headers on\n.mode csv\nSELECT * FROM final2;\n'; } | sqlite3 -batch | tr -d '\r' > "$T/expected2.csv"
rows2=$(($(wc -l < "$T/expected2.csv") - 1))
between=$({ q2; printf 'SELECT count(*) FROM expected WHERE n <= 40;\n'; } | sqlite3 -batch)
after=$({ q2; printf 'SELECT count(*) FROM s2 WHERE users <= 12;\n'; } | sqlite3 -batch)
kept=$({ q2; printf 'SELECT count(*) FROM s1;\n'; } | sqlite3 -batch)
[ "$rows2" -gt 8 ] || fail "two stages: $rows2 rows expected; the data proves little"
[ "$between" -gt 0 ] && [ "$after" -gt 0 ] || fail "two stages: the filters remove nothing ($between, $after)"
for lc in "{rx: 1, workers: 1}" "{rx: 1, workers: 2}" "{rx: 1, workers: 3}" \
	"{rx: 1, workers: 1, run_to_completion: true}"; do
	cat > "$T/two.yaml" <<YAML
job: two-stage
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: ethdev
  port: "net_pcap0,rx_pcap=$T/in.pcap"
  timestamp: ts
  watermark: {out_of_orderness: 500ms, emit: punctuated}
pipeline:
  - filter: "url_id != 0"
  - map: {user: user_id, region: "user_id % 4", ts: ts, u2: "url_id * 2"}
  - key_by: [user, region]
  - window: {tumbling: 2s}
  - aggregate: [count() as n, sum(u2) as s2]
  - filter: "n > 40"
  - key_by: region
  - window: {tumbling: 6s}
  - aggregate: [count() as users, sum(n) as clicks, max(n) as top, sum(s2) as s2, min(window_time) as first_wt]
  - filter: "users > 12"
  - map: {region: region, window_end: window_end, users: users, clicks: clicks, top: top, mean_u2: "s2 / clicks", first_wt: first_wt}
sink: {type: csv, path: $T/two.csv}
lcores: $lc
YAML
	run_dp "$T/two.yaml" --stats-json "$T/s.json"
	same_file "$T/expected2.csv" "$T/two.csv"
	nw=$(echo "$lc" | sed -n 's/.*workers: \([0-9]*\).*/\1/p')
	sums=$(sqlite3 -batch :memory: "SELECT sum(json_extract(value, '\$.stage2.filtered_before')),
		sum(json_extract(value, '\$.stage2.numLateRecordsDropped')),
		sum(json_extract(value, '\$.stage2.rows_in')), sum(json_extract(value, '\$.post_filtered')),
		count(*) FROM json_each(json_extract(readfile('$T/s.json'), '\$.workers'));")
	[ "$sums" = "$between|0|$kept|$after|$nw" ] ||
		fail "two stages, $lc: (filtered between, late in the second, its rows, filtered after, workers): want $between|0|$kept|$after|$nw, got $sums"
	echo "ok: two keyed stages, $lc: sqlite3's $rows2 rows ($between first-stage rows filtered between the stages, none late in the second)"
done

# A union, then a map before key_by: each source's RX lcore maps its own
# rows (two CSV halves of the events; a bound of 30 s, so none is late
# however the two interleave): sqlite3's windows over all the events.
head -10001 "$T/in.csv" > "$T/a.csv"
{ head -1 "$T/in.csv"; tail -n +10002 "$T/in.csv"; } > "$T/b.csv"
cat > "$T/u.yaml" <<YAML
job: union-map
sources:
  a: {schema: {user_id: u64, url_id: u32, ts: timestamp_ms}, type: csv, path: $T/a.csv, timestamp: ts, watermark: {out_of_orderness: 30s, emit: punctuated}}
  b: {schema: {user_id: u64, url_id: u32, ts: timestamp_ms}, type: csv, path: $T/b.csv, timestamp: ts, watermark: {out_of_orderness: 30s, emit: punctuated}}
pipeline:
  - union: [a, b]
  - filter: "url_id != 0"
  - map: {user: user_id, ts: ts, u2: "url_id * 2"}
  - filter: "u2 < 180"
  - key_by: user
  - window: {tumbling: 5s}
  - aggregate: [count() as n, sum(u2) as s2]
sink: {type: csv, path: $T/u.csv}
lcores: {workers: 2}
YAML
sqlite3 -batch :memory: <<SQL | tr -d '\r' | LC_ALL=C sort > "$T/want.rows"
.mode csv
.import $T/in.csv ev
CREATE TABLE e AS SELECT CAST(user_id AS INTEGER) AS u, CAST(url_id AS INTEGER) AS url, CAST(ts AS INTEGER) AS ts FROM ev;
SELECT u, ws, ws + 5000, count(*), sum(url * 2) FROM (SELECT *, ts - ((ts % 5000) + 5000) % 5000 AS ws FROM e)
	WHERE url != 0 AND url * 2 < 180 GROUP BY u, ws;
SQL
run_dp "$T/u.yaml"
tail -n +2 "$T/u.csv" | LC_ALL=C sort > "$T/got.rows"
same_file "$T/want.rows" "$T/got.rows"
echo "ok: union, filter, map, filter, key_by, window on 2 workers: sqlite3's $(wc -l < "$T/want.rows") rows"

# The two keyed stages with checkpoints (aligned: the second stage's
# snapshot waits for every worker's first-stage barrier on its rings,
# R6.2) from a paced capture of events none of which is late (after a
# restore the watermark starts over, R1.11, so a row late before a
# failure could count after it: the comparison would prove nothing about
# the state): killed with SIGKILL three times on 2 workers and restored
# from the latest checkpoint, the committed output is sqlite3's; a
# checkpoint taken mid-stream (the 8th or later, with second-stage windows open)
# of 2 workers restored onto 3 and onto 1, and one of 1 worker onto 2,
# give the same rows.
"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 40 --events 20000 --rate 1000 --disorder 400 --records-per-packet 64 --seed 11 \
	--csv "$T/nl.csv" --capture "$T/nl.slc" 2> /dev/null
{ Q2CSV="$T/nl.csv" q2; printf '.headers on\n.mode csv\nSELECT * FROM final2;\n'; } | sqlite3 -batch |
	tr -d '\r' > "$T/expected2nl.csv"
[ "$({ Q2CSV="$T/nl.csv" q2; printf 'SELECT count(*) FROM late;\n'; } | sqlite3 -batch)" = 0 ] ||
	fail "the capture for the checkpoints has late rows"
twock() {	# twock WORKERS [RATE]
	sed -e "s|^  type: ethdev|  type: capture\n  path: $T/nl.slc\n  rate: ${2:-10000}|" -e '/^  port:/d' \
		-e "s|^sink: .*|sink: {type: csv, path: $T/ck2out/res.csv}|" \
		-e "s|^lcores: .*|lcores: {rx: 1, workers: $1}|" "$T/two.yaml"
	cat <<YAML
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk2
state.checkpoints.num-retained: 2
YAML
}
for w in 1 2 3; do twock $w > "$T/twock$w.yaml"; done
# slower for the mid-stream kills: the job must still run at the 8th
for w in 1 2; do twock $w 4000 > "$T/twockslow$w.yaml"; done
grep -q 'type: capture' "$T/twock2.yaml" || fail "could not make the checkpointed two-stage job"
rm -rf "$T/ck2out" "$T/chk2"
kill_and_restore "$T/twock2.yaml" 3
cat "$T"/ck2out/res.csv.part-* > "$T/ck2-got.csv"
same_file "$T/expected2nl.csv" "$T/ck2-got.csv"
echo "ok: two keyed stages through 3 SIGKILLs (checkpoints, 2 workers): sqlite3's $(($(wc -l < "$T/expected2nl.csv") - 1)) rows"
# crash_at JOB: run JOB and SIGKILL it once its 8th checkpoint (or a
# later one) is complete: the first stage has fired windows by then. A
# loaded machine can slow the checkpoints down until the job ends first:
# then it starts over, three times at most.
crash_at() {
	local at='checkpoint \([89]\|[1-9][0-9]\) complete' try

	for try in 1 2 3; do
		rm -rf "$T/ck2out" "$T/chk2"
		# emptied here: the child's redirection may come after the first grep
		: > "$T/crash.log"
		"$DP" --job "$1" > /dev/null 2> "$T/crash.log" &
		pid=$!
		for _ in $(seq 400); do
			grep -q "$at" "$T/crash.log" && break
			kill -0 "$pid" 2> /dev/null || break
			sleep 0.02
		done
		if kill -9 "$pid" 2> /dev/null; then
			wait "$pid" 2> /dev/null || true
			grep -q "$at" "$T/crash.log" || fail "no 8th checkpoint before the kill: $(grep -c complete "$T/crash.log") complete"
			return 0
		fi
		wait "$pid" 2> /dev/null || true
		echo "note: the job ended before its 8th checkpoint ($(grep -c complete "$T/crash.log") complete); again" >&2
	done
	fail "the job ended before its 8th checkpoint three times"
}
for pair in "2 3" "2 1" "1 2"; do
	set -- $pair
	rm -rf "$T/ck2out" "$T/chk2"
	crash_at "$T/twockslow$1.yaml"
	run_dp "$T/twock$2.yaml" --restore latest
	grep -q "$1 workers then, $2 now" "$T/dp.err" || fail "no $1 -> $2 restore: $(grep restore "$T/dp.err")"
	cat "$T"/ck2out/res.csv.part-* > "$T/ck2-got.csv"
	same_file "$T/expected2nl.csv" "$T/ck2-got.csv"
	echo "ok: two keyed stages: a mid-stream checkpoint of $1 worker(s) restored onto $2: the same rows"
done

# Under sluiced (the checkpoint coordinator, restarts from the latest
# checkpoint): the two-stage job on 2 workers, its dataplane killed with
# SIGKILL twice while it runs; the committed output is still sqlite3's.
SLD="$SLUICE_BUILD/control/sluiced/sluiced"
CTL="$SLUICE_BUILD/control/sluicectl/sluicectl"
export SLUICE_SOCKET="$T/sluiced.sock"
{ twock 2 5000 | sed -e "s|$T/ck2out/|$T/sldout/|" -e "s|$T/chk2|$T/sldchk|" \
	-e "s|^job: .*|job: two-stage-sld|"
  printf 'restart-strategy.type: fixed-delay\nrestart-strategy.fixed-delay.attempts: 20\nrestart-strategy.fixed-delay.delay: 100ms\n'
} > "$T/sld.yaml"
grep -q "rate: 5000" "$T/sld.yaml" || fail "could not make the sluiced job"
"$SLD" --socket "$SLUICE_SOCKET" --state-dir "$T/state" > /dev/null 2> "$T/sld.err" &
sld=$!
pid=""
trap 'kill -9 $sld 2> /dev/null || true; if [ -n "$pid" ]; then kill -9 "$pid" 2> /dev/null || true; fi; rm -rf "$T"' EXIT
for _ in $(seq 100); do grep -q "ready on" "$T/sld.err" && break; sleep 0.1; done
"$CTL" run "$T/sld.yaml" > /dev/null || fail "sluicectl run"
status() { "$CTL" --json status two-stage-sld > "$T/st.json" 2> /dev/null || true; }
kills=0
for _ in $(seq 400); do
	[ $kills -ge 2 ] && break
	status
	[ "$(json "$T/st.json" '$.state')" = FINISHED ] && break
	pid=$(json "$T/st.json" '$.pid')
	if [ "$(json "$T/st.json" '$.state')" = RUNNING ] && [ -n "$pid" ] &&
	   [ "$(json "$T/st.json" '$.lastCompletedCheckpoint' 2> /dev/null || echo x)" != 0 ]; then
		sleep 0.$((3 + RANDOM % 4))
		kill -9 "$pid" 2> /dev/null && kills=$((kills + 1))
		for _ in $(seq 100); do	# until the restart runs
			status
			[ "$(json "$T/st.json" '$.state')" = RUNNING ] && [ "$(json "$T/st.json" '$.pid')" != "$pid" ] && break
			[ "$(json "$T/st.json" '$.state')" = FINISHED ] && break
			sleep 0.05
		done
	fi
	sleep 0.05
done
for _ in $(seq 600); do
	status
	[ "$(json "$T/st.json" '$.state')" = FINISHED ] && break
	sleep 0.1
done
[ "$(json "$T/st.json" '$.state')" = FINISHED ] || fail "the job under sluiced did not finish: $(cat "$T/st.json")"
[ $kills -ge 1 ] || fail "no kill landed before the job finished"
cat "$T"/sldout/res.csv.part-* > "$T/sld-got.csv"
same_file "$T/expected2nl.csv" "$T/sld-got.csv"
kill $sld 2> /dev/null || true
wait $sld 2> /dev/null || true
echo "ok: two keyed stages under sluiced through $kills SIGKILLs of the dataplane: sqlite3's rows"
