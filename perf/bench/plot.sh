#!/bin/bash
# Plots of a `make bench` results folder, with gnuplot (PNG):
#   events-per-core.png  events/s per core per scenario: sluice-dp beside
#                        its reference of the same run (the plain C keyed
#                        count in-process, dpdk-testpmd rxonly over memif),
#                        medians, log scale
#   checkpoints.png      events/s without and with a checkpoint every
#                        second, per state backend and key count
# and the medians they are drawn from (plot-*.dat). Parts missing from the
# folder are left out.
#
#   perf/bench/plot.sh RESULTS_DIR
set -euo pipefail
dir=${1:?usage: plot.sh RESULTS_DIR}
command -v gnuplot > /dev/null || { echo "plot.sh: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 2; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# "label sluice reference", events/s, one line per scenario.
eps="$dir/plot-events.dat"
: > "$eps"
if [ -f "$dir/inproc.csv" ]; then
	for s in $(tail -n +2 "$dir/inproc.csv" | cut -d, -f1 | sort -u); do
		sl=$(awk -F, -v s="$s" '$1 == s { print $6 }' "$dir/inproc.csv" | median)
		rf=$(awk -F, -v s="$s" '$1 == s { print $7 }' "$dir/inproc.csv" | median)
		echo "$s $sl $rf" >> "$eps"
	done
fi
if [ -f "$dir/sluice-gen.jsonl" ] && [ -f "$dir/testpmd.jsonl" ]; then
	sl=$(sed -n 's/.*"events_per_sec": *\([0-9.e+]*\).*/\1/p' "$dir/sluice-gen.jsonl" | median)
	rf=$(sed -n 's/.*"events_per_sec": *\([0-9.e+]*\).*/\1/p' "$dir/testpmd.jsonl" | median)
	[ -n "$sl" ] && [ -n "$rf" ] && echo "memif-tumbling-count-10k $sl $rf" >> "$eps"
fi

# "label no-ckpt ckpt", events/s, from ckpt.md's first table ("5.93 M", "78 k").
ck="$dir/plot-checkpoints.dat"
: > "$ck"
if [ -f "$dir/ckpt.md" ]; then
	awk -F'|' 'function n(x) { gsub(/ /, "", x); if (x ~ /M$/) return substr(x, 1, length(x) - 1) * 1e6;
			if (x ~ /k$/) return substr(x, 1, length(x) - 1) * 1e3; return x }
		$2 ~ /^ (heap|rocksdb|rocksdb-native) $/ && $5 ~ /[0-9] [Mk] $/ && $6 ~ /[0-9] [Mk] $/ {
			b = $2; k = $3; gsub(/ /, "", b); gsub(/ /, "", k)
			printf "%s-%gM %s %s\n", b, k / 1e6, n($5), n($6) }' "$dir/ckpt.md" >> "$ck"
fi

# bars DATA PNG TITLE LABEL2 LABEL3: clustered bars of columns 2 and 3
# per label of column 1, log scale.
bars() {
	gnuplot <<EOF
set terminal pngcairo size 1000,520 font ",10"
set output "$2"
set title "$3"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "events/s (log scale)"
set xtics rotate by -25 noenhanced
set key top right
set grid ytics
plot "$1" using 2:xtic(1) title "$4", "" using 3 title "$5"
EOF
}
if [ -s "$eps" ]; then
	bars "$eps" "$dir/events-per-core.png" \
		"events/s per core, medians: sluice-dp and its reference in the same run" \
		"sluice-dp" "reference (C loop in-process; testpmd rxonly over memif)"
fi
if [ -s "$ck" ]; then
	bars "$ck" "$dir/checkpoints.png" \
		"events/s without and with a checkpoint every second, medians" \
		"no checkpoints" "checkpoint every 1 s"
fi
ls "$dir"/*.png 2> /dev/null || echo "plot.sh: nothing to plot in $dir" >&2
