#!/bin/bash
# Description: issue [3]'s chaos test. Under sluiced, a keyed windowed job
# over 200,000 events with checkpoints every 200 ms has its dataplane
# killed with SIGKILL at random moments at least five times; sluiced
# restarts it from the latest checkpoint each time, and the committed
# output is byte-identical to a failure-free run. sluiced is the
# checkpoint coordinator (it triggers, and commits each checkpoint by
# writing its manifest); midway sluiced itself is killed with SIGKILL and
# started again: it re-attaches and adopts the checkpoint the dataplane
# holds, and checkpoints go on being committed.
# With the argument "native" the chaos job keeps its state in rocksdb
# with native (incremental) checkpoints; the reference stays on heap, so
# the bytes must also match across backends.
. "$(dirname "$0")/lib.sh"
mode=${1:-heap}
SLD="$SLUICE_BUILD/control/sluiced/sluiced"
CTL="$SLUICE_BUILD/control/sluicectl/sluicectl"
export SLUICE_SOCKET="$T/sluiced.sock"

"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 1000 --events 200000 --rate 10000 --disorder 500 --seed 9 \
	--capture "$T/in.slc" 2> /dev/null
mkjob() {	# mkjob NAME OUTDIR CKPTDIR
	cat <<YAML
job: $1
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: 40000
  timestamp: ts
  watermark: {out_of_orderness: 1s, emit: punctuated}
pipeline:
  - key_by: user_id
  - window: {tumbling: 2s}
  - aggregate: [count(), sum(url_id), max(ts)]
sink: {type: csv, path: $2/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 200ms
state.checkpoints.dir: $3
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 50
restart-strategy.fixed-delay.delay: 100ms
YAML
	if [ "$mode" = native ] && [ "$1" = chaos ]; then
		# A small write buffer, so memtables flush and checkpoints
		# share SST files.
		printf 'state.backend.type: rocksdb\nstate.backend.rocksdb.localdir: %s\nstate.backend.incremental: true\nstate.backend.rocksdb.writebuffer.size: 1mb\n' \
			"$T/rdb"
	fi
}

# The failure-free reference, standalone.
mkjob ref "$T/ref" "$T/ref-chk" > "$T/ref.yaml"
run_dp "$T/ref.yaml"
cat "$T"/ref/res.csv.part-* > "$T/ref.csv"

start_sld() {	# start_sld LOG
	"$SLD" --socket "$SLUICE_SOCKET" --state-dir "$T/state" > /dev/null 2> "$1" &
	sld=$!
	for _ in $(seq 100); do grep -q "ready on" "$1" && break; sleep 0.1; done
}
start_sld "$T/sld.err"
trap 'kill -9 $sld 2> /dev/null || true; pkill -9 -f "$T/" 2> /dev/null || true; rm -rf "$T"' EXIT
mkjob chaos "$T/out" "$T/chk" > "$T/chaos.yaml"
"$CTL" run "$T/chaos.yaml" > /dev/null || fail "run"

status() { "$CTL" --json status chaos > "$T/st.json" 2> /dev/null || true; }
kills=0
while [ $kills -lt 6 ]; do
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.4 + (r % 600) / 1000 }')"
	status
	state=$(json "$T/st.json" '$.state')
	[ "$state" = FINISHED ] && break
	[ "$state" = RUNNING ] || continue
	pid=$(json "$T/st.json" '$.pid')
	kill -9 "$pid" 2> /dev/null && kills=$((kills + 1))
	if [ $kills -eq 3 ] && [ ! -f "$T/sld2.err" ]; then
		# The coordinator dies too, while the dataplane restarts.
		sleep 0.5
		kill -9 $sld
		wait $sld 2> /dev/null || true
		start_sld "$T/sld2.err"
	fi
	for _ in $(seq 100); do	# until the restart is running again
		status
		p2=$(json "$T/st.json" '$.pid')
		[ "$(json "$T/st.json" '$.state')" = RUNNING ] && [ "$p2" != "$pid" ] && break
		sleep 0.05
	done
done
for _ in $(seq 600); do
	status
	[ "$(json "$T/st.json" '$.state')" = FINISHED ] && break
	sleep 0.1
done
[ "$(json "$T/st.json" '$.state')" = FINISHED ] || { cat "$T/sld.err"; fail "chaos job did not finish: $(cat "$T/st.json")"; }
[ $kills -ge 5 ] || fail "only $kills kills landed before the job finished"
restarts=$(json "$T/st.json" '$.restarts')
[ "${restarts:-0}" -ge 5 ] || [ "$(json "$T/st.json" '$.numRestarts')" -ge 5 ] || fail "restarts: $(cat "$T/st.json")"
cat "$T"/out/res.csv.part-* > "$T/got.csv"
same_file "$T/ref.csv" "$T/got.csv"
# sluiced committed the checkpoints, before and after its own restart.
c1=$(grep -c "checkpoint [0-9]* committed" "$T/sld.err" || true)
c2=$(grep -c "checkpoint [0-9]* committed" "$T/sld2.err" || true)
[ "$c1" -ge 1 ] && [ "$c2" -ge 3 ] || { grep -i "checkpoint\|coordinat" "$T/sld.err" | head -20; } >&2 || true; [ "$c1" -ge 1 ] && [ "$c2" -ge 3 ] || fail "sluiced committed $c1 checkpoints, then $c2 after its restart"
grep -q "re-attached to dataplane" "$T/sld2.err" || [ "$(grep -c "started dataplane" "$T/sld2.err")" -ge 1 ] ||
	fail "the restarted sluiced took no dataplane over"
grep -q "every task file is durable; sluiced commits it" "$T/state/jobs/chaos/dp.log" ||
	fail "the dataplane did not leave its checkpoints to sluiced"
if [ "$mode" = native ]; then
	grep -q "from native checkpoints: 1 adopted" "$T/state/jobs/chaos/dp.log" ||
		fail "no restart adopted a native checkpoint"
	last=$(ls -d "$T"/chk/chk-* | sort -t- -k2 -n | tail -1)
	grep -q '"task":"native"' "$last/_manifest" || fail "$last has no native files"
	grep -q '"shared":true' "$last/_manifest" || fail "$last shares no SST file with the checkpoint before"
	echo "ok: native checkpoints: $(grep -c "from native checkpoints" "$T/state/jobs/chaos/dp.log") worker restores from them"
fi
echo "ok: sluiced committed $c1 checkpoints, was killed, and committed $c2 more after its restart"
echo "ok: $kills SIGKILLs under sluiced, each restart from the latest checkpoint; $(($(wc -l < "$T/ref.csv") - 1)) result rows byte-identical to the failure-free run"
