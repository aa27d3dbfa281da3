#!/usr/bin/env bash
# Benchmark `sockeye netstat` against net-tools `netstat` on a table of >= 30,000 TCP sockets
# on loopback (mostly TIME-WAIT plus established pairs, benches/build_sockets.py), timing
# both in the same hyperfine run, and checking that both print the same rows.
#
#   benches/netstat.sh [TIME_WAIT=27000] [PAIRS=3000]
#
# As root it runs in a private network namespace (unshare -n), so the table is exactly the
# one it built; otherwise it uses the shared loopback.
# Needs: a release build (cargo build --release), python3, hyperfine, net-tools.
set -euo pipefail
cd "$(dirname "$0")/.."

TW=${1:-27000}
PAIRS=${2:-3000}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }
command -v netstat >/dev/null || { echo "install net-tools (apt-get install -y net-tools)" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
if [ -n "${IN_NETNS:-}" ]; then
  ip link set lo up
  sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 || true
fi
ulimit -n "$(ulimit -Hn)" || true

coproc BUILDER { python3 benches/build_sockets.py "$TW" "$PAIRS"; }
read -r ready listeners tw pairs _port _busy <&"${BUILDER[0]}"
[ "$ready" = READY ] || { echo "builder failed" >&2; exit 1; }
echo "socket table: $(ss -tanH | wc -l) TCP sockets ($tw TIME-WAIT made, $pairs established pairs, $listeners listeners)"
echo "kernel: $(uname -r), $(netstat --version | head -1), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --warmup 2 --runs "${RUNS:-10}" --style basic \
  --export-markdown "$OUT/netstat.md" --export-json "$OUT/netstat.json" \
  -n "sockeye netstat -tan" "$BIN netstat -tan" \
  -n "netstat -tan" "netstat -tan" \
  -n "sockeye netstat -tanp" "$BIN netstat -tanp" \
  -n "netstat -tanp" "netstat -tanp" \
  -n "sockeye netstat -tanoe" "$BIN netstat -tanoe" \
  -n "netstat -tanoe" "netstat -tanoe"

# Same lines (timers aside, TIME-WAIT expiring between the two runs aside).
a=$(netstat -tan | sort | md5sum)
b=$("$BIN" netstat -tan | sort | md5sum)
if [ "$a" = "$b" ]; then
  echo "output: sockeye netstat -tan == netstat -tan (sorted)"
else
  echo "output: differs in $(diff <(netstat -tan | sort) <("$BIN" netstat -tan | sort) | grep -c '^[<>]') lines (TIME-WAIT expiring between the runs?)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$BUILDER_PID" 2>/dev/null || true
wait 2>/dev/null || true
