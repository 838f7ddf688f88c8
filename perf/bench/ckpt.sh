#!/bin/bash
# Checkpoint benchmark (issue [3]): for KEYS distinct keys in window state,
# replay a capture at memory speed with and without checkpoints and report
# throughput, checkpoint duration and bytes, the worst per-vector time on a
# worker (p99.9, max), window-state memory per key, and recovery time
# (loading the last checkpoint). Medians of RUNS runs. Not a test.
set -euo pipefail
build=${1:-build}
KEYS=${KEYS:-1000000}
RUNS=${RUNS:-3}
EVENTS=$((KEYS * 10))
cd "$(dirname "$0")/../.."
DP="$build/dataplane/sluice-dp"
T=$(mktemp -d /tmp/sluice-ckbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
cap=$((KEYS * 3))
mem=$(( (KEYS / 1000000 + 1) * 1500 ))
"$build/perf/sluice-gen/sluice-gen" write --schema key:u64,v:u32,ts:timestamp_ms --key key --ts ts \
	--keys "$KEYS" --events "$EVENTS" --rate $((EVENTS / 4)) --seed 3 --capture "$T/in.slc" 2> /dev/null
job() {	# job INTERVAL_MS (0 = no checkpoints)
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
state.key-capacity: $cap
eal: ["--no-huge", "-m", "$mem"]
YAML
	if [ "$1" != 0 ]; then
		printf 'execution.checkpointing.interval: %sms\nstate.checkpoints.dir: %s/chk\n' "$1" "$T"
	fi
}
j() { sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2');"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
interval=$(( KEYS >= 5000000 ? 500 : 100 ))
job 0 > "$T/plain.yaml"
job "$interval" > "$T/ck.yaml"
: > "$T/r0"; : > "$T/r1"; : > "$T/p999"; : > "$T/max"; : > "$T/p999_0"; : > "$T/dur"; : > "$T/bytes"; : > "$T/rec"
for i in $(seq 1 "$RUNS"); do
	rm -rf "$T/out" "$T/chk"
	"$DP" --job "$T/plain.yaml" --cpus 1 --stats-json "$T/s0.json" 2> /dev/null > /dev/null
	j "$T/s0.json" '$.rows_per_second' >> "$T/r0"
	j "$T/s0.json" '$.workers[0].vector_ns.p99_9' >> "$T/p999_0"
	rm -rf "$T/out" "$T/chk"
	"$DP" --job "$T/ck.yaml" --cpus 1 --stats-json "$T/s1.json" 2> "$T/ck.log" > /dev/null
	j "$T/s1.json" '$.rows_per_second' >> "$T/r1"
	j "$T/s1.json" '$.workers[0].vector_ns.p99_9' >> "$T/p999"
	j "$T/s1.json" '$.workers[0].vector_ns.max' >> "$T/max"
	grep -o 'complete: [0-9]* bytes in [0-9]* ms' "$T/ck.log" | awk '{ print $2 }' | median >> "$T/bytes"
	grep -o 'complete: [0-9]* bytes in [0-9]* ms' "$T/ck.log" | awk '{ print $5 }' | median >> "$T/dur"
	# Recovery: load the newest checkpoint (the job then replays the rest).
	"$DP" --job "$T/ck.yaml" --cpus 1 --restore latest 2> "$T/rec.log" > /dev/null || true
	grep -o 'loaded in [0-9]* ms' "$T/rec.log" | awk '{ print $3 }' >> "$T/rec"
done
peak=$(j "$T/s1.json" '$.workers[0].state_peak_entries')
bytes=$(j "$T/s1.json" '$.workers[0].state_bytes')
r0=$(median < "$T/r0"); r1=$(median < "$T/r1")
printf '| keys | events/s no ckpt | events/s ckpt every %s ms | ratio | ckpt bytes | ckpt ms | vector p99.9 no ckpt | vector p99.9 ckpt | vector max ckpt | recovery load ms | state bytes/entry |\n' "$interval"
printf '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
awk -v k="$KEYS" -v r0="$r0" -v r1="$r1" -v b="$(median < "$T/bytes")" -v d="$(median < "$T/dur")" \
	-v p0="$(median < "$T/p999_0")" -v p1="$(median < "$T/p999")" -v mx="$(median < "$T/max")" \
	-v rec="$(median < "$T/rec")" -v sb="$bytes" -v pk="$peak" 'BEGIN {
	printf "| %d | %.2f M | %.2f M | %.2f | %d | %d | %.1f us | %.1f us | %.1f ms | %s | %.0f |\n",
		k, r0 / 1e6, r1 / 1e6, r1 / r0, b, d, p0 / 1e3, p1 / 1e3, mx / 1e6, rec, pk ? sb / pk : 0 }'
