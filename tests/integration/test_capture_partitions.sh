#!/bin/bash
# Description: a binary capture with three source partitions replayed at
# memory speed: the source's watermark is the minimum over its partitions
# (R1.6), every partition's END ends the input, and results on three
# workers equal sqlite3's, which recomputes that minimum per packet.
. "$(dirname "$0")/lib.sh"

"$GEN" write --schema sensor:i32,temp:i64,ts:timestamp_ms --key sensor --ts ts \
	--keys 50 --events 20000 --rate 2000 --disorder 200 --late-fraction 0.02 \
	--late-ms 1500 --records-per-packet 50 --partitions 3 --seed 3 \
	--csv "$T/in.csv" --capture "$T/in.slc" 2> /dev/null

cat > "$T/job.yaml" <<YAML
job: capture-test
schema: {sensor: i32, temp: i64, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  timestamp: ts
  watermark: {out_of_orderness: 100ms, emit: punctuated}
pipeline:
  - filter: "temp - 3 * (temp / 3) != 0 or sensor < 10"
  - key_by: sensor
  - window: {tumbling: 1s, offset: 250ms}
  - aggregate: [count(), sum(temp), min(temp), max(temp)]
sink: {type: csv, path: $T/out.csv}
lcores: {rx: 1, workers: 3}
YAML

q() {
	expected_sql "$T/in.csv" "sensor INTEGER, temp INTEGER, ts INTEGER" 50 100 1000 250 \
		"temp - 3 * (temp / 3) != 0 OR sensor < 10" "sensor" \
		"count(*) AS count, sum(temp) AS sum_temp, min(temp) AS min_temp, max(temp) AS max_temp" 3
}
expect_csv "$T/expected.csv" q
late=$(expect_late q)
[ "$late" -gt 0 ] || fail "no late rows in the data"
run_dp "$T/job.yaml" --stats-json "$T/s.json"
same_file "$T/expected.csv" "$T/out.csv"
sum=0
for i in 0 1 2; do
	sum=$((sum + $(json "$T/s.json" "\$.workers[$i].numLateRecordsDropped")))
done
[ "$sum" = "$late" ] || fail "late rows: want $late, got $sum"
[ "$(json "$T/s.json" '$.rx[0].packets')" = 403 ] || fail "packets: $(json "$T/s.json" '$.rx[0].packets')"
echo "ok: $(($(wc -l < "$T/out.csv") - 1)) rows over 3 partitions and 3 workers equal sqlite3's; $late late rows dropped"
