#!/bin/bash
# Description: state TTL on enrich's stored rows (R5.5, Flink's
# table.exec.state.ttl: processing time, OnCreateAndWrite,
# NeverReturnExpired) end to end: `enrich: {outer: true, ttl: 1s}` over a
# changelog of payments (one row per key, read at once at the start) and
# 3000 orders paced at 1000 rows/s of wall time. An order is written
# once either way (outer); it carries its key's payment while the
# payment is younger than 1 s of processing time, and none after. The
# exact boundary is the unit test's (test_W5_1_enrich_ttl); here, with
# margins for the machine's timing, the orders of the first 0.15-0.7 s
# carry exactly sqlite's payment of their key (none for a key without
# one), those after 1.5 s none, and without ttl every order after the
# first 0.15 s carries it.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema order_id:u64,amount:i64,ts:timestamp_ms --key order_id --ts ts \
	--keys 100 --events 3000 --rate 1000 --seed 3 --csv "$T/o.csv" 2> /dev/null
"$GEN" write --schema pay_id:u32,ts:timestamp_ms,order_id:u64 --key order_id --ts ts \
	--keys 100 --events 400 --rate 1000 --seed 4 --csv "$T/pall.csv" 2> /dev/null
awk -F, 'NR == 1 || !seen[$3]++' "$T/pall.csv" > "$T/p.csv"

job() {	# job ENRICH
	cat <<YAML
job: enrich-ttl
sources:
  orders:
    schema: {order_id: u64, amount: i64, ts: timestamp_ms}
    type: csv
    path: $T/o.csv
    rate: 1000
    timestamp: ts
    watermark: {out_of_orderness: 0ms, emit: punctuated}
  payments:
    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}
    type: csv
    path: $T/p.csv
    timestamp: ts
    watermark: {out_of_orderness: 0ms, emit: punctuated}
pipeline:
  - join: {left: orders, right: payments, key: order_id, enrich: {$1}}
sink: {type: csv, path: $T/out.csv}
lcores: {workers: 2}
YAML
}

# Each order's arrival index (its line in o.csv: 1 ms apart) with the
# payment columns it carries; and what sqlite joins to it.
arrivals() {
	sqlite3 -batch :memory: <<SQL
.mode csv
.import $T/o.csv o
.import $T/p.csv p
.import $T/out.csv r
SELECT o.rowid, r.pay_id, r.payments_ts, r.payments_order_id FROM o JOIN r
	ON o.order_id = r.order_id AND o.amount = r.amount AND o.ts = r.ts ORDER BY o.rowid;
SQL
}
sqlite3 -batch :memory: > "$T/want.rows" <<SQL
.mode csv
.import $T/o.csv o
.import $T/p.csv p
SELECT o.rowid, coalesce(p.pay_id, 0), coalesce(p.ts, 0), coalesce(p.order_id, 0)
	FROM o LEFT JOIN p ON CAST(o.order_id AS INTEGER) = CAST(p.order_id AS INTEGER) ORDER BY o.rowid;
SQL
[ "$(tail -n +2 "$T/o.csv" | sort | uniq -d | wc -l)" = 0 ] || fail "repeated orders"

job "outer: true, ttl: 1s" > "$T/j.yaml"
run_dp "$T/j.yaml"
[ "$(($(wc -l < "$T/out.csv") - 1))" = 3000 ] || fail "$(($(wc -l < "$T/out.csv") - 1)) rows for 3000 orders"
arrivals > "$T/got.rows"
[ "$(wc -l < "$T/got.rows")" = 3000 ] || fail "not every order once"
awk -F, '$1 > 150 && $1 <= 700' "$T/want.rows" > "$T/w-early"
awk -F, '$1 > 150 && $1 <= 700' "$T/got.rows" > "$T/g-early"
same_file "$T/w-early" "$T/g-early"
n_early=$(awk -F, '$2 != 0' "$T/g-early" | wc -l)
[ "$n_early" -gt 400 ] || fail "only $n_early early orders with a payment; the data proves little"
n_late=$(awk -F, '$1 > 1500 && $2 != 0' "$T/got.rows" | wc -l)
[ "$n_late" = 0 ] || fail "$n_late orders after 1.5 s carry a payment stored more than 1 s before"
echo "ok: enrich ttl 1s: the orders of 0.15-0.7 s carry sqlite's payments ($n_early), none after 1.5 s of the 3000"

job "outer: true" > "$T/j.yaml"
run_dp "$T/j.yaml"
arrivals > "$T/got.rows"
awk -F, '$1 > 150' "$T/want.rows" > "$T/w-all"
awk -F, '$1 > 150' "$T/got.rows" > "$T/g-all"
same_file "$T/w-all" "$T/g-all"
echo "ok: enrich without ttl: every order after 0.15 s carries sqlite's payment"
