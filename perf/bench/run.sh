#!/bin/bash
# `make bench`: sluice-dp against the transport's own ceiling, in the same
# run, on the same memif. The machine is shared and noisy, so each figure
# is the median of RUNS runs, and the reference is measured between sluice
# runs, not once.
#
#   reference: sluice-gen (memif server, CPU 0) -> dpdk-testpmd rxonly (CPU 1)
#   sluice:    sluice-gen (memif server, CPU 0) -> sluice-dp, RX + keyed
#              tumbling count on one lcore (CPU 1)
#
# sluice-gen sends full 1514-byte frames of 72 records as fast as the
# receiver takes them (memif backpressure, no loss), so the rate it reports
# is the receiver's. sluice-dp's own rows/s (first row to last result) is
# reported beside it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
src=$(pwd)
RUNS=${RUNS:-5}
EVENTS=${EVENTS:-30000000}
KEYS=${KEYS:-10000}
GEN="$build/perf/sluice-gen/sluice-gen"
DP="$build/dataplane/sluice-dp"
host=$(hostname -s)
out=${OUT:-"perf/results/$(date -u +%Y%m%d-%H%M%S)-$host"}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/sluice-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
schema="key:u64,v:u32,ts:timestamp_ms"

gen() {	# gen SOCK -> JSON line on stdout
	"$GEN" send --port "net_memif0,role=server,socket=$1" --lcore 0 \
		--schema "$schema" --key key --ts ts --keys "$KEYS" \
		--events "$EVENTS" --rate 0 --json
}

ref_run() {
	local sock="$tmp/tp.sock" j
	rm -f "$sock"
	gen "$sock" > "$tmp/gen.json" 2> "$tmp/gen.err" &
	local g=$!
	sleep 1
	# --stats-period keeps testpmd running without a terminal until SIGINT.
	dpdk-testpmd --no-pci --lcores 0@0,1@1 --file-prefix "bench-tp-$$" \
		--vdev "net_memif0,role=client,socket=$sock" -- \
		--forward-mode=rxonly --total-num-mbufs=32768 --auto-start \
		--stats-period 1 < /dev/null > "$tmp/tp.log" 2>&1 &
	local t=$!
	wait $g || { cat "$tmp/gen.err" >&2; return 1; }
	pkill -INT -f "file-prefix bench-tp-$$" || true
	wait $t 2>/dev/null || true
	j=$(cat "$tmp/gen.json")
	echo "$j" >> "$out/testpmd.jsonl"
	sqlite3 :memory: "SELECT json_extract('$j', '\$.events_per_sec');"
}

dp_run() {
	local sock="$tmp/dp.sock" j
	rm -f "$sock"
	sed -e "s|@SOCK@|$sock|" -e "s|@OUT@|$tmp/out.csv|" perf/bench/memif-tumbling.yaml > "$tmp/job.yaml"
	gen "$sock" > "$tmp/gen.json" 2> "$tmp/gen.err" &
	local g=$!
	sleep 1
	"$DP" --job "$tmp/job.yaml" --cpus 1 --stats-json "$tmp/dp.json" 2> "$tmp/dp.err"
	wait $g || { cat "$tmp/gen.err" >&2; return 1; }
	j=$(cat "$tmp/gen.json")
	echo "$j" >> "$out/sluice-gen.jsonl"
	cp "$tmp/dp.json" "$out/sluice-dp-$1.json"
	echo "$(sqlite3 :memory: "SELECT json_extract('$j', '\$.events_per_sec');") $(sqlite3 :memory: "SELECT json_extract(readfile('$tmp/dp.json'), '\$.rows_per_second');")"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "sluice bench: $RUNS runs, $EVENTS events, $KEYS keys, keyed tumbling count over net_memif"
echo "sluice bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
: > "$tmp/ref"; : > "$tmp/gen_dp"; : > "$tmp/dp"
for i in $(seq 1 "$RUNS"); do
	r=$(ref_run)
	set -- $(dp_run "$i")
	echo "$r" >> "$tmp/ref"; echo "$1" >> "$tmp/gen_dp"; echo "$2" >> "$tmp/dp"
	awk -v i="$i" -v r="$r" -v g="$1" -v d="$2" 'BEGIN {
		printf "run %d: testpmd rxonly %.2f M events/s | sluice-dp %.2f M events/s (its own count: %.2f M rows/s)\n", i, r / 1e6, g / 1e6, d / 1e6 }' 
done
ref=$(median < "$tmp/ref"); gdp=$(median < "$tmp/gen_dp"); dp=$(median < "$tmp/dp")
awk -v ref="$ref" -v gdp="$gdp" -v dp="$dp" -v keys="$KEYS" -v runs="$RUNS" 'BEGIN {
	print "| receiver (one lcore), median of " runs " runs | events/s | ratio to testpmd |"
	print "| --- | ---: | ---: |"
	printf "| dpdk-testpmd rxonly (transport ceiling) | %.0f | 1.00 |\n", ref
	printf "| sluice-dp keyed tumbling count, %s keys (rate seen by sluice-gen) | %.0f | %.2f |\n", keys, gdp, gdp / ref
	printf "| sluice-dp, its own first-row-to-last-result rate | %.0f | %.2f |\n", dp, dp / ref
}' | tee "$out/memif.md"
last="$out/sluice-dp-$RUNS.json"
bytes=$(sqlite3 :memory: "SELECT json_extract(readfile('$last'), '\$.workers[0].state_bytes');")
awk -v b="$bytes" -v k="$KEYS" 'BEGIN {
	printf "window state (last run, heap backend): %.1f MiB in use as the windows fired, for %d keys: %.0f bytes per key\n", b / 1048576, k, k ? b / k : 0 }' | tee -a "$out/memif.md"
echo "sluice bench: results in $out"
