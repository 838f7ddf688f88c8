#!/bin/bash
# Description: count_distinct and approx_count_distinct end to end (issue
# [4] item 2): CSV sources with disorder and late rows through two
# workers, in tumbling, sliding and session windows, beside count().
#
# - count_distinct is exact: its columns equal sqlite3's COUNT(DISTINCT)
#   byte for byte (the expected CSV in sluice's order), on heap and on
#   rocksdb, and the rows dropped as late are sqlite3's.
# - approx_count_distinct is a HyperLogLog (operators/agg): each row's
#   estimate is within 3 standard errors (1.04 / sqrt(2^P)) of the exact
#   count, at P = 8 well above 2.5 * 2^P (the raw estimator), and at
#   P = 12 and 14 in linear counting's range. At small cardinalities
#   (<= 100 values in 16384 registers) linear counting is near exact: no
#   estimate is above what it gives without hash collisions,
#   round(m ln(m / (m - n))), none is more than 2 below the count (two
#   collisions), and at least 80 % are exact.
# - Sessions: the data is filtered as in test_session.sh so that offline
#   sessions (gaps <= G) are Flink's, and each session's distinct counts
#   are sqlite3's: merged sessions merge their distinct sets and sketches.
# - Checkpoints: a session job with allowed lateness and a sliding job,
#   checkpointed every 100 ms, survive SIGKILLs with byte-identical
#   output, on heap and on rocksdb (the distinct values are map state).
. "$(dirname "$0")/lib.sh"

SCHEMA="user INTEGER, v INTEGER, s TEXT, ts INTEGER"
"$GEN" write --schema user:u32,v:u32,s:str[3],ts:timestamp_ms \
	--key user --ts ts --keys 20 --events 12000 --rate 600 \
	--start-ms -2000 --disorder 500 --late-fraction 0.03 --late-ms 3000 \
	--seed 31 --csv "$T/in.csv" 2> /dev/null

# hll_small_sql EXACT EST [TABLE]: SQL, after tables TABLE (default
# expected) and actual in the same order, that prints the rows whose
# estimate EST breaks the small-cardinality bounds on EXACT, the rows
# where it is exact, and the rows.
hll_small_sql() {
	cat <<SQL
SELECT sum(a.$2 > CAST(16384 * ln(16384.0 / (16384 - e.$1)) + 0.5 AS INTEGER)
	   OR a.$2 < e.$1 - 2 OR abs(a.$2 - e.$1) > max(2, 3 * 0.008125 * e.$1))
	|| ' ' || sum(a.$2 = e.$1) || ' ' || count(*)
	FROM ${3:-expected} e JOIN actual a ON a.rowid = e.rowid;
SQL
}

check() {	# check NAME BACKEND SIZE_MS SLIDE_MS
	local name=$1 be=$2 size=$3 slide=$4 late got_late bad rows st
	local win="{sliding: ${size}ms, slide: ${slide}ms}"
	[ "$size" != "$slide" ] || win="{tumbling: ${size}ms}"
	cat > "$T/$name.yaml" <<YAML
job: distinct-$name
schema: {user: u32, v: u32, s: "str[3]", ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: 400ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: $win
  - aggregate:
    - count()
    - count_distinct(v) as cd_v
    - count_distinct(s) as cd_s
    - approx_count_distinct(v) as hll_v
    - approx_count_distinct(s) as hll_s
sink: {type: csv, path: $T/$name.csv}
lcores: {rx: 1, workers: 2}
state.backend.type: $be
state.backend.rocksdb.localdir: $T/rdb
YAML
	q() {
		expected_sql "$T/in.csv" "$SCHEMA" 1 400 "$size" 0 "1" "user" \
			"count(*) AS count, count(DISTINCT v) AS cd_v, count(DISTINCT s) AS cd_s" \
			1 "$slide"
	}
	late=$(expect_late q)
	[ "$late" -gt 0 ] || fail "$name: no late rows in the data; the test would prove nothing"
	run_dp "$T/$name.yaml" --stats-json "$T/$name.json"
	got_late=$(( $(json "$T/$name.json" '$.workers[0].numLateRecordsDropped') +
		     $(json "$T/$name.json" '$.workers[1].numLateRecordsDropped') ))
	[ "$got_late" = "$late" ] || fail "$name: late rows: want $late, got $got_late"
	for w in 0 1; do
		for k in state_errors state_full_dropped; do
			[ "$(json "$T/$name.json" "\$.workers[$w].$k")" = 0 ] ||
				fail "$name: worker $w: $k = $(json "$T/$name.json" "\$.workers[$w].$k")"
		done
	done
	[ "$(head -1 "$T/$name.csv")" = "user,window_start,window_end,count,cd_v,cd_s,hll_v,hll_s" ] ||
		fail "$name: header $(head -1 "$T/$name.csv")"
	expect_csv "$T/$name.want" q
	cut -d, -f1-6 "$T/$name.csv" > "$T/$name.exact"
	same_file "$T/$name.want" "$T/$name.exact"
	rows=$(($(wc -l < "$T/$name.csv") - 1))
	[ "$rows" -gt 100 ] || fail "$name: only $rows results"
	for c in v s; do
		st=$({ q; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	cd_v INTEGER, cd_s INTEGER, hll_v INTEGER, hll_s INTEGER);
.import --csv --skip 1 $T/$name.csv actual
$(hll_small_sql "cd_$c" "hll_$c")
SQL
		} | sqlite3 -batch)
		read -r bad exact n <<< "$st"
		[ "$bad" = 0 ] || fail "$name: $bad approx_count_distinct($c) estimates outside linear counting's bounds"
		[ $((exact * 100)) -ge $((n * 80)) ] ||
			fail "$name: approx_count_distinct($c) exact in only $exact of $n rows"
		echo "ok: $name: approx_count_distinct($c), P = 14: $exact of $n estimates exact, the rest within linear counting's bounds"
	done
	echo "ok: $name ($be): $rows rows of count_distinct equal sqlite3's COUNT(DISTINCT) byte for byte, $late late rows"
}

check tumbling heap 3000 3000
check sliding heap 3000 1000
check sliding_rdb rocksdb 3000 1000
same_file "$T/sliding.csv" "$T/sliding_rdb.csv"
echo "ok: the same bytes on rocksdb"

# Large cardinalities: 2 keys, about 1700 distinct strings per key and
# window. P = 8 (256 registers, about 6.6 x 2.5 x 2^P: the raw
# HyperLogLog estimate) and P = 12 and 14 (linear counting); every
# estimate within 3 standard errors of the exact count.
"$GEN" write --schema user:u32,s:str[6],ts:timestamp_ms \
	--key user --ts ts --keys 2 --events 20000 --rate 1000 \
	--disorder 200 --seed 37 --csv "$T/big.csv" 2> /dev/null
cat > "$T/big.yaml" <<YAML
job: distinct-big
schema: {user: u32, s: "str[6]", ts: timestamp_ms}
source:
  type: csv
  path: $T/big.csv
  timestamp: ts
  watermark: {out_of_orderness: 300ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: 4s}
  - aggregate:
    - count_distinct(s) as cd
    - approx_count_distinct(s, 8) as h8
    - approx_count_distinct(s, 12) as h12
    - approx_count_distinct(s) as h14
sink: {type: csv, path: $T/big-out.csv}
lcores: {rx: 1, workers: 2}
YAML
run_dp "$T/big.yaml"
qb() {
	expected_sql "$T/big.csv" "user INTEGER, s TEXT, ts INTEGER" 1 300 4000 0 "1" "user" \
		"count(DISTINCT s) AS cd"
}
expect_csv "$T/big.want" qb
cut -d, -f1-4 "$T/big-out.csv" > "$T/big.exact"
same_file "$T/big.want" "$T/big.exact"
st=$({ qb; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, cd INTEGER,
	h8 INTEGER, h12 INTEGER, h14 INTEGER);
.import --csv --skip 1 $T/big-out.csv actual
SELECT sum(abs(a.h8 - e.cd) > 3 * 0.065 * e.cd) || ' ' || sum(abs(a.h12 - e.cd) > 3 * 0.01625 * e.cd)
	|| ' ' || sum(abs(a.h14 - e.cd) > 3 * 0.008125 * e.cd) || ' ' || sum(e.cd > 1280) || ' ' || count(*)
	|| ' ' || printf('%.4f', max(CASE WHEN e.cd > 1280 THEN abs(a.h8 - e.cd) * 1.0 / e.cd END))
	|| ' ' || max(e.cd)
	FROM expected e JOIN actual a ON a.rowid = e.rowid;
SQL
} | sqlite3 -batch)
read -r b8 b12 b14 nraw n maxerr maxcd <<< "$st"
[ "$nraw" -ge 8 ] || fail "big: only $nraw windows above 2 x 2.5 x 2^8 distinct values (P = 8's raw estimate)"
[ "$b8$b12$b14" = 000 ] || fail "big: estimates beyond 3 standard errors: P=8 $b8, P=12 $b12, P=14 $b14 of $n"
echo "ok: approx_count_distinct on $n windows ($nraw of 1280 to $maxcd distinct values): every estimate within 3 standard errors at P = 8 (largest error there $maxerr), 12 and 14; count_distinct exact"

# Sessions: as test_session.sh, the rows whose watermark is known before
# them and within 4 s of it are removed, so that offline sessions (gaps
# <= G in timestamp order) are exactly Flink's; sqlite3 asserts it.
G=250
B=400
"$GEN" write --schema user:u32,v:u32,s:str[3],ts:timestamp_ms \
	--key user --ts ts --keys 60 --events 8000 --rate 400 \
	--disorder 300 --late-fraction 0.04 --late-ms 9000 \
	--seed 41 --csv "$T/sgen.csv" 2> /dev/null
x() {	# x CSV
	expected_sql "$1" "$SCHEMA" 1 "$B" 1000 0 "1" "user" "count(*)"
}
{ x "$T/sgen.csv"; cat <<SQL
.headers on
.mode csv
SELECT user, v, s, ts FROM x WHERE NOT (wm IS NOT NULL AND ts <= wm AND ts > wm - 4000) ORDER BY pkt;
SQL
} | sqlite3 -batch | tr -d '\r' > "$T/sin.csv"
qs() {
	x "$T/sin.csv"
	cat <<SQL
CREATE INDEX x_user ON x(user, pkt);
CREATE TABLE acc AS SELECT * FROM x WHERE wm IS NULL OR ts + $G - 1 > wm;
CREATE TABLE dropped AS SELECT * FROM x WHERE wm IS NOT NULL AND ts + $G - 1 <= wm;
CREATE TABLE s0 AS SELECT *, ts - lag(ts) OVER (PARTITION BY user ORDER BY ts, pkt) AS d FROM acc;
CREATE TABLE s1 AS SELECT *, CASE WHEN d <= $G THEN 0 ELSE 1 END AS new FROM s0;
CREATE TABLE s2 AS SELECT *, sum(new) OVER (PARTITION BY user ORDER BY ts, pkt ROWS UNBOUNDED PRECEDING) AS sid
	FROM s1;
CREATE TABLE sess AS SELECT user, sid, min(ts) AS window_start, max(ts) + $G AS window_end,
	count(*) AS count, count(DISTINCT v) AS cd_v, count(DISTINCT s) AS cd_s,
	min(pkt) AS first_pkt FROM s2 GROUP BY user, sid;
CREATE TABLE want AS SELECT user, window_start, window_end, count, cd_v, cd_s
	FROM sess ORDER BY window_start, user;
CREATE VIEW touch AS SELECT b.* FROM acc b WHERE b.wm = b.ts - 1 AND EXISTS
	(SELECT 1 FROM acc a WHERE a.user = b.user AND a.pkt < b.pkt AND a.ts + $G = b.ts);
CREATE VIEW absorbed AS SELECT r.* FROM dropped r WHERE EXISTS
	(SELECT 1 FROM sess s WHERE s.user = r.user AND s.first_pkt < r.pkt
	 AND s.window_start <= r.ts + $G AND s.window_end >= r.ts AND s.window_end - 1 > r.wm);
SQL
}
pre=$({ qs; echo "SELECT (SELECT count(*) FROM touch) || ' ' || (SELECT count(*) FROM absorbed);"; } | sqlite3 -batch)
[ "$pre" = "0 0" ] || fail "the session data does not pin the result (touching, absorbed: $pre); change the seed"
stat=$({ qs; echo "SELECT (SELECT count(*) FROM dropped) || ' ' || (SELECT count(*) FROM want) || ' ' || (SELECT count(*) FROM want WHERE cd_v > 5) || ' ' || (SELECT max(cd_s) FROM want);"; } | sqlite3 -batch)
read -r dropped sessions wide maxcd <<< "$stat"
[ "$dropped" -gt 20 ] || fail "only $dropped late rows in the session data"
[ "$sessions" -gt 200 ] && [ "$wide" -gt 50 ] ||
	fail "only $sessions sessions ($wide with more than 5 distinct values); the test would prove little"
for be in heap rocksdb; do
	cat > "$T/sess-$be.yaml" <<YAML
job: distinct-session-$be
schema: {user: u32, v: u32, s: "str[3]", ts: timestamp_ms}
source:
  type: csv
  path: $T/sin.csv
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {session: ${G}ms}
  - aggregate: [count(), count_distinct(v) as cd_v, count_distinct(s) as cd_s, approx_count_distinct(v) as hll_v, approx_count_distinct(s) as hll_s]
sink: {type: csv, path: $T/sess-$be.csv}
lcores: {rx: 1, workers: 2}
state.backend.type: $be
state.backend.rocksdb.localdir: $T/rdb
YAML
	run_dp "$T/sess-$be.yaml" --stats-json "$T/sess-$be.json"
	got=$(( $(json "$T/sess-$be.json" '$.workers[0].numLateRecordsDropped') +
		$(json "$T/sess-$be.json" '$.workers[1].numLateRecordsDropped') ))
	[ "$got" = "$dropped" ] || fail "sessions ($be): rows dropped as late: want $dropped, got $got"
done
same_file "$T/sess-heap.csv" "$T/sess-rocksdb.csv"
{ qs; printf '.headers on\n.mode csv\nSELECT * FROM want;\n'; } | sqlite3 -batch | tr -d '\r' > "$T/sess.want"
# The sink writes sessions as they end; sqlite3 lists them by start.
sqlite3 -batch <<SQL | tr -d '\r' > "$T/sess.sorted"
CREATE TABLE r(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	cd_v INTEGER, cd_s INTEGER, hll_v INTEGER, hll_s INTEGER);
.import --csv --skip 1 $T/sess-heap.csv r
.headers on
.mode csv
SELECT * FROM r ORDER BY window_start, user;
SQL
cut -d, -f1-6 "$T/sess.sorted" > "$T/sess.exact"
same_file "$T/sess.want" "$T/sess.exact"
for c in v s; do
	st=$({ qs; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	cd_v INTEGER, cd_s INTEGER, hll_v INTEGER, hll_s INTEGER);
.import --csv --skip 1 $T/sess.sorted actual
$(hll_small_sql "cd_$c" "hll_$c" want)
SQL
	} | sqlite3 -batch)
	read -r bad exact n <<< "$st"
	[ "$bad" = 0 ] || fail "sessions: $bad approx_count_distinct($c) estimates outside linear counting's bounds"
	[ $((exact * 100)) -ge $((n * 80)) ] || fail "sessions: approx_count_distinct($c) exact in only $exact of $n rows"
done
echo "ok: session ${G}ms: $sessions sessions (up to $maxcd distinct strings) and $dropped late rows: count_distinct equals sqlite3's byte for byte on heap and rocksdb, approx_count_distinct within linear counting's bounds"

# Checkpoints: paced capture replays with a checkpoint every 100 ms,
# SIGKILLed and restored from the latest checkpoint: a session job with
# allowed lateness (merges and late firings carry distinct sets) and a
# sliding one, on heap and on rocksdb; the committed output equals a
# failure-free run's byte for byte.
"$GEN" write --schema user:u32,v:u32,s:str[3],ts:timestamp_ms --key user --ts ts \
	--keys 40 --events 12000 --rate 1000 --disorder 500 \
	--late-fraction 0.04 --late-ms 2000 --seed 43 --capture "$T/in.slc" 2> /dev/null
ck() {	# ck NAME BACKEND WINDOW
	cat > "$T/$1.yaml" <<YAML
job: distinct-$1
schema: {user: u32, v: u32, s: "str[3]", ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 8000
  timestamp: ts
  watermark: {out_of_orderness: 300ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: $3
  - aggregate: [count(), count_distinct(v), count_distinct(s), approx_count_distinct(s), "approx_count_distinct(v, 10)"]
sink: {type: csv, path: $T/$1out/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/$1chk
state.checkpoints.num-retained: 2
state.backend.type: $2
state.backend.rocksdb.localdir: $T/rdb
YAML
	run_dp "$T/$1.yaml"
	cat "$T"/"$1"out/res.csv.part-* > "$T/$1-ref.csv"
	rm -rf "$T/$1out" "$T/$1chk"
	kill_and_restore "$T/$1.yaml" 2
	cat "$T"/"$1"out/res.csv.part-* > "$T/$1-got.csv"
	same_file "$T/$1-ref.csv" "$T/$1-got.csv"
	echo "ok: $1 through 2 SIGKILLs and restores: $(($(wc -l < "$T/$1-ref.csv") - 1)) rows byte-identical"
}
ck sess_heap heap "{session: 100ms, allowed_lateness: 700ms}"
ck sess_rdb rocksdb "{session: 100ms, allowed_lateness: 700ms}"
same_file "$T/sess_heap-ref.csv" "$T/sess_rdb-ref.csv"
ck slide_heap heap "{sliding: 2500ms, slide: 1s, allowed_lateness: 500ms}"
ck slide_rdb rocksdb "{sliding: 2500ms, slide: 1s, allowed_lateness: 500ms}"
same_file "$T/slide_heap-ref.csv" "$T/slide_rdb-ref.csv"
echo "ok: checkpointed distinct aggregates restore byte-identical on heap and rocksdb"
