#!/bin/bash
# Description: the demo job through a real DPDK port (net_pcap reading the
# bundled capture), with 1, 2 and 3 worker lcores and in run-to-completion
# mode: every run must equal sqlite3's independent computation over the
# same events (out-of-order and late ones included), byte for byte, and
# drop exactly the late rows sqlite3 finds.
. "$(dirname "$0")/lib.sh"

expect_csv "$T/expected.csv" demo_sql
late=$(expect_late demo_sql)
[ "$(wc -l < "$T/expected.csv")" -gt 10 ] || fail "expected result is suspiciously small"
[ "$late" -gt 0 ] || fail "the sample has no late events; the test would prove nothing"

# The demo job as shipped (stdout sink).
run_dp configs/jobs/demo.yaml --stats-json "$T/s.json" > "$T/demo.csv"
same_file "$T/expected.csv" "$T/demo.csv"
[ "$(json "$T/s.json" '$.workers[0].numLateRecordsDropped')" = "$late" ] ||
	fail "late rows: want $late, got $(json "$T/s.json" '$.workers[0].numLateRecordsDropped')"
[ "$(json "$T/s.json" '$.rx[0].rows')" = 4000 ] || fail "rows in"

for variant in "workers: 2" "workers: 3" "workers: 1\n  run_to_completion: true"; do
	sed -e "s|^  workers: 1|  $variant|" -e "s|^  type: stdout|  type: csv\n  path: $T/out.csv|" \
		configs/jobs/demo.yaml > "$T/job.yaml"
	cmp -s configs/jobs/demo.yaml "$T/job.yaml" && fail "could not make the job variant"
	run_dp "$T/job.yaml" --stats-json "$T/s.json"
	same_file "$T/expected.csv" "$T/out.csv"
	sum=0
	n=$(sqlite3 -batch :memory: "SELECT json_array_length(json_extract(readfile('$T/s.json'), '\$.workers'));")
	for ((i = 0; i < n; i++)); do
		sum=$((sum + $(json "$T/s.json" "\$.workers[$i].numLateRecordsDropped")))
	done
	[ "$sum" = "$late" ] || fail "$variant: late rows: want $late, got $sum"
	echo "ok: $variant ($n worker(s), $late late rows dropped)"
done
# Per-operator parallelism: the window step asks for 3 (no lcores.workers).
sed -e "s|^  - window: {tumbling: 10s}|  - window: {tumbling: 10s}\n    parallelism: 3|" \
	-e "/^lcores:/,\$d" -e "s|^  type: stdout|  type: csv\n  path: $T/out.csv|" \
	configs/jobs/demo.yaml > "$T/par.yaml"
grep -q 'parallelism: 3' "$T/par.yaml" || fail "could not make the parallelism variant"
run_dp "$T/par.yaml" --stats-json "$T/s.json"
same_file "$T/expected.csv" "$T/out.csv"
n=$(sqlite3 -batch :memory: "SELECT json_array_length(json_extract(readfile('$T/s.json'), '\$.workers'));")
[ "$n" = 3 ] || fail "window parallelism 3 ran $n workers"
echo "ok: window with parallelism: 3 ran 3 worker lcores, same bytes"
echo "ok: demo output equals sqlite3's ($(($(wc -l < "$T/expected.csv") - 1)) rows)"
