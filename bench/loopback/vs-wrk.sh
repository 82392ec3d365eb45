#!/usr/bin/env bash
# Is `jetrpc bench` ever the bottleneck? It and `wrk -t1 -c64` (at its
# fastest: a fixed body, no Lua per answer) take turns loading the same
# `jetrpc serve`, the server on core 0 with GOMAXPROCS=1, the generator on
# core 1 (jetrpc bench with GOMAXPROCS=1), ROUNDS rounds of DURATION each
# per case, which of the two goes first alternating. Prints each round, with
# each generator's own CPU time per request (user + system, from bash's
# time), and the medians: the ratio of requests/s (jetrpc bench ÷ wrk) and
# of CPU per request. Targets 127.0.0.1 only.
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
CGO_ENABLED=0 go build -o "$tmp/jetrpc" ./cmd/jetrpc

add='{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}'
batch="[$add"; for i in $(seq 2 10); do batch="$batch,${add/\"id\":1/\"id\":$i}"; done; batch="$batch]"
declare -A bodies=(
  [ping]='{"jsonrpc":"2.0","method":"ping","id":1}'
  [batch_10_adds]="$batch"
)

GOMAXPROCS=1 taskset -c 0 "$tmp/jetrpc" serve -addr 127.0.0.1:$PORT 2>/dev/null &
for _ in $(seq 50); do curl -s -o /dev/null -XPOST -H 'Content-Type: application/json' "$URL" -d '{}' && break; sleep 0.1; done

# run_wrk / run_jetrpc: one bounded run; print "requests/s CPU-µs-per-request".
run_wrk() {
  local out t
  out=$( { time BODY_FILE=$tmp/body timeout 60 taskset -c 1 wrk -t1 -c64 -d"$DURATION" -s bench/loopback/post.lua "$URL"; } 2>&1)
  if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then echo "bad wrk run: $out" >&2; exit 1; fi
  t=$(awk '/^(user|sys) / {s += $2} END {print s}' <<<"$out")
  awk -v t="$t" '/Requests\/sec/ {rps=$2} /requests in/ {n=$1} END {printf "%.0f %.2f\n", rps, t*1e6/n}' <<<"$out"
}
run_jetrpc() {
  local out t
  # jetrpc bench exits 1 when any answer is wrong, which stops this script.
  out=$( { time GOMAXPROCS=1 timeout 60 taskset -c 1 "$tmp/jetrpc" bench -url "$URL" -body "$tmp/body" -c 64 -duration "$DURATION" -json; } 2>&1)
  t=$(awk '/^(user|sys) / {s += $2} END {print s}' <<<"$out")
  sed -n 's/.*"requests":\([0-9]*\).*"rps":\([0-9.e+]*\).*/\1 \2/p' <<<"$out" | awk -v t="$t" '{printf "%.0f %.2f\n", $2, t*1e6/$1}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

TIMEFORMAT=$'\nuser %U\nsys %S'
echo "| case | round | wrk req/s | jetrpc bench req/s | ratio | wrk CPU µs/req | jetrpc bench CPU µs/req | ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in ${CASES:-ping batch_10_adds}; do
  printf '%s' "${bodies[$name]}" > "$tmp/body"
  ratios=(); cpus=()
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then w=$(run_wrk); j=$(run_jetrpc); else j=$(run_jetrpc); w=$(run_wrk); fi
    read -r wr wc <<<"$w"; read -r jr jc <<<"$j"
    ratios+=("$(echo "$jr / $wr" | bc -l)"); cpus+=("$(echo "$jc / $wc" | bc -l)")
    printf '| %s | %d | %s | %s | %.2f | %s | %s | %.2f |\n' "$name" "$round" "$wr" "$jr" "${ratios[-1]}" "$wc" "$jc" "${cpus[-1]}"
  done
  printf '| %s | median | | | **%.2f** | | | **%.2f** |\n' "$name" "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
done
