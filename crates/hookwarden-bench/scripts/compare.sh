#!/usr/bin/env bash
# Interleaved throughput comparison of two bench-server modes, with each server's CPU per
# request. Run from the repository's root after `cargo build --release -p hookwarden-bench`:
#
#   crates/hookwarden-bench/scripts/compare.sh <axum|actix> <modeA> <modeB> [rounds] [batch] [client]
#
# Starts `bench-server --mode A` and `--mode B` (one worker thread each), runs `bench-compare`
# (32 connections; client `raw` by default, or `hyper`), then prints the servers' CPU (user +
# system from /proc/<pid>/stat) per request over the run. Linux only. Exits non-zero, with no
# CPU line, when a server does not start or bench-compare fails (say, a response other than 200).
set -euo pipefail
fw=$1; a=$2; b=$3; rounds=${4:-30}; batch=${5:-10000}; client=${6:-raw}
bin=${CARGO_TARGET_DIR:-target}/release
"$bin/bench-server" --framework "$fw" --mode "$a" --addr 127.0.0.1:5001 --threads 1 2>/dev/null & pa=$!
"$bin/bench-server" --framework "$fw" --mode "$b" --addr 127.0.0.1:5501 --threads 1 2>/dev/null & pb=$!
trap 'kill $pa $pb 2>/dev/null' EXIT
sleep 1
for p in $pa $pb; do
  kill -0 "$p" 2>/dev/null || { echo "compare.sh: a bench-server exited (unknown mode or framework, or port taken?)" >&2; exit 1; }
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ca0=$(cpu $pa); cb0=$(cpu $pb)
"$bin/bench-compare" --a 127.0.0.1:5001 --b 127.0.0.1:5501 --rounds "$rounds" --batch "$batch" \
  --connections 32 --client "$client" | tail -2
ca1=$(cpu $pa); cb1=$(cpu $pb)
awk -v a=$((ca1 - ca0)) -v b=$((cb1 - cb0)) -v t="$(getconf CLK_TCK)" -v n=$((rounds * batch)) \
  -v ma="$a" -v mb="$b" 'BEGIN {
    ua = a / t / n * 1e6; ub = b / t / n * 1e6
    printf "server CPU per request: A (%s) %.2f us, B (%s) %.2f us, B/A %.3f\n", ma, ua, mb, ub, ub / ua
  }'
