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

# Sessions with a 150 ms gap and 1 s of allowed lateness (R2.5, R3.1-R3.6),
# by Flink's rules step by step: a recursive query walks each user's
# clicks in arrival order with the watermark before each (3 steps a
# click), keeping the user's sessions [start, end, count, last_click,
# fired] as JSON. The watermark fires the sessions whose end - 1 it
# passed and drops those past end - 1 + 1000; a click's window [ts, ts +
# 150) merges with every session it touches; touching none, it is late
# when ts + 149 + 1000 <= wm; a merged session whose end - 1 is passed
# fires at once. At the end of input what is left fires.
sess() {
	base 500
	cat <<SQL
.headers off
CREATE TABLE r AS SELECT row_number() OVER (ORDER BY user_id, pkt) AS n, user_id, url_id, ts,
	coalesce(wm, -9000000000000000000) AS wm FROM x;
CREATE TABLE st AS WITH RECURSIVE st(k, ph, user_id, ss, m, out, late) AS (
	SELECT 0, 2, NULL, '[]', NULL, '[]', 0
	UNION ALL
	SELECT r.n, (st.ph + 1) % 3, r.user_id,
		CASE (st.ph + 1) % 3
		WHEN 0 THEN (SELECT json_group_array(json_array(j.value->>0, j.value->>1, j.value->>2,
				j.value->>3, CASE WHEN (j.value->>1) - 1 <= r.wm THEN 1 ELSE j.value->>4 END))
			FROM json_each(CASE WHEN st.user_id = r.user_id THEN st.ss ELSE '[]' END) j
			WHERE (j.value->>1) - 1 + 1000 > r.wm)
		WHEN 1 THEN st.ss
		ELSE CASE WHEN st.m->>5 THEN st.ss ELSE
			json_insert((SELECT json_group_array(json(j.value)) FROM json_each(st.ss) j
				WHERE NOT ((j.value->>0) <= r.ts + 150 AND (j.value->>1) >= r.ts)),
				'\$[#]', json_array(st.m->>0, st.m->>1, st.m->>2, st.m->>3,
				(st.m->>1) - 1 <= r.wm)) END
		END,
		CASE (st.ph + 1) % 3 WHEN 1 THEN
			(SELECT json_array(min(r.ts, coalesce(min(j.value->>0), r.ts)),
				max(r.ts + 150, coalesce(max(j.value->>1), r.ts + 150)),
				1 + coalesce(sum(j.value->>2), 0), max(r.ts, coalesce(max(j.value->>3), r.ts)),
				count(*), count(*) = 0 AND r.ts + 149 + 1000 <= r.wm)
			FROM json_each(st.ss) j WHERE (j.value->>0) <= r.ts + 150 AND (j.value->>1) >= r.ts)
		WHEN 2 THEN st.m END,
		CASE (st.ph + 1) % 3
		WHEN 0 THEN (SELECT json_group_array(json_array(r.user_id, j.value->>0, j.value->>1,
				j.value->>2, j.value->>3))
			FROM json_each(CASE WHEN st.user_id = r.user_id THEN st.ss ELSE '[]' END) j
			WHERE j.value->>4 = 0 AND (j.value->>1) - 1 <= r.wm)
		WHEN 2 THEN CASE WHEN NOT (st.m->>5) AND (st.m->>1) - 1 <= r.wm THEN
			json_array(json_array(r.user_id, st.m->>0, st.m->>1, st.m->>2, st.m->>3))
			ELSE '[]' END
		ELSE '[]' END,
		(st.ph + 1) % 3 = 2 AND st.m->>5
	FROM st JOIN r ON r.n = st.k + (st.ph = 2)
)
SELECT * FROM st;
CREATE TABLE res AS SELECT j.value->>0 AS user_id, j.value->>1 AS window_start,
	j.value->>2 AS window_end, j.value->>3 AS count, j.value->>4 AS last_click
	FROM st, json_each(st.out) j;
INSERT INTO res SELECT s.user_id, j.value->>0, j.value->>1, j.value->>2, j.value->>3
	FROM st s, json_each(s.ss) j WHERE s.ph = 2 AND j.value->>4 = 0
	AND s.k = (SELECT max(n) FROM r WHERE r.user_id = s.user_id);
.headers on
SQL
}
{ sess; echo "SELECT * FROM res $sorted;"; } | sqlite3 -batch | tr -d '\r' > "$here/session-clicks.csv"
{ sess; echo "SELECT r.user_id, r.url_id, r.ts FROM st JOIN r ON r.n = st.k WHERE st.late ORDER BY r.user_id, r.ts, r.url_id;"; } |
	sqlite3 -batch | tr -d '\r' > "$here/session-clicks-late.csv"

# Tumbling 5 s, count_distinct (issue [4] item 2): a click is accepted
# while its window's end - 1 is above the watermark (L = 0); per user and
# window the clicks and COUNT(DISTINCT url_id). approx_count_distinct's
# column is not here: it-examples checks it against this one.
{ base 500; cat <<SQL
CREATE TABLE p AS SELECT *, ts - ((ts % 5000) + 5000) % 5000 AS ws FROM x;
SELECT user_id, ws AS window_start, ws + 5000 AS window_end, count(*) AS count,
	count(DISTINCT url_id) AS pages
	FROM p WHERE wm IS NULL OR ws + 4999 > wm GROUP BY user_id, ws $sorted;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/distinct-clicks.csv"

# Stateless filter + map: the even-page clicks in file order (one
# partition, one worker), integer division truncating as sluice's does,
# booleans as true/false.
{ base 500; cat <<SQL
SELECT user_id, ts, ts / 1000 AS second, url_id / 10 AS page_group,
	CASE WHEN user_id % 2 = 0 THEN 'true' ELSE 'false' END AS even_user
	FROM x WHERE url_id % 2 = 0 ORDER BY pkt;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/stateless-clicks.csv"

# Dedup per (user_id, url_id) within 10 s: per key in arrival order, the
# first click, then the first at or past the last kept one's ts + 10000.
# out_of_orderness 4 s exceeds every row's lag in the sample (3449 ms),
# so no row is late and the state's cleanup changes nothing: this is
# unbounded state's answer. Sorted by (user_id, url_id, ts), as
# it-examples sorts sluice's output (two workers interleave keys).
{ base 4000; cat <<SQL
CREATE INDEX xk ON x(user_id, url_id, pkt);
CREATE TABLE kept AS WITH RECURSIVE k(pkt) AS (
	SELECT min(pkt) FROM x GROUP BY user_id, url_id
	UNION ALL
	SELECT (SELECT min(n.pkt) FROM x n WHERE n.user_id = c.user_id AND n.url_id = c.url_id
			AND n.pkt > c.pkt AND n.ts >= c.ts + 10000)
	FROM k JOIN x c ON c.pkt = k.pkt
	WHERE EXISTS (SELECT 1 FROM x n WHERE n.user_id = c.user_id AND n.url_id = c.url_id
			AND n.pkt > c.pkt AND n.ts >= c.ts + 10000)
) SELECT pkt FROM k;
SELECT user_id, url_id, ts FROM kept JOIN x USING (pkt) ORDER BY user_id, url_id, ts;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/dedup-clicks.csv"

# Repeat clicks, an interval join of the clicks with themselves (R7.1,
# bounds inclusive): per (user_id, url_id), every pair a, b with
# a.ts + 1 <= b.ts <= a.ts + 1000, at max(a.ts, b.ts). out_of_orderness
# 4 s exceeds every row's lag, so no row is late and no pair is missed:
# the plain join. Sorted by every column, as it-examples sorts sluice's.
{ base 4000; cat <<SQL
SELECT max(a.ts, b.ts) AS join_ts, a.user_id, a.url_id, a.ts, b.user_id AS again_user_id,
	b.url_id AS again_url_id, b.ts AS again_ts
	FROM x a JOIN x b ON a.user_id = b.user_id AND a.url_id = b.url_id
	AND b.ts BETWEEN a.ts + 1 AND a.ts + 1000 ORDER BY 1, 2, 3, 4, 5, 6, 7;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/join-clicks.csv"

# Session window join of the clicks with themselves (R7.4, gap 1 s):
# per (user_id, url_id), the clicks in ts order, a new session where a
# click is more than 1000 ms after the previous one (touching windows
# merge), every click of a session with every click of it at the
# session's last ts + 999. out_of_orderness 5 s exceeds every row's lag
# plus the gap: nothing is late, no session fires early. Sorted by every
# column.
{ base 5000; cat <<SQL
CREATE TABLE g AS SELECT *, lag(ts) OVER (PARTITION BY user_id, url_id ORDER BY ts) AS prev FROM x;
CREATE TABLE s AS SELECT *, sum(CASE WHEN prev IS NULL OR ts > prev + 1000 THEN 1 ELSE 0 END)
	OVER (PARTITION BY user_id, url_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sess FROM g;
CREATE TABLE se AS SELECT user_id, url_id, sess, max(ts) + 999 AS fire FROM s GROUP BY 1, 2, 3;
SELECT se.fire AS join_ts, a.user_id, a.url_id, a.ts, b.user_id AS again_user_id,
	b.url_id AS again_url_id, b.ts AS again_ts
	FROM s a JOIN s b ON a.user_id = b.user_id AND a.url_id = b.url_id AND a.sess = b.sess
	JOIN se ON se.user_id = a.user_id AND se.url_id = a.url_id AND se.sess = a.sess
	ORDER BY 1, 2, 3, 4, 5, 6, 7;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/sessionjoin-clicks.csv"

# Two feeds of the same clicks reconciled by a co_process function
# (orderpay's match, keyed by the whole click, timeout 1 s): every click
# meets its copy before the watermark (out_of_orderness 4 s) can pass
# ts + 1000, so each is matched once, at its own ts (both copies have
# it), and none is unmatched. Sorted by every column.
{ base 4000; cat <<SQL
SELECT ts AS join_ts, user_id, url_id, ts, user_id AS again_user_id,
	url_id AS again_url_id, ts AS again_ts FROM x ORDER BY 1, 2, 3, 4, 5, 6, 7;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/coprocess-clicks.csv"
# Broadcast state (R5.3): each click with the weight of its url_id in
# force at its ts, the row of url-weights.csv with the largest ts <= the
# click's (of equal ts the later row), or zeros (outer). out_of_orderness
# 4 s exceeds every click's lag, so none is late at the two-input
# watermark (at most the clicks' own). Sorted by every column.
{ base 4000; cat <<SQL
CREATE TABLE rw(url_id INTEGER, weight INTEGER, ts INTEGER);
.import --csv --skip 1 $here/../../samples/url-weights.csv rw
SELECT c.ts AS join_ts, c.user_id, c.url_id, c.ts, coalesce(r.url_id, 0) AS weights_url_id,
	coalesce(r.weight, 0) AS weight, coalesce(r.ts, 0) AS weights_ts
	FROM x c LEFT JOIN rw r ON r.rowid = (SELECT q.rowid FROM rw q
		WHERE q.url_id = c.url_id AND q.ts <= c.ts ORDER BY q.ts DESC, q.rowid DESC LIMIT 1)
	ORDER BY 1, 2, 3, 4, 5, 6, 7;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/broadcast-clicks.csv"

# count_with_timeout per (user_id, url_id), timeout 1 s (W4.2): a
# click's timer at ts + 1000 emits (key, clicks so far, ts + 1000) only
# if the key's next click had not come when the watermark reached
# ts + 1000, that is, the watermark in force for that next click was
# already >= ts + 1000 (none before the first watermark). No row is late
# (out_of_orderness 4 s, as for dedup), so no timer is set at or below
# the watermark. Sorted by (user_id, url_id, ts), as it-examples sorts.
{ base 4000; cat <<SQL
CREATE TABLE y AS SELECT user_id, url_id, ts,
	row_number() OVER (PARTITION BY user_id, url_id ORDER BY pkt) AS count,
	lead(pkt) OVER (PARTITION BY user_id, url_id ORDER BY pkt) AS npkt,
	lead(wm) OVER (PARTITION BY user_id, url_id ORDER BY pkt) AS nwm FROM x;
SELECT user_id, url_id, count, ts + 1000 AS ts FROM y
	WHERE npkt IS NULL OR nwm >= ts + 1000 ORDER BY user_id, url_id, ts;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/process-clicks.csv"

# Top 3 pages per 5 s window by clicks (R9.2): per page and window the
# accepted clicks (the window's end - 1 above the watermark, L = 0; the
# watermark counts every row, the filter comes after it) and distinct
# users, then ROW_NUMBER() by clicks descending, url_id ascending, <= 3,
# in (window_start, rank) order as sluice writes them.
{ base 500; cat <<SQL
CREATE TABLE p AS SELECT *, ts - ((ts % 5000) + 5000) % 5000 AS ws FROM x WHERE url_id != 0;
CREATE TABLE agg AS SELECT url_id, ws AS window_start, ws + 5000 AS window_end,
	count(*) AS clicks, count(DISTINCT user_id) AS users
	FROM p WHERE wm IS NULL OR ws + 4999 > wm GROUP BY url_id, ws;
SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start
	ORDER BY clicks DESC, url_id ASC) AS rank FROM agg)
	WHERE rank <= 3 ORDER BY window_start, rank;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/topk-clicks.csv"

# Chained steps around the window: the clicks on a page other than 0 and
# outside page group 3 (url_id / 10, integer division), per user and 5 s
# window (rows whose window's end - 1 is at or below the watermark are
# late; the watermark counts every row), count, distinct page groups and
# the last click; windows with at least 100 clicks, projected with
# window_end - 1 - last_click, in (window_start, user_id) order as the
# sink writes them.
{ base 1000; cat <<SQL
CREATE TABLE p AS SELECT *, url_id / 10 AS page_group, ts - ((ts % 5000) + 5000) % 5000 AS ws
	FROM x WHERE url_id != 0 AND url_id / 10 != 3;
CREATE TABLE agg AS SELECT user_id, ws, ws + 5000 AS window_end, count(*) AS clicks,
	count(DISTINCT page_group) AS groups, max(ts) AS last_click
	FROM p WHERE wm IS NULL OR ws + 4999 > wm GROUP BY user_id, ws;
SELECT user_id, window_end, clicks, groups, window_end - 1 - last_click AS quiet_ms
	FROM agg WHERE clicks >= 100 ORDER BY ws, user_id;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/chained-clicks.csv"

# Two keyed stages (R9.1): per user and 2 s window the accepted clicks on
# a page other than 0 (late: the window's end - 1 at or below the
# watermark); the windows with more than 40, each at window_time =
# window_end - 1; those per region (user_id % 2) and 10 s window of their
# window_time: count, sum and max of the clicks, in (window_start,
# region) order as the sink writes them.
{ base 1000; cat <<SQL
CREATE TABLE p AS SELECT *, ts - ((ts % 2000) + 2000) % 2000 AS ws FROM x WHERE url_id != 0;
CREATE TABLE s1 AS SELECT user_id % 2 AS region, ws + 1999 AS wt, count(*) AS clicks
	FROM p WHERE wm IS NULL OR ws + 1999 > wm GROUP BY user_id, ws;
CREATE TABLE s2 AS SELECT *, wt - ((wt % 10000) + 10000) % 10000 AS ws2 FROM s1 WHERE clicks > 40;
SELECT region, ws2 AS window_start, ws2 + 10000 AS window_end, count(*) AS busy,
	sum(clicks) AS clicks, max(clicks) AS top FROM s2 GROUP BY region, ws2 ORDER BY ws2, region;
SQL
} | sqlite3 -batch | tr -d '\r' > "$here/two-stage-clicks.csv"
