#!/bin/bash
# Description: a join's keyed co_process function (Flink's
# KeyedCoProcessFunction, R7.5) through the C plugin API, end to end:
# the example plugin orderpay (plugins/orderpay.c, W7.3's order/payment
# matcher) as `join: {..., process: {plugin: orderpay, function: match,
# timeout: 2s}}`, checked against sqlite3 and against the built-in
# `match:` join.
#  - orders through a DPDK port (net_pcap replaying sluice-gen's pcap),
#    payments from a CSV, one row per key on each side (a key space of
#    10^8, checked), a third of the orders without payment and 600
#    payments without order; every payment comes 1 s after its order,
#    inside the 2 s timeout, so what is PAID does not depend on how the
#    sources interleave: on 1 and 2 workers, the PAID rows are sqlite's
#    inner join (their join_ts, the second arrival's, is timing's), the
#    side output "unmatched" (side_sink) is exactly sqlite's UNPAID
#    orders at ts + 2 s and ORPHAN payments at ts + 2 s, and both are
#    the built-in match's rows;
#  - run to completion (one lcore polls both sources in turn, so the
#    interleaving is fixed): the plugin's files are the built-in match's,
#    byte for byte;
#  - checkpoints every 100 ms on 2 workers (both sources CSV, paced),
#    killed after one completed and restored onto 1 and onto 3 workers:
#    each worker loads the function's state and timers of its key
#    groups; the committed rows are sqlite's, each once;
#  - a plugin of another ABI version named by a join's process is
#    refused at load with the loader's exact message.
. "$(dirname "$0")/lib.sh"

PLUG="$SLUICE_BUILD/plugins"
[ -f "$PLUG/orderpay.so" ] || fail "the example plugin orderpay is not built in $PLUG"
rows() { tail -n +2 "$1" | LC_ALL=C sort; }

# The same seed and one payload field each: the payments' keys are the
# orders' in the same order; 600 more payments have keys of their own.
"$GEN" write --schema order_id:u64,amount:i64,ts:timestamp_ms --key order_id --ts ts \
	--keys 100000000 --events 2000 --rate 100 --disorder 300 --seed 7 \
	--csv "$T/o.csv" --pcap "$T/o.pcap" 2> /dev/null
"$GEN" write --schema pay_id:u32,ts:timestamp_ms,order_id:u64 --key order_id --ts ts \
	--keys 100000000 --events 2600 --rate 100 --disorder 200 --seed 7 \
	--start-ms 1700000001000 --csv "$T/pall.csv" 2> /dev/null
[ -z "$(tail -n +2 "$T/o.csv" | cut -d, -f1 | sort | uniq -d | head -1)" ] || fail "an order key repeats"
[ -z "$(tail -n +2 "$T/pall.csv" | cut -d, -f3 | sort | uniq -d | head -1)" ] || fail "a payment key repeats"
# Every third order goes unpaid.
awk -F, 'NR == 1 || (NR - 1) % 3 != 0 || NR > 2001' "$T/pall.csv" > "$T/p.csv"

job() {	# job NAME ORDERS JOIN WORKERS OUTDIR [extra yaml]
	cat <<YAML
job: $1
plugins: {dir: $PLUG}
sources:
  orders:
    schema: {order_id: u64, amount: i64, ts: timestamp_ms}
$2
    timestamp: ts
    watermark: {out_of_orderness: 300ms, emit: punctuated}
  payments:
    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}
    type: csv
    path: $T/p.csv
${PRATE:-}
    timestamp: ts
    watermark: {out_of_orderness: 200ms, emit: punctuated}
${6:-}
pipeline:
  - join: {left: orders, right: payments, key: order_id, $3}
sink: {type: csv, path: $5/out.csv}
lcores: {workers: $4}
YAML
}
pcap() { printf '    type: ethdev\n    port: "net_pcap0,rx_pcap=%s"\n' "$1"; }
PROC="process: {plugin: orderpay, function: match, timeout: 2s}"
MATCH="match: {timeout: 2s}"
side() { printf 'side_sink: {output: unmatched, type: csv, path: %s}\n' "$1"; }
late() { printf 'late_sink: {type: csv, path: %s}\n' "$1"; }

sqlite3 -batch :memory: > "$T/want-paid.rows" <<SQL
.mode csv
.import $T/o.csv o
.import $T/p.csv p
SELECT o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id FROM o JOIN p
	ON CAST(o.order_id AS INTEGER) = CAST(p.order_id AS INTEGER);
SQL
sqlite3 -batch :memory: > "$T/want-side.rows" <<SQL
.mode csv
.import $T/o.csv o
.import $T/p.csv p
SELECT CAST(o.ts AS INTEGER) + 2000, o.order_id, o.amount, o.ts, 0, 0, 0 FROM o
	WHERE CAST(o.order_id AS INTEGER) NOT IN (SELECT CAST(order_id AS INTEGER) FROM p)
UNION ALL
SELECT CAST(p.ts AS INTEGER) + 2000, 0, 0, 0, p.pay_id, p.ts, p.order_id FROM p
	WHERE CAST(p.order_id AS INTEGER) NOT IN (SELECT CAST(order_id AS INTEGER) FROM o);
SQL
LC_ALL=C sort -o "$T/want-paid.rows" "$T/want-paid.rows"
LC_ALL=C sort -o "$T/want-side.rows" "$T/want-side.rows"
np=$(wc -l < "$T/want-paid.rows")
ns=$(wc -l < "$T/want-side.rows")
[ "$np" = 1334 ] && [ "$ns" = 1266 ] || fail "$np PAID and $ns unmatched expected 1334 and 1266 (666 UNPAID + 600 ORPHAN)"

for w in 1 2; do
	mkdir -p "$T/p$w" "$T/m$w"
	job cop-$w "$(pcap "$T/o.pcap")" "$PROC" $w "$T/p$w" "$(side "$T/p$w/side.csv")" > "$T/p.yaml"
	run_dp "$T/p.yaml" --stats-json "$T/s.json"
	[ "$(head -1 "$T/p$w/out.csv")" = "join_ts,order_id,amount,ts,pay_id,payments_ts,payments_order_id" ] ||
		fail "header $(head -1 "$T/p$w/out.csv")"
	tail -n +2 "$T/p$w/out.csv" | cut -d, -f2- | LC_ALL=C sort > "$T/got-paid.rows"
	same_file "$T/want-paid.rows" "$T/got-paid.rows"
	rows "$T/p$w/side.csv" > "$T/got-side.rows"
	same_file "$T/want-side.rows" "$T/got-side.rows"
	# PAID carries the second arrival's ts: the order's or the payment's.
	[ -z "$(awk -F, 'NR > 1 && $1 != $4 && $1 != $6' "$T/p$w/out.csv" | head -1)" ] ||
		fail "a PAID row's join_ts is neither row's ts"
	job match-$w "$(pcap "$T/o.pcap")" "$MATCH" $w "$T/m$w" "$(late "$T/m$w/side.csv")" > "$T/m.yaml"
	run_dp "$T/m.yaml"
	tail -n +2 "$T/m$w/out.csv" | cut -d, -f2- | LC_ALL=C sort | same_file /dev/stdin "$T/got-paid.rows"
	rows "$T/m$w/side.csv" | same_file /dev/stdin "$T/got-side.rows"
	echo "ok: orderpay through net_pcap, $w worker(s): sqlite's $np PAID and $ns UNPAID/ORPHAN, the built-in match's rows"
done

# Run to completion: the same interleaving for both: the same bytes.
for k in p m; do
	mkdir -p "$T/r$k"
	if [ $k = p ]; then
		job cop-rtc "$(pcap "$T/o.pcap")" "$PROC" 1 "$T/r$k" "$(side "$T/r$k/side.csv")"
	else
		job match-rtc "$(pcap "$T/o.pcap")" "$MATCH" 1 "$T/r$k" "$(late "$T/r$k/side.csv")"
	fi | sed -e 's/^lcores: {workers: 1}$/lcores: {workers: 1, run_to_completion: true}/' > "$T/r.yaml"
	grep -q run_to_completion "$T/r.yaml" || fail "the rtc job has no run_to_completion"
	run_dp "$T/r.yaml"
done
same_file "$T/rm/out.csv" "$T/rp/out.csv"
same_file "$T/rm/side.csv" "$T/rp/side.csv"
echo "ok: run to completion: orderpay's files are the built-in match's, byte for byte"

# Checkpoints on 2 workers, restored onto 1 and 3: the function's value
# states and timers (udf.*) come back per key group.
paced=$(printf '    type: csv\n    path: %s\n    rate: 1500' "$T/o.csv")
for wk in 1 3; do
	rm -rf "$T/chk" "$T/ck"
	mkdir -p "$T/ck"
	PRATE="    rate: 1500" job cop-ck "$paced" "$PROC" 2 "$T/ck" "$(side "$T/ck/side.csv")" > "$T/ck.yaml"
	cat >> "$T/ck.yaml" <<YAML
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 3
YAML
	[ "$(grep -c 'rate: 1500' "$T/ck.yaml")" = 2 ] || fail "the checkpointed job is not paced: $(cat "$T/ck.yaml")"
	crash_after_ckpt "$T/ck.yaml"
	sed "s/workers: 2/workers: $wk/" "$T/ck.yaml" > "$T/ck$wk.yaml"
	run_dp "$T/ck$wk.yaml" --restore latest
	grep -q "2 workers then, $wk now" "$T/dp.err" || fail "no 2 -> $wk restore: $(grep restore "$T/dp.err")"
	cat "$T"/ck/out.csv.part-* | grep -v '^join_ts' | cut -d, -f2- | LC_ALL=C sort > "$T/ck-paid.rows"
	same_file "$T/want-paid.rows" "$T/ck-paid.rows"
	cat "$T"/ck/side.csv.part-* | grep -v '^join_ts' | LC_ALL=C sort > "$T/ck-side.rows"
	same_file "$T/want-side.rows" "$T/ck-side.rows"
	echo "ok: orderpay checkpointed on 2 workers, restored onto $wk: sqlite's $np PAID and $ns unmatched, each once"
done

# The ABI check holds for a join's process too: refused at load.
job abi "$(pcap "$T/o.pcap")" "process: {plugin: abi_next, function: f}" 1 "$T" > "$T/abi.yaml"
rc=0
timeout 60 "$DP" --job "$T/abi.yaml" 2> "$T/abi.err" || rc=$?
[ "$rc" != 0 ] || fail "a plugin of another ABI version was accepted"
line=$(grep -n 'abi_next' "$T/abi.yaml" | cut -d: -f1)
col=$(grep 'abi_next' "$T/abi.yaml" | awk '{ print index($0, "abi_next") }')
want="sluice-dp: $T/abi.yaml:$line:$col: plugin $PLUG/abi_next.so was built against UDF ABI version 2, this sluice expects version 1: rebuild it against this sluice's sluice/udf.h"
grep -qxF "$want" "$T/abi.err" || { cat "$T/abi.err" >&2; fail "not the ABI refusal: want '$want'"; }
[ ! -e "$T/out.csv" ] || fail "a refused job wrote output"
echo "ok: a join's process naming the abi_next plugin is refused (exit $rc): $want"
