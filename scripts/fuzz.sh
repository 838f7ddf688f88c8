#!/bin/sh
# `make fuzz`: a short libFuzzer run of every target, each from a scratch
# copy of its checked-in corpus (new inputs stay out of the tree; promote a
# useful one by copying it into tests/fuzz/<target>/corpus/ by hand).
set -eu
build=${1:-build-fuzz}
secs=${2:-20}
cd "$(dirname "$0")/.."
status=0
for dir in tests/fuzz/*/; do
	t=$(basename "$dir")
	bin="$build/tests/fuzz/$t/fuzz_$t"
	[ -x "$bin" ] || continue
	work=$(mktemp -d)
	cp -r "$dir/corpus/." "$work/"
	echo "sluice: fuzzing $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -print_final_stats=1 "$work" > "$build/fuzz-$t.log" 2>&1; then
		echo "sluice: fuzz_$t FOUND A CRASH: see $build/fuzz-$t.log and the crash-* file in $(pwd)" >&2
		status=1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-$t.log" | sed "s/^/  $t: /"
	rm -rf "$work"
done
exit $status
