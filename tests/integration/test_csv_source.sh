#!/bin/bash
# Description: the CSV file source with punctuated watermarks (one per
# line), negative timestamps, a window offset, a two-field key with a
# string, a filter with arithmetic and f64 aggregates, on two workers;
# results compared with sqlite3 (floats to 1e-9 relative), and malformed
# lines counted and dropped.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema region:str[6],user:u32,amount:f64,ts:timestamp_ms \
	--key region,user --ts ts --keys 12 --events 6000 --rate 500 \
	--start-ms -6000 --disorder 800 --late-fraction 0.03 --late-ms 2000 \
	--seed 11 --csv "$T/in.csv" 2> /dev/null

cat > "$T/job.yaml" <<YAML
job: csv-test
schema: {region: "str[6]", user: u32, amount: f64, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: 300ms, emit: punctuated}
pipeline:
  - filter: "amount > 10.5 and user % 3 != 1"
  - key_by: [user, region]   # not adjacent in the row: the gather path
  - window: {tumbling: 3s, offset: -1s}
  - aggregate: [count(), sum(amount), avg(amount) as mean, min(amount), max(amount), max(ts)]
sink: {type: csv, path: $T/out.csv}
lcores: {rx: 1, workers: 2}
YAML

q() {
	expected_sql "$T/in.csv" "region TEXT, user INTEGER, amount REAL, ts INTEGER" 1 300 3000 -1000 \
		"amount > 10.5 AND user % 3 != 1" "user, region" \
		"count(*) AS count, sum(amount) AS sum_amount, avg(amount) AS mean, min(amount) AS min_amount, max(amount) AS max_amount, max(ts) AS max_ts"
}
late=$(expect_late q)
[ "$late" -gt 0 ] || fail "no late rows in the data; the test would prove nothing"
run_dp "$T/job.yaml" --stats-json "$T/s.json"
got_late=$(( $(json "$T/s.json" '$.workers[0].numLateRecordsDropped') + $(json "$T/s.json" '$.workers[1].numLateRecordsDropped') ))
[ "$got_late" = "$late" ] || fail "late rows: want $late, got $got_late"

# Exact columns must match in order; floats within 1e-9 relative.
bad=$({ q; cat <<SQL
CREATE TABLE actual(user INTEGER, region TEXT, window_start INTEGER, window_end INTEGER, count INTEGER,
	sum_amount REAL, mean REAL, min_amount REAL, max_amount REAL, max_ts INTEGER);
.import --csv --skip 1 $T/out.csv actual
SELECT (SELECT count(*) FROM expected) - (SELECT count(*) FROM actual)
	+ (SELECT count(*) FROM expected e LEFT JOIN actual a
	   ON a.rowid = e.rowid AND a.region = e.region AND a.user = e.user
	   AND a.window_start = e.window_start AND a.window_end = e.window_end
	   AND a.count = e.count AND a.max_ts = e.max_ts
	   AND abs(a.sum_amount - e.sum_amount) <= 1e-9 * max(1, abs(e.sum_amount))
	   AND abs(a.mean - e.mean) <= 1e-9 * max(1, abs(e.mean))
	   AND a.min_amount = e.min_amount AND a.max_amount = e.max_amount
	   WHERE a.rowid IS NULL);
SQL
} | sqlite3 -batch)
[ "$bad" = 0 ] || fail "$bad result rows differ from sqlite3's"
rows=$(($(wc -l < "$T/out.csv") - 1))
neg=$(awk -F, 'NR > 1 && $3 < 0' "$T/out.csv" | wc -l)
[ "$rows" -gt 20 ] && [ "$neg" -gt 0 ] && [ "$neg" -lt "$rows" ] || fail "want rows on both sides of time 0: $rows rows, $neg negative"
head -1 "$T/out.csv" | grep -qx 'user,region,window_start,window_end,count,sum_amount,mean,min_amount,max_amount,max_ts' ||
	fail "header: $(head -1 "$T/out.csv")"
echo "ok: $rows rows ($neg in negative time) equal sqlite3's; $late late rows dropped"

# Malformed lines: counted, dropped, logged with their line numbers; the
# results are the same as without them.
cp "$T/out.csv" "$T/clean.csv"
{ head -3 "$T/in.csv"; echo "k1,1,notanumber,5"; echo "k1,1,2.5"; echo 'k1,1,2.5,7,extra';
  echo "toolongname,1,2.5,7"; echo "k1,-1,2.5,7"; tail -n +4 "$T/in.csv"; } > "$T/bad.csv"
sed -i "s|path: $T/in.csv|path: $T/bad.csv|" "$T/job.yaml"
run_dp "$T/job.yaml" --stats-json "$T/s2.json"
[ "$(json "$T/s2.json" '$.rx[0].bad_lines')" = 5 ] || fail "bad lines: $(json "$T/s2.json" '$.rx[0].bad_lines')"
[ "$(json "$T/s2.json" '$.rx[0].rows')" = 6000 ] || fail "good rows lost"
grep -q "bad.csv:4: column 3 (amount): expected a number; line dropped" "$T/dp.err" || { cat "$T/dp.err"; fail "no line-numbered message"; }
grep -q "bad.csv:8: column 2 (user): expected an integer in range" "$T/dp.err" || fail "no message for line 8"
same_file "$T/clean.csv" "$T/out.csv"
echo "ok: 5 malformed lines counted and dropped, 6000 good rows kept"
