#!/bin/bash
# Description: allowed lateness end to end (semantics.md R3.1-R3.4): a CSV
# source with disorder and late rows through two workers, tumbling 1 s
# windows with allowed_lateness 1500ms. A window fires when the watermark
# passes its end - 1 and stays until end - 1 + L; each row it accepts
# meanwhile fires it again for that key (an updated row follows the
# first); rows past the cleanup are dropped, counted and written to the
# late side output (late_sink). sqlite3 computes every result row (on-time
# and late firings; first/last by arrival), the dropped rows and their
# count from the same CSV;
# the order of a key's updates in the file is checked too.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms \
	--key user --ts ts --keys 20 --events 8000 --rate 400 \
	--disorder 900 --late-fraction 0.05 --late-ms 3000 \
	--seed 31 --csv "$T/in.csv" 2> /dev/null

size=1000
L=1500
B=400
cat > "$T/late.yaml" <<YAML
job: lateness
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: ${size}ms, allowed_lateness: ${L}ms}
  - aggregate: [count(), sum(amount), max(ts), first(amount), last(amount)]
sink: {type: csv, path: $T/late.csv}
late_sink: {type: csv, path: $T/dropped.csv}
lcores: {rx: 1, workers: 2}
YAML

# x (from expected_sql): every row with its window start (pane) and the
# watermark in force before it (wm, NULL before the first); pkt orders rows.
q() {
	expected_sql "$T/in.csv" "user INTEGER, amount INTEGER, ts INTEGER" 1 "$B" "$size" 0 \
		"1" "user" "count(*) AS count"
	cat <<SQL
-- Accepted: the window's cleanup time end - 1 + L is above the watermark.
CREATE VIEW acc AS SELECT * FROM x WHERE wm IS NULL OR pane + $size - 1 + $L > wm;
CREATE VIEW dropped AS SELECT * FROM x WHERE wm IS NOT NULL AND pane + $size - 1 + $L <= wm;
-- On time: the rows before the watermark passed end - 1.
-- first/last: the values of the earliest and latest row by arrival (pkt).
CREATE VIEW ontime AS SELECT * FROM acc WHERE wm IS NULL OR wm < pane + $size - 1;
CREATE TABLE want(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, max_ts INTEGER, first_amount INTEGER, last_amount INTEGER);
INSERT INTO want SELECT user, pane, pane + $size, count(*), sum(amount), max(ts),
	(SELECT o.amount FROM ontime o WHERE o.user = g.user AND o.pane = g.pane ORDER BY o.pkt LIMIT 1),
	(SELECT o.amount FROM ontime o WHERE o.user = g.user AND o.pane = g.pane ORDER BY o.pkt DESC LIMIT 1)
	FROM ontime g GROUP BY user, pane;
-- Late firings: each row accepted after that fires the key's whole window.
INSERT INTO want SELECT r.user, r.pane, r.pane + $size,
	(SELECT count(*) FROM acc a WHERE a.user = r.user AND a.pane = r.pane AND a.pkt <= r.pkt),
	(SELECT sum(amount) FROM acc a WHERE a.user = r.user AND a.pane = r.pane AND a.pkt <= r.pkt),
	(SELECT max(ts) FROM acc a WHERE a.user = r.user AND a.pane = r.pane AND a.pkt <= r.pkt),
	(SELECT a.amount FROM acc a WHERE a.user = r.user AND a.pane = r.pane ORDER BY a.pkt LIMIT 1),
	r.amount
	FROM acc r WHERE r.wm IS NOT NULL AND r.wm >= r.pane + $size - 1;
SQL
}

dropped=$({ q; echo "SELECT count(*) FROM dropped;"; } | sqlite3 -batch)
firings=$({ q; echo "SELECT count(*) FROM acc WHERE wm IS NOT NULL AND wm >= pane + $size - 1;"; } | sqlite3 -batch)
[ "$firings" -gt 50 ] || fail "only $firings late firings in the data; the test would prove little"
[ "$dropped" -gt 10 ] || fail "only $dropped rows past the lateness; the test would prove little"

run_dp "$T/late.yaml" --stats-json "$T/late.json"
got_dropped=$(( $(json "$T/late.json" '$.workers[0].numLateRecordsDropped') +
	       $(json "$T/late.json" '$.workers[1].numLateRecordsDropped') ))
[ "$got_dropped" = "$dropped" ] || fail "rows dropped as late: want $dropped, got $got_dropped"
got_firings=$(( $(json "$T/late.json" '$.workers[0].late_firings') +
	       $(json "$T/late.json" '$.workers[1].late_firings') ))
[ "$got_firings" = "$firings" ] || fail "late firings: want $firings, got $got_firings"
[ "$(json "$T/late.json" '$.late_sink_rows')" = "$dropped" ] ||
	fail "late_sink_rows: want $dropped, got $(json "$T/late.json" '$.late_sink_rows')"

# The side output: exactly the dropped rows, each once, as they came in
# (the input's columns and header); two workers interleave, so compared
# as sorted lists.
[ "$(head -1 "$T/dropped.csv")" = "user,amount,ts" ] || fail "late_sink header: $(head -1 "$T/dropped.csv")"
bad=$({ q; cat <<SQL
CREATE TABLE side(user INTEGER, amount INTEGER, ts INTEGER);
.import --csv --skip 1 $T/dropped.csv side
CREATE TABLE e AS SELECT user, amount, ts FROM dropped ORDER BY user, ts, amount;
CREATE TABLE a AS SELECT user, amount, ts FROM side ORDER BY user, ts, amount;
SELECT (SELECT count(*) FROM e) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM e LEFT JOIN a ON a.rowid = e.rowid AND a.user = e.user
	   AND a.amount = e.amount AND a.ts = e.ts WHERE a.rowid IS NULL);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad rows of the late side output differ from the dropped rows sqlite3 finds"

# The same rows (a key's results of one window differ in count, so the
# sorted lists compare exactly), and in the file a key's updates of a
# window come in the order they were made: count ascending.
bad=$({ q; cat <<SQL
CREATE TABLE actual(user INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount INTEGER, max_ts INTEGER, first_amount INTEGER, last_amount INTEGER);
.import --csv --skip 1 $T/late.csv actual
CREATE TABLE e AS SELECT * FROM want ORDER BY window_start, user, count;
CREATE TABLE a AS SELECT * FROM actual ORDER BY window_start, user, count;
SELECT (SELECT count(*) FROM e) - (SELECT count(*) FROM a)
	+ (SELECT count(*) FROM e LEFT JOIN a ON a.rowid = e.rowid AND a.user = e.user
	   AND a.window_start = e.window_start AND a.window_end = e.window_end
	   AND a.count = e.count AND a.sum_amount = e.sum_amount AND a.max_ts = e.max_ts
	   AND a.first_amount = e.first_amount AND a.last_amount = e.last_amount
	   WHERE a.rowid IS NULL)
	+ (SELECT count(*) FROM actual x JOIN actual y ON x.user = y.user
	   AND x.window_start = y.window_start AND x.rowid < y.rowid AND x.count >= y.count);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad result rows differ from sqlite3's (or a key's updates are out of order)"
rows=$(($(wc -l < "$T/late.csv") - 1))
echo "ok: lateness ${L}ms on tumbling ${size}ms: $rows results (of them $firings late firings) and the $dropped dropped rows in the late side output equal sqlite3's"

# With checkpoints: a paced capture replay with a checkpoint every 100 ms,
# killed with SIGKILL three times and restored from the latest checkpoint
# each time. Windows that fired before a checkpoint are not fired again
# after the restore, late firings are neither lost nor doubled, and both
# outputs commit with the checkpoints (two-phase commit): the results are
# byte-identical to a failure-free run's, and the late side output holds
# the same rows (its two workers' rows interleave as they come).
"$GEN" write --schema user:u32,amount:i64,ts:timestamp_ms --key user --ts ts \
	--keys 30 --events 12000 --rate 1000 --disorder 600 \
	--late-fraction 0.05 --late-ms 2500 --seed 37 --capture "$T/in.slc" 2> /dev/null
cat > "$T/ck.yaml" <<YAML
job: lateness-ck
schema: {user: u32, amount: i64, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 8000
  timestamp: ts
  watermark: {out_of_orderness: ${B}ms, emit: punctuated}
pipeline:
  - key_by: user
  - window: {tumbling: ${size}ms, allowed_lateness: ${L}ms}
  - aggregate: [count(), sum(amount), first(amount), last(amount)]
sink: {type: csv, path: $T/ckout/res.csv}
late_sink: {type: csv, path: $T/ckout/late.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 2
YAML
run_dp "$T/ck.yaml" --stats-json "$T/ck.json"
[ "$(json "$T/ck.json" '$.workers[0].late_firings')" -gt 0 ] || fail "no late firings in the checkpointed job"
cat "$T"/ckout/res.csv.part-* > "$T/ck-ref.csv"
cat "$T"/ckout/late.csv.part-* | sort > "$T/late-ref.csv"
[ "$(wc -l < "$T/late-ref.csv")" -gt 20 ] || fail "only $(wc -l < "$T/late-ref.csv") late rows in the checkpointed job"
rm -rf "$T/ckout" "$T/chk"
kill_and_restore "$T/ck.yaml" 3
cat "$T"/ckout/res.csv.part-* > "$T/ck-got.csv"
cat "$T"/ckout/late.csv.part-* | sort > "$T/late-got.csv"
same_file "$T/ck-ref.csv" "$T/ck-got.csv"
same_file "$T/late-ref.csv" "$T/late-got.csv"
echo "ok: lateness through 3 SIGKILLs and restores: $(($(wc -l < "$T/ck-ref.csv") - 1)) result rows byte-identical, $(($(wc -l < "$T/late-ref.csv") - 1)) late rows the same"
