#!/bin/bash
# Latency against offered load (`make bench-latency`, part of `make bench`):
# a stateless filter + map (perf/bench/memif-latency.yaml) between the two
# ends of one net_memif link, beside dpdk-testpmd io-forward on the same
# link, in the same run.
#
#   sluice:    sluice-gen (memif server, CPU 0) -> sluice-dp RX + filter +
#              map + ethdev sink TX on one lcore (CPU 1) -> sluice-gen
#   reference: sluice-gen (CPU 0) -> dpdk-testpmd io forward (CPU 1) ->
#              sluice-gen: the transport's own round trip
#
# sluice-gen sends open loop (packet k due at t0 + k * 8 / R), stamps
# every event with its due time, and records each result's latency from
# that time into an HDR histogram: a sender or receiver stall shows up in
# the latencies instead of lowering the load (no coordinated omission).
#
# 0. The platform's floor: sluice-ref-jitter, a TSC-reading loop pinned
#    to each CPU for 2 s, counts the gaps a polling lcore would see
#    (jitter.jsonl): a p99.9 that looks like them is the machine's.
# 1. Saturation: one full-speed run; the rate sluice-gen reaches is the
#    most the receiver takes (memif backpressure, nothing lost).
# 2. Sweep: LAT_FRACTIONS of that rate, plus 1 M events/s (issue [5]'s
#    target point), LAT_RUNS runs of sluice and one of testpmd each.
#    Each run's first LAT_WARMUP seconds are left out. A run that ends
#    behind its schedule, or loses a result after the warm-up, is invalid:
#    listed, never part of a median.
# 3. latency.csv and latency.jsonl (every run: both sides' figures, git
#    revision, DPDK version, CPU, lcore map), latency.md (medians of the valid runs and
#    the highest offered rate whose median p99 stays under 100 us) and
#    latency.png (percentiles against offered load).
#
#   perf/bench/latency.sh [BUILD_DIR]
#   env: OUT, LAT_RUNS (3), LAT_SECONDS (2), LAT_WARMUP (0.5),
#        LAT_FRACTIONS ("0.1 0.25 0.5 0.75 0.9 1.0")
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
LAT_RUNS=${LAT_RUNS:-3}
LAT_SECONDS=${LAT_SECONDS:-2}
LAT_WARMUP=${LAT_WARMUP:-0.5}
LAT_FRACTIONS=${LAT_FRACTIONS:-0.1 0.25 0.5 0.75 0.9 1.0}
GEN="$build/perf/sluice-gen/sluice-gen"
DP="$build/dataplane/sluice-dp"
JIT="$build/perf/ref/sluice-ref-jitter"
host=$(hostname -s)
out=${OUT:-"perf/results/$(date -u +%Y%m%d-%H%M%S)-$host"}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/sluice-lat.XXXXXX)
trap 'pkill -INT -f "file-prefix lat-tp-$$" 2> /dev/null || true; rm -rf "$tmp"' EXIT
schema="key:u64,v:u32,ts:timestamp_ms,sent:u64"
# The map's columns (memif-latency.yaml); testpmd sends the input back.
out_sluice="key:u64,sent:u64,v2:i64,frac:f64,odd:bool"

gen() {	# gen SOCK RATE OUT_SCHEMA OUT_UDP_PORT [more] -> one JSON line
	local sock=$1 rate=$2 osch=$3 oport=$4
	shift 4
	"$GEN" send --port "net_memif0,role=server,socket=$sock" --lcore 0 \
		--schema "$schema" --key key --ts ts --keys 10000 \
		--rate "$rate" --seconds "$LAT_SECONDS" --records-per-packet 8 \
		--latency sent --out-schema "$osch" --out-udp-port "$oport" \
		--warmup "$LAT_WARMUP" --json "$@"
}

sluice_run() {	# sluice_run RATE -> JSON line
	local sock="$tmp/dp.sock"
	rm -f "$sock"
	sed -e "s|@SOCK@|$sock|" perf/bench/memif-latency.yaml > "$tmp/job.yaml"
	gen "$sock" "$1" "$out_sluice" 9001 > "$tmp/gen.json" 2> "$tmp/gen.err" &
	local g=$!
	sleep 0.5
	timeout 60 "$DP" --job "$tmp/job.yaml" --cpus 1 --stats-json "$tmp/dp.json" 2> "$tmp/dp.err" ||
		{ cat "$tmp/dp.err" >&2; kill "$g" 2> /dev/null || true; }
	wait "$g" || true	# exit 1 = an invalid run: kept, marked
	[ -s "$tmp/gen.json" ] || { cat "$tmp/gen.err" >&2; return 1; }
	cat "$tmp/gen.json"
}

tp_run() {	# tp_run RATE -> JSON line
	local sock="$tmp/tp.sock"
	rm -f "$sock"
	# No END: testpmd does not end; the run stops on the clock.
	gen "$sock" "$1" "$schema" 9000 --no-end --drain-ms 300 > "$tmp/gen.json" 2> "$tmp/gen.err" &
	local g=$!
	sleep 0.5
	# io forward with retry: a full TX ring waits (up to 64 x 1 us) as
	# sluice's sink does, instead of dropping the burst.
	echo "set fwd io retry" > "$tmp/tp.cmd"
	dpdk-testpmd --no-pci --lcores 0@1,1@1 --file-prefix "lat-tp-$$" \
		--vdev "net_memif0,role=client,socket=$sock" -- \
		--forward-mode=io --cmdline-file="$tmp/tp.cmd" --auto-start \
		--stats-period 1 < /dev/null > "$tmp/tp.log" 2>&1 &
	local t=$!
	wait "$g" || true
	pkill -INT -f "file-prefix lat-tp-$$" || true
	wait "$t" 2> /dev/null || true
	[ -s "$tmp/gen.json" ] || { cat "$tmp/gen.err" "$tmp/tp.log" >&2; return 1; }
	cat "$tmp/gen.json"
}

jget() { sqlite3 :memory: "SELECT json_extract('$1', '\$.$2');"; }

rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git diff --quiet HEAD -- 2>/dev/null && echo 0 || echo 1)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
dpdk=$(pkg-config --modversion libdpdk 2>/dev/null || echo '?')

record() {	# record SYSTEM REQUESTED GEN_JSON: a line of latency.csv and latency.jsonl
	local j=$2 dpj="null" lc="sluice-dp: main and rx+worker lcores on CPU 1"
	if [ "${1#sluice}" != "$1" ] && [ -s "$tmp/dp.json" ]; then
		dpj="json(readfile('$tmp/dp.json'))"
	else
		lc="dpdk-testpmd: main and forwarding lcores on CPU 1"
	fi
	# One JSON object a run: what ran where, on what, and both sides' figures.
	sqlite3 :memory: "SELECT json_object('system', '$1', 'requested_events_per_sec', $j,
		'git', '$rev', 'dirty', json(CASE $dirty WHEN 1 THEN 'true' ELSE 'false' END),
		'dpdk', '$dpdk', 'cpu', '$cpu_model', 'cpus', $(nproc),
		'lcores', 'sluice-gen: CPU 0; $lc', 'gen', json('$3'), 'dp', $dpj);" >> "$out/latency.jsonl"
	rm -f "$tmp/dp.json"
	echo "$1,$j,$(jget "$3" events_per_sec),$(jget "$3" valid),$(jget "$3" latency.p50_us),$(jget "$3" latency.p90_us),$(jget "$3" latency.p99_us),$(jget "$3" latency.p99_9_us),$(jget "$3" latency.p99_99_us),$(jget "$3" latency.max_us),$(jget "$3" max_lag_us),$(jget "$3" latency.lost)" >> "$out/latency.csv"
}

echo "sluice latency: $LAT_RUNS runs of ${LAT_SECONDS}s (${LAT_WARMUP}s warm-up) per rate, stateless filter + map over net_memif, beside testpmd io-forward"
echo "system,requested,achieved,valid,p50_us,p90_us,p99_us,p99_9_us,p99_99_us,max_us,sender_max_lag_us,lost" > "$out/latency.csv"
: > "$out/latency.jsonl"
rm -f "$tmp/dp.json"

# The platform's floor first: the gaps a spinning loop pinned to each CPU
# sees (timer ticks, the hypervisor), while nothing else of ours runs.
"$JIT" --cpus 0,1 --seconds 2 > "$out/jitter.jsonl"
awk -F'[:,}]' '{ printf "platform (sluice-ref-jitter, CPU %d): gaps > 10 us %s/s, > 100 us %s/s, > 1 ms %s/s, longest %s us, %.2f%% of the time stolen\n", $2, $6, $8, $10, $14, $16 * 100 }' \
	"$out/jitter.jsonl" | tee "$tmp/jitter.txt"

sat_json=$(sluice_run 0)
sat=$(jget "$sat_json" events_per_sec | awk '{ printf "%.0f", $1 }')
record sluice-saturation 0 "$sat_json"
echo "saturation (full speed): $(awk -v r="$sat" 'BEGIN { printf "%.2f", r / 1e6 }') M events/s, latency p50 $(jget "$sat_json" latency.p50_us) us (queueing)"

rates=$(for f in $LAT_FRACTIONS; do awk -v f="$f" -v s="$sat" 'BEGIN { printf "%.0f\n", f * s }'; done; echo 1000000)
for r in $(echo "$rates" | sort -n | uniq); do
	for i in $(seq 1 "$LAT_RUNS"); do
		j=$(sluice_run "$r")
		record sluice "$r" "$j"
	done
	j=$(tp_run "$r")
	record testpmd-io "$r" "$j"
	awk -F, -v r="$r" '$2 == r && $1 != "sluice-saturation" {
		printf "  %-10s %6.2f M/s offered: valid %-5s p50 %8.2f p99 %8.2f p99.9 %9.2f max %9.2f us\n", $1, r / 1e6, $4, $5, $7, $8, $10 }' \
		"$out/latency.csv" | tail -n $((LAT_RUNS + 1))
done

# Medians of the valid runs per (system, rate), and the highest rate with p99 < 100 us.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'; }
dat="$out/plot-latency.dat"
: > "$dat"
{
	echo "| offered events/s | system | valid runs | p50 µs | p90 µs | p99 µs | p99.9 µs | p99.99 µs | max µs |"
	echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for r in $(echo "$rates" | sort -n | uniq); do
		line="$r"
		for s in sluice testpmd-io; do
			n=$(awk -F, -v s="$s" -v r="$r" '$1 == s && $2 == r' "$out/latency.csv" | wc -l)
			v=$(awk -F, -v s="$s" -v r="$r" '$1 == s && $2 == r && $4 == 1' "$out/latency.csv" | wc -l)
			row="| $(awk -v r="$r" 'BEGIN { printf "%.2f M", r / 1e6 }') | $s | $v of $n |"
			vals=""
			for col in 5 6 7 8 9 10; do
				m=$(awk -F, -v s="$s" -v r="$r" -v c="$col" '$1 == s && $2 == r && $4 == 1 { print $c }' "$out/latency.csv" | median)
				row="$row ${m:-—} |"
				vals="$vals ${m:-nan}"
			done
			echo "$row"
			line="$line$vals"
		done
		echo "$line" >> "$dat"
	done
} > "$out/latency.md"
best=$(awk '$4 != "nan" && $4 < 100 { b = $1 } END { print b + 0 }' "$dat")
{
	echo
	echo "Saturation (full speed, the receiver's ceiling): $(awk -v r="$sat" 'BEGIN { printf "%.2f", r / 1e6 }') M events/s through sluice."
	echo "Highest offered rate whose median p99 stays under 100 µs: $(awk -v r="$best" 'BEGIN { printf "%.2f", r / 1e6 }') M events/s."
	echo "The platform's own gaps, measured first (a pinned loop reading the TSC, perf/ref/ref_jitter.c):"
	echo
	sed 's/^/- /' "$tmp/jitter.txt"
	echo
	echo "Runs: $LAT_RUNS of ${LAT_SECONDS} s per rate for sluice, one for testpmd, ${LAT_WARMUP} s of warm-up left out of each; invalid runs (behind schedule at the end, or a result lost) are not in the medians."
} >> "$out/latency.md"
cat "$out/latency.md"

if command -v gnuplot > /dev/null; then
	gnuplot <<EOF
set terminal pngcairo size 900,560 noenhanced
set output "$out/latency.png"
set title "Event-to-result latency against offered load (net_memif, one lcore; medians of valid runs)"
set xlabel "offered load, M events/s"
set ylabel "latency, us"
set logscale y
set key top left
set grid
plot "$dat" using (\$1/1e6):2 with linespoints title "sluice p50", \
     "$dat" using (\$1/1e6):4 with linespoints title "sluice p99", \
     "$dat" using (\$1/1e6):5 with linespoints title "sluice p99.9", \
     "$dat" using (\$1/1e6):8 with linespoints dashtype 2 title "testpmd io p50", \
     "$dat" using (\$1/1e6):10 with linespoints dashtype 2 title "testpmd io p99"
EOF
fi
echo "sluice latency: results in $out"
