#!/usr/bin/env bash
# Is `jetrpc bench` ever the bottleneck? It and `wrk -t1 -c64` (at its
# fastest: a fixed body, no Lua per answer) take turns loading the same
# `jetrpc serve`, the server on core 0 with GOMAXPROCS=1, the generator on
# core 1 (jetrpc bench with GOMAXPROCS=1), ROUNDS alternating rounds of
# DURATION each per case. Prints each round and the median of the per-round
# ratios (jetrpc bench ÷ wrk). Targets 127.0.0.1 only.
#
#   bench/loopback/vs-wrk.sh            # or: make vs-wrk
#   ROUNDS=10 DURATION=3s CASES=ping bench/loopback/vs-wrk.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-6}
PORT=${PORT:-18191}
URL=http://127.0.0.1:$PORT/json-rpc
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/jetrpc" ./cmd/jetrpc

add='{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}'
batch="[$add"; for i in $(seq 2 10); do batch="$batch,${add/\"id\":1/\"id\":$i}"; done; batch="$batch]"
declare -A bodies=(
  [ping]='{"jsonrpc":"2.0","method":"ping","id":1}'
  [batch_10_adds]="$batch"
)

GOMAXPROCS=1 taskset -c 0 "$tmp/jetrpc" serve -addr 127.0.0.1:$PORT 2>/dev/null &
for _ in $(seq 50); do curl -s -o /dev/null -XPOST -H 'Content-Type: application/json' "$URL" -d '{}' && break; sleep 0.1; done

echo "| case | round | wrk req/s | jetrpc bench req/s | ratio |"
echo "| --- | ---: | ---: | ---: | ---: |"
for name in ${CASES:-ping batch_10_adds}; do
  printf '%s' "${bodies[$name]}" > "$tmp/body"
  ratios=()
  for round in $(seq "$ROUNDS"); do
    out=$(BODY_FILE=$tmp/body timeout 60 taskset -c 1 wrk -t1 -c64 -d"$DURATION" -s bench/loopback/post.lua "$URL")
    if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then echo "bad wrk run: $out" >&2; exit 1; fi
    w=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    # jetrpc bench exits 1 when any answer is wrong, which stops this script.
    j=$(GOMAXPROCS=1 timeout 60 taskset -c 1 "$tmp/jetrpc" bench -url "$URL" -body "$tmp/body" -c 64 -duration "$DURATION" -json |
      sed 's/.*"rps":\([0-9.e+]*\).*/\1/')
    r=$(echo "$j / $w" | bc -l)
    ratios+=("$r")
    printf '| %s | %d | %.0f | %.0f | %.2f |\n' "$name" "$round" "$w" "$j" "$r"
  done
  printf '| %s | median | | | **%.2f** |\n' "$name" "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
done
