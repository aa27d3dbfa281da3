#!/usr/bin/env bash
# Benchmark `sockeye check` on a real table of ~100,000 TCP sockets against one `dump` of the
# same sockets: CPU (user + system), wall time and peak RSS, median of RUNS runs each.
# check takes seven snapshots over its window with what its rules read (processes, counters,
# socket memory, tcp_info), so it is compared with `dump -tanpmi` (one snapshot of the same)
# and plain `dump -tan`; the window's own length is wall time spent waiting, not working.
#
#   benches/check.sh [PROCS=6] [PAIRS=8300] [RUNS=5]
#
# As root it runs in a private network namespace (unshare -n), so the table is exactly the
# one it built. Needs a release build (cargo build --release), python3 and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

PROCS=${1:-6}
PAIRS=${2:-8300}
RUNS=${3:-5}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "install time (apt-get install -y time)" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
[ -n "${IN_NETNS:-}" ] && ip link set lo up
ulimit -n "$(ulimit -Hn)" || true

coproc HOLDER { python3 benches/hold_sockets.py "$PROCS" "$PAIRS" 0; }
read -r ready made <&"${HOLDER[0]}"
[ "$ready" = READY ] || { echo "socket holder failed" >&2; exit 1; }
trap 'kill "$HOLDER_PID" 2>/dev/null || true' EXIT
total=$(ss -tanH | wc -l)
echo "socket table: $total TCP sockets ($made held by $PROCS processes)"
echo "kernel: $(uname -r), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

tmp=$(mktemp)
# One line per run: wall user sys maxrss_kib; then the median of each column.
measure() {
  local name=$1
  shift
  : >"$tmp"
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -a -o "$tmp" -f "%e %U %S %M" "$@" >/dev/null 2>&1 || true
  done
  col() { awk "{ print $1 }" "$tmp" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
  printf '  %-32s wall %6.2f s   cpu %6.3f s   rss %7d KiB\n' "$name" \
    "$(col '$1')" "$(col '$2 + $3')" "$(col '$4')"
}
echo "median of $RUNS runs:"
measure "dump -tan" "$BIN" --no-config dump -tan
measure "dump -tanpmi" "$BIN" --no-config dump -tanpmi
measure "ss -tanpmi" ss -tanpmi
measure "check -t --window 0.5" "$BIN" --no-config check -t --window 0.5
measure "check --window 3 (every table)" "$BIN" --no-config check --window 3
rm -f "$tmp"
