#!/usr/bin/env bash
# Scale-out behind a real load balancer: N `jetrpc serve` backends on
# loopback behind HAProxy (HTTP keep-alive to the backends, active health
# checks on /readyz), loaded by `jetrpc bench`, which checks every answer.
#
#   1. one backend direct, then the cluster through HAProxy: requests/s,
#      p50, p99;
#   2. a rolling restart under load: each backend in turn gets SIGTERM
#      (drain delay longer than HAProxy's check interval), exits, must exit
#      0, and is started again; the load runs throughout.
#
# It exits non-zero on any failed call, or any backend exiting non-zero.
# Installs HAProxy from the Debian packages when it is missing (needs
# root). Environment: BACKENDS (3), DURATION of each steady run (5s),
# CONNS (32), DRAIN (drain delay, 2s), BASE_PORT (18080: HAProxy there,
# backends on the ports after it), JETRPC (the binary; built when unset),
# SIGNAL (TERM; SIGNAL=KILL shows what an abrupt stop costs, and fails).
set -euo pipefail
cd "$(dirname "$0")/../.."

BACKENDS=${BACKENDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
DRAIN=${DRAIN:-2s}
BASE_PORT=${BASE_PORT:-18080}
SIGNAL=${SIGNAL:-TERM}
CHECK_INTER_MS=500 # HAProxy's health-check interval; DRAIN must exceed fall × inter
WORK=$(mktemp -d)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$WORK/haproxy.pid" ] && kill "$(cat "$WORK/haproxy.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v haproxy >/dev/null; then
	echo "== installing haproxy (Debian package)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi
if [ -z "${JETRPC:-}" ]; then
	make -s build
	JETRPC=bin/jetrpc
fi

# start_backend I: starts backend I (1-based) and records its pid.
start_backend() {
	local i=$1 port=$((BASE_PORT + $1))
	GOMAXPROCS=1 "$JETRPC" serve -addr "127.0.0.1:$port" -drain-delay "$DRAIN" -grace 10s \
		2>>"$WORK/backend$i.log" &
	pids[$i]=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "backend $i did not become ready" >&2
	cat "$WORK/backend$i.log" >&2
	exit 1
}

for i in $(seq "$BACKENDS"); do start_backend "$i"; done

cfg="$WORK/haproxy.cfg"
cat >"$cfg" <<EOF
global
	maxconn 4096
	nbthread 1
	stats socket $WORK/haproxy.sock mode 600 level admin

defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	option http-keep-alive
	# A connection that could not be made is tried again on another
	# backend: the request was never sent, so this is always safe.
	retries 3
	option redispatch 1
	retry-on conn-failure

frontend jetrpc
	bind 127.0.0.1:$BASE_PORT
	default_backend jetrpc

backend jetrpc
	balance roundrobin
	http-reuse safe
	option httpchk GET /readyz
	http-check expect status 200
	default-server check inter ${CHECK_INTER_MS}ms fall 2 rise 2
EOF
for i in $(seq "$BACKENDS"); do
	echo "	server b$i 127.0.0.1:$((BASE_PORT + i))" >>"$cfg"
done
haproxy -f "$cfg" -D -p "$WORK/haproxy.pid"
sleep 1.5 # rise × inter: every backend UP

# bench URL DURATION NAME: one closed-loop run, its JSON report saved.
bench() {
	local out="$WORK/$3.json"
	if ! "$JETRPC" bench -url "$1" -method add -params '[1,2]' -c "$CONNS" -duration "$2" -json >"$out"; then
		echo "FAILED: $3: $(cat "$out")" >&2
		return 1
	fi
}

field() { # field FILE KEY...: a number from a report
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[k]
print(d)' "$@"
}

status=0
echo "== one backend direct, $DURATION, $CONNS connections"
bench "http://127.0.0.1:$((BASE_PORT + 1))/json-rpc" "$DURATION" direct || status=1
echo "== $BACKENDS backends through HAProxy, $DURATION"
bench "http://127.0.0.1:$BASE_PORT/json-rpc" "$DURATION" haproxy || status=1

# The rolling restart: the load runs while each backend in turn drains,
# exits and comes back.
per_backend=$(python3 -c "import re;d='$DRAIN';v=float(re.sub('[a-z]+','',d));print(v/1000 if d.endswith('ms') else v)")
roll_s=$(python3 -c "print(int(2 + $BACKENDS * ($per_backend + 3.5) + 2))")
echo "== rolling restart of $BACKENDS backends under load (${roll_s}s, drain delay $DRAIN)"
bench "http://127.0.0.1:$BASE_PORT/json-rpc" "${roll_s}s" rolling &
load=$!
sleep 2
for i in $(seq "$BACKENDS"); do
	pid=${pids[$i]}
	t0=$(date +%s.%N)
	kill -"$SIGNAL" "$pid"
	if wait "$pid"; then code=0; else code=$?; fi
	t1=$(date +%s.%N)
	printf '   b%d: SIG%s, exited %d after %.1fs; ' "$i" "$SIGNAL" "$code" "$(python3 -c "print($t1 - $t0)")"
	[ "$code" -eq 0 ] || status=1
	start_backend "$i"
	sleep 1.5 # rise × inter: back UP in HAProxy before the next one goes
	echo "restarted"
done
wait "$load" || status=1

echo
printf '%-34s %10s %9s %9s %8s\n' "run" "req/s" "p50 ms" "p99 ms" "failed"
for run in direct haproxy rolling; do
	f="$WORK/$run.json"
	[ -s "$f" ] || continue
	printf '%-34s %10.0f %9.3f %9.3f %8d\n' "$run" "$(field "$f" rps)" \
		"$(python3 -c "print($(field "$f" latency_us p50) / 1000)")" "$(python3 -c "print($(field "$f" latency_us p99) / 1000)")" "$(field "$f" errors)"
	[ "$(field "$f" errors)" -eq 0 ] || { echo "   errors: $(field "$f" errors_by_kind)"; status=1; }
done
if [ "$status" -ne 0 ]; then
	echo "FAIL: calls failed or a backend exited non-zero" >&2
	for i in $(seq "$BACKENDS"); do echo "-- backend $i log:"; tail -5 "$WORK/backend$i.log"; done >&2
fi
exit "$status"
