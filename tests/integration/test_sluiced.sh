#!/bin/bash
# Description: sluiced end to end. Submit the demo job and check it
# FINISHES with the same CSV as a standalone sluice-dp; run an unbounded
# job, read its metrics, cancel it; SIGKILL a dataplane and watch the
# restart strategy bring it back; restart sluiced under a running job and
# check it re-attaches to the same dataplane; bad requests and a silent
# client do not stop the daemon; SIGTERM drains and exits 0. A FIFO as a
# job file does not freeze the daemon; a second sluiced on the same state
# dir or socket refuses to start; job names and eal: options are checked;
# a client that hangs up during a dataplane call costs no CPU; a
# re-attached dataplane's exit comes from its stats.json exit_code.
# SLUICE_DP=PATH runs another sluice-dp build (when dataplane/ is mid-edit).
. "$(dirname "$0")/lib.sh"
DP=${SLUICE_DP:-$DP}

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
	# Its own "ready" line: an earlier one (and a stale socket) do not count.
	local before
	before=$(grep -c "ready on $SOCK" "$T/sld.log" 2> /dev/null || true)
	"$SLD" --socket "$SOCK" --state-dir "$STATE" --dp "$DP" --shutdown-timeout 5s "$@" 2>> "$T/sld.log" &
	SLD_PID=$!
	for i in $(seq 1 100); do
		[ "$(grep -c "ready on $SOCK" "$T/sld.log" 2> /dev/null)" -gt "${before:-0}" ] 2> /dev/null &&
			[ -S "$SOCK" ] && return 0
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

# wait_list JOB STATE [SECONDS]: like wait_state, through list (which
# never asks the dataplane).
wait_list() {
	local r s i
	for i in $(seq 1 $((${3:-30} * 10))); do
		r=$(req list)
		s=$(get "$r" '[j["state"] for j in r["data"]["jobs"] if j["name"] == "'"$1"'"][0]' 2> /dev/null || true)
		[ "$s" = "$2" ] && return 0
		sleep 0.1
	done
	echo "$r" >&2
	tail -20 "$T/sld.log" >&2
	fail "job $1 did not reach $2 (last: $s)"
}

FAKE_PIDS=""
trap 'kill -9 $SLD_PID $FAKE_PIDS 2> /dev/null || true; rm -rf "$T"' EXIT
start_sld

# --- one sluiced per state dir, and per socket ---
rc=0
timeout 10 "$SLD" --socket "$T/other.sock" --state-dir "$STATE" --dp "$DP" 2> "$T/second.err" || rc=$?
[ "$rc" = 1 ] || fail "a second sluiced on $STATE exited $rc: $(cat "$T/second.err")"
grep -q "another sluiced runs with state dir $STATE (pid $SLD_PID)" "$T/second.err" ||
	fail "second sluiced, same state dir: $(cat "$T/second.err")"
[ ! -e "$T/other.sock" ] || fail "the second sluiced listened anyway"
rc=0
timeout 10 "$SLD" --socket "$SOCK" --state-dir "$T/state-other" --dp "$DP" 2> "$T/second.err" || rc=$?
[ "$rc" = 1 ] || fail "a second sluiced on $SOCK exited $rc: $(cat "$T/second.err")"
grep -q "socket $SOCK is in use by another process" "$T/second.err" ||
	fail "second sluiced, same socket: $(cat "$T/second.err")"
[ -S "$SOCK" ] || fail "the second sluiced removed the first one's socket"
r=$(req version)
[ "$(get "$r" 'r["ok"]')" = True ] || fail "the first sluiced lost its socket: $r"
# Not a socket at all: not ours to delete.
echo keep > "$T/not-a-socket"
rc=0
timeout 10 "$SLD" --socket "$T/not-a-socket" --state-dir "$T/state-other" --dp "$DP" 2> "$T/second.err" || rc=$?
[ "$rc" = 1 ] && [ "$(cat "$T/not-a-socket")" = keep ] ||
	fail "sluiced on a regular file as socket: exit $rc, $(cat "$T/second.err")"
echo "ok: a second sluiced is refused (state dir locked by pid $SLD_PID; socket in use)"

# --- version, validate, malformed input ---
r=$(req version)
[ "$(get "$r" 'r["data"]["server"]')" = sluiced ] || fail "version: $r"
r=$(req validate "{\"yaml\":\"job: x\\nbogus: 1\\n\"}")
[ "$(get "$r" 'r["code"]')" = invalid_job ] || fail "validate: $r"
[ "$(get "$r" 'r["msg"]')" = "<yaml>:2:1: unknown key 'bogus'; docs/job-spec.md lists every key" ] ||
	fail "validate message: $r"
# A FIFO as the job file: refused at once; another client is served meanwhile.
mkfifo "$T/fifo.yaml"
r=$(python3 - "$SOCK" "$T/fifo.yaml" <<'PY'
import json, socket, sys, time
def conn():
	s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); return s
def send(s, verb, args):
	s.sendall((json.dumps({"v": 1, "id": 1, "verb": verb, "args": args}) + "\n").encode())
def recv(s):
	buf = b""
	while not buf.endswith(b"\n"):
		c = s.recv(65536)
		if not c:
			break
		buf += c
	return json.loads(buf)
a, b = conn(), conn()
t0 = time.monotonic()
send(a, "validate", {"path": sys.argv[2]})
send(b, "version", {})
v = recv(b)
r = recv(a)
c = conn(); send(c, "submit", {"path": sys.argv[2]}); s = recv(c)
print(json.dumps({"code": r["code"], "msg": r["msg"], "version": v["ok"],
		  "submit": s["code"], "dt": time.monotonic() - t0}))
PY
)
[ "$(get "$r" 'r["code"]')" = bad_args ] && [ "$(get "$r" 'r["submit"]')" = bad_args ] ||
	fail "validate/submit a FIFO: $r"
[ "$(get "$r" 'r["msg"]')" = "$T/fifo.yaml: not a regular file" ] || fail "FIFO message: $r"
[ "$(get "$r" 'r["version"]')" = True ] || fail "version while a FIFO was validated: $r"
[ "$(get "$r" 'int(r["dt"] < 1)')" = 1 ] || fail "FIFO answered after $(get "$r" 'r["dt"]') s"
r=$(req validate '{"path":"/dev/zero"}')
[ "$(get "$r" 'r["msg"]')" = "/dev/zero: not a regular file" ] || fail "validate /dev/zero: $r"
head -c 1048577 /dev/zero | tr '\0' '#' > "$T/big.yaml"
r=$(req validate "{\"path\":\"$T/big.yaml\"}")
[ "$(get "$r" 'r["code"]')" = bad_args ] || fail "validate a 1 MiB + 1 file: $r"
echo "ok: a FIFO job file is refused in $(get "$r" 'r["code"]') without holding the daemon"
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

# --- job names and eal: options sluiced will not run ---
sed -e 's|^job: .*|job: ..|' "$T/demo.yaml" > "$T/dotdot.yaml"
r=$(req submit "{\"path\":\"$T/dotdot.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
[ "$(get "$r" 'r["code"]')" = bad_args ] || fail "job: .. from the file: $r"
case "$(get "$r" 'r["msg"]')" in *"'..' cannot name a job"*) ;; *) fail "job: .. message: $r" ;; esac
[ ! -e "$STATE/job.yaml" ] && [ ! -e "$STATE/dp.log" ] || fail "job: .. wrote into the state dir"
r=$(req submit "{\"path\":\"$T/demo.yaml\",\"cwd\":\"$SLUICE_SRC\",\"name\":\"..\"}")
[ "$(get "$r" 'r["code"]')" = bad_args ] || fail "name .. : $r"
{ cat "$T/demo.yaml"; printf 'eal: ["-m", "512", "-d", "%s/x.so"]\n' "$T"; } > "$T/eal-bad.yaml"
for verb in submit validate; do
	r=$(req $verb "{\"path\":\"$T/eal-bad.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
	[ "$(get "$r" 'r["code"]')" = bad_args ] || fail "$verb eal -d: $r"
	case "$(get "$r" 'r["msg"]')" in
	*"option '-d' is not allowed through sluiced"*"only root may pass it, by running sluice-dp directly"*) ;;
	*) fail "$verb eal -d message: $r" ;;
	esac
done
[ ! -e "$STATE/jobs/clicks-per-user" ] || fail "a refused job got a run dir"
{ cat "$T/demo.yaml"; printf 'eal: ["--no-telemetry", "--log-level=lib.eal:info"]\n'; } > "$T/eal-ok.yaml"
r=$(req validate "{\"path\":\"$T/eal-ok.yaml\"}")
[ "$(get "$r" 'r["ok"]')" = True ] || fail "validate with allowed eal options: $r"
echo "ok: job: .. and eal: -d are refused (bad_args)"
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
[ -S "$SOCK" ] || fail "no stale socket left by the killed sluiced"
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
# Re-attached, so not sluiced's child: FINISHED only on the dataplane's
# own "exit_code": 0 in stats.json. A sluice-dp that does not write it yet
# leaves the job FAILED, never guessed clean.
want=FAILED
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get("exit_code") != 0)' \
	"$STATE/jobs/unbounded/stats.json" 2> /dev/null && want=FINISHED
python3 -c 'import json,sys; j=[j for j in json.load(open(sys.argv[1]))["jobs"] if j["name"]=="unbounded"][0]; assert j["state"]==sys.argv[2], j' \
	"$STATE/registry.json" "$want" || fail "registry after shutdown (want $want): $(cat "$STATE/registry.json")"
[ "$want" = FINISHED ] || echo "note: $DP writes no exit_code into stats.json yet"
echo "ok: SIGTERM drained the job ($want) and sluiced exited 0"

# --- a fake dataplane: exits as its job name says, never answers its socket ---
cat > "$T/fake_dp.py" <<'PY'
import json, os, select, signal, socket, sys
a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
name = [l.split(":", 1)[1].strip() for l in open(a["--job"]) if l.startswith("job:")][0]
ls = socket.socket(socket.AF_UNIX)
ls.bind(a["--ctl"])
ls.listen(16)
conns, term = [], []
signal.signal(signal.SIGTERM, lambda *_: term.append(1))
while not term:
	try:
		if select.select([ls], [], [], 0.1)[0]:
			conns.append(ls.accept()[0])	# and never answer
	except InterruptedError:
		pass
kind = name.split("-")[0]
stats = {"ok": {"exit_code": 0}, "fail": {"exit_code": 1}, "old": {"rx": []}}.get(kind)
if stats is not None:
	with open(a["--stats-json"], "w") as f:
		json.dump(stats, f)
sys.exit(stats.get("exit_code", 0) if stats else 0)
PY
# Named sluice-dp in /proc/PID/cmdline, as re-attach checks (the real
# interpreter: a wrapper such as pyenv's would re-exec under its own name).
printf '#!/bin/bash\nexec -a sluice-dp %s %s "$@"\n' \
	"$(python3 -c 'import sys; print(sys.executable)')" "$T/fake_dp.py" > "$T/fake-dp"
chmod +x "$T/fake-dp"
STATE="$T/state-fake"
start_sld --dp "$T/fake-dp"
for n in ok-1 fail-1 old-1 nostats-1; do
	{ sed -e "s|^job: .*|job: $n|" "$T/demo.yaml"; printf 'restart-strategy.type: none\n'; } > "$T/$n.yaml"
	r=$(req submit "{\"path\":\"$T/$n.yaml\",\"cwd\":\"$SLUICE_SRC\"}")
	[ "$(get "$r" 'r["ok"]')" = True ] || fail "submit $n: $r"
	FAKE_PIDS="$FAKE_PIDS $(get "$r" 'r["data"]["pid"]')"
	wait_list "$n" RUNNING
done
for i in $(seq 1 50); do [ -S "$STATE/jobs/nostats-1/dp.sock" ] && break; sleep 0.1; done

# Clients that hang up while their call waits for a silent dataplane
# (500 ms): sluiced stops polling them instead of spinning on POLLHUP.
cpu() { awk '{print $14 + $15}' "/proc/$SLD_PID/stat"; }
c0=$(cpu)
python3 - "$SOCK" <<'PY'
import socket, sys
for i in range(4):
	s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
	s.sendall(b'{"v":1,"id":1,"verb":"status","args":{"job":"nostats-1"}}\n')
	s.close()
PY
sleep 1
c1=$(cpu)
[ $((c1 - c0)) -lt 20 ] || fail "sluiced used $((c1 - c0)) ticks of CPU in 1 s with hung-up clients pending"
r=$(req version)
[ "$(get "$r" 'r["ok"]')" = True ] || fail "version after hung-up clients: $r"
echo "ok: 4 clients hung up during a dataplane call: $((c1 - c0)) CPU ticks in 1 s"

# Re-attach, then let each dataplane exit on its own.
kill -9 "$SLD_PID"
wait "$SLD_PID" 2> /dev/null || true
start_sld --dp "$T/fake-dp"
for n in ok-1 fail-1 old-1 nostats-1; do
	pid=$(get "$(req list)" '[j["pid"] for j in r["data"]["jobs"] if j["name"] == "'"$n"'"][0]')
	grep -q "job $n: re-attached to dataplane $pid" "$T/sld.log" || fail "$n not re-attached"
	[ "$n" = nostats-1 ] || kill -TERM "$pid"
done
# A stop request alone does not make an exit clean.
r=$(req stop '{"job":"nostats-1"}')
[ "$(get "$r" 'r["ok"]')" = True ] || fail "stop nostats-1: $r"
wait_list ok-1 FINISHED 10
wait_list fail-1 FAILED 10
wait_list old-1 FAILED 10
wait_list nostats-1 FAILED 10
r=$(req status '{"job":"fail-1"}')
case "$(get "$r" 'r["data"]["reason"]')" in *"exited 1 (stats.json"*) ;; *) fail "fail-1 reason: $r" ;; esac
r=$(req status '{"job":"old-1"}')
case "$(get "$r" 'r["data"]["reason"]')" in *"no exit_code"*) ;; *) fail "old-1 reason: $r" ;; esac
echo "ok: re-attached dataplanes: exit_code 0 FINISHED; exit_code 1, no exit_code, stop without stats FAILED"
stop_sld
