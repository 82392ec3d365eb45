#!/usr/bin/env bash
# Loopback HTTP load: `jetrpc serve` against `jetrpc serve -baseline` (the
# bare fasthttp handler sending the case's own answer without parsing, same
# server settings), server on core 0 with GOMAXPROCS=1, `jetrpc bench` on
# core 1 with GOMAXPROCS=1 and 64 keep-alive connections, every answer checked
# (the bodies' ids are fixed, so that the baseline's fixed answer is right);
# or, with GENERATOR=wrk, wrk -t1 -c64, which reads no answer.
# Each case alternates baseline and jetrpc ROUNDS times, DURATION each, and
# prints a markdown table of mean requests/s, the median of the rounds'
# ratios and each round's. Targets 127.0.0.1 only.
#
#   bench/loopback/run.sh            # or: make loopback
#   DURATION=10s ROUNDS=3 CASES="ping batch_10_adds" bench/loopback/run.sh
#   JETRPC_FLAGS="-transport nethttp" CASES=ping bench/loopback/run.sh   # net/http adapter vs bare fasthttp
#   JETRPC_FLAGS="-workers 2" SERVER_CPUS=0,1 SERVER_PROCS=2 LOAD_CPUS=0,1 bench/loopback/run.sh
#   GENERATOR=wrk bench/loopback/run.sh   # wrk -t1 -c64 at its fastest (no answer read), as the issues' baselines were measured
#   JETRPC_FLAGS="-baseline -baseline-work 600ns" CASES=batch_10_adds bench/loopback/run.sh
#       # the bare handler plus 600 ns of CPU a request against the bare handler: what a server that costs that much more reads
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18181}
SERVER_CPUS=${SERVER_CPUS:-0}
SERVER_PROCS=${SERVER_PROCS:-1}
LOAD_CPUS=${LOAD_CPUS:-1}
GENERATOR=${GENERATOR:-jetrpc}
case $GENERATOR in
  jetrpc) ;;
  wrk) command -v wrk >/dev/null || { echo "GENERATOR=wrk needs wrk: apt-get install wrk" >&2; exit 1; } ;;
  *) echo "GENERATOR is jetrpc or wrk, not $GENERATOR" >&2; exit 2 ;;
esac
read -r -a jetrpc_flags <<<"${JETRPC_FLAGS:-}"
URL=http://127.0.0.1:$PORT/json-rpc
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/jetrpc" ./cmd/jetrpc

x1k=$(printf 'x%.0s' $(seq 1024))
add='{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}'
batch="[$add"; for _ in $(seq 9); do batch="$batch,$add"; done; batch="$batch]"
declare -A bodies=(
  [ping]='{"jsonrpc":"2.0","method":"ping","id":1}'
  [add]="$add"
  [echo_1KiB]="{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"$x1k\"],\"id\":1}"
  [batch_10_adds]="$batch"
)

# rps MODE BODYFILE: one bounded run, prints requests/s.
rps() {
  local flags=("${jetrpc_flags[@]}")
  if [ "$1" = baseline ]; then
    flags=(-baseline -baseline-answer "$tmp/answer")
  elif [[ " ${flags[*]} " == *" -baseline "* ]]; then
    flags+=(-baseline-answer "$tmp/answer") # a working baseline (-baseline-work) against the bare one
  fi
  GOMAXPROCS=$SERVER_PROCS taskset -c "$SERVER_CPUS" "$tmp/jetrpc" serve -addr 127.0.0.1:$PORT "${flags[@]}" 2>/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null -XPOST -H 'Content-Type: application/json' "$URL" -d '{}' && break; sleep 0.1; done
  local out
  if [ "$GENERATOR" = wrk ]; then
    # wrk reads no answer: a run with socket errors or a status other than 2xx is refused instead.
    out=$(BODY_FILE=$2 timeout 60 taskset -c "$LOAD_CPUS" wrk -t1 -c64 -d"$DURATION" -s bench/loopback/post.lua "$URL") &&
      ! grep -q 'Socket errors\|Non-2xx' <<<"$out" ||
      { echo "bad run ($1): $out" >&2; kill -INT $pid; exit 1; }
    kill -INT $pid; wait $pid || true
    awk '/Requests\/sec/ {print $2}' <<<"$out"
    return
  fi
  # jetrpc bench exits 1 when any answer is wrong: a broken run cannot pass for a fast one.
  out=$(GOMAXPROCS=1 timeout 60 taskset -c "$LOAD_CPUS" "$tmp/jetrpc" bench -url "$URL" -body "$2" -c 64 -duration "$DURATION" -json) ||
    { echo "bad run ($1): $out" >&2; kill -INT $pid; exit 1; }
  kill -INT $pid; wait $pid || true
  sed 's/.*"rps":\([0-9.e+]*\).*/\1/' <<<"$out"
}

echo "| case | bare fasthttp req/s | jetrpc req/s | ratio (median of rounds) | rounds |"
echo "| --- | ---: | ---: | ---: | --- |"
for name in ${CASES:-ping add echo_1KiB batch_10_adds}; do
  printf '%s' "${bodies[$name]}" > "$tmp/body"
  # The baseline's fixed answer is jetrpc's real answer to this body.
  "$tmp/jetrpc" serve -addr 127.0.0.1:$PORT 2>/dev/null &
  for _ in $(seq 50); do curl -s -o /dev/null -XPOST -H 'Content-Type: application/json' "$URL" -d '{}' && break; sleep 0.1; done
  curl -s -XPOST -H 'Content-Type: application/json' "$URL" --data-binary @"$tmp/body" > "$tmp/answer"
  kill -INT $!; wait $! || true
  bare=0; ours=0; ratios=()
  for _ in $(seq "$ROUNDS"); do
    b=$(rps baseline "$tmp/body"); o=$(rps jetrpc "$tmp/body")
    bare=$(echo "$bare + $b" | bc -l); ours=$(echo "$ours + $o" | bc -l)
    ratios+=("$(printf '%.2f' "$(echo "$o/$b" | bc -l)")")
  done
  # Each round's ratio compares two runs seconds apart; the median of
  # them is the figure, the means of req/s are for scale.
  sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
  n=${#sorted[@]}
  if (( n % 2 )); then median=${sorted[n/2]}; else median=$(printf '%.2f' "$(echo "(${sorted[n/2-1]} + ${sorted[n/2]})/2" | bc -l)"); fi
  printf '| %s | %.0f | %.0f | %s | %s |\n' "$name" "$(echo "$bare/$ROUNDS" | bc -l)" "$(echo "$ours/$ROUNDS" | bc -l)" "$median" "${ratios[*]}"
done
