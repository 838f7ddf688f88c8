#!/bin/bash
# Description: the dataplane's control socket and DPDK telemetry. While an
# unbounded job runs, `metrics` reports Flink-named counters with the exact
# totals, a malformed request gets an error reply and the socket keeps
# serving, `/sluice/metrics` answers through dpdk-telemetry.py, and `stop`
# drains the job to exit 0 with every window written.
. "$(dirname "$0")/lib.sh"

expect_csv "$T/expected.csv" demo_sql

sed -e "s|^  timestamp: ts|  timestamp: ts\n  partitions: 0|" \
	-e "s|^  type: stdout|  type: csv\n  path: $T/out.csv|" configs/jobs/demo.yaml > "$T/job.yaml"
"$DP" --job "$T/job.yaml" --ctl "$T/dp.sock" > "$T/dp.out" 2> "$T/dp.err" &
pid=$!
trap 'kill -9 $pid 2> /dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -S "$T/dp.sock" ] && break; sleep 0.1; done
sleep 1

# ctl RAW-LINE: send one raw line, print the reply line.
ctl() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
' "$T/dp.sock" "$1"
}

ctl '{"v":1,"id":1,"verb":"metrics"}' > "$T/m.json"
[ "$(json "$T/m.json" '$.ok')" = 1 ] || fail "metrics: $(cat "$T/m.json")"
[ "$(json "$T/m.json" '$.data.lcores[0].numRecordsIn')" = 4000 ] || fail "rx numRecordsIn"
[ "$(json "$T/m.json" '$.data.lcores[0].numRecordsFiltered')" = 56 ] || fail "rx filtered"
[ "$(json "$T/m.json" '$.data.lcores[1].numLateRecordsDropped')" = 5 ] || fail "late"
[ "$(json "$T/m.json" '$.data.lcores[1].role')" = worker ] || fail "roles"
[ "$(json "$T/m.json" '$.data.operators[1].name')" = filter ] || fail "operators"
[ "$(json "$T/m.json" '$.data.state')" = RUNNING ] || fail "state"
for k in numRecordsInPerSecond busyTimeMsPerSecond idleTimeMsPerSecond backPressuredTimeMsPerSecond currentOutputWatermark watermarkLagMs; do
	[ -n "$(json "$T/m.json" "\$.data.lcores[0].$k")" ] || fail "metric $k missing"
done
echo "ok: metrics over the control socket"

ctl 'this is not json' > "$T/e1.json"
[ "$(json "$T/e1.json" '$.code')" = bad_request ] || fail "bad request: $(cat "$T/e1.json")"
ctl '{"v":1,"id":9,"verb":"submit"}' > "$T/e2.json"
[ "$(json "$T/e2.json" '$.code')" = unknown_verb ] || fail "daemon verb: $(cat "$T/e2.json")"
[ "$(json "$T/e2.json" '$.id')" = 9 ] || fail "reply id"
ctl '{"v":2,"id":1,"verb":"status"}' > "$T/e3.json"
[ "$(json "$T/e3.json" '$.code')" = bad_request ] || fail "version check"
ctl '{"v":1,"id":2,"verb":"status"}' > "$T/s.json"
[ "$(json "$T/s.json" '$.data.pid')" = "$pid" ] || fail "still serving after bad requests"
echo "ok: malformed requests answered with errors; the socket keeps serving"

out=$(echo "/sluice/metrics" | timeout 10 dpdk-telemetry.py -f "sluice-dp-$pid" 2>&1 | tail -1)
echo "$out" | grep -q '"numRecordsIn": 4000' || fail "telemetry: $out"
echo "ok: dpdk-telemetry.py /sluice/metrics: $out"

ctl '{"v":1,"id":3,"verb":"stop"}' > "$T/stop.json"
[ "$(json "$T/stop.json" '$.ok')" = 1 ] || fail "stop: $(cat "$T/stop.json")"
wait $pid || fail "sluice-dp exited non-zero after stop"
same_file "$T/expected.csv" "$T/out.csv"
[ ! -e "$T/dp.sock" ] || fail "control socket left behind"
echo "ok: stop drained the job, exit 0, all windows written"
