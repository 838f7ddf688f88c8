#!/bin/bash
# Description: savepoints (issue [3]). `sluicectl savepoint` takes one from
# a running 2-worker job, the job is cancelled, and `sluicectl run
# --savepoint` starts it again from there on 3 workers; then `sluicectl
# stop --savepoint` stops a running job without draining and it resumes
# from that savepoint on 1 worker. Each time the committed output is
# byte-identical to a failure-free run.
. "$(dirname "$0")/lib.sh"
SLD="$SLUICE_BUILD/control/sluiced/sluiced"
CTL="$SLUICE_BUILD/control/sluicectl/sluicectl"
export SLUICE_SOCKET="$T/sluiced.sock"

"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 500 --events 60000 --rate 5000 --disorder 500 --seed 4 \
	--capture "$T/in.slc" 2> /dev/null
mkjob() {	# mkjob WORKERS OUTDIR CKPTDIR
	cat <<YAML
job: sp
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source: {type: capture, path: $T/in.slc, rate: 10000, timestamp: ts,
         watermark: {out_of_orderness: 1s, emit: punctuated}}
pipeline:
  - key_by: user_id
  - window: {tumbling: 2s}
  - aggregate: [count(), sum(url_id), max(ts)]
sink: {type: csv, path: $2/res.csv}
lcores: {rx: 1, workers: $1}
execution.checkpointing.interval: 1s
state.checkpoints.dir: $3
YAML
}
mkjob 2 "$T/ref" "$T/ref-chk" > "$T/ref.yaml"
run_dp "$T/ref.yaml"
cat "$T"/ref/res.csv.part-* > "$T/ref.csv"

"$SLD" --socket "$SLUICE_SOCKET" --state-dir "$T/state" > /dev/null 2> "$T/sld.err" &
sld=$!
trap 'kill -9 $sld 2> /dev/null || true; pkill -9 -f "$T/" 2> /dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do grep -q "ready on" "$T/sld.err" && break; sleep 0.1; done
wait_state() {
	for _ in $(seq 300); do
		"$CTL" --json status sp > "$T/st.json" 2> /dev/null || true
		[ "$(json "$T/st.json" '$.state')" = "$1" ] && return 0
		sleep 0.1
	done
	fail "sp never reached $1: $(cat "$T/st.json")"
}
# RUNNING is the process started; its control socket answers once its
# EAL is up (seconds under a sanitizer on a loaded machine).
wait_dp() {
	for _ in $(seq 300); do
		"$CTL" --json metrics sp > "$T/m.json" 2> /dev/null && return 0
		sleep 0.1
	done
	fail "sp's dataplane never answered: $(cat "$T/m.json")"
}

mkjob 2 "$T/out" "$T/chk" > "$T/sp2.yaml"
"$CTL" run "$T/sp2.yaml" > /dev/null || fail "run"
wait_state RUNNING
wait_dp
sleep 1
"$CTL" --json savepoint sp "$T/savepoints" > "$T/sp.json" || fail "savepoint: $(cat "$T/sp.json")"
sp=$(json "$T/sp.json" '$.path')
[ -n "$sp" ] || fail "no savepoint path: $(cat "$T/sp.json")"
for _ in $(seq 100); do
	"$CTL" --json metrics sp > "$T/m.json" 2> /dev/null || true
	[ "$(json "$T/m.json" '$.dataplane.lastSavepoint.path')" = "$sp" ] && break
	sleep 0.1
done
[ -f "$sp/_manifest" ] || fail "savepoint $sp did not complete"
"$CTL" checkpoints sp > "$T/ck.txt" || fail "checkpoints"
grep -Eq "^[0-9]+ +checkpoint +complete +[0-9]+ +[0-9]+" "$T/ck.txt" || fail "checkpoints: $(cat "$T/ck.txt")"
"$CTL" cancel sp > /dev/null || fail "cancel"
wait_state CANCELED
echo "ok: savepoint $sp taken from a running job; sluicectl checkpoints lists:"
cat "$T/ck.txt"

mkjob 3 "$T/out" "$T/chk" > "$T/sp3.yaml"
"$CTL" run "$T/sp3.yaml" --savepoint "$sp" > /dev/null || fail "run --savepoint"
wait_state FINISHED
grep -q "2 workers then, 3 now" "$T/state/jobs/sp/dp.log" || fail "not restored onto 3 workers: $(grep restore "$T/state/jobs/sp/dp.log")"
cat "$T"/out/res.csv.part-* > "$T/got.csv"
same_file "$T/ref.csv" "$T/got.csv"
[ -f "$sp/_manifest" ] || fail "the savepoint was deleted"
echo "ok: resubmitted from the savepoint onto 3 workers: $(($(wc -l < "$T/ref.csv") - 1)) rows byte-identical to a failure-free run"

# Stop with savepoint: no drain, FINISHED; resume from it onto 1 worker.
rm -rf "$T/out" "$T/chk"
mkjob 2 "$T/out" "$T/chk" > "$T/sp2.yaml"
"$CTL" run "$T/sp2.yaml" > /dev/null || fail "run 2"
wait_state RUNNING
wait_dp
sleep 1
"$CTL" stop sp --savepoint "$T/stopsp" > /dev/null || fail "stop --savepoint"
wait_state FINISHED
sp2=$(ls -d "$T"/stopsp/chk-* | head -1)
[ -f "$sp2/_manifest" ] || fail "no savepoint from stop --savepoint"
grep -q "stopping without draining" "$T/state/jobs/sp/dp.log" || fail "did not stop without draining"
mkjob 1 "$T/out" "$T/chk" > "$T/sp1.yaml"
"$CTL" run "$T/sp1.yaml" --savepoint "$sp2" > /dev/null || fail "run --savepoint 2"
wait_state FINISHED
cat "$T"/out/res.csv.part-* > "$T/got2.csv"
same_file "$T/ref.csv" "$T/got2.csv"
echo "ok: stop --savepoint ($sp2) stopped without draining; resumed onto 1 worker: byte-identical"
