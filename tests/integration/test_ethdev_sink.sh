#!/bin/bash
# Description: the ethdev sink sends results as wire packets out of the
# source's port. (1) The demo's keyed window job through net_pcap with
# tx_pcap: `sluice-gen decode` of the sent frames equals sqlite3's result
# byte for byte, with 1 and 2 workers (the main lcore sends). (2) A
# stateless filter + map on 2 workers, each sending its own rows on its
# own TX queue: each queue's rows are exactly sqlite3's rows of the input
# partition that worker owns, in input order, and each queue ends with
# END. (3) The latency round trip over net_memif: sluice-gen sends 100,000
# stamped events at 200,000 a second and gets back every result row the
# dataplane sent, none lost, the END included.
. "$(dirname "$0")/lib.sh"

expect_csv "$T/expected.csv" demo_sql
win_schema=user_id:u64,window_start:timestamp_ms,window_end:timestamp_ms,count:u64,first_click:timestamp_ms,last_click:timestamp_ms

# (1) keyed: results leave from the main lcore, sorted as the csv sink's.
for w in 1 2; do
	sed -e "s|rx_pcap=configs/samples/clicks.pcap|rx_pcap=configs/samples/clicks.pcap,tx_pcap=$T/out$w.pcap|" \
		-e "s|^  workers: 1|  workers: $w|" \
		-e "s|^  type: stdout|  type: ethdev|" configs/jobs/demo.yaml > "$T/job.yaml"
	grep -q "type: ethdev$" "$T/job.yaml" || fail "could not make the job"
	run_dp "$T/job.yaml" --stats-json "$T/s.json"
	"$GEN" decode --pcap "$T/out$w.pcap" --schema "$win_schema" --csv "$T/got.csv" 2> "$T/dec.err" ||
		{ cat "$T/dec.err" >&2; fail "decode: dropped packets or sequence gaps"; }
	same_file "$T/expected.csv" "$T/got.csv"
	grep -q ", 1 END," "$T/dec.err" || fail "no END packet: $(cat "$T/dec.err")"
	n=$(($(wc -l < "$T/expected.csv") - 1))
	[ "$(json "$T/s.json" '$.sink_rows')" = "$n" ] || fail "sink_rows $(json "$T/s.json" '$.sink_rows'), want $n"
	[ "$(json "$T/s.json" '$.sink_tx_dropped')" = 0 ] || fail "tx dropped"
	echo "ok: keyed, $w worker(s): $n result rows sent as packets equal sqlite3's"
done

# (2) stateless on 2 workers: worker w owns partition w.
"$GEN" write --schema user:u64,v:u32,ts:timestamp_ms,sent:u64 --key user --ts ts --keys 50 \
	--events 20000 --rate 4000 --partitions 2 --records-per-packet 16 --seed 5 \
	--csv "$T/in.csv" --pcap "$T/in.pcap" 2> /dev/null
cat > "$T/sl.yaml" <<YAML
job: ethdev-sink-stateless
schema: {user: u64, v: u32, ts: timestamp_ms, sent: u64}
source:
  type: ethdev
  port: "net_pcap0,rx_pcap=$T/in.pcap,tx_pcap=$T/q0.pcap,tx_pcap=$T/q1.pcap"
  partitions: 2
  timestamp: ts
  watermark: {out_of_orderness: 200ms}
pipeline:
  - filter: "v % 3 != 0"
  - map: {user: user, sent: sent, v2: "v * 2 - 7"}
sink: {type: ethdev, records_per_packet: 10}
lcores: {rx: 1, workers: 2}
YAML
run_dp "$T/sl.yaml" --stats-json "$T/s.json"
total=0
for p in 0 1; do
	# Row i of the CSV is in packet i / 16, which went to partition (i / 16) % 2.
	sqlite3 -csv -header :memory: ".import --csv $T/in.csv t" \
		"SELECT user, sent, v * 2 - 7 AS v2 FROM t
		 WHERE v % 3 != 0 AND ((rowid - 1) / 16) % 2 = $p ORDER BY rowid;" > "$T/want$p.csv"
	"$GEN" decode --pcap "$T/q$p.pcap" --schema user:u64,sent:u64,v2:i64 --csv "$T/got$p.csv" 2> "$T/dec.err" ||
		{ cat "$T/dec.err" >&2; fail "decode queue $p"; }
	same_file "$T/want$p.csv" "$T/got$p.csv"
	grep -q ", 1 END," "$T/dec.err" || fail "queue $p: no END packet"
	n=$(($(wc -l < "$T/want$p.csv") - 1))
	[ "$n" -gt 5000 ] || fail "queue $p: only $n rows to compare"
	total=$((total + n))
done
[ "$(json "$T/s.json" '$.sink_rows')" = "$total" ] || fail "sink_rows $(json "$T/s.json" '$.sink_rows'), want $total"
# 10 rows a packet: every vector's rows leave in ceil(n / 10) packets, plus END.
[ "$(json "$T/s.json" '$.sink_packets')" -ge $((total / 10 + 2)) ] || fail "sink_packets"
echo "ok: stateless, 2 workers on 2 TX queues: $total rows, each queue equals its partition's rows in order"

# (3) the latency round trip over memif.
sock="$T/memif.sock"
sed -e "s|@SOCK@|$sock|" perf/bench/memif-latency.yaml > "$T/lat.yaml"
timeout 60 "$GEN" send --port "net_memif0,role=server,socket=$sock" --lcore 0 \
	--schema key:u64,v:u32,ts:timestamp_ms,sent:u64 --key key --ts ts --keys 1000 \
	--events 100000 --rate 200000 --records-per-packet 8 \
	--latency sent --out-schema key:u64,sent:u64,v2:i64,frac:f64,odd:bool \
	--json > "$T/gen.json" 2> "$T/gen.err" &
gen=$!
sleep 1
run_dp "$T/lat.yaml" --cpus 1 --stats-json "$T/s.json"
wait $gen || true
[ -s "$T/gen.json" ] || { cat "$T/gen.err" >&2; fail "sluice-gen send printed no summary"; }
g=$(cat "$T/gen.json")
jg() { sqlite3 :memory: "SELECT json_extract('$g', '\$.$1');"; }
rows=$(json "$T/s.json" '$.sink_rows')
in=$(json "$T/s.json" '$.rx[0].rows')
filtered=$(json "$T/s.json" '$.rx[0].filtered')
[ "$in" = 100000 ] || fail "dataplane got $in rows, want 100000"
[ "$rows" = $((in - filtered)) ] || fail "sink rows $rows != $in - $filtered"
[ "$(jg latency.rows)" = "$rows" ] || fail "sluice-gen got $(jg latency.rows) result rows, the sink sent $rows"
[ "$(jg latency.recorded)" = "$rows" ] || fail "recorded $(jg latency.recorded), want $rows"
[ "$(jg latency.ended)" = 1 ] || fail "no END from the sink"
[ "$(jg latency.gaps)" = 0 ] && [ "$(jg latency.drops)" = 0 ] || fail "results lost: $g"
[ "$(jg latency.future_stamps)" = 0 ] || fail "stamps from the future"
[ "$(jg events)" = 100000 ] || fail "sent $(jg events) events"
echo "ok: memif round trip: $rows of 100000 events came back as results, each with its latency (p50 $(jg latency.p50_us) us)"
