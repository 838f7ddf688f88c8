#!/bin/bash
# `make bench`: the standard suite, each part beside its reference in the
# same run, into one folder perf/results/<date>-<host>/:
#   1. memif (run.sh): sluice-gen -> sluice-dp keyed tumbling count, beside
#      dpdk-testpmd rxonly over the same memif (the transport ceiling);
#   2. latency (latency.sh): event-to-result latency of a stateless filter +
#      map through the ethdev sink against offered load, from 10% to
#      saturation, beside dpdk-testpmd io-forward over the same memif;
#   3. in-process (inproc.sh): every perf/scenarios job on the gen source,
#      beside the plain C keyed count (the compute ceiling);
#   4. checkpoints (ckpt.sh): throughput, per-vector time, checkpoint time
#      and bytes, recovery and memory per key, without and with a
#      checkpoint every second, per state backend.
# summary.md gathers the four tables with the machine, revision and how
# long each part took, and plot.sh's PNG plots; every part's own files
# stay beside it (md, csv, json, raw logs).
#
#   perf/bench/suite.sh [BUILD_DIR]
#   env: PARTS ("memif latency inproc ckpt"), RUNS (3: memif), INPROC_RUNS (3),
#        LAT_RUNS (3), LAT_SECONDS (1.5), LAT_FRACTIONS ("0.1 0.5 0.9 1.0"),
#        CKPT_RUNS (3), CKPT_BACKENDS ("heap rocksdb-native"),
#        CKPT_KEYS ("1000000 10000000": heap's; the rocksdb backends run
#        1M only here, CKPT_ROCKSDB_KEYS), CKPT_CPUS (0-1)
#
# It is cut to about ten minutes here: three memif, latency and in-process
# runs, four load points, the in-process scenarios on heap only (rocksdb's
# rate is in the checkpoint part), the slow 1M-key ones (sliding, session,
# interval join) on their '# suite-events:', fewer events per key in the
# checkpoint runs and no
# full-snapshot rocksdb row. The whole of each part, with five
# runs per scenario (`make bench-inproc`) and every backend at both key
# counts (`make bench-ckpt`), takes longer.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
PARTS=${PARTS:-memif latency inproc ckpt}
LAT_RUNS=${LAT_RUNS:-3}
LAT_SECONDS=${LAT_SECONDS:-1.5}
LAT_FRACTIONS=${LAT_FRACTIONS:-0.1 0.5 0.9 1.0}
RUNS=${RUNS:-3}
INPROC_RUNS=${INPROC_RUNS:-3}
CKPT_RUNS=${CKPT_RUNS:-3}
CKPT_BACKENDS=${CKPT_BACKENDS:-heap rocksdb-native}
CKPT_KEYS=${CKPT_KEYS:-1000000 10000000}
CKPT_ROCKSDB_KEYS=${CKPT_ROCKSDB_KEYS:-1000000}
CKPT_CPUS=${CKPT_CPUS:-0-1}
host=$(hostname -s)
OUT="perf/results/$(date -u +%Y%m%d-%H%M%S)-$host"
export OUT
mkdir -p "$OUT"
sum="$OUT/summary.md"
t_all=$EPOCHREALTIME
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

{
	echo "# sluice bench, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "- host $host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo ' (with local changes)'), DPDK $(pkg-config --modversion libdpdk 2>/dev/null || echo '?'), load at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- the machine is shared: every figure is a median of several runs, and each is printed beside a reference measured in the same run"
} > "$sum"

for part in $PARTS; do
	t0=$EPOCHREALTIME
	case $part in
	memif)
		echo "== memif: RUNS=$RUNS" >&2
		RUNS=$RUNS perf/bench/run.sh "$build" > "$OUT/memif.log"
		{ echo; echo "## 1. Through net_memif, beside dpdk-testpmd rxonly"; echo
		  cat "$OUT/memif.md"; } >> "$sum"
		;;
	latency)
		echo "== latency: LAT_RUNS=$LAT_RUNS of ${LAT_SECONDS}s" >&2
		LAT_RUNS=$LAT_RUNS LAT_SECONDS=$LAT_SECONDS LAT_FRACTIONS=$LAT_FRACTIONS perf/bench/latency.sh "$build" > "$OUT/latency.log"
		{ echo; echo "## 2. Latency against offered load, beside dpdk-testpmd io-forward"; echo
		  cat "$OUT/latency.md"; } >> "$sum"
		;;
	inproc)
		echo "== inproc: RUNS=$INPROC_RUNS" >&2
		# The rocksdb scenario is left to the checkpoint part, which
		# measures RocksDB's throughput with and without checkpoints.
		# Every family runs at 10k and 1M keys; the slower scenarios
		# read their '# suite-events:' (fewer events) to keep ten
		# minutes; make bench-inproc reads them whole.
		RUNS=$INPROC_RUNS SUITE_EVENTS=1 SCENARIOS="$(ls perf/scenarios/*.yaml | grep -v -e rocksdb)" \
			perf/bench/inproc.sh "$build" > "$OUT/inproc.log"
		{ echo; echo "## 3. In-process source, beside the plain C keyed count"; echo
		  cat "$OUT/inproc.md"; } >> "$sum"
		;;
	ckpt)
		: > "$OUT/ckpt.md"
		for b in $CKPT_BACKENDS; do
			keys=$CKPT_KEYS
			[ "$b" = heap ] || keys=$CKPT_ROCKSDB_KEYS
			for k in $keys; do
				# heap at 1M keys and 8 events a key is over in a
				# second: one checkpoint, at the start. 40 gives ~4;
				# 10M keys at 6 a key run ~11 s, ~8 checkpoints (0.9 s
				# each, written O_DIRECT); the rocksdb backends' 2 a
				# key, ~14 s at 1M keys.
				epk=6
				[ "$k" -le 1000000 ] && epk=40
				echo "== ckpt: $b, $k keys, RUNS=$CKPT_RUNS" >&2
				CPUS=$CKPT_CPUS RUNS=$CKPT_RUNS BACKENDS=$b KEYS_LIST=$k \
					HEAP_EVENTS_PER_KEY=$epk EVENTS_PER_KEY=2 perf/bench/ckpt.sh "$build" \
					>> "$OUT/ckpt.md" 2>> "$OUT/ckpt-raw.log"
			done
		done
		{ echo; echo "## 4. Checkpoints every second against none, per state backend"; echo
		  cat "$OUT/ckpt.md"; } >> "$sum"
		;;
	*)
		echo "suite.sh: unknown part '$part' in PARTS (memif, latency, inproc, ckpt)" >&2
		exit 2
		;;
	esac
	echo "- $part took $(secs "$t0") s" >> "$OUT/times"
done
if perf/bench/plot.sh "$OUT" > /dev/null; then
	{ echo; echo "## Plots"; echo
	  for p in events-per-core latency checkpoints; do
		if [ -f "$OUT/$p.png" ]; then echo "![$p]($p.png)"; fi
	  done; } >> "$sum"
fi
{ echo; echo "## Time"; echo; cat "$OUT/times"; echo "- in all $(secs "$t_all") s"; } >> "$sum"
cat "$sum"
echo "sluice bench: results in $OUT" >&2
