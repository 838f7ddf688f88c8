#!/bin/bash
# Description: the example jobs of configs/jobs/ (issue [4], item 10) run
# on the bundled sample data and give exactly their expected output,
# configs/jobs/expected/*.csv, which sqlite3 computed from the same CSV
# (configs/jobs/expected/regen.sh). Each job's outputs are sorted by
# (window_start, key, count) before the comparison (a late firing's
# update and the late side output interleave as they come); the stateless
# top-K, chained and two-stage examples' are compared in their order,
# the dedup example's sorted by key and time, the join and co-process
# examples' by every column.
. "$(dirname "$0")/lib.sh"

sort_res() {	# sort_res FILE: the header, then rows by window_start, key, count
	head -1 "$1"
	tail -n +2 "$1" | sort -t, -k2,2n -k1,1n -k4,4n
}
sort_late() {	# the late side output: rows by key, ts, url
	head -1 "$1"
	tail -n +2 "$1" | sort -t, -k1,1n -k3,3n -k2,2n
}

n=0
for job in sliding-clicks late-clicks count-trigger-clicks session-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	sort_res "$T/$job.csv" > "$T/$job.sorted"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.sorted"
	if [ -f "configs/jobs/expected/$job-late.csv" ]; then
		sort_late "$T/$job-late.csv" > "$T/$job-late.sorted"
		same_file "configs/jobs/expected/$job-late.csv" "$T/$job-late.sorted"
	fi
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected"
	n=$((n + 1))
done
# Stateless: one partition, so one worker and file order; compared as is.
for job in stateless-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.csv"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected, in order"
	n=$((n + 1))
done
# count_distinct exact (sqlite3's COUNT(DISTINCT)); the HyperLogLog's
# column, which sqlite3 cannot compute, within 3 standard errors of it
# (P = 12: 1.04 / 64) or 1 at these few pages.
for job in distinct-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	sort_res "$T/$job.csv" > "$T/$job.sorted"
	cut -d, -f1-5 "$T/$job.sorted" > "$T/$job.exact"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.exact"
	bad=$(tail -n +2 "$T/$job.sorted" | awk -F, '{ d = $6 - $5; if (d < 0) d = -d;
		lim = 3 * 1.04 / 64 * $5; if (lim < 1) lim = 1; if (d > lim) n++ } END { print n + 0 }')
	[ "$bad" = 0 ] || fail "$job: $bad estimates beyond 3 standard errors"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected, the estimates within 3 standard errors"
	n=$((n + 1))
done
# Dedup: two workers interleave the keys; sorted by (user_id, url_id, ts),
# which keeps each key's rows in their (ascending) order.
for job in dedup-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	{ head -1 "$T/$job.csv"; tail -n +2 "$T/$job.csv" | sort -t, -k1,1n -k2,2n -k3,3n; } > "$T/$job.sorted"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.sorted"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected"
	n=$((n + 1))
done
# Process: as dedup, sorted by (user_id, url_id, ts).
for job in process-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	{ head -1 "$T/$job.csv"; tail -n +2 "$T/$job.csv" | sort -t, -k1,1n -k2,2n -k4,4n; } > "$T/$job.sorted"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.sorted"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected"
	n=$((n + 1))
done
# Top-K: written in (window_start, rank) order, the same bytes whatever
# the workers: compared as is; so are the chained steps' rows, written
# in (window_start, user_id) order through the map after the window, and
# the two keyed stages', in (window_start, region) order.
for job in topk-clicks chained-clicks two-stage-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.csv"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected, in order"
	n=$((n + 1))
done
# Joins (interval, session): two sources (a CSV and a net_pcap port),
# pairs completing on two workers; broadcast: the rules on every worker;
# sorted by every column.
for job in join-clicks sessionjoin-clicks broadcast-clicks; do
	sed -e "s|path: out/|path: $T/|" "configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	{ head -1 "$T/$job.csv"; tail -n +2 "$T/$job.csv" |
		sort -t, -k1,1n -k2,2n -k3,3n -k4,4n -k5,5n -k6,6n -k7,7n; } > "$T/$job.sorted"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.sorted"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected"
	n=$((n + 1))
done
# Co-process: two feeds reconciled by the orderpay plugin (the build's
# plugins directory): sorted by every column; its side output empty.
for job in coprocess-clicks; do
	sed -e "s|path: out/|path: $T/|" -e "s|dir: build/plugins|dir: $SLUICE_BUILD/plugins|" \
		"configs/jobs/$job.yaml" > "$T/$job.yaml"
	run_dp "$T/$job.yaml"
	{ head -1 "$T/$job.csv"; tail -n +2 "$T/$job.csv" |
		sort -t, -k1,1n -k2,2n -k3,3n -k4,4n -k5,5n -k6,6n -k7,7n; } > "$T/$job.sorted"
	same_file "configs/jobs/expected/$job.csv" "$T/$job.sorted"
	[ "$(cat "$T/$job-unmatched.csv")" = "$(head -1 "$T/$job.csv")" ] ||
		fail "$job: unmatched clicks: $(head -3 "$T/$job-unmatched.csv")"
	echo "ok: configs/jobs/$job.yaml: $(($(wc -l < "$T/$job.csv") - 1)) rows as expected, none unmatched"
	n=$((n + 1))
done
[ "$n" = 15 ] || fail "ran $n examples"
