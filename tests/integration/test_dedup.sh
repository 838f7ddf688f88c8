#!/bin/bash
# Description: dedup: {within: 250ms} after key_by over 30000 rows of 20
# keys (a duplicate every few ms per key, 300 ms of disorder) from a CSV
# source. The expected rows come from awk over the same CSV in arrival
# order (per key: the first row, then the first at or past t0 + 250 ms),
# independently of sluice.
#  - out_of_orderness 300ms >= the disorder: no row is late, so bounded
#    state equals unbounded state; 1 worker writes awk's rows byte for
#    byte (arrival order), 2 workers the same rows, each key's in order.
#  - out_of_orderness 0: many rows are late; the output equals awk's
#    model of the cleanup (a key's entry goes at the first watermark
#    advance after t0 that reaches t0 + 249) exactly, and differs from
#    unbounded state's: the state really is cleaned up, at that watermark.
#  - checkpoints every 100 ms and three SIGKILLs, each restored: the
#    committed output equals the failure-free run's, byte for byte on
#    heap with 1 worker, as sorted rows in per-key order on rocksdb with
#    2 workers.
. "$(dirname "$0")/lib.sh"

W=250
"$GEN" write --schema user:u64,v:u32,ts:timestamp_ms --key user --ts ts \
	--keys 20 --events 30000 --rate 2000 --disorder 300 --seed 7 \
	--csv "$T/in.csv" 2> /dev/null

job() {	# job NAME OUT B WORKERS [extra yaml]
	cat <<YAML
job: $1
schema: {user: u64, v: u32, ts: timestamp_ms}
source:
  type: csv
  path: $T/in.csv
  timestamp: ts
  watermark: {out_of_orderness: $3, emit: punctuated}
${5:-}
pipeline:
  - filter: "v != 13"
  - key_by: user
  - dedup: {within: ${W}ms}
sink: {type: csv, path: $2}
lcores: {rx: 1, workers: $4}
YAML
}

# awk over the CSV in arrival order. B < 0: unbounded state. Otherwise
# the watermark is max(ts of the rows so far) - B - 1, sent after every
# CSV line (punctuated) when it grew; a key's entry goes at the first
# such advance after its t0 was set that reaches t0 + W - 1 (a timer set
# at or below the watermark waits for the next advance, R4.4). That is
# checked lazily, at the key's next row: the watermark only grows and t0
# does not change in between.
expect() {	# expect B
	awk -F, -v W="$W" -v B="$1" '
		NR == 1 { print; next }
		{
			k = $1; ts = $3 + 0
			if (B >= 0 && have_max && (!have_wm || mx - B - 1 > wm)) {
				wm = mx - B - 1; have_wm = 1; nadv++
			}
			if (B >= 0 && (k in t0) && nadv > set_at[k] && t0[k] + W - 1 <= wm)
				delete t0[k]
			if ($2 != 13 && (!(k in t0) || ts >= t0[k] + W)) {
				t0[k] = ts; set_at[k] = nadv; print
			}
			if (!have_max || ts > mx) { mx = ts; have_max = 1 }
		}' "$T/in.csv"
}
by_key() { head -1 "$1"; tail -n +2 "$1" | LC_ALL=C sort -s -t, -k1,1n; }
sorted() { head -1 "$1"; tail -n +2 "$1" | LC_ALL=C sort; }

expect -1 > "$T/want.csv"
n_want=$(($(wc -l < "$T/want.csv") - 1))
[ "$n_want" -gt 1000 ] && [ "$n_want" -lt 10000 ] || fail "$n_want rows expected; the data proves little"

job dedup-1 "$T/out1.csv" 300ms 1 > "$T/job1.yaml"
run_dp "$T/job1.yaml" --stats-json "$T/s1.json"
same_file "$T/want.csv" "$T/out1.csv"
n_in=$(awk -F, 'NR > 1 && $2 != 13' "$T/in.csv" | wc -l)
[ "$(json "$T/s1.json" '$.workers[0].duplicates_dropped')" = $((n_in - n_want)) ] ||
	fail "duplicates_dropped $(json "$T/s1.json" '$.workers[0].duplicates_dropped'), want $((n_in - n_want))"
echo "ok: 1 worker: $n_want of $n_in rows, awk's, in arrival order"

job dedup-2 "$T/out2.csv" 300ms 2 > "$T/job2.yaml"
run_dp "$T/job2.yaml" --stats-json "$T/s2.json"
sorted "$T/want.csv" > "$T/want.sorted"
sorted "$T/out2.csv" > "$T/got2.sorted"
same_file "$T/want.sorted" "$T/got2.sorted"
by_key "$T/want.csv" > "$T/want.bykey"
by_key "$T/out2.csv" > "$T/got2.bykey"
same_file "$T/want.bykey" "$T/got2.bykey"
[ "$(json "$T/s2.json" '$.workers[0].results')" -gt 0 ] &&
	[ "$(json "$T/s2.json" '$.workers[1].results')" -gt 0 ] || fail "one worker had no keys"
echo "ok: 2 workers: the same rows, each key's in arrival order"

expect 0 > "$T/want0.csv"
job dedup-late "$T/out0.csv" 0ms 1 > "$T/job0.yaml"
run_dp "$T/job0.yaml" --stats-json "$T/s0.json"
same_file "$T/want0.csv" "$T/out0.csv"
n_diff=$(($(wc -l < "$T/want0.csv") - $(wc -l < "$T/want.csv")))
[ "$n_diff" -gt 20 ] || fail "late rows changed only $n_diff rows; the data does not exercise the cleanup"
[ "$(json "$T/s0.json" '$.workers[0].keys_expired')" -gt 200 ] ||
	fail "keys_expired $(json "$T/s0.json" '$.workers[0].keys_expired')"
echo "ok: out_of_orderness 0: the cleanup model's $(($(wc -l < "$T/want0.csv") - 1)) rows exactly ($n_diff late rows kept that unbounded state drops)"

# Exactly-once through SIGKILLs: paced at 10000 rows/s (3 s), checkpoints
# every 100 ms; heap with 1 worker, rocksdb with 2.
for be in heap rocksdb; do
	nw=1
	[ "$be" = rocksdb ] && nw=2
	rm -rf "$T/chk" "$T/out3"
	job "dedup-ck-$be" "$T/out3/res.csv" 300ms "$nw" "  rate: 10000" > "$T/job3.yaml"
	cat >> "$T/job3.yaml" <<YAML
execution.checkpointing.interval: 100ms
state.checkpoints.dir: $T/chk
state.checkpoints.num-retained: 3
state.backend.type: $be
YAML
	kill_and_restore "$T/job3.yaml" 3
	cat "$T"/out3/res.csv.part-* > "$T/got3.csv"
	if [ "$nw" = 1 ]; then
		same_file "$T/want.csv" "$T/got3.csv"
	else
		sorted "$T/got3.csv" > "$T/got3.sorted"
		same_file "$T/want.sorted" "$T/got3.sorted"
		by_key "$T/got3.csv" > "$T/got3.bykey"
		same_file "$T/want.bykey" "$T/got3.bykey"
	fi
	echo "ok: $be, $nw worker(s), 3 SIGKILLs and restores: the committed output is the failure-free run's"
done
