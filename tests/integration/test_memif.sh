#!/bin/bash
# Description: the demo's events through a net_memif port: sluice-gen
# replays the bundled capture's frames as the memif server, sluice-dp
# receives them as the client on two workers, and the results must equal
# sqlite3's computation over the same events, byte for byte.
. "$(dirname "$0")/lib.sh"

expect_csv "$T/expected.csv" demo_sql
late=$(expect_late demo_sql)

sock="$T/memif.sock"
sed -e "s|net_pcap0,rx_pcap=configs/samples/clicks.pcap|net_memif0,role=client,socket=$sock|" \
	-e "s|^  workers: 1|  workers: 2|" \
	-e "s|^  type: stdout|  type: csv\n  path: $T/out.csv|" configs/jobs/demo.yaml > "$T/job.yaml"
grep -q net_memif0 "$T/job.yaml" || fail "could not make the memif job"

timeout 60 "$GEN" send --port "net_memif0,role=server,socket=$sock" \
	--schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--replay configs/samples/clicks.pcap --json > "$T/gen.json" 2> "$T/gen.err" &
gen=$!
sleep 1
run_dp "$T/job.yaml" --stats-json "$T/s.json"
if ! wait $gen; then
	cat "$T/gen.err" >&2
	fail "sluice-gen send failed"
fi
same_file "$T/expected.csv" "$T/out.csv"
sum=$(( $(json "$T/s.json" '$.workers[0].numLateRecordsDropped') + $(json "$T/s.json" '$.workers[1].numLateRecordsDropped') ))
[ "$sum" = "$late" ] || fail "late rows: want $late, got $sum"
[ "$(json "$T/s.json" '$.rx[0].packets')" = 57 ] || fail "packets: $(json "$T/s.json" '$.rx[0].packets')"
[ "$(json "$T/s.json" '$.rx[0].seq_gaps')" = 0 ] || fail "sequence gaps over memif"
echo "ok: 57 packets over memif; $(($(wc -l < "$T/out.csv") - 1)) rows equal sqlite3's; $late late rows dropped"
