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
