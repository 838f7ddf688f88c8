#!/bin/bash
# Description: sluiced end to end. Submit the demo job and check it
# FINISHES with the same CSV as a standalone sluice-dp; run an unbounded
# job, read its metrics, cancel it; SIGKILL a dataplane and watch the
# restart strategy bring it back; restart sluiced under a running job and
# check it re-attaches to the same dataplane; bad requests and a silent
# client do not stop the daemon; SIGTERM drains and exits 0.
. "$(dirname "$0")/lib.sh"

SLD="$SLUICE_BUILD/control/sluiced/sluiced"
SOCK="$T/sluiced.sock"
STATE="$T/state"

# req VERB [JSON-ARGS]: one request, the reply on stdout (raw JSON line).
req() {
	python3 - "$SOCK" "$1" "${2:-{\}}" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((json.dumps({"v": 1, "id": 1, "verb": sys.argv[2],
		       "args": json.loads(sys.argv[3])}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
	chunk = s.recv(65536)
	if not chunk:
		break
	buf += chunk
sys.stdout.write(buf.decode())
PY
}

# jq-less field access: get REPLY PATH (a Python expression on r).
get() {
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# wait_state JOB STATE [SECONDS]
wait_state() {
	local r s i
	for i in $(seq 1 $((${3:-30} * 10))); do
		r=$(req status "{\"job\":\"$1\"}")
		s=$(get "$r" 'r["data"]["state"]' 2> /dev/null || true)
		[ "$s" = "$2" ] && return 0
		sleep 0.1
	done
	echo "$r" >&2
	tail -20 "$T/sld.log" >&2
	fail "job $1 did not reach $2 (last: $s)"
}

start_sld() {
	"$SLD" --socket "$SOCK" --state-dir "$STATE" --shutdown-timeout 5s "$@" 2>> "$T/sld.log" &
	SLD_PID=$!
	for i in $(seq 1 100); do
		grep -q "ready on $SOCK" "$T/sld.log" 2> /dev/null && [ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	cat "$T/sld.log" >&2
	fail "sluiced did not become ready"
}

stop_sld() {
	kill -TERM "$SLD_PID"
	local rc=0
	wait "$SLD_PID" || rc=$?
	[ "$rc" -eq 0 ] || { tail -20 "$T/sld.log" >&2; fail "sluiced exited $rc on SIGTERM"; }
}

trap 'kill -9 $SLD_PID 2> /dev/null || true; rm -rf "$T"' EXIT
start_sld

# --- version, validate, malformed input ---
r=$(req version)
[ "$(get "$r" 'r["data"]["server"]')" = sluiced ] || fail "version: $r"
r=$(req validate "{\"yaml\":\"job: x\\nbogus: 1\\n\"}")
[ "$(get "$r" 'r["code"]')" = invalid_job ] || fail "validate: $r"
[ "$(get "$r" 'r["msg"]')" = "<yaml>:2:1: unknown key 'bogus'; expected one of: job, schema, source, pipeline, sink, lcores, pipeline.max-parallelism, state.key-capacity, eal, parallelism.default, restart-strategy.type, restart-strategy.fixed-delay.attempts, restart-strategy.fixed-delay.delay, restart-strategy.exponential-delay.initial-backoff, restart-strategy.exponential-delay.max-backoff, restart-strategy.exponential-delay.backoff-multiplier, restart-strategy.exponential-delay.attempts, execution.checkpointing.interval, execution.checkpointing.mode, execution.checkpointing.timeout, execution.checkpointing.min-pause, execution.checkpointing.max-concurrent-checkpoints, execution.checkpointing.tolerable-failed-checkpoints, state.checkpoints.dir, state.checkpoints.num-retained" ] ||
	fail "validate message: $r"
r=$(python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(b'{"v":1,"verb":"status"\n{"v":1,"id":2,"verb":"fly"}\n{"v":1,"id":3,"verb":"list"}\n')
buf = b""
while buf.count(b"\n") < 3:
	buf += s.recv(65536)
print(buf.decode().replace("\n", "|"))
PY
)
case "$r" in
*'"code":"bad_request"'*'"code":"unknown_verb"'*'"code":"ok"'*) ;;
*) fail "malformed requests: $r" ;;
esac
# A half-written request is answered and dropped after 5 s; others are served meanwhile.
python3 - "$SOCK" > "$T/half.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
s.sendall(b'{"v":1,"verb":')
print(s.recv(65536).decode().strip())
PY
HALF=$!
r=$(req list)
[ "$(get "$r" 'r["ok"]')" = True ] || fail "list while a client stalls: $r"
wait "$HALF"
grep -q '"code":"bad_request"' "$T/half.out" || fail "half request: $(cat "$T/half.out")"

# A peer that is neither root nor in the group is refused by SO_PEERCRED
# even when the file mode would let it in (root only: needs setuid).
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"
	chmod 666 "$SOCK"
	r=$(python3 - "$SOCK" <<'PY'
import os, socket, sys
r, w = os.pipe()
pid = os.fork()
if pid == 0:
	os.setgroups([]); os.setgid(65534); os.setuid(65534)
	# The refusal comes at accept, before any request: just read it.
	s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
	os.write(w, s.recv(4096)); os._exit(0)
os.close(w)
os.waitpid(pid, 0)
print(os.read(r, 4096).decode().strip())
PY
)
	chmod 660 "$SOCK"
	chmod 700 "$T"
	[ "$(get "$r" 'r["code"]')" = permission ] || fail "uid 65534 not refused: $r"
	grep -q "refused pid [0-9]* uid 65534" "$T/sld.log" || fail "no log line for the refused peer"
	echo "ok: uid 65534 refused: $(get "$r" 'r["msg"]')"
fi

# --- bounded demo job: FINISHED, same CSV as standalone sluice-dp ---
sed -e 's|^  type: stdout|  type: csv\n  path: OUT|' configs/jobs/demo.yaml > "$T/demo.yaml"
sed -e "s|OUT|$T/expected.csv|" "$T/demo.yaml" > "$T/demo-standalone.yaml"
sed -i -e "s|OUT|$T/out.csv|" "$T/demo.yaml"
run_dp "$T/demo-standalone.yaml"
r=$(req submit "{\"path\":\"$T/demo.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
[ "$(get "$r" 'r["ok"]')" = True ] || fail "submit: $r"
wait_state clicks-per-user FINISHED 60
cmp "$T/out.csv" "$T/expected.csv" || fail "sluiced's output differs from standalone sluice-dp"
r=$(req metrics '{"job":"clicks-per-user"}')
[ "$(get "$r" 'r["data"]["final"]["rx"][0]["rows"]')" = 4000 ] || fail "final metrics: $r"
echo "ok: demo job FINISHED with the expected $(wc -l < "$T/out.csv") lines"

# --- unbounded job: RUNNING, metrics, cancel ---
sed -e 's|^  timestamp: ts|  partitions: 0\n  timestamp: ts|' -e 's|^job: .*|job: unbounded|' \
	-e "s|$T/out.csv|$T/unb.csv|" -e 's|^  workers: 1|  workers: 1\n  cpus: "0-1"|' \
	"$T/demo.yaml" > "$T/unbounded.yaml"
# A restart delay long enough for a loaded machine to observe RESTARTING.
printf 'restart-strategy.type: fixed-delay\nrestart-strategy.fixed-delay.delay: 3s\n' >> "$T/unbounded.yaml"
grep -q 'cpus: "0-1"' "$T/unbounded.yaml" || fail "could not pin the unbounded job"
r=$(req submit "{\"path\":\"$T/unbounded.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
[ "$(get "$r" 'r["ok"]')" = True ] || fail "submit unbounded: $r"
wait_state unbounded RUNNING
# A second job on the same CPUs is refused before it starts.
r=$(req submit "{\"path\":\"$T/unbounded.yaml\",\"cwd\":\"$SLUICE_SRC\",\"name\":\"twin\"}")
[ "$(get "$r" 'r["code"]')" = conflict ] || fail "CPU conflict: $r"
n=""
for i in $(seq 1 100); do
	r=$(req metrics '{"job":"unbounded"}')
	n=$(get "$r" 'sum(l["numRecordsIn"] for l in r["data"]["dataplane"]["lcores"] if l["role"].startswith("rx"))' 2> /dev/null || true)
	[ "$n" = 4000 ] && break
	sleep 0.1
done
[ "$n" = 4000 ] || fail "metrics numRecordsIn: $n ($r)"
[ "$(get "$r" 'r["data"]["numRestarts"]')" = 0 ] || fail "numRestarts: $r"
echo "ok: unbounded job RUNNING, numRecordsIn 4000"
r=$(req cancel '{"job":"unbounded"}')
[ "$(get "$r" 'r["ok"]')" = True ] || fail "cancel: $r"
wait_state unbounded CANCELED
echo "ok: cancel -> CANCELED"

# --- SIGKILL the dataplane: RESTARTING, then RUNNING with numRestarts 1 ---
r=$(req submit "{\"path\":\"$T/unbounded.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
wait_state unbounded RUNNING
pid=$(get "$(req status '{"job":"unbounded"}')" 'r["data"]["pid"]')
kill -9 "$pid"
wait_state unbounded RESTARTING 5
wait_state unbounded RUNNING 10
r=$(req status '{"job":"unbounded"}')
[ "$(get "$r" 'r["data"]["numRestarts"]')" = 1 ] || fail "numRestarts after a crash: $r"
pid2=$(get "$r" 'r["data"]["pid"]')
[ "$pid2" != "$pid" ] || fail "same pid after restart"
echo "ok: SIGKILL -> RESTARTING -> RUNNING, numRestarts 1"

# --- restart sluiced itself: the dataplane keeps running and is re-attached ---
kill -9 "$SLD_PID"
wait "$SLD_PID" 2> /dev/null || true
kill -0 "$pid2" || fail "the dataplane died with sluiced"
start_sld
r=$(req status '{"job":"unbounded"}')
[ "$(get "$r" 'r["data"]["state"]')" = RUNNING ] || fail "after sluiced restart: $r"
[ "$(get "$r" 'r["data"]["pid"]')" = "$pid2" ] || fail "not re-attached to $pid2: $r"
grep -q "re-attached to dataplane $pid2" "$T/sld.log" || fail "no re-attach log line"
[ "$(get "$r" 'r["data"]["dataplane"]["pid"]')" = "$pid2" ] || fail "dataplane status over the control socket: $r"
echo "ok: sluiced restarted and re-attached to dataplane $pid2"

# --- SIGTERM: drain, exit 0; the job is FINISHED ---
stop_sld
# Gone, or a zombie waiting for init (no longer sluiced's child after the re-attach).
if [ -e /proc/$pid2 ] && ! grep -q '^State:.*Z' /proc/$pid2/status 2> /dev/null; then
	fail "dataplane $pid2 survived sluiced's shutdown"
fi
python3 -c 'import json,sys; j=[j for j in json.load(open(sys.argv[1]))["jobs"] if j["name"]=="unbounded"][0]; assert j["state"]=="FINISHED", j' \
	"$STATE/registry.json" || fail "registry after shutdown: $(cat "$STATE/registry.json")"
echo "ok: SIGTERM drained the job (FINISHED) and sluiced exited 0"
