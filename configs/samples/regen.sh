#!/bin/sh
# Regenerate the demo's bundled sample data with the built sluice-gen.
# Usage: configs/samples/regen.sh [BUILD_DIR]   (default: build)
# The output is a pure function of the arguments below (sluice-gen is
# deterministic from --seed), so a diff after running this means the
# generator's stream changed: commit the new files together with that change.
set -eu

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

# A relative build dir is taken from the current directory, else the repo root.
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then
	build="$root/$build"
fi
gen="$build/perf/sluice-gen/sluice-gen"
if [ ! -x "$gen" ]; then
	echo "regen.sh: $gen not found; build first (ninja -C $build)" >&2
	exit 1
fi

# 4000 clicks by 8 users over 20 s of event time: up to 500 ms out of order,
# 1% of them late by a further 1..3000 ms.
"$gen" write \
	--schema user_id:u64,url_id:u32,ts:timestamp_ms \
	--key user_id --ts ts --keys 8 --events 4000 --rate 200 \
	--disorder 500 --late-fraction 0.01 --late-ms 3000 --seed 7 \
	--csv "$here/clicks.csv" --pcap "$here/clicks.pcap" --capture "$here/clicks.slc"

# 400 weight changes of the 101 url_ids over the same 20 s, in order: the
# rules stream of the broadcast join example (broadcast-clicks.yaml).
"$gen" write \
	--schema url_id:u32,weight:u32,ts:timestamp_ms \
	--key url_id --ts ts --keys 101 --events 400 --rate 20 --disorder 0 --seed 3 \
	--csv "$here/url-weights.csv"
