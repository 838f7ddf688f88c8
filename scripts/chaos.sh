#!/bin/bash
# `make chaos`: the long version of tests/integration/test_checkpoint.sh.
# A keyed windowed job over EVENTS events replayed at RATE rows/s with
# checkpoints every 200 ms is killed with SIGKILL KILLS times at random
# moments and restarted from its latest checkpoint each time; the
# committed output must be byte-identical to a failure-free run.
# BACKEND: heap (default), rocksdb, or rocksdb-native (native incremental
# checkpoints).
set -euo pipefail
build=${1:-build}
EVENTS=${EVENTS:-1000000}
RATE=${RATE:-40000}
KILLS=${KILLS:-20}
BACKEND=${BACKEND:-heap}
cd "$(dirname "$0")/.."
DP="$build/dataplane/sluice-dp"
T=$(mktemp -d /tmp/sluice-chaos.XXXXXX)
pid=""
trap 'if [ -n "$pid" ]; then kill -9 $pid 2> /dev/null || true; fi; rm -rf "$T"' EXIT

"$build/perf/sluice-gen/sluice-gen" write --schema user_id:u64,url_id:u32,ts:timestamp_ms \
	--key user_id --ts ts --keys 10000 --events "$EVENTS" --rate 20000 --disorder 500 \
	--seed 11 --capture "$T/in.slc" 2> /dev/null
cat > "$T/job.yaml" <<YAML
job: chaos
schema: {user_id: u64, url_id: u32, ts: timestamp_ms}
source:
  type: capture
  path: $T/in.slc
  rate: $RATE
  timestamp: ts
  watermark: {out_of_orderness: 1s, emit: punctuated}
pipeline:
  - key_by: user_id
  - window: {tumbling: 5s}
  - aggregate: [count(), sum(url_id), max(ts)]
sink: {type: csv, path: $T/out/res.csv}
lcores: {rx: 1, workers: 2}
execution.checkpointing.interval: 200ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 2
state.key-capacity: 262144
YAML
case "$BACKEND" in
heap) ;;
rocksdb|rocksdb-native)
	printf 'state.backend.type: rocksdb\nstate.backend.rocksdb.localdir: %s\n' "$T/rdb" >> "$T/job.yaml"
	[ "$BACKEND" = rocksdb ] || echo "state.backend.incremental: true" >> "$T/job.yaml" ;;
*) echo "chaos.sh: BACKEND must be heap, rocksdb or rocksdb-native" >&2; exit 2 ;;
esac
echo "sluice chaos: $EVENTS events at $RATE rows/s, $KILLS SIGKILLs, checkpoints every 200 ms"
"$DP" --job "$T/job.yaml" 2> "$T/ref.log" > /dev/null
cat "$T"/out/res.csv.part-* > "$T/ref.csv"
rm -rf "$T/out" "$T/chk"
survived=0
for i in $(seq 1 "$KILLS"); do
	"$DP" --job "$T/job.yaml" --restore latest > /dev/null 2> "$T/run.log" &
	pid=$!
	# 0.3-1.0 s: start-up plus a little progress, so every kill lands mid-run.
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.3 + (r % 700) / 1000 }')"
	if kill -9 $pid 2> /dev/null; then
		survived=$((survived + 1))
	fi
	wait $pid 2> /dev/null || true
	pid=""
	printf 'kill %d: %s\n' "$i" "$(grep -o 'restore: [^(]*' "$T/run.log" | head -1)"
done
"$DP" --job "$T/job.yaml" --restore latest > /dev/null 2> "$T/final.log"
cat "$T"/out/res.csv.part-* > "$T/got.csv"
rows=$(($(wc -l < "$T/ref.csv") - 1))
if cmp -s "$T/ref.csv" "$T/got.csv"; then
	echo "sluice chaos: $survived kills survived; $rows result rows compared: byte-identical to the failure-free run"
else
	echo "sluice chaos: OUTPUT DIFFERS after $survived kills ($rows rows expected)" >&2
	diff "$T/ref.csv" "$T/got.csv" | head -20 >&2
	exit 1
fi
