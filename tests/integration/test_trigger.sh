#!/bin/bash
# Description: a count trigger end to end (Flink's CountTrigger.of(N) in
# place of the event-time trigger, semantics.md R2.6): a CSV source with
# disorder and late rows through two workers, tumbling 1 s windows with
# allowed_lateness 500ms and trigger {count: 3}. A key's window fires at
# its 3rd, 6th, ... accepted row with everything so far, never on time,
# and rows past end - 1 + L are dropped. sqlite3 numbers each key's
# accepted rows of a window in arrival order and computes every result.
# Then a continuous trigger on the same rows, and a count trigger on
# session windows over rows in event-time order.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 20 --events 8000 --rate 400 \
	--disorder 900 --late-fraction 0.05 --late-ms 3000 \
	--seed 41 --csv "$T/in.csv" 2> /dev/null

size=1000
L=500
B=400
N=3
cat > "$T/count.yaml" <<YAML
job: count-trigger
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: ${size}ms, allowed_lateness: ${L}ms, trigger: {count: $N}}
  - aggregate: [count(), sum(amount), last(amount)]
sink: {type: csv, path: $T/count.csv}
lcores: {rx: 1, workers: 2}
YAML

q() {
	expected_sql "$T/in.csv" "user INTEGER, amount INTEGER, ts INTEGER" 1 "$B" "$size" 0 \
		"1" "user" "count(*) AS count"
	cat <<SQL
CREATE VIEW acc AS SELECT * FROM x WHERE wm IS NULL OR pane + $size - 1 + $L > wm;
CREATE TABLE numbered AS SELECT *, row_number() OVER (PARTITION BY user, pane ORDER BY pkt) AS rn
	FROM acc;
CREATE TABLE want AS SELECT r.user AS user, r.pane AS window_start, r.pane + $size AS window_end,
	r.rn AS count,
	(SELECT sum(amount) FROM numbered a WHERE a.user = r.user AND a.pane = r.pane AND a.rn <= r.rn) AS sum_amount,
	r.amount AS last_amount
	FROM numbered r WHERE r.rn % $N = 0;
SQL
}

# differ Q CSV: how many rows of sluice's CSV differ from Q's table want
# (each sorted by window, key, count, sum; missing and extra rows count).
differ() {
	{ "$1"; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, last_amount INTEGER);
.import --csv --skip 1 $2 actual
CREATE TABLE e AS SELECT * FROM want ORDER BY window_start, user, count, sum_amount;
CREATE TABLE a AS SELECT * FROM actual ORDER BY window_start, user, count, sum_amount;
SELECT (SELECT count(*) FROM e) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM e LEFT JOIN a ON a.rowid = e.rowid AND a.user = e.user
	   AND a.window_start = e.window_start AND a.window_end = e.window_end
	   AND a.count = e.count AND a.sum_amount = e.sum_amount AND a.last_amount = e.last_amount
	   WHERE a.rowid IS NULL);
SQL
	} | sqlite3 -batch
}

dropped=$({ q; echo "SELECT count(*) FROM x WHERE wm IS NOT NULL AND pane + $size - 1 + $L <= wm;"; } | sqlite3 -batch)
run_dp "$T/count.yaml" --stats-json "$T/count.json"
got=$(( $(json "$T/count.json" '$.workers[0].numLateRecordsDropped') +
	$(json "$T/count.json" '$.workers[1].numLateRecordsDropped') ))
[ "$got" = "$dropped" ] || fail "rows dropped as late: want $dropped, got $got"
bad=$(differ q "$T/count.csv")
[ "$bad" = 0 ] || fail "$bad result rows differ from sqlite3's"
rows=$(($(wc -l < "$T/count.csv") - 1))
[ "$rows" -gt 500 ] || fail "only $rows results"
echo "ok: count trigger $N on tumbling ${size}ms, lateness ${L}ms: $rows results and $dropped dropped rows equal sqlite3's"

# The same wrapped in Flink's PurgingTrigger (R3.5): each firing holds
# only its own N rows, so sqlite3 sums the N rows up to each N-th.
sed -e "s/trigger: {count: $N}/trigger: {count: $N, purge: true}/" \
	-e "s|$T/count.csv|$T/purge.csv|" "$T/count.yaml" > "$T/purge.yaml"
grep -q 'purge: true' "$T/purge.yaml" || fail "purge.yaml was not made"
qp() {
	q
	cat <<SQL
DROP TABLE want;
CREATE TABLE want AS SELECT r.user AS user, r.pane AS window_start, r.pane + $size AS window_end,
	$N AS count,
	(SELECT sum(amount) FROM numbered a WHERE a.user = r.user AND a.pane = r.pane
	 AND a.rn > r.rn - $N AND a.rn <= r.rn) AS sum_amount,
	r.amount AS last_amount
	FROM numbered r WHERE r.rn % $N = 0;
SQL
}
run_dp "$T/purge.yaml"
bad=$(differ qp "$T/purge.csv")
[ "$bad" = 0 ] || fail "purging count trigger: $bad result rows differ from sqlite3's"
[ "$(wc -l < "$T/purge.csv")" = "$(wc -l < "$T/count.csv")" ] || fail "purging fired a different number of times"
cmp -s "$T/purge.csv" "$T/count.csv" && fail "purging changed nothing"
echo "ok: count trigger $N with purge: $rows results, each of its own $N rows, equal sqlite3's"

# trigger: {continuous: 200ms} (ContinuousEventTimeTrigger.of(200 ms)) on
# the same rows, no lateness. A key's first row of a window (at pkt pf,
# time tf, watermark wf) sets a firing at g1 = tf - tf % 200 + 200 and the
# next ones every 200 ms before the window's end - 1. Firing g happens at
# the first watermark advance that reaches it after pf (the watermark
# before row q is then >= g and above wf), with the window's rows before
# q; when the input ends first, with all of them. The window's end fires
# as always. sqlite3 computes every row.
I=200
sed -e "s|trigger: {count: $N}|trigger: {continuous: ${I}ms}|" -e "s|allowed_lateness: ${L}ms, ||" \
	-e "s|$T/count.csv|$T/cont.csv|" "$T/count.yaml" > "$T/cont.yaml"
grep -q "continuous: ${I}ms" "$T/cont.yaml" || fail "the continuous job was not written"
qc() {
	expected_sql "$T/in.csv" "user INTEGER, amount INTEGER, ts INTEGER" 1 "$B" "$size" 0 \
		"1" "user" "count(*) AS count"
	cat <<SQL
CREATE TABLE acc AS SELECT * FROM x WHERE wm IS NULL OR pane + $size - 1 > wm;
CREATE TABLE firsts AS SELECT user, pane, pkt AS pf, ts AS tf, wm AS wf FROM acc a
	WHERE pkt = (SELECT min(pkt) FROM acc b WHERE b.user = a.user AND b.pane = a.pane);
CREATE TABLE grid AS WITH RECURSIVE g(user, pane, pf, wf, t) AS (
	SELECT user, pane, pf, wf, tf - tf % $I + $I FROM firsts
	UNION ALL SELECT user, pane, pf, wf, t + $I FROM g WHERE t + $I < pane + $size - 1)
	SELECT * FROM g WHERE t < pane + $size - 1;
CREATE TABLE fires AS SELECT g.*, (SELECT min(pkt) FROM x WHERE x.pkt > g.pf AND x.wm >= g.t
	AND (g.wf IS NULL OR x.wm > g.wf)) AS q FROM grid g;
CREATE TABLE want(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, last_amount INTEGER);
INSERT INTO want SELECT f.user, f.pane, f.pane + $size,
	(SELECT count(*) FROM acc a WHERE a.user = f.user AND a.pane = f.pane AND (f.q IS NULL OR a.pkt < f.q)),
	(SELECT sum(amount) FROM acc a WHERE a.user = f.user AND a.pane = f.pane AND (f.q IS NULL OR a.pkt < f.q)),
	(SELECT amount FROM acc a WHERE a.user = f.user AND a.pane = f.pane AND (f.q IS NULL OR a.pkt < f.q)
	 ORDER BY pkt DESC LIMIT 1)
	FROM fires f;
INSERT INTO want SELECT user, pane, pane + $size, count(*), sum(amount),
	(SELECT amount FROM acc b WHERE b.user = a.user AND b.pane = a.pane ORDER BY pkt DESC LIMIT 1)
	FROM acc a GROUP BY user, pane;
SQL
}
run_dp "$T/cont.yaml"
bad=$(differ qc "$T/cont.csv")
[ "$bad" = 0 ] || fail "continuous: $bad result rows differ from sqlite3's"
rows=$(($(wc -l < "$T/cont.csv") - 1))
wins=$({ qc; echo "SELECT count(*) FROM (SELECT DISTINCT user, pane FROM acc);"; } | sqlite3 -batch)
[ "$rows" -gt $((wins * 2)) ] || fail "continuous: only $rows results for $wins windows"
echo "ok: continuous trigger ${I}ms on tumbling ${size}ms: $rows results ($wins windows) equal sqlite3's"

# trigger: {count: 3} on session windows (gap 30 ms), on rows in event-time
# order (no disorder, so none is late and a row can only extend its key's
# latest session or open the next; a row exactly a gap after the last one
# touches it and merges, the watermark never having passed that session's
# end). CountTrigger's count then is the row's number in its session, and
# the session fires at rows 3, 6, ... with window [first ts, this ts + gap)
# and everything so far; never on time. sqlite3 splits each key's rows at
# gaps > 30 ms and numbers them; last(amount) is the firing row's. Two
# workers; rows compared sorted.
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 20 --events 6000 --rate 1000 \
	--seed 43 --csv "$T/ord.csv" 2> /dev/null
G=30
sed -e "s|$T/in.csv|$T/ord.csv|" -e "s|tumbling: ${size}ms, allowed_lateness: ${L}ms, |session: ${G}ms, |" \
	-e "s|$T/count.csv|$T/sess.csv|" "$T/count.yaml" > "$T/sess.yaml"
grep -q "session: ${G}ms, trigger: {count: $N}" "$T/sess.yaml" || fail "the session job was not written"
qs() {
	cat <<SQL
CREATE TABLE ev(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/ord.csv ev
CREATE TABLE s1 AS SELECT rowid AS pkt, *, CASE WHEN ts - lag(ts) OVER
	(PARTITION BY user ORDER BY rowid) <= $G THEN 0 ELSE 1 END AS brk FROM ev;
CREATE TABLE s2 AS SELECT *, sum(brk) OVER (PARTITION BY user ORDER BY pkt) AS sid FROM s1;
CREATE TABLE s3 AS SELECT *, row_number() OVER (PARTITION BY user, sid ORDER BY pkt) AS rn,
	min(ts) OVER (PARTITION BY user, sid) AS st,
	sum(amount) OVER (PARTITION BY user, sid ORDER BY pkt) AS run_sum FROM s2;
CREATE TABLE want AS SELECT user, st AS window_start, ts + $G AS window_end, rn AS count,
	run_sum AS sum_amount, amount AS last_amount FROM s3 WHERE rn % $N = 0;
SQL
}
lat=$(sqlite3 -batch :memory: ".import --csv $T/ord.csv e" "SELECT count(*) FROM e a JOIN e b ON b.rowid = a.rowid + 1 WHERE CAST(b.ts AS INTEGER) < CAST(a.ts AS INTEGER);")
[ "$lat" = 0 ] || fail "session: the rows are not in event-time order ($lat inversions)"
run_dp "$T/sess.yaml" --stats-json "$T/sess.json"
bad=$(differ qs "$T/sess.csv")
[ "$bad" = 0 ] || fail "session count trigger: $bad result rows differ from sqlite3's"
rows=$(($(wc -l < "$T/sess.csv") - 1))
[ "$rows" -gt 300 ] || fail "session count trigger: only $rows results"
echo "ok: count trigger $N on ${G}ms sessions: $rows results equal sqlite3's"

# trigger: {continuous: 20ms} on the same sessions: a session fires every
# 20 ms of event time from its first row (and at its end), its next
# firing moving with it as it grows. On rows in event-time order a
# session only grows at its end, so per key and session start: the last
# firing has every row of the session (per key the final counts and sums
# equal sqlite3's), the earlier ones fewer, never more; at most one
# firing per 20 ms of the session's span plus its end; and one worker
# writes the same rows as two.
I2=20
sed -e "s|trigger: {count: $N}|trigger: {continuous: ${I2}ms}|" -e "s|$T/sess.csv|$T/sc.csv|" \
	"$T/sess.yaml" > "$T/sc.yaml"
grep -q "continuous: ${I2}ms" "$T/sc.yaml" || fail "the continuous session job was not written"
run_dp "$T/sc.yaml"
sed -e "s|workers: 2|workers: 1|" -e "s|$T/sc.csv|$T/sc1.csv|" "$T/sc.yaml" > "$T/sc1.yaml"
run_dp "$T/sc1.yaml"
same_file <(tail -n +2 "$T/sc.csv" | sort) <(tail -n +2 "$T/sc1.csv" | sort)
bad=$({ qs; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, last_amount INTEGER);
.import --csv --skip 1 $T/sc.csv actual
CREATE TABLE fin AS SELECT user, window_start, max(count) AS c, max(window_end) AS e,
	count(*) AS firings FROM actual GROUP BY user, window_start;
CREATE TABLE sess AS SELECT user, st, count(*) AS c, sum(amount) AS s, max(ts) + $G AS e
	FROM s3 GROUP BY user, sid;
SELECT (SELECT count(*) FROM sess s LEFT JOIN fin f ON f.user = s.user AND f.window_start = s.st
	AND f.c = s.c AND f.e = s.e WHERE f.user IS NULL)
  + (SELECT count(*) FROM fin) - (SELECT count(*) FROM sess)
  + (SELECT count(*) FROM actual a JOIN fin f USING (user, window_start)
	WHERE a.count > f.c OR a.window_end > f.e)
  + (SELECT count(*) FROM actual a JOIN s3 r ON r.user = a.user AND r.st = a.window_start
	AND r.rn = a.count WHERE a.sum_amount != r.run_sum OR a.last_amount != r.amount)
  + (SELECT count(*) FROM actual a WHERE NOT EXISTS (SELECT 1 FROM s3 r WHERE r.user = a.user
	AND r.st = a.window_start AND r.rn = a.count))
  + (SELECT count(*) FROM fin f JOIN sess s ON s.user = f.user AND s.st = f.window_start
	WHERE f.firings > (s.e - s.st) / $I2 + 2);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "continuous session trigger: $bad checks differ from sqlite3's"
rows=$(($(wc -l < "$T/sc.csv") - 1))
sessions=$({ qs; echo "SELECT count(DISTINCT user || ',' || sid) FROM s3;"; } | sqlite3 -batch)
[ "$rows" -gt $((sessions * 2)) ] || fail "continuous session trigger: only $rows firings for $sessions sessions"
echo "ok: continuous trigger ${I2}ms on ${G}ms sessions: $rows firings of $sessions sessions, each a prefix of its session, the last all of it"
