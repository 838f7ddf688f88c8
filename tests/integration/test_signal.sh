#!/bin/bash
# Description: clean stop on SIGTERM and SIGINT. With `partitions: 0` the
# port source never ends by itself; after the capture has been read, a
# signal must drain the job: final watermark, every open window fires, the
# sink is flushed, exit 0, and the results equal sqlite3's.
. "$(dirname "$0")/lib.sh"

expect_csv "$T/expected.csv" demo_sql

for sig in TERM INT; do
	sed -e "s|^  timestamp: ts|  timestamp: ts\n  partitions: 0|" \
		-e "s|^  type: stdout|  type: csv\n  path: $T/out-$sig.csv|" configs/jobs/demo.yaml > "$T/job.yaml"
	grep -q "partitions: 0" "$T/job.yaml" || fail "could not make the unbounded job"
	"$DP" --job "$T/job.yaml" > "$T/dp.out" 2> "$T/dp.err" &
	pid=$!
	trap 'kill -9 $pid 2> /dev/null || true; rm -rf "$T"' EXIT
	sleep 3
	kill -0 $pid 2> /dev/null || { cat "$T/dp.err"; fail "an unbounded job ended by itself"; }
	kill -s $sig $pid
	rc=0
	wait $pid || rc=$?
	[ $rc = 0 ] || { cat "$T/dp.err"; fail "SIG$sig: exit $rc, want 0"; }
	same_file "$T/expected.csv" "$T/out-$sig.csv"
	echo "ok: SIG$sig drained the job: exit 0, all windows fired and written"
done
