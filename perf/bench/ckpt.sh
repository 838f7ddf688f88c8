#!/bin/bash
# Checkpoint benchmark (issue [3]), `make bench-ckpt`. Not a test.
#
# For each state backend (BACKENDS) and number of distinct keys (KEYS_LIST),
# replay a capture of KEYS * events per key (keys uniform) at memory
# speed through key_by -> 10 s tumbling window -> count(), sum(v), on one
# CPU (rx + worker run to completion; the main lcore per CPUS), RUNS times each:
#   1. without checkpoints;
#   2. with a checkpoint every CKPT_INTERVAL (1s);
#   3. --restore latest from run 2's newest checkpoint; the restored job is
#      killed as soon as it runs (only the recovery is measured).
# and print a markdown table (stdout) of medians over the runs: events/s
# without and with checkpoints and their ratio, checkpoint duration and
# bytes (median over a run's checkpoints, then over runs), the worker's
# worst per-vector time (p99.9, max) without and with checkpoints, recovery
# time and state memory per key; then a second table of what a checkpoint
# writes (full and new bytes) and the worker's sync stall. Raw per-run
# numbers, timings and anything unexpected in the dataplane's logs go to
# stderr.
#
#   perf/bench/ckpt.sh [BUILD_DIR]          (default: build)
#   env: BACKENDS ("heap rocksdb rocksdb-native"), KEYS_LIST ("1000000
#        10000000"), RUNS (3), HEAP_EVENTS_PER_KEY (10),
#        EVENTS_PER_KEY (3, the rocksdb backends), CKPT_INTERVAL (1s),
#        MAX_RUN_S (120), PROBE_ABOVE (1000000), CPUS (0-1)
#
# Backends: heap; rocksdb (every checkpoint a full snapshot of the state);
# rocksdb-native (state.backend.type rocksdb + state.backend.incremental:
# native RocksDB checkpoints: at the barrier the worker hard-links its SST
# files and copies its write-ahead log, and files already in the
# checkpoint before are shared, not written again). The log's "X bytes
# new" is what a native checkpoint wrote; for the others, new = full. The
# sync stall is the stats JSON's checkpoint_sync_max_us
# (checkpointSyncDurationMaxUs in the metrics, Flink's sync duration): the
# longest a barrier held the worker's loop in the run, the log copy + SST
# links for native.
#
# rocksdb and rocksdb-native above PROBE_ABOVE (1M) keys are only run when
# their first run (without checkpoints) ends within MAX_RUN_S; otherwise
# that run is stopped there and the row says "not run", with the rate it
# had reached.
#
# The event time of the whole input spans 4 s inside one 10 s window, and
# the watermark (1 s out of orderness) fires it only at the end of input:
# state only grows while the capture is read, so the checkpoints see it
# growing towards its peak, and the last ones near it. The first checkpoint
# is triggered as the job starts; an input read in less than the interval
# (heap, 1M keys, 10 events per key: ~1 s) gets only that one, which the
# row marks ("at start only"): HEAP_EVENTS_PER_KEY=60 gives it ~5. The
# end-of-input fire (one result per key) is part of the run: it is in
# events/s (first row to last result) and it is usually the worst vector
# ("max").
#
# Memory: --no-huge. This machine reserves 1 GiB of 2 MiB hugepages,
# shared with whatever else runs here (tests), and the heap arena alone
# needs ~2.8 GB at 10M keys, so hugepages would not fit and would take
# pages from the tests. Without hugepages the worker puts the arena in
# anonymous memory with transparent huge pages (the EAL's own memory is a
# memfd in 4 KiB pages) and faults it in before the first row.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
BACKENDS=${BACKENDS:-heap rocksdb rocksdb-native}
for b in $BACKENDS; do
	case $b in
	heap | rocksdb | rocksdb-native) ;;
	*) echo "ckpt.sh: unknown backend $b in BACKENDS (heap, rocksdb, rocksdb-native)" >&2; exit 2 ;;
	esac
done
KEYS_LIST=${KEYS_LIST:-1000000 10000000}	# the Makefile's KEYS is not used
RUNS=${RUNS:-3}
EVENTS_PER_KEY=${EVENTS_PER_KEY:-3}
# heap reads 10 events per key: at 3 its 10M-key run is over in ~6 s,
# three checkpoints, all of them of a state still growing into new memory
# (first touches of the drainer's buffers), and the last one competing
# with the end-of-input fire for the main lcore. 10 gives ~18 s and ~8
# checkpoints of the whole state, the steady state the aim is about.
HEAP_EVENTS_PER_KEY=${HEAP_EVENTS_PER_KEY:-10}
epk_of() { if [ "$1" = heap ]; then echo "$HEAP_EVENTS_PER_KEY"; else echo "$EVENTS_PER_KEY"; fi; }
CKPT_INTERVAL=${CKPT_INTERVAL:-1s}
MAX_RUN_S=${MAX_RUN_S:-120}
PROBE_ABOVE=${PROBE_ABOVE:-1000000}	# rocksdb* above this many keys: MAX_RUN_S
# 0-1: the rx+worker lcore on CPU 0 and the main lcore (checkpoint drains,
# RocksDB's flushes and compactions) alone on CPU 1, as deployed; 0: all
# on one CPU, as the figures before 2026-11-24 were taken.
CPUS=${CPUS:-0-1}
DP="$build/dataplane/sluice-dp"
GEN="$build/perf/sluice-gen/sluice-gen"
for f in "$DP" "$GEN"; do
	[ -x "$f" ] || { echo "ckpt.sh: $f is missing: build first (ninja -C $build)" >&2; exit 2; }
done
command -v sqlite3 > /dev/null || { echo "ckpt.sh: needs sqlite3 (reads the stats JSON)" >&2; exit 2; }
T=$(mktemp -d /tmp/sluice-ckbench.XXXXXX)
pid=
cleanup() {
	# Only the dataplane this script started, by its pid.
	if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
		kill -KILL "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
		rm -rf "/var/run/dpdk/sluice-dp-$pid"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$EPOCHREALTIME
log() { printf '%s\n' "$*" >&2; }
findings="$T/findings"
: > "$findings"
finding() { printf '%s\n' "$*" >> "$findings"; }

# Space: the capture (~20.5 B/event), the results (~32 B/key), a retained
# checkpoint being replaced (2 x ~50 B/key), rocksdb's files (~45 B/key).
max_keys=0
for k in $KEYS_LIST; do [ "$k" -gt "$max_keys" ] && max_keys=$k; done
max_epk=$EVENTS_PER_KEY
[ "$HEAP_EVENTS_PER_KEY" -gt "$max_epk" ] && max_epk=$HEAP_EVENTS_PER_KEY
need_mb=$(( (max_keys * (max_epk * 21 + 32 + 100 + 45)) / 1000000 + 64 ))
avail_mb=$(df -Pm "$T" | awk 'NR == 2 { print $4 }')
log "ckpt.sh: $T: $avail_mb MB free, needs ~$need_mb MB; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$avail_mb" -lt "$need_mb" ]; then
	log "ckpt.sh: not enough room in /tmp ($avail_mb MB free, ~$need_mb MB needed)"
	exit 2
fi

heap_mb() { echo $(( (($1 + 999999) / 1000000) * 256 + 256 )); }	# per worker

job() {	# job BACKEND KEYS CKPT(0|1)
	local b=$1 k=$2 mb
	# rocksdb-native is the rocksdb backend with native checkpoints.
	cat <<YAML
job: ckbench
schema: {key: u64, v: u32, ts: timestamp_ms}
source: {type: capture, path: $T/in.slc, timestamp: ts, watermark: {out_of_orderness: 1s}}
pipeline:
  - key_by: key
  - window: {tumbling: 10s}
  - aggregate: [count(), sum(v)]
sink: {type: csv, path: $T/out/res.csv}
lcores: {rx: 1, workers: 1, run_to_completion: true}
state.key-capacity: $k
state.backend.type: ${b%-native}
YAML
	if [ "$b" = heap ]; then
		mb=$(heap_mb "$k")
		# Under --no-huge the arena is anonymous memory in transparent
		# huge pages, not the EAL's (dataplane/worker_state.c).
		printf 'state.backend.heap.memory: %smb\neal: ["--no-huge", "-m", "512"]\n' "$mb"
	else
		printf 'state.backend.rocksdb.localdir: %s/rdb\neal: ["--no-huge", "-m", "512"]\n' "$T"
	fi
	if [ "$b" = rocksdb-native ]; then
		printf 'state.backend.incremental: true\n'
	fi
	if [ "$3" = 1 ]; then
		printf 'execution.checkpointing.interval: %s\nstate.checkpoints.dir: %s/chk\n' \
			"$CKPT_INTERVAL" "$T"
	fi
}

# jget FILE PATH...: the values at the JSON paths, space-separated.
jget() {
	local f=$1 q="" sep=""
	shift
	for p in "$@"; do q="$q${sep}ifnull(json_extract(d, '$p'), '-')"; sep=", "; done
	sqlite3 -separator ' ' :memory: "SELECT $q FROM (SELECT readfile('$f') AS d);"
}
median() { sort -g | awk '/^-?[0-9.]+$/ { a[++n] = $1 } END { if (n) print a[int((n + 1) / 2)]; else print "-" }'; }
since_ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
ctl_rows() {	# rows the window has taken in, from the control socket
	python3 - "$1" <<'PY' 2> /dev/null || echo "-"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"id":1,"verb":"metrics"}\n')
buf = b""
while not buf.endswith(b"\n"):
    c = s.recv(65536)
    if not c:
        break
    buf += c
ops = json.loads(buf)["data"]["operators"]
print([o for o in ops if o["name"].startswith("window")][0]["numRecordsIn"])
PY
}

# Lines a normal run prints; anything else is reported.
normal='^(TELEMETRY: No legacy callbacks|sluice-dp: (job ckbench: |checkpoint [0-9]+ complete: |rx 0: packets |worker 0: (rows |restored key groups [0-9]+-[0-9]+ from native checkpoints: 1 adopted, )|restore: checkpoint [0-9]+ (loaded in |\([0-9]+ files, 1 workers then, 1 now\))))'
check_log() {	# check_log LOG TAG
	grep -Ev "$normal" "$1" | sed "s|^|$2: |" >> "$findings" || true
}

# dp LOG LIMIT_S STOP ARGS...: run sluice-dp (stderr to LOG). LIMIT_S > 0:
# killed after that many seconds (sets killed=1). STOP=1: killed once it
# runs (after any restore), with t_loaded/t_running (ms since start) set.
# Sets dp_rc, wall_ms.
dp() {
	local lg=$1 limit=$2 stop=$3 t0=$EPOCHREALTIME
	shift 3
	killed=0; t_loaded=-; t_running=-
	: > "$lg"
	"$DP" "$@" > /dev/null 2> "$lg" &
	pid=$!
	if [ "$limit" -gt 0 ] || [ "$stop" = 1 ]; then
		while kill -0 "$pid" 2> /dev/null; do
			if [ "$stop" = 1 ]; then
				if [ "$t_loaded" = - ] && grep -q 'restore: checkpoint [0-9]* loaded in' "$lg"; then
					t_loaded=$(since_ms "$t0")
				fi
				if grep -q 'job ckbench: .*lcore' "$lg"; then
					t_running=$(since_ms "$t0")
					kill -KILL "$pid" 2> /dev/null || true
					break
				fi
				sleep 0.01
			else
				sleep 0.5
			fi
			if [ "$limit" -gt 0 ] && [ "$(since_ms "$t0")" -ge $((limit * 1000)) ]; then
				killed=1
				probe_rows=$(ctl_rows "$T/dp.sock")
				kill -KILL "$pid" 2> /dev/null || true
				break
			fi
		done
	fi
	dp_rc=0
	{ wait "$pid"; } 2> /dev/null || dp_rc=$?	# no "Killed" notice
	wall_ms=$(since_ms "$t0")
	if [ "$killed" = 1 ] || [ "$stop" = 1 ]; then
		rm -rf "/var/run/dpdk/sluice-dp-$pid"	# left by the kill
	fi
	pid=
}

: > "$T/rows"
for keys in $KEYS_LIST; do
	have=
	for b in $BACKENDS; do
		events=$((keys * $(epk_of "$b")))
		if [ "$have" != "$events" ]; then
			t0=$EPOCHREALTIME
			"$GEN" write --schema key:u64,v:u32,ts:timestamp_ms --key key --ts ts \
				--keys "$keys" --events "$events" --rate $((events / 4)) --seed 3 \
				--capture "$T/in.slc" 2> "$T/gen.log" || { cat "$T/gen.log" >&2; exit 1; }
			log "capture: $keys keys, $events events, $(du -m "$T/in.slc" | cut -f1) MB in $(since_ms "$t0") ms"
			have=$events
		fi
		tag="$b ${keys}"
		R="$T/r-$b-$keys"
		mkdir -p "$R"
		job "$b" "$keys" 0 > "$T/plain.yaml"
		job "$b" "$keys" 1 > "$T/ck.yaml"
		limit=0
		case $b in rocksdb*) [ "$keys" -gt "$PROBE_ABOVE" ] && limit=$MAX_RUN_S ;; esac
		notrun=
		for i in $(seq 1 "$RUNS"); do
			# 1. No checkpoints.
			rm -rf "$T/out" "$T/chk" "$T/rdb" "$T/dp.sock" "$T/s0.json" "$T/s1.json"
			probe_rows=-
			dp "$T/l0" "$limit" 0 --job "$T/plain.yaml" --cpus "$CPUS" \
				--stats-json "$T/s0.json" --ctl "$T/dp.sock"
			check_log "$T/l0" "$tag run $i no-ckpt"
			if [ "$killed" = 1 ]; then
				notrun=$(awk -v s="$MAX_RUN_S" -v r="$probe_rows" -v e="$events" 'BEGIN {
					if (r ~ /^[0-9]+$/ && r > 0)
						printf "not run: > %d s per run (stopped at %d s without checkpoints, %d of %d rows in: ~%d s for the input)", s, s, r, e, s * e / r
					else
						printf "not run: > %d s per run (stopped at %d s without checkpoints)", s, s }')
				log "$tag: $notrun"
				break
			fi
			if [ "$dp_rc" != 0 ]; then
				finding "$tag run $i no-ckpt: sluice-dp exited $dp_rc"
			fi
			wall0=$wall_ms
			# shellcheck disable=SC2034 # err0, late0: read through ${!var} below
			read -r r0 p0 m0 sb0 sd0 full0 err0 rows0 late0 i0 <<< "$(jget "$T/s0.json" \
				'$.rows_per_second' '$.workers[0].vector_ns.p99_9' '$.workers[0].vector_ns.max' \
				'$.workers[0].state_bytes' '$.workers[0].state_disk_bytes' \
				'$.workers[0].state_full_dropped' '$.workers[0].state_errors' \
				'$.workers[0].rows' '$.workers[0].numLateRecordsDropped' \
				'$.input_rows_per_second')"
			# 2. A checkpoint every CKPT_INTERVAL.
			rm -rf "$T/out" "$T/chk" "$T/rdb"
			dp "$T/l1" 0 0 --job "$T/ck.yaml" --cpus "$CPUS" --stats-json "$T/s1.json"
			check_log "$T/l1" "$tag run $i ckpt"
			[ "$dp_rc" = 0 ] || finding "$tag run $i ckpt: sluice-dp exited $dp_rc"
			wall1=$wall_ms
			# shellcheck disable=SC2034 # err1, late1: read through ${!var} below
			read -r r1 p1 m1 sb1 sd1 full1 err1 rows1 late1 sync i1 <<< "$(jget "$T/s1.json" \
				'$.rows_per_second' '$.workers[0].vector_ns.p99_9' '$.workers[0].vector_ns.max' \
				'$.workers[0].state_bytes' '$.workers[0].state_disk_bytes' \
				'$.workers[0].state_full_dropped' '$.workers[0].state_errors' \
				'$.workers[0].rows' '$.workers[0].numLateRecordsDropped' \
				'$.workers[0].checkpoint_sync_max_us' '$.input_rows_per_second')"
			[ "$sync" != - ] || finding "$tag: no checkpoint_sync_max_us in the stats JSON (a sluice-dp from before it had it)"
			# id full-bytes ms new-bytes: a checkpoint that shares nothing
			# with the one before (all but native) has no "bytes new".
			sed -nE 's/.*checkpoint ([0-9]+) complete: ([0-9]+) bytes in ([0-9]+) ms(, [0-9]+ in-flight rows)?(, ([0-9]+) bytes new)?.*/\1 \2 \3 \6/p' "$T/l1" |
				awk '{ print $1, $2, $3, (NF > 3 ? $4 : $2) }' > "$T/cks"
			nck=$(wc -l < "$T/cks")
			ck_ms=$(awk '{ print $3 }' "$T/cks" | median)
			ck_b=$(awk '{ print $2 }' "$T/cks" | median)
			ck_new=$(awk '{ print $4 }' "$T/cks" | median)
			ck_last=$(tail -n 1 "$T/cks" | awk '{ print $2 }')
			ck_last_new=$(tail -n 1 "$T/cks" | awk '{ print $4 }')
			ck_last_id=$(tail -n 1 "$T/cks" | awk '{ print $1 }')
			ck_list=$(awk '{ printf "%s%d:%.1f", (NR > 1 ? " " : ""), $1, $2 / 1e6
				if ($4 != $2) printf "(%.1f new)", $4 / 1e6
				printf "MB/%dms", $3 }' "$T/cks")
			# 3. Recovery from the newest checkpoint of run 2.
			rm -rf "$T/rdb"
			dp "$T/l2" 600 1 --job "$T/ck.yaml" --cpus "$CPUS" --restore latest
			check_log "$T/l2" "$tag run $i restore"
			rec_ms=$(grep -o 'restore: checkpoint [0-9]* loaded in [0-9]* ms' "$T/l2" | awk '{ print $6 }' | tail -n 1)
			rec_id=$(grep -o 'restore: checkpoint [0-9]* loaded' "$T/l2" | awk '{ print $3 }' | tail -n 1)
			[ -n "$rec_ms" ] || { rec_ms=-; finding "$tag run $i restore: no 'loaded in' line"; }
			[ "$rec_id" = "${ck_last_id:-}" ] ||
				finding "$tag run $i restore: loaded checkpoint ${rec_id:-none}, the newest completed was ${ck_last_id:-none}"
			# From the start of the process to its poll loops; the
			# table subtracts a start without state: read + rebuild.
			rec_run=$t_running
			for v in full0:state_full_dropped:no-ckpt full1:state_full_dropped:ckpt \
				 err0:state_errors:no-ckpt err1:state_errors:ckpt \
				 late0:numLateRecordsDropped:no-ckpt late1:numLateRecordsDropped:ckpt; do
				IFS=: read -r var name run <<< "$v"
				[ "${!var}" = 0 ] || finding "$tag run $i $run: $name = ${!var}"
			done
			[ "$rows0" = "$events" ] || finding "$tag run $i no-ckpt: $rows0 rows, expected $events"
			[ "$rows1" = "$events" ] || finding "$tag run $i ckpt: $rows1 rows, expected $events"
			# per-run ratios too: each pair of runs shares the machine's mood
			q=$(awk -v a="$r0" -v b="$r1" -v c="$i0" -v d="$i1" 'function num(x) { return x ~ /^-?[0-9.]+$/ }
				BEGIN { printf "%s %s", (num(a) && num(b) && a > 0) ? b / a : "-", (num(c) && num(d) && c > 0) ? d / c : "-" }')
			printf '%s\n' "$r0 $r1 $nck $ck_ms $ck_b ${ck_last:--} $p0 $m0 $p1 $m1 $rec_ms $rec_run $sb0 $sb1 $sd0 $sd1 $ck_new ${ck_last_new:--} $sync $i0 $i1 $q" >> "$R/runs"
			log "raw $tag run $i: wall ${wall0}/${wall1} ms, ev/s $r0 / $r1 (input alone $i0 / $i1), vec p99.9 ${p0}/${p1} ns, max ${m0}/${m1} ns, state_bytes ${sb0}/${sb1}, state_disk_bytes ${sd0}/${sd1}, full_dropped ${full0}/${full1} (no ckpt/ckpt); $nck checkpoints (id:size(new)/duration) [$ck_list]; sync stall max $sync us; restore chk-${rec_id:--} loaded in $rec_ms ms, running after $rec_run ms (process start)"
		done
		# A start from nothing, for the restore's baseline.
		base=-
		if [ -z "$notrun" ]; then
			for i in 1 2 3; do
				rm -rf "$T/out" "$T/chk" "$T/rdb"
				dp "$T/l3" 600 1 --job "$T/ck.yaml" --cpus "$CPUS"
				echo "$t_running"
			done > "$T/base"
			base=$(median < "$T/base")
			log "raw $tag: start to running without a restore: $(tr '\n' ' ' < "$T/base")ms"
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$b" "$keys" "$events" "$base" "$notrun" >> "$T/rows"
	done
	rm -f "$T/in.slc"
done

printf '| backend | keys | events | events/s no ckpt | events/s ckpt every %s | ratio | ckpts per run | ckpt ms | ckpt MB | last ckpt MB | vector p99.9 no ckpt / ckpt | vector max no ckpt / ckpt | restore: load ms (log) | restore: start to running, ms over a start without state | state bytes per key no ckpt / ckpt |\n' "$CKPT_INTERVAL"
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
while IFS=$'\t' read -r b keys events base notrun; do
	R="$T/r-$b-$keys"
	if [ -n "$notrun" ]; then
		printf '| %s | %s | %s | %s | | | | | | | | | | | |\n' "$b" "$keys" "$events" "$notrun"
		continue
	fi
	col() { awk -v c="$1" '{ print $c }' "$R/runs" | median; }
	awk -v b="$b" -v k="$keys" -v e="$events" -v base="$base" \
		-v r0="$(col 1)" -v r1="$(col 2)" -v nck="$(col 3)" -v ckms="$(col 4)" -v ckb="$(col 5)" \
		-v ckl="$(col 6)" -v p0="$(col 7)" -v m0="$(col 8)" -v p1="$(col 9)" -v m1="$(col 10)" \
		-v rec="$(col 11)" -v recrun="$(col 12)" -v sb0="$(col 13)" -v sb1="$(col 14)" \
		-v sd0="$(col 15)" -v sd1="$(col 16)" -v n="$(wc -l < "$R/runs")" '
	function num(x) { return x ~ /^-?[0-9.]+$/ }
	function mb(x) { return num(x) ? sprintf("%.1f", x / 1e6) : "-" }
	function ms(x) { return num(x) ? sprintf("%.2f", x / 1e6) : "-" }
	function rate(x) { return !num(x) ? "-" : x >= 1e6 ? sprintf("%.2f M", x / 1e6) : sprintf("%.0f k", x / 1e3) }
	function perkey(x) { return num(x) ? (x == 0 ? "0 (none)" : sprintf("%.0f", x / k)) : "-" }
	BEGIN {
		ratio = (num(r0) && num(r1) && r0 > 0) ? sprintf("%.2f", r1 / r0) : "-"
		if (b ~ /^rocksdb/)
			mem = "disk: " perkey(sd0) " / " perkey(sd1)
		else
			mem = perkey(sb0) " / " perkey(sb1)
		# The first checkpoint is triggered as the job starts: with no
		# other, the input was read before the interval was up.
		if (num(nck) && nck <= 1)
			nck = nck " (at start only: raise " (b == "heap" ? "HEAP_" : "") "EVENTS_PER_KEY)"
		rr = (num(recrun) && num(base)) ? sprintf("%d", recrun - base) : "-"
		printf "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s / %s ms | %s / %s ms | %s | %s | %s |\n",
			b, k, e, rate(r0), rate(r1), ratio, nck, ckms, mb(ckb), mb(ckl),
			ms(p0), ms(p1), ms(m0), ms(m1), rec, rr, mem
	}'
done < "$T/rows"
echo
echo "Medians of $RUNS runs; events per key: heap $HEAP_EVENTS_PER_KEY, rocksdb $EVENTS_PER_KEY; uniform keys, one 10 s window; --cpus $CPUS, --no-huge. ckpt ms/MB: median over a run's checkpoints (the first is taken at start), then over runs; last ckpt: the newest, which the restore loads; restore load ms: the log's figure (reading the files on the main lcore), start to running: the whole restore including the rebuild on the worker. events/s and vector max include the end-of-input fire of every key. rocksdb memory: SST bytes per key at the last window fire; ckpt MB for rocksdb-native: the files a checkpoint holds, shared ones included (what it wrote is below)."
# What a checkpoint writes, and how long its barrier holds the worker.
echo
printf '| backend | keys | events | ckpts per run | ckpt MB full | ckpt MB new | new / full | last ckpt MB full / new | worker sync stall max, ms |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
while IFS=$'\t' read -r b keys events base notrun; do
	R="$T/r-$b-$keys"
	if [ -n "$notrun" ]; then
		printf '| %s | %s | %s | not run | | | | | |\n' "$b" "$keys" "$events"
		continue
	fi
	col() { awk -v c="$1" '{ print $c }' "$R/runs" | median; }
	awk -v b="$b" -v k="$keys" -v e="$events" -v nck="$(col 3)" -v ckb="$(col 5)" \
		-v ckl="$(col 6)" -v ckn="$(col 17)" -v ckln="$(col 18)" -v sync="$(col 19)" '
	function num(x) { return x ~ /^-?[0-9.]+$/ }
	function mb(x) { return num(x) ? sprintf("%.1f", x / 1e6) : "-" }
	BEGIN {
		share = (num(ckb) && num(ckn) && ckb > 0) ? sprintf("%.2f", ckn / ckb) : "-"
		printf "| %s | %d | %d | %s | %s | %s | %s | %s / %s | %s |\n", b, k, e, nck,
			mb(ckb), mb(ckn), share, mb(ckl), mb(ckln),
			num(sync) ? sprintf("%.1f", sync / 1e3) : "-"
	}'
done < "$T/rows"
echo
# The steady state: the input alone, without the end of input's firing.
printf '| backend | keys | events/s of the input, no ckpt -> ckpt every %s | ratio of medians | median of per-run ratios, input alone | median of per-run ratios, whole run |\n' "$CKPT_INTERVAL"
printf '| --- | ---: | --- | ---: | ---: | ---: |\n'
while IFS=$'\t' read -r b keys events base notrun; do
	R="$T/r-$b-$keys"
	[ -z "$notrun" ] || continue
	col() { awk -v c="$1" '{ print $c }' "$R/runs" | median; }
	awk -v b="$b" -v k="$keys" -v i0="$(col 20)" -v i1="$(col 21)" -v qr="$(col 22)" -v qi="$(col 23)" '
	function num(x) { return x ~ /^-?[0-9.]+$/ }
	function rate(x) { return !num(x) ? "-" : x >= 1e6 ? sprintf("%.2f M", x / 1e6) : sprintf("%.0f k", x / 1e3) }
	function r2(x) { return num(x) ? sprintf("%.2f", x) : "-" }
	BEGIN {
		printf "| %s | %d | %s -> %s | %s | %s | %s |\n", b, k, rate(i0), rate(i1),
			(num(i0) && num(i1) && i0 > 0) ? sprintf("%.2f", i1 / i0) : "-", r2(qi), r2(qr)
	}'
done < "$T/rows"
echo
echo "The input alone: the stats JSON's input_rows_per_second, from the first row to the end of the input, without the firing of every key at the end of input (the same work in both runs of a pair, and none in an unbounded job). Per-run ratios: run 2 over run 1 of the same pair, which run back to back."
echo
echo "Medians of $RUNS runs. full: bytes the checkpoint holds (the log's \"B bytes\"); new: bytes it wrote (\"X bytes new\"; = full but for rocksdb-native, whose SST files already in the checkpoint before are shared), each the median over a run's checkpoints, then over runs. sync stall: the worker's checkpointSyncDurationMaxUs (the longest a barrier held its loop in the run: the snapshot's start, plus the memtable flush and SST links for rocksdb-native), median over runs (the stats JSON's checkpoint_sync_max_us)."
if [ -s "$findings" ]; then
	log ""
	log "findings (unexpected log lines, drops, errors):"
	sort "$findings" | uniq -c | sed 's/^ */  /' >&2
fi
log "ckpt.sh: done in $(( $(since_ms "$start") / 1000 )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
