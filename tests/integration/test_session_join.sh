#!/bin/bash
# Description: session window joins end to end (R7.4 with
# EventTimeSessionWindows.withGap: the rows of both sides share one set
# of sessions per key, merging across the two inputs), orders through a
# DPDK port (net_pcap replaying sluice-gen's pcap) and payments from a
# CSV, checked against sqlite3: per key, the rows of both sides in
# event-time order, a new session where a row is more than the gap after
# the previous one (LAG and a running sum; Flink merges touching
# windows), and every order with every payment of a session at its last
# ts + gap - 1. Each source's out_of_orderness is its disorder plus the
# gap, so no row is late and no session fires before a row that would
# merge with it arrives: the output is exactly sqlite's, on 1 and 2
# workers, in join_ts order, the same file either way, and late_sink
# stays empty. (Which sessions a watermark closer than that splits
# depends on how the sources interleave; tests/unit/join has that case.)
. "$(dirname "$0")/lib.sh"

OS=order_id:u64,amount:i64,ts:timestamp_ms
PS=pay_id:u32,ts:timestamp_ms,order_id:u64
"$GEN" write --schema $OS --key order_id --ts ts --keys 300 --events 12000 \
	--rate 1200 --disorder 300 --seed 41 --csv "$T/o.csv" --pcap "$T/o.pcap" 2> /dev/null
"$GEN" write --schema $PS --key order_id --ts ts --keys 300 --events 9000 \
	--rate 900 --disorder 200 --seed 42 --csv "$T/p.csv" 2> /dev/null
GAP=100

job() {	# job NAME WORKERS ORDERS_B PAYMENTS_B
	cat <<YAML
job: $1
sources:
  orders:
    schema: {order_id: u64, amount: i64, ts: timestamp_ms}
    type: ethdev
    port: "net_pcap0,rx_pcap=$T/o.pcap"
    timestamp: ts
    watermark: {out_of_orderness: $3, emit: punctuated}
  payments:
    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}
    type: csv
    path: $T/p.csv
    timestamp: ts
    watermark: {out_of_orderness: $4, emit: punctuated}
pipeline:
  - join: {left: orders, right: payments, key: order_id, window: {session: ${GAP}ms}}
sink: {type: csv, path: $T/out.csv}
late_sink: {type: csv, path: $T/late.csv}
lcores: {workers: $2}
YAML
}

sqlite3 -batch :memory: > "$T/want.rows" <<SQL
.mode csv
.import $T/o.csv oi
.import $T/p.csv pi
CREATE TABLE u AS
	SELECT 0 AS side, rowid AS rid, CAST(order_id AS INTEGER) AS k, CAST(ts AS INTEGER) AS ts FROM oi
	UNION ALL
	SELECT 1, rowid, CAST(order_id AS INTEGER), CAST(ts AS INTEGER) FROM pi;
CREATE TABLE g AS SELECT *, lag(ts) OVER (PARTITION BY k ORDER BY ts) AS prev FROM u;
CREATE TABLE s AS SELECT *, sum(CASE WHEN prev IS NULL OR ts > prev + $GAP THEN 1 ELSE 0 END)
	OVER (PARTITION BY k ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sess FROM g;
CREATE TABLE se AS SELECT k, sess, max(ts) + $GAP - 1 AS fire FROM s GROUP BY k, sess;
SELECT se.fire, o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id
	FROM s l JOIN s r ON l.k = r.k AND l.sess = r.sess AND l.side = 0 AND r.side = 1
	JOIN se ON se.k = l.k AND se.sess = l.sess
	JOIN oi o ON o.rowid = l.rid JOIN pi p ON p.rowid = r.rid;
SQL
LC_ALL=C sort -o "$T/want.rows" "$T/want.rows"
n_want=$(wc -l < "$T/want.rows")
[ "$n_want" -gt 3000 ] || fail "$n_want pairs expected; the data proves little"
# Sessions that span both sides and more than one row of a side.
n_multi=$(cut -d, -f1,2 "$T/want.rows" | uniq -d | wc -l)
[ "$n_multi" -gt 100 ] || fail "only $n_multi sessions with several pairs"

for w in 1 2; do
	job sjoin-$w $w $((300 + GAP + 50))ms $((200 + GAP + 50))ms > "$T/j.yaml"
	run_dp "$T/j.yaml"
	tail -n +2 "$T/out.csv" | LC_ALL=C sort > "$T/got.rows"
	same_file "$T/want.rows" "$T/got.rows"
	tail -n +2 "$T/out.csv" | cut -d, -f1 | sort -c -n || fail "rows not in join_ts order"
	[ "$(wc -l < "$T/late.csv")" -le 1 ] || fail "late rows: $(head -3 "$T/late.csv")"
	cp "$T/out.csv" "$T/out-$w.csv"
	echo "ok: session join, gap ${GAP}ms, pcap + csv, $w worker(s): sqlite's $n_want pairs ($n_multi sessions with several), in join_ts order"
done
same_file "$T/out-1.csv" "$T/out-2.csv"
echo "ok: session join: the same file on 1 and 2 workers"
