#!/bin/sh
# Recompute the expected outputs of the example jobs in configs/jobs/ with
# sqlite3, from configs/samples/clicks.csv alone (not with sluice): the
# watermark before each row is the largest earlier timestamp minus the
# job's out_of_orderness minus 1 (semantics.md R1.3, punctuated), and each
# job's rules are spelled out in SQL below. Rows are sorted by
# (window_start, user_id, count), as tests/integration/test_examples.sh
# sorts sluice's output before comparing.
# Usage: configs/jobs/expected/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
csv="$here/../../samples/clicks.csv"

# base B: the clicks with their arrival order (pkt) and watermark (wm).
base() {
	cat <<SQL
CREATE TABLE ev(user_id INTEGER, url_id INTEGER, ts INTEGER);
.import --csv --skip 1 $csv ev
CREATE TABLE x AS SELECT rowid AS pkt, user_id, url_id, ts,
	max(ts) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - $1 - 1 AS wm
	FROM ev;
.headers on
.mode csv
SQL
}

sorted='ORDER BY window_start, user_id, count'

# Sliding 10 s every 2 s (R2.4): a row is in each window [s, s + 10000)
# with s on the 2 s grid, s <= ts < s + 10000, that is not late
# (s + 9999 > wm, R3.1/R3.2); first/last by arrival.
{ base 1000; cat <<SQL
CREATE TABLE js(j INTEGER);
INSERT INTO js VALUES (0), (1), (2), (3), (4);
CREATE TABLE w AS SELECT x.*, (ts - ((ts % 2000) + 2000) % 2000) - j * 2000 AS ws
	FROM x JOIN js;
CREATE TABLE k AS SELECT * FROM w WHERE ws > ts - 10000 AND (wm IS NULL OR ws + 9999 > wm);
SELECT user_id, ws AS window_start, ws + 10000 AS window_end, count(*) AS count,
	(SELECT url_id FROM k f WHERE f.user_id = g.user_id AND f.ws = g.ws ORDER BY pkt LIMIT 1) AS first_url_id,
	(SELECT url_id FROM k f WHERE f.user_id = g.user_id AND f.ws = g.ws ORDER BY pkt DESC LIMIT 1) AS last_url_id
	FROM k g GROUP BY user_id, ws $sorted;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/sliding-clicks.csv"

# Tumbling 5 s, allowed lateness 2 s (R3.1-R3.4): a row is accepted while
# its window's end - 1 + 2000 is above the watermark. The window fires
# once the watermark passes end - 1 with the rows before that; each row
# accepted after it fires it again with everything up to that row. Rows
# not accepted are the late side output.
{ base 500; cat <<SQL
CREATE TABLE p AS SELECT *, ts - ((ts % 5000) + 5000) % 5000 AS ws FROM x;
CREATE TABLE acc AS SELECT * FROM p WHERE wm IS NULL OR ws + 4999 + 2000 > wm;
CREATE TABLE res(user_id INTEGER, window_start INTEGER, window_end INTEGER, count INTEGER,
	last_click INTEGER);
INSERT INTO res SELECT user_id, ws, ws + 5000, count(*), max(ts) FROM acc
	WHERE wm IS NULL OR wm < ws + 4999 GROUP BY user_id, ws;
INSERT INTO res SELECT r.user_id, r.ws, r.ws + 5000,
	(SELECT count(*) FROM acc a WHERE a.user_id = r.user_id AND a.ws = r.ws AND a.pkt <= r.pkt),
	(SELECT max(ts) FROM acc a WHERE a.user_id = r.user_id AND a.ws = r.ws AND a.pkt <= r.pkt)
	FROM acc r WHERE r.wm IS NOT NULL AND r.wm >= r.ws + 4999;
SELECT * FROM res $sorted;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/late-clicks.csv"
{ base 500; cat <<SQL
SELECT user_id, url_id, ts FROM x WHERE wm IS NOT NULL AND
	ts - ((ts % 5000) + 5000) % 5000 + 4999 + 2000 <= wm ORDER BY user_id, ts, url_id;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/late-clicks-late.csv"

# Tumbling 10 s with CountTrigger.of(50): each user's accepted rows of a
# window numbered by arrival; the 50th, 100th, ... fires the window with
# everything up to it; nothing fires when the window ends.
{ base 1000; cat <<SQL
CREATE TABLE acc AS SELECT *, ts - ((ts % 10000) + 10000) % 10000 AS ws FROM x;
CREATE TABLE n AS SELECT *, row_number() OVER (PARTITION BY user_id, ws ORDER BY pkt) AS rn
	FROM acc WHERE wm IS NULL OR ws + 9999 > wm;
SELECT r.user_id, r.ws AS window_start, r.ws + 10000 AS window_end, r.rn AS count,
	(SELECT sum(url_id) FROM n a WHERE a.user_id = r.user_id AND a.ws = r.ws AND a.rn <= r.rn) AS sum_url_id,
	r.url_id AS last_url_id
	FROM n r WHERE r.rn % 50 = 0 $sorted;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/count-trigger-clicks.csv"

# Sessions with a 150 ms gap (R2.5): a user's accepted clicks ordered by
# ts start a new session when ts - the previous ts > 150 (touching windows
# merge); each is [first ts, last ts + 150). A click is dropped when its
# own window [ts, ts + 150) is late (ts + 149 <= wm). This offline rule is
# what Flink's incremental merging gives unless a click meets a session
# that fired before it came, or a late click meets one still in flight;
# the checks below make sure the sample has neither (else: stop).
sess() {
	base 3500
	cat <<SQL
CREATE TABLE acc AS SELECT * FROM x WHERE wm IS NULL OR ts + 149 > wm;
CREATE TABLE s AS SELECT *, sum(CASE WHEN d <= 150 THEN 0 ELSE 1 END)
	OVER (PARTITION BY user_id ORDER BY ts, pkt ROWS UNBOUNDED PRECEDING) AS sid
	FROM (SELECT *, ts - lag(ts) OVER (PARTITION BY user_id ORDER BY ts, pkt) AS d FROM acc);
SQL
}
bad=$({ sess; cat <<SQL
.headers off
SELECT (SELECT count(*) FROM x WHERE wm IS NOT NULL AND ts <= wm)
	+ (SELECT count(*) FROM acc b WHERE b.wm = b.ts - 1 AND EXISTS (SELECT 1 FROM acc a
	   WHERE a.user_id = b.user_id AND a.pkt < b.pkt AND a.ts + 150 = b.ts));
SQL
} | sqlite3 -batch | tr -d '\r')
if [ "$bad" != 0 ]; then
	echo "regen.sh: $bad clicks of the sample make session-clicks' offline sessions differ from Flink's; change the job" >&2
	exit 1
fi
{ sess; cat <<SQL
SELECT user_id, min(ts) AS window_start, max(ts) + 150 AS window_end, count(*) AS count,
	min(ts) AS first_click, max(ts) AS last_click FROM s GROUP BY user_id, sid $sorted;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/session-clicks.csv"
