#!/bin/bash
# Description: issue [2]'s acceptance path, through the real CLI. sluiced
# starts; `sluicectl run` submits the demo job, `status` watches it run and
# finish, `metrics` reads its counters; an unbounded job is watched with
# `top --once`, its Prometheus output passes promtool, it is cancelled
# mid-run; errors come back with stable exit codes and file:line:col.
. "$(dirname "$0")/lib.sh"
SLD="$SLUICE_BUILD/control/sluiced/sluiced"
CTL="$SLUICE_BUILD/control/sluicectl/sluicectl"
export SLUICE_SOCKET="$T/sluiced.sock"
port=$((20000 + $$ % 20000))

"$SLD" --socket "$SLUICE_SOCKET" --state-dir "$T/state" --prometheus-port $port \
	--shutdown-timeout 5s > "$T/sld.out" 2> "$T/sld.err" &
sld=$!
trap 'kill -9 $sld 2> /dev/null || true; pkill -9 -f "$T/" 2> /dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do grep -q "ready on" "$T/sld.err" && break; sleep 0.1; done
grep -q "ready on" "$T/sld.err" || { cat "$T/sld.err"; fail "sluiced did not become ready"; }

# wait_state JOB STATE [SECONDS]
wait_state() {
	for _ in $(seq $((${3:-30} * 10))); do
		"$CTL" --json status "$1" > "$T/st.json" 2> /dev/null || true
		[ "$(json "$T/st.json" '$.state')" = "$2" ] && return 0
		sleep 0.1
	done
	cat "$T/st.json" "$T/sld.err" >&2
	fail "$1 never reached $2"
}

# The demo job, as shipped, with its output in the job's log.
"$CTL" run configs/jobs/demo.yaml > "$T/run.out" || fail "sluicectl run: $(cat "$T/run.out")"
wait_state clicks-per-user FINISHED 60
"$CTL" --json metrics clicks-per-user > "$T/m.json" || fail "metrics of a finished job"
[ "$(json "$T/m.json" '$.final.rx[0].rows')" = 4000 ] || fail "final rows: $(cat "$T/m.json")"
[ "$(json "$T/m.json" '$.final.workers[0].numLateRecordsDropped')" = 5 ] || fail "final late rows"
"$CTL" status clicks-per-user | grep -q FINISHED || fail "human status"
echo "ok: sluicectl run -> FINISHED; final metrics: 4000 rows, 5 late"

# An unbounded job: RUNNING, live metrics, top, Prometheus, cancel.
sed -e "s|^  timestamp: ts|  timestamp: ts\n  partitions: 0|" -e 's|^job: .*|job: endless|' \
	configs/jobs/demo.yaml > "$T/endless.yaml"
"$CTL" run "$T/endless.yaml" > /dev/null || fail "run endless"
wait_state endless RUNNING
for _ in $(seq 100); do
	"$CTL" --json metrics endless > "$T/m.json" 2> /dev/null || true
	[ "$(json "$T/m.json" '$.dataplane.lcores[0].numRecordsIn')" = 4000 ] && break
	sleep 0.1
done
[ "$(json "$T/m.json" '$.dataplane.lcores[0].numRecordsIn')" = 4000 ] || fail "live metrics: $(cat "$T/m.json")"
[ "$(json "$T/m.json" '$.numRestarts')" = 0 ] || fail "numRestarts"
"$CTL" top endless --once > "$T/top.txt" || fail "top --once"
grep -q "worker" "$T/top.txt" && grep -q "rx" "$T/top.txt" || fail "top frame: $(cat "$T/top.txt")"
# sluiced polls dataplanes in the background and serves its cache: the
# first scrape may predate the first poll.
for _ in $(seq 50); do
	python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read().decode())" > "$T/prom.txt"
	grep -q '^sluice_num_records_in_total{job_name="endless"' "$T/prom.txt" && break
	sleep 0.2
done
grep -q '^sluice_num_records_in_total{job_name="endless"' "$T/prom.txt" || fail "prometheus: $(head "$T/prom.txt")"
if command -v promtool > /dev/null; then
	promtool check metrics < "$T/prom.txt" || fail "promtool rejects the live output"
	echo "ok: live Prometheus output passes promtool check metrics"
fi
"$CTL" cancel endless > /dev/null || fail "cancel"
wait_state endless CANCELED
"$CTL" list > "$T/list.txt"
grep -q "clicks-per-user.*FINISHED" "$T/list.txt" && grep -q "endless.*CANCELED" "$T/list.txt" ||
	fail "list: $(cat "$T/list.txt")"
echo "ok: endless job RUNNING with live metrics, top and Prometheus; cancelled mid-run"

# Graceful stop through the CLI.
"$CTL" run "$T/endless.yaml" --name endless2 > /dev/null || fail "run endless2"
wait_state endless2 RUNNING
"$CTL" stop endless2 > /dev/null || fail "stop"
wait_state endless2 FINISHED
echo "ok: sluicectl stop drains to FINISHED"

# Errors: stable exit codes and file:line:col.
rc=0; "$CTL" status nosuchjob 2> "$T/e" || rc=$?
[ $rc = 14 ] || fail "no_such_job exit $rc"
printf 'job: x\nschema: {a: u64, ts: timestamp_ms}\nsource: {type: csv, path: x.csv, timestamp: ts, prot: 1}\n' > "$T/bad.yaml"
rc=0; "$CTL" run "$T/bad.yaml" 2> "$T/e" || rc=$?
[ $rc = 13 ] || fail "invalid_job exit $rc"
grep -q "bad.yaml:3:[0-9]*: unknown key 'prot' in source" "$T/e" || fail "error text: $(cat "$T/e")"
rc=0; "$CTL" frobnicate 2> /dev/null || rc=$?
[ $rc = 2 ] || fail "usage exit $rc"
rc=0; SLUICE_SOCKET="$T/nope.sock" "$CTL" list 2> /dev/null || rc=$?
[ $rc = 3 ] || fail "unreachable exit $rc"
"$CTL" info configs/jobs/demo.yaml > "$T/info.txt" || fail "info"
grep -q "key_by" "$T/info.txt" || fail "info: $(cat "$T/info.txt")"
echo "ok: exit codes 14/13/2/3 and file:line:col errors"

kill -TERM $sld
rc=0; wait $sld || rc=$?
[ $rc = 0 ] || fail "sluiced exit $rc on SIGTERM"
echo "ok: sluiced exits 0 on SIGTERM"
