#!/usr/bin/env bash
# Before/after benchmark comparison that survives this machine's noise:
# the test binaries of BASE and of the working tree take turns on one
# pinned core, COUNT runs each, and every run starts from a fresh copy of
# its binary. (On the project's VM two byte-identical copies of one binary
# can differ by 25 % for as long as they live, by where their pages land
# in memory: one copy per run spreads that over both sides instead of
# handing it to one.) Prints benchstat's comparison.
#
#   bench/compare.sh 56a8667                 # or: make bench-compare BASE=56a8667
#   COUNT=5 BENCH='^BenchmarkHandle$' bench/compare.sh HEAD~3
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-HEAD}
COUNT=${COUNT:-10}
BENCH=${BENCH:-.}
PKG=${PKG:-./bench}
CPU=${CPU:-1}
BENCHSTAT=${BENCHSTAT:-benchstat}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" 2>/dev/null || true; rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/base" "$BASE"
(cd "$tmp/base" && go test -c -o "$tmp/before" "$PKG")
go test -c -o "$tmp/after" "$PKG"
for _ in $(seq "$COUNT"); do
  for side in before after; do
    cp "$tmp/$side" "$tmp/run"
    taskset -c "$CPU" "$tmp/run" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.cpu 1 |
      grep -v '^ok\|^PASS' >> "$tmp/$side.txt"
    rm "$tmp/run"
  done
done
"$BENCHSTAT" "$BASE=$tmp/before.txt" "working tree=$tmp/after.txt"
