#!/usr/bin/env bash
# Benchmark the flight recorder on ~100,000 TCP sockets with 50 connections/s of churn:
# `sockeye record -a --interval 1` for MINUTES, then the file size (per hour), the
# recorder's CPU share and peak RSS, and seek times of `dump --from --at` (with the index)
# against decoding every frame (the 1.0 reader), from tests/it/record/bench.rs.
#
#   benches/record.sh [MINUTES=10] [PROCS=6] [PAIRS=8300] [CHURN=50]
#
# As root it runs in a private network namespace (unshare -n), so the table is exactly the
# one it builds. Needs a release build (cargo build --release), python3 and GNU time.
# SKIP_SEEK_TEST=1 leaves out the release test build and its seek figures.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${1:-10}
PROCS=${2:-6}
PAIRS=${3:-8300}
CHURN=${4:-50}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-$PWD/target/bench}
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
if [ -n "${IN_NETNS:-}" ]; then
  ip link set lo up
  sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 || true
fi

coproc HOLDER { python3 benches/hold_sockets.py "$PROCS" "$PAIRS" "$CHURN"; }
read -r ready made <&"${HOLDER[0]}"
[ "$ready" = READY ] || { echo "socket holder failed" >&2; exit 1; }
sleep 2
echo "socket table: $(ss -tanH | wc -l) TCP sockets ($made held, churn $CHURN/s)"
echo "kernel: $(uname -r), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

REC="$OUT/record.rec"
rm -f "$REC" "$REC".[123]
/usr/bin/time -f '%U %S %e %M' -o "$OUT/record.time" \
  "$BIN" --no-config record -a -q --interval 1 --duration "${MINUTES}m" -o "$REC"
read -r user sys wall maxkb <"$OUT/record.time"
bytes=$(du -cb "$REC"* | tail -1 | cut -f1)
echo "recorded ${MINUTES} min: $(ls "$REC"* | wc -l) file(s), $bytes bytes" \
  "($(awk -v b="$bytes" -v m="$MINUTES" 'BEGIN{printf "%.1f MiB, %.0f MiB/hour", b/1048576, b/1048576*60/m}'))"
echo "recorder: $(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN{printf "%.1f%% of a core (user %.1f s, sys %.1f s over %.0f s)", (u+s)/w*100, u, s, w}'), peak RSS $((maxkb / 1024)) MiB"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Seeks through the binary: each is a fresh process (open, index, rebuild the moment).
for at in +30s "+$((MINUTES * 60 / 2))s" "+$((MINUTES * 60 - 5))s"; do
  t0=$(date +%s%N)
  "$BIN" --no-config dump --from "$REC" --at "$at" -s >/dev/null
  t1=$(date +%s%N)
  echo "dump --from --at $at -s: $(( (t1 - t0) / 1000000 )) ms"
done
echo 1 >&"${HOLDER[1]}" || true
exec {HOLDER[1]}>&- || true
[ -n "${SKIP_SEEK_TEST:-}" ] && exit 0
echo "index vs decoding every frame (release test):"
SOCKEYE_BENCH_REC="$REC" cargo test -q --release --test it record::bench -- --ignored --nocapture 2>&1 \
  | grep -E '^(open|seek|replay|decode)' || true
