#!/bin/bash
# Description: bad input gets a clear error or a counter and loses nothing.
# A capture with one malformed frame of each kind after its first packet
# gives the same results as the clean one, with each drop counted by
# reason; a truncated binary capture is reported and its whole packets are
# used; malformed job files are rejected with file:line:column.
. "$(dirname "$0")/lib.sh"
MKBAD="$SLUICE_BUILD/tests/integration/mkbad"

# Clean run for reference.
sed -e "s|^  type: stdout|  type: csv\n  path: $T/clean.csv|" configs/jobs/demo.yaml > "$T/clean.yaml"
run_dp "$T/clean.yaml"

"$MKBAD" configs/samples/clicks.pcap "$T/bad.pcap"
sed -e "s|rx_pcap=configs/samples/clicks.pcap|rx_pcap=$T/bad.pcap|" \
	-e "s|^  type: stdout|  type: csv\n  path: $T/bad.csv|" configs/jobs/demo.yaml > "$T/bad.yaml"
run_dp "$T/bad.yaml" --stats-json "$T/s.json"
same_file "$T/clean.csv" "$T/bad.csv"
for want in bad_magic=1 bad_version=1 bad_schema=1 bad_length=3 wrong_port=1 truncated=1 \
	    not_ipv4=1 fragment=1 duplicate=1 not_udp=0 bad_record_size=0 after_end=0; do
	got=$(json "$T/s.json" "\$.rx[0].drops.${want%=*}")
	[ "$got" = "${want#*=}" ] || fail "drop ${want%=*}: want ${want#*=}, got $got"
done
[ "$(json "$T/s.json" '$.rx[0].rows')" = 4000 ] || fail "good rows were lost"
grep -q "dropped 3 packet(s): bad_length" "$T/dp.err" || fail "no drop summary on stderr"
echo "ok: 11 malformed frames dropped and counted by reason, results unchanged"
grep "dropped" "$T/dp.err"

# A truncated binary capture: whole packets are used, the tail is reported.
"$GEN" write --schema user_id:u64,url_id:u32,ts:timestamp_ms --key user_id --ts ts \
	--keys 8 --events 4000 --rate 200 --disorder 500 --late-fraction 0.01 --late-ms 3000 \
	--seed 7 --capture "$T/c.slc" 2> /dev/null
size=$(stat -c %s "$T/c.slc")
truncate -s $((size - 10)) "$T/c.slc"
sed -e "s|^  type: ethdev|  type: capture\n  path: $T/c.slc|" -e '/^  port:/d' \
	-e "s|^  type: stdout|  type: csv\n  path: $T/cap.csv|" configs/jobs/demo.yaml > "$T/cap.yaml"
run_dp "$T/cap.yaml" --stats-json "$T/s.json"
same_file "$T/clean.csv" "$T/cap.csv"
[ "$(json "$T/s.json" '$.rx[0].truncated_bytes')" = 26 ] || fail "truncated bytes: $(json "$T/s.json" '$.rx[0].truncated_bytes')"
grep -q "is truncated: 26 bytes after the last whole packet" "$T/dp.err" || fail "no truncation message"
echo "ok: truncated capture: 26 trailing bytes reported, all 4000 rows used"

# Not a capture at all.
echo "hello" > "$T/c.slc"
if "$DP" --job "$T/cap.yaml" 2> "$T/err"; then fail "accepted a non-capture"; fi
grep -q "is not a sluice capture" "$T/err" || fail "unclear error: $(cat "$T/err")"

# Malformed job files: rejected before anything starts, with file:line:col.
printf 'job: x\nschema: {a: u64, ts: timestamp_ms}\nsource: {type: csv, path: x.csv, timestamp: ts, prot: 1}\n' > "$T/j1.yaml"
if "$DP" --job "$T/j1.yaml" 2> "$T/err"; then fail "accepted a bad job"; fi
grep -q "^sluice-dp: $T/j1.yaml:3:[0-9]*: unknown key 'prot' in source" "$T/err" || fail "unclear: $(cat "$T/err")"
printf 'job: x\nschema: [\n' > "$T/j2.yaml"
if "$DP" --job "$T/j2.yaml" 2> "$T/err"; then fail "accepted broken YAML"; fi
grep -q "^sluice-dp: $T/j2.yaml:[0-9]*:[0-9]*: " "$T/err" || fail "unclear: $(cat "$T/err")"
sed 's|"url_id != 0"|"url_idd != 0"|' configs/jobs/demo.yaml > "$T/j3.yaml"
if "$DP" --job "$T/j3.yaml" 2> "$T/err"; then fail "accepted an unknown field"; fi
grep -q "^sluice-dp: $T/j3.yaml:17:[0-9]*: .*url_idd" "$T/err" || fail "unclear: $(cat "$T/err")"
echo "ok: malformed job files rejected:"
cat "$T/err"
