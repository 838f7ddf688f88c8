#!/bin/bash
# Description: joins of two sources end to end (semantics.md section 7),
# checked against sqlite3's join over the CSVs sluice-gen wrote.
#  - interval join (R7.1, bounds inclusive) of orders read through a DPDK
#    port (net_pcap replaying sluice-gen's pcap) and payments from a CSV
#    file (the ethdev driver owns one port per process, so the second
#    stream cannot be a second port yet), with disorder, watermarks at
#    the disorder: no row is late and the output is exactly sqlite's
#    BETWEEN join, on 1 and 2 workers, byte for byte the same file
#    (sorted by join_ts as the watermark passes);
#  - the same with late events (sluice-gen --late-fraction) and a
#    late_sink: rows the join drops are those late at the two-input
#    watermark (R1.7, R7.3), which depends on how the two sources
#    interleave; whatever it was, the output is exactly sqlite's join of
#    the rows not in late_sink, contains the join of the rows on time at
#    their own source, and something was late;
#  - the tumbling and sliding window joins (R7.4) of the same streams
#    against sqlite,
#    and enrichment with outer: every order once, with nothing or a
#    payment of its key (which one depends on the sources' interleaving);
#  - W7.3's order/payment matching (match: {timeout: 15m}) over two CSVs
#    (one row per key): PAID rows are sqlite's inner join, late_sink
#    holds UNPAID (orders without payment, at ts + 15m) and ORPHAN rows.
. "$(dirname "$0")/lib.sh"

OS=order_id:u64,amount:i64,ts:timestamp_ms
PS=pay_id:u32,ts:timestamp_ms,order_id:u64
# gen NAME LATE: orders (pcap + csv) and payments (csv), 10 s of event time.
gen() {
	local late=()
	[ "$2" = 1 ] && late=(--late-fraction 0.03 --late-ms 3000)
	"$GEN" write --schema $OS --key order_id --ts ts --keys 300 --events 12000 \
		--rate 1200 --disorder 300 --seed 11 "${late[@]}" \
		--csv "$T/$1-o.csv" --pcap "$T/$1-o.pcap" 2> /dev/null
	"$GEN" write --schema $PS --key order_id --ts ts --keys 300 --events 9000 \
		--rate 900 --disorder 200 --seed 12 "${late[@]}" \
		--csv "$T/$1-p.csv" 2> /dev/null
	# pay_id is 0..99: a row can repeat. One copy of each, so a late
	# row in late_sink names one row (the orders go through a pcap as
	# written; they are checked to have no repeats).
	awk '!seen[$0]++' "$T/$1-p.csv" > "$T/$1-p.tmp" && mv "$T/$1-p.tmp" "$T/$1-p.csv"
}

job() {	# job NAME ORDERS PAYMENTS JOIN WORKERS [extra yaml]
	cat <<YAML
job: $1
sources:
  orders:
    schema: {order_id: u64, amount: i64, ts: timestamp_ms}
$2
    timestamp: ts
    watermark: {out_of_orderness: 300ms, emit: punctuated}
  payments:
    schema: {pay_id: u32, ts: timestamp_ms, order_id: u64}
$3
    timestamp: ts
    watermark: {out_of_orderness: 200ms, emit: punctuated}
pipeline:
  - join: {left: orders, right: payments, key: order_id, $4}
sink: {type: csv, path: $T/out.csv}
lcores: {workers: $5}
${6:-}
YAML
}
pcap() { printf '    type: ethdev\n    port: "net_pcap0,rx_pcap=%s"\n' "$1"; }
csv() { printf '    type: csv\n    path: %s\n' "$1"; }
rows() { tail -n +2 "$1" | LC_ALL=C sort; }

# sqlite: the interval join [o.ts - 100, o.ts + 50] over tables o and p,
# in sluice's columns. $1: extra SQL run first (views o and p).
interval_sql() {
	sqlite3 -batch :memory: <<SQL
.mode csv
.import $T/$2-o.csv oi
.import $T/$2-p.csv pi
CREATE TABLE ot AS SELECT rowid AS rid, CAST(order_id AS INTEGER) AS order_id,
	CAST(amount AS INTEGER) AS amount, CAST(ts AS INTEGER) AS ts FROM oi;
CREATE TABLE pt AS SELECT rowid AS rid, CAST(pay_id AS INTEGER) AS pay_id,
	CAST(ts AS INTEGER) AS ts, CAST(order_id AS INTEGER) AS order_id FROM pi;
$1
SELECT max(o.ts, p.ts), o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id
FROM o JOIN p ON o.order_id = p.order_id AND p.ts BETWEEN o.ts - 100 AND o.ts + 50;
SQL
}
JOIN="interval: {lower: -100ms, upper: 50ms}"

gen clean 0
interval_sql "CREATE VIEW o AS SELECT * FROM ot; CREATE VIEW p AS SELECT * FROM pt;" clean \
	| LC_ALL=C sort > "$T/want.rows"
n_want=$(wc -l < "$T/want.rows")
[ "$n_want" -gt 3000 ] || fail "$n_want pairs expected; the data proves little"
for w in 1 2; do
	job join-$w "$(pcap "$T/clean-o.pcap")" "$(csv "$T/clean-p.csv")" "$JOIN" $w > "$T/j.yaml"
	run_dp "$T/j.yaml" --stats-json "$T/s.json"
	[ "$(head -1 "$T/out.csv")" = "join_ts,order_id,amount,ts,pay_id,payments_ts,payments_order_id" ] ||
		fail "header $(head -1 "$T/out.csv")"
	rows "$T/out.csv" > "$T/got.rows"
	same_file "$T/want.rows" "$T/got.rows"
	# Written as the watermark passes them, sorted by (join_ts, row):
	# the same bytes on any number of workers.
	tail -n +2 "$T/out.csv" | cut -d, -f1 | sort -c -n || fail "rows not in join_ts order"
	cp "$T/out.csv" "$T/out-$w.csv"
	echo "ok: interval join, pcap + csv, $w worker(s): sqlite's $n_want pairs, in join_ts order"
done
same_file "$T/out-1.csv" "$T/out-2.csv"
# Run to completion: one lcore polls both sources in turn; the same file.
job join-rtc "$(pcap "$T/clean-o.pcap")" "$(csv "$T/clean-p.csv")" "$JOIN" 1 |
	sed -e 's/^lcores: {workers: 1}$/lcores: {workers: 1, run_to_completion: true}/' > "$T/j.yaml"
grep -q run_to_completion "$T/j.yaml" || fail "the rtc job has no run_to_completion"
run_dp "$T/j.yaml"
same_file "$T/out-1.csv" "$T/out.csv"
echo "ok: interval join, run to completion: the same file"

# R7.4/W7.2: the tumbling window join (1 s) of the same streams: per key
# and window every order with every payment, at end - 1.
sqlite3 -batch :memory: <<SQL | LC_ALL=C sort > "$T/want.rows"
.mode csv
.import $T/clean-o.csv o
.import $T/clean-p.csv p
SELECT CAST(o.ts AS INTEGER) / 1000 * 1000 + 999, o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id
FROM o JOIN p ON CAST(o.order_id AS INTEGER) = CAST(p.order_id AS INTEGER)
	AND CAST(o.ts AS INTEGER) / 1000 = CAST(p.ts AS INTEGER) / 1000;
SQL
job wjoin "$(pcap "$T/clean-o.pcap")" "$(csv "$T/clean-p.csv")" "window: {tumbling: 1s}" 2 > "$T/j.yaml"
run_dp "$T/j.yaml"
rows "$T/out.csv" > "$T/got.rows"
same_file "$T/want.rows" "$T/got.rows"
echo "ok: window join, 1 s: sqlite's $(wc -l < "$T/got.rows") pairs"

# R7.4: sliding windows, 2 s every 1 s: a pair is joined once in each
# window that holds both rows (starts s on the 1 s grid with
# s <= ts < s + 2000, i.e. ts's second and the one before).
sqlite3 -batch :memory: <<SQL | LC_ALL=C sort > "$T/want.rows"
.mode csv
.import $T/clean-o.csv oi
.import $T/clean-p.csv pi
CREATE TABLE d(k INTEGER);
INSERT INTO d VALUES (0), (1);
CREATE TABLE o AS SELECT oi.*, (CAST(ts AS INTEGER) / 1000 - k) * 1000 AS ws FROM oi JOIN d;
CREATE TABLE p AS SELECT pi.*, (CAST(ts AS INTEGER) / 1000 - k) * 1000 AS ws FROM pi JOIN d;
SELECT o.ws + 1999, o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id
FROM o JOIN p ON CAST(o.order_id AS INTEGER) = CAST(p.order_id AS INTEGER) AND o.ws = p.ws;
SQL
job sjoin "$(pcap "$T/clean-o.pcap")" "$(csv "$T/clean-p.csv")" "window: {sliding: 2s, slide: 1s}" 2 > "$T/j.yaml"
run_dp "$T/j.yaml"
rows "$T/out.csv" > "$T/got.rows"
same_file "$T/want.rows" "$T/got.rows"
echo "ok: sliding window join, 2 s every 1 s: sqlite's $(wc -l < "$T/got.rows") pairs (each pair once per shared window)"

# Enrichment (outer): each order with the latest payment of its key seen
# when it arrives, which depends on how the two sources interleave; what
# does not: every order is written once, and when with a payment, one of
# its key's that sqlite finds.
job enrich "$(pcap "$T/clean-o.pcap")" "$(csv "$T/clean-p.csv")" "enrich: {outer: true}" 2 > "$T/j.yaml"
run_dp "$T/j.yaml"
[ "$(($(wc -l < "$T/out.csv") - 1))" = "$(($(wc -l < "$T/clean-o.csv") - 1))" ] ||
	fail "enrich wrote $(($(wc -l < "$T/out.csv") - 1)) rows for $(($(wc -l < "$T/clean-o.csv") - 1)) orders"
cut -d, -f2-4 "$T/out.csv" | tail -n +2 | LC_ALL=C sort > "$T/got.rows"
tail -n +2 "$T/clean-o.csv" | LC_ALL=C sort | same_file /dev/stdin "$T/got.rows"
awk -F, 'NR > 1 && $6 != 0 { print $5 "," $6 "," $7 }' "$T/out.csv" | LC_ALL=C sort -u > "$T/used.rows"
[ -z "$(awk -F, 'NR > 1 && $6 != 0 && $2 != $7' "$T/out.csv" | head -1)" ] || fail "enrich joined another key's payment"
tail -n +2 "$T/clean-p.csv" | LC_ALL=C sort -u > "$T/all-p.rows"
[ -z "$(LC_ALL=C comm -23 "$T/used.rows" "$T/all-p.rows" | head -1)" ] || fail "enrich wrote a payment that is not in the input"
[ "$(wc -l < "$T/used.rows")" -gt 100 ] || fail "enrich joined only $(wc -l < "$T/used.rows") payments"
echo "ok: enrich (outer): every order once, $(awk -F, 'NR > 1 && $6 != 0' "$T/out.csv" | wc -l) with a payment of its key"

# Late events: the rows dropped are in late_sink (left: its order columns
# set, right: its payment columns), and the output is the join of the rest.
gen late 1
job join-late "$(pcap "$T/late-o.pcap")" "$(csv "$T/late-p.csv")" "$JOIN" 2 \
	"late_sink: {type: csv, path: $T/late.csv}" > "$T/j.yaml"
run_dp "$T/j.yaml" --stats-json "$T/s.json"
awk -F, 'NR > 1 && $4 != 0 { print $2 "," $3 "," $4 }' "$T/late.csv" > "$T/late-o.rows"
awk -F, 'NR > 1 && $6 != 0 { print $5 "," $6 "," $7 }' "$T/late.csv" > "$T/late-p.rows"
n_late=$(($(wc -l < "$T/late-o.rows") + $(wc -l < "$T/late-p.rows")))
[ "$n_late" -gt 0 ] || fail "no row was late; the data proves nothing about lateness"
[ "$(tail -n +2 "$T/late-o.csv" | LC_ALL=C sort | uniq -d | wc -l)" = 0 ] ||
	fail "late-o.csv has repeated rows: a late row would not be told apart"
interval_sql "
CREATE TABLE LO(a, b, c); CREATE TABLE LP(a, b, c);
.import $T/late-o.rows LO
.import $T/late-p.rows LP
CREATE VIEW o AS SELECT * FROM ot WHERE (order_id, amount, ts) NOT IN
	(SELECT CAST(a AS INTEGER), CAST(b AS INTEGER), CAST(c AS INTEGER) FROM LO);
CREATE VIEW p AS SELECT * FROM pt WHERE (pay_id, ts, order_id) NOT IN
	(SELECT CAST(a AS INTEGER), CAST(b AS INTEGER), CAST(c AS INTEGER) FROM LP);" late \
	| LC_ALL=C sort > "$T/want.rows"
rows "$T/out.csv" > "$T/got.rows"
same_file "$T/want.rows" "$T/got.rows"
# Rows on time at their own source (lag <= B behind the rows before them)
# are never late at the join: their pairs are all there.
interval_sql "
CREATE VIEW o AS SELECT * FROM (SELECT *, max(ts) OVER (ORDER BY rid ROWS BETWEEN
	UNBOUNDED PRECEDING AND 1 PRECEDING) AS mx FROM ot) WHERE mx IS NULL OR ts >= mx - 300;
CREATE VIEW p AS SELECT * FROM (SELECT *, max(ts) OVER (ORDER BY rid ROWS BETWEEN
	UNBOUNDED PRECEDING AND 1 PRECEDING) AS mx FROM pt) WHERE mx IS NULL OR ts >= mx - 200;" late \
	| LC_ALL=C sort > "$T/ontime.rows"
[ -z "$(LC_ALL=C comm -23 "$T/ontime.rows" "$T/got.rows" | head -1)" ] ||
	fail "a pair of rows on time is missing: $(LC_ALL=C comm -23 "$T/ontime.rows" "$T/got.rows" | head -1)"
echo "ok: interval join with late events: $n_late late rows in late_sink, sqlite's join of the rest ($(wc -l < "$T/got.rows") pairs), every on-time pair"

# W7.3 order/payment: one row per key on each side (the first of each key).
gen match 0
awk -F, 'NR == 1 || !seen[$1]++' "$T/match-o.csv" > "$T/mo.csv"
awk -F, 'NR == 1 || !seen[$3]++' "$T/match-p.csv" > "$T/mp.csv"
# Half the payments: keys >= 150 have none (UNPAID); some payments, none.
awk -F, 'NR == 1 || $1 < 200' "$T/mo.csv" > "$T/mo2.csv"
awk -F, 'NR == 1 || $3 < 150 || $3 >= 250' "$T/mp.csv" > "$T/mp2.csv"
job match "$(csv "$T/mo2.csv")" "$(csv "$T/mp2.csv")" "match: {timeout: 15m}" 2 \
	"late_sink: {type: csv, path: $T/side.csv}" > "$T/j.yaml"
run_dp "$T/j.yaml"
sqlite3 -batch :memory: > "$T/want-paid.rows" <<SQL
.mode csv
.import $T/mo2.csv o
.import $T/mp2.csv p
SELECT o.order_id, o.amount, o.ts, p.pay_id, p.ts, p.order_id FROM o JOIN p
	ON CAST(o.order_id AS INTEGER) = CAST(p.order_id AS INTEGER);
SQL
# PAID's ts is the second arrival's (R4.5): which one, timing decides.
tail -n +2 "$T/out.csv" | cut -d, -f2- | LC_ALL=C sort > "$T/got-paid.rows"
LC_ALL=C sort -o "$T/want-paid.rows" "$T/want-paid.rows"
same_file "$T/want-paid.rows" "$T/got-paid.rows"
sqlite3 -batch :memory: > "$T/want-side.rows" <<SQL
.mode csv
.import $T/mo2.csv o
.import $T/mp2.csv p
SELECT CAST(o.ts AS INTEGER) + 900000, o.order_id, o.amount, o.ts, 0, 0, 0 FROM o
	WHERE CAST(o.order_id AS INTEGER) NOT IN (SELECT CAST(order_id AS INTEGER) FROM p)
UNION ALL
SELECT CAST(p.ts AS INTEGER) + 900000, 0, 0, 0, p.pay_id, p.ts, p.order_id FROM p
	WHERE CAST(p.order_id AS INTEGER) NOT IN (SELECT CAST(order_id AS INTEGER) FROM o);
SQL
LC_ALL=C sort -o "$T/want-side.rows" "$T/want-side.rows"
rows "$T/side.csv" > "$T/got-side.rows"
same_file "$T/want-side.rows" "$T/got-side.rows"
echo "ok: order/payment match: $(wc -l < "$T/got-paid.rows") PAID, $(wc -l < "$T/got-side.rows") UNPAID/ORPHAN in late_sink"

# Item 3: a union of two same-schema sources (pcap + csv) into one keyed
# tumbling count: sqlite's GROUP BY over both CSVs, in the sink's order.
"$GEN" write --schema user:u64,url:u32,ts:timestamp_ms --key user --ts ts --keys 50 \
	--events 8000 --rate 1000 --disorder 100 --seed 21 \
	--csv "$T/u1.csv" --pcap "$T/u1.pcap" 2> /dev/null
"$GEN" write --schema user:u64,url:u32,ts:timestamp_ms --key user --ts ts --keys 50 \
	--events 6000 --rate 750 --disorder 150 --seed 22 --csv "$T/u2.csv" 2> /dev/null
cat > "$T/u.yaml" <<YAML
job: union
sources:
  eu:
    schema: {user: u64, url: u32, ts: timestamp_ms}
$(pcap "$T/u1.pcap")
    timestamp: ts
    watermark: {out_of_orderness: 100ms, emit: punctuated}
  us:
    schema: {user: u64, url: u32, ts: timestamp_ms}
$(csv "$T/u2.csv")
    timestamp: ts
    watermark: {out_of_orderness: 150ms, emit: punctuated}
pipeline:
  - union: [eu, us]
  - key_by: user
  - window: {tumbling: 1s}
  - aggregate: [count(), sum(url)]
sink: {type: csv, path: $T/out.csv}
lcores: {workers: 2}
YAML
run_dp "$T/u.yaml"
sqlite3 -batch :memory: > "$T/want.csv" <<SQL
.mode csv
.headers on
.import $T/u1.csv a
.import $T/u2.csv b
SELECT user, w * 1000 AS window_start, w * 1000 + 1000 AS window_end,
	count(*) AS count, sum(url) AS sum_url FROM
	(SELECT CAST(user AS INTEGER) AS user, CAST(url AS INTEGER) AS url,
		CAST(ts AS INTEGER) / 1000 AS w FROM a UNION ALL
	 SELECT CAST(user AS INTEGER), CAST(url AS INTEGER), CAST(ts AS INTEGER) / 1000 FROM b)
GROUP BY w, user ORDER BY w, user;
SQL
same_file "$T/want.csv" "$T/out.csv"
echo "ok: union of a pcap and a csv source: sqlite's $(($(wc -l < "$T/want.csv") - 1)) window counts, in order"

# Exactly-once through SIGKILLs: both sources CSV, paced to 4 s, the
# interval join checkpointed every 100 ms (join state, both sources'
# offsets, the sink's held rows and its transaction), killed 3 times and
# restored; heap with 1 worker, rocksdb with 2. The committed output is
# the failure-free run's byte for byte (sorted by join_ts across the
# restores: rows committed before a checkpoint are below its watermark,
# every pair after it is at or above).
job join-free "$(csv "$T/clean-o.csv")" "$(csv "$T/clean-p.csv")" "$JOIN" 2 > "$T/j.yaml"
run_dp "$T/j.yaml"
cp "$T/out.csv" "$T/free.csv"
for be in heap rocksdb; do
	nw=1
	[ "$be" = rocksdb ] && nw=2
	rm -rf "$T/chk" "$T/out3"
	job "join-ck-$be" "$(csv "$T/clean-o.csv")
    rate: 3000" "$(csv "$T/clean-p.csv")
    rate: 2250" "$JOIN" "$nw" "execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 3
state.backend.type: $be" | sed -e "s|path: $T/out.csv|path: $T/out3/res.csv|" > "$T/j3.yaml"
	kill_and_restore "$T/j3.yaml" 3
	{ head -1 "$T/free.csv"; cat "$T"/out3/res.csv.part-* | grep -v '^join_ts,'; } > "$T/got3.csv"
	same_file "$T/free.csv" "$T/got3.csv"
	echo "ok: $be, $nw worker(s), 3 SIGKILLs and restores: the committed output is the failure-free run's"
done

# sluicectl info draws the join's graph: both sources, the join, its sink.
"$SLUICE_BUILD/control/sluicectl/sluicectl" info configs/jobs/join-clicks.yaml > "$T/info.txt"
for want in "source.csv     rx      clicks: path configs/samples/clicks.csv" \
	"join.interval  worker  left clicks, right again, key user_id=user_id, url_id=url_id; right.ts in [left.ts + 1ms, left.ts + 1s]" \
	"sink.csv       main    CSV to out/join-clicks.csv, in join_ts order" \
	"rx lcores          2"; do
	grep -qF "$want" "$T/info.txt" || { cat "$T/info.txt" >&2; fail "sluicectl info lacks: $want"; }
done
echo "ok: sluicectl info shows both sources and the join"
