#!/bin/bash
# `make bench-inproc`: operator throughput per core with no transport.
# Each scenario in perf/scenarios/*.yaml is a job over the in-process
# generator source (type: gen), RX and window on one lcore; beside it, in
# the same run and on the same CPU, the compute ceiling: perf/ref's plain C
# keyed count over the same generated rows (its ref-args line), or the
# C loop its '# ref:' line names (sluice-ref-join for the interval joins,
# whose events are per source and whose rates count both). The machine
# is shared and noisy, so every scenario runs RUNS times, sluice and the C
# loop alternating, and the medians are reported; the ratio is sluice's
# median over the C loop's.
#
# A run is valid only if sluice's result rows equal the C loop's (the same
# (window, key) pairs counted; for top-K scenarios also the same ranked
# rows, by a checksum over key, count, rank and window that the C loop
# prints and this script recomputes from sluice's output); an invalid run
# stops the benchmark.
#
# VARIANTS runs each scenario again as variants of itself: `ckpt` adds a
# checkpoint every second (exactly-once, the sink's two-phase commit
# included), `rocksdb` moves a heap scenario's state to RocksDB (not for
# stateless scenarios, nor above 1M keys; at ~200 k events/s it reads at
# most ROCKS_EVENTS, 2M, the C loop too), and `rocksdb-ckpt` both. Their rows are named scenario+variant, each beside
# the same C loop.
#
#   perf/bench/inproc.sh [BUILD_DIR]      RUNS=5 CPU=1 SCENARIOS="a.yaml b.yaml"
#                                         VARIANTS="plain ckpt rocksdb rocksdb-ckpt"
#
# Writes perf/results/<date>-<host>/: inproc.md (the table), inproc.csv
# (one line per run) and inproc-<scenario>-<run>.json (sluice-dp's stats,
# the C loop's line, git revision, DPDK version, CPU model, lcore map).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
CPU=${CPU:-1}
VARIANTS=${VARIANTS:-plain}
SCENARIOS=${SCENARIOS:-$(ls perf/scenarios/stateless-*.yaml perf/scenarios/tumbling-count-*.yaml perf/scenarios/sliding-count-*.yaml perf/scenarios/session-count-*.yaml perf/scenarios/process-timeout-*.yaml perf/scenarios/topk-count-*.yaml perf/scenarios/interval-join-*.yaml)}
DP="$build/dataplane/sluice-dp"
REF="$build/perf/ref/sluice-ref-count"
for x in "$DP" "$REF" "$build/perf/ref/sluice-ref-join"; do
	[ -x "$x" ] || { echo "inproc.sh: $x not found; build first (ninja -C $build)" >&2; exit 1; }
done
host=$(hostname -s)
out=${OUT:-"perf/results/$(date -u +%Y%m%d-%H%M%S)-$host"}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/sluice-inproc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git diff --quiet HEAD -- 2>/dev/null && echo false || echo true)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
dpdk=$(pkg-config --modversion libdpdk 2>/dev/null || echo '?')

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "sluice bench-inproc: $RUNS runs per scenario on CPU $CPU; $cpu_model, $(nproc) CPUs, git $rev, DPDK $dpdk"
echo "scenario,run,backend,keys,events,sluice_events_per_sec,ref_events_per_sec,ratio,ref_gen_events_per_sec,sluice_seconds,sink_rows,ref_results" > "$out/inproc.csv"

# A gen source's key, as written in a scenario: under source: or, the
# same for every source, under sources: (a join's, deeper).
gen_key() { sed -n "s/^ *$1: //p" "$2" | head -1; }

# RocksDB runs at ~200 k events/s: its variants read at most ROCKS_EVENTS.
ROCKS_EVENTS=${ROCKS_EVENTS:-2000000}
rocks_events() {
	local e
	e=$(gen_key events "$1")
	echo $((e < ROCKS_EVENTS ? e : ROCKS_EVENTS))
}

# variant_job SCENARIO VARIANT > JOB: the scenario as that variant, or
# nothing (exit 1) when the variant does not apply to it.
variant_job() {
	local f=$1 v=$2 backend keys
	backend=$(sed -n 's/^state.backend.type: //p' "$f")
	keys=$(gen_key keys "$f")
	case $v in
	plain|ckpt)
		# SUITE_EVENTS=1 (make bench): a scenario's '# suite-events: N'
		# (the slow 1M-key ones) in place of its events, per source.
		local se=
		[ "${SUITE_EVENTS:-0}" = 1 ] && se=$(sed -n 's/^# suite-events: //p' "$f")
		sed -e "s|@OUT@|$tmp/out.csv|" -e "s|@RDB@|$tmp/rdb|" \
		    ${se:+-e "s/^\( *\)events: .*/\1events: $se/"} "$f" ;;
	rocksdb|rocksdb-ckpt)
		[ "$backend" = heap ] && [ "$keys" -le 1000000 ] || return 1
		sed -e "s|@OUT@|$tmp/out.csv|" -e '/^state.backend.heap.memory:/d' \
		    -e 's/^state.backend.type: heap/state.backend.type: rocksdb/' \
		    -e "s/^\( *\)events: .*/\1events: $(rocks_events "$f")/" "$f"
		echo "state.backend.rocksdb.localdir: \"$tmp/rdb\"" ;;
	*) echo "inproc.sh: unknown variant '$v' (plain, ckpt, rocksdb, rocksdb-ckpt)" >&2; exit 2 ;;
	esac
	case $v in
	*ckpt) printf 'execution.checkpointing.interval: 1s\nstate.checkpoints.dir: "%s"\n' "$tmp/ck" ;;
	esac
}

for i in $(seq 1 "$RUNS"); do
	for f in $SCENARIOS; do
	for var in $VARIANTS; do
		name=$(basename "$f" .yaml)
		[ "$var" = plain ] || name="$name+$var"
		refargs=$(sed -n 's/^# ref-args: //p' "$f")
		[ -n "$refargs" ] || { echo "inproc.sh: $f has no '# ref-args:' line" >&2; exit 1; }
		# Which C loop: '# ref: NAME' (a join's), else the keyed count.
		refbin=$(sed -n 's/^# ref: //p' "$f")
		ref_exe="$build/perf/ref/${refbin:-sluice-ref-count}"
		rm -rf "$tmp/rdb" "$tmp/ck" "$tmp"/out.csv*
		mkdir -p "$tmp/rdb"
		variant_job "$f" "$var" > "$tmp/job.yaml" || continue
		backend=$(sed -n 's/^state.backend.type: //p' "$tmp/job.yaml")
		keys=$(gen_key keys "$f")
		events=$(gen_key events "$tmp/job.yaml")
		# The C loop reads what the job reads.
		refargs=$(sed -e "s/--events [0-9]*/--events $events/" <<< "$refargs")

		# The ceiling first, on the same CPU sluice's lcore will use.
		# shellcheck disable=SC2086
		ref=$(taskset -c "$CPU" "$ref_exe" $refargs)

		if ! "$DP" --job "$tmp/job.yaml" --cpus "$CPU" --stats-json "$tmp/dp.json" 2> "$tmp/dp.err"; then
			cat "$tmp/dp.err" >&2
			echo "inproc.sh: sluice-dp failed on $name" >&2
			exit 1
		fi
		# One JSON per run; python3 is in `make deps`, jq is not.
		read -r dp_eps dp_s sink ref_eps ref_gen ref_res ratio < <(
			REF_JSON="$ref" python3 - "$tmp/dp.json" "$out/inproc-$name-$i.json" "$name" "$i" \
				"$rev" "$dirty" "$dpdk" "$cpu_model" "$(nproc)" "$CPU" "$tmp/out.csv" <<'PY'
import csv, glob, json, os, sys
dpf, outf, name, run, rev, dirty, dpdk, cpu, ncpu, lcore, res = sys.argv[1:]
dp = json.load(open(dpf))
ref = json.loads(os.environ["REF_JSON"])
ratio = dp["rows_per_second"] / ref["events_per_sec"]
if "topk_checksum" in ref:
    # The ranked rows themselves: key * 31 + count + rank * 7 + start.
    # With checkpoints the output is the committed parts in order, the
    # header in the first.
    lines = []
    for f in sorted(glob.glob(res + ".part-*")) or [res]:
        lines += open(f).read().splitlines()
    got = 0
    for row in csv.DictReader(lines):
        got += (int(row["key"]) * 31 + int(row["count"]) + int(row["rank"]) * 7 +
                int(row["window_start"]))
    if got % 2**64 != ref["topk_checksum"]:
        sys.exit(f"inproc.sh: {name} run {run}: sluice's ranked rows differ from the C loop's "
                 f"(checksum {got % 2**64} against {ref['topk_checksum']}); the run is invalid")
json.dump({"scenario": name, "run": int(run), "git_revision": rev,
           "git_dirty": dirty == "true", "dpdk_version": dpdk, "cpu_model": cpu,
           "cpus": int(ncpu),
           "lcore_map": f"main lcore and the run-to-completion lcore (RX + window) on CPU {lcore}; C loop on CPU {lcore}",
           "ratio_to_c_loop": ratio, "c_loop": ref, "sluice_dp": dp},
          open(outf, "w"), indent=2, sort_keys=True)
print(dp["rows_per_second"], dp["seconds"], dp["sink_rows"], ref["events_per_sec"],
      ref["gen_events_per_sec"], ref["results"], f"{ratio:.4f}")
PY
		)
		if [ "$sink" != "$ref_res" ]; then
			echo "inproc.sh: $name run $i: sluice wrote $sink results, the C loop counted $ref_res; the run is invalid" >&2
			exit 1
		fi
		echo "$name,$i,$backend,$keys,$events,$dp_eps,$ref_eps,$ratio,$ref_gen,$dp_s,$sink,$ref_res" >> "$out/inproc.csv"
		awk -v n="$name" -v i="$i" -v d="$dp_eps" -v r="$ref_eps" -v q="$ratio" 'BEGIN {
			printf "run %d %-28s sluice-dp %8.2f M events/s | C loop %8.2f M events/s | ratio %.3f\n", i, n, d / 1e6, r / 1e6, q }'
	done
	done
done

{
	echo "## In-process scenarios, one core (median of $RUNS runs)"
	echo
	echo "git $rev$([ "$dirty" = true ] && echo ' (uncommitted changes)'), DPDK $dpdk, $cpu_model, $(nproc) CPUs; sluice-dp and the C loop on CPU $CPU, alternating."
	echo
	echo "| scenario | backend | keys | events | sluice-dp events/s per core | C loop events/s | ratio | median of per-run ratios | C loop's generation alone |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for name in $(tail -n +2 "$out/inproc.csv" | cut -d, -f1 | awk '!seen[$0]++'); do
		rows=$(awk -F, -v n="$name" '$1 == n' "$out/inproc.csv")
		d=$(cut -d, -f6 <<< "$rows" | median)
		r=$(cut -d, -f7 <<< "$rows" | median)
		g=$(cut -d, -f9 <<< "$rows" | median)
		# Each run's ratio is taken seconds apart on the same CPU, so its
		# median is the figure least moved by a neighbour's load.
		q=$(cut -d, -f8 <<< "$rows" | median)
		IFS=, read -r _ _ backend keys events _ <<< "$(head -1 <<< "$rows")"
		awk -v n="$name" -v b="$backend" -v k="$keys" -v e="$events" -v d="$d" -v r="$r" -v q="$q" -v g="$g" 'BEGIN {
			printf "| %s | %s | %d | %d | %.2f M | %.2f M | %.3f | %.3f | %.1f M |\n", n, b, k, e, d / 1e6, r / 1e6, d / r, q, g / 1e6 }'
	done
} | tee "$out/inproc.md"
echo "sluice bench-inproc: results in $out"
