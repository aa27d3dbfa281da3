#!/usr/bin/env bash
# Benchmark `sockeye dump` against `ss` on a table of >= 30,000 TCP sockets on loopback
# (mostly TIME-WAIT plus established pairs), timing both in the same hyperfine run, and
# measuring peak RSS with /usr/bin/time -v.
#
#   benches/dump.sh [TIME_WAIT=27000] [PAIRS=3000]
#
# BASELINE=/path/to/another/sockeye adds that build's `dump -tan` and `dport = :P` to the same
# run (to compare two versions, e.g. one kernel walk for both families against one per family).
#
# As root it runs in a private network namespace (unshare -n), so the table is exactly the
# one it built and nobody else's sockets are disturbed; otherwise it uses the shared loopback.
# Needs: a release build (cargo build --release), python3, hyperfine, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

TW=${1:-27000}
PAIRS=${2:-3000}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
if [ -n "${IN_NETNS:-}" ]; then
  ip link set lo up
  # A fresh namespace may cap TIME-WAIT lower than we need.
  sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 || true
fi
ulimit -n "$(ulimit -Hn)" || true

coproc BUILDER { python3 benches/build_sockets.py "$TW" "$PAIRS"; }
read -r ready listeners tw pairs port busy <&"${BUILDER[0]}"
[ "$ready" = READY ] || { echo "builder failed" >&2; exit 1; }
total=$(ss -tanH | wc -l)
echo "socket table: $total TCP sockets ($tw TIME-WAIT made, $pairs established pairs, $listeners listeners)"
echo "kernel: $(uname -r), ss: $(ss -V), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dport = :P (P=$port) matches $(ss -tanH dport = ":$port" | wc -l) sockets;" \
  "dport = :B (B=$busy) matches $(ss -tanH dport = ":$busy" | wc -l)"

cmds=(
  -n "sockeye dump -tan" "$BIN dump -tan"
  -n "ss -tan" "ss -tan"
  -n "sockeye dump -tanp" "$BIN dump -tanp"
  -n "ss -tanp" "ss -tanp"
  -n "sockeye dump state time-wait" "$BIN dump state time-wait"
  -n "ss state time-wait" "ss state time-wait"
)
if "$BIN" dump -tan dport = ":$port" >/dev/null 2>&1; then
  cmds+=(
    -n "sockeye dump -tan dport = :P" "$BIN dump -tan dport = :$port"
    -n "ss -tan dport = :P" "ss -tan dport = :$port"
    -n "sockeye dump -tan dport = :B" "$BIN dump -tan dport = :$busy"
    -n "ss -tan dport = :B" "ss -tan dport = :$busy"
  )
else
  echo "(this build has no port filters: skipping the dport comparison)"
fi
if [ -n "${BASELINE:-}" ]; then
  cmds+=(
    -n "baseline dump -tan" "$BASELINE dump -tan"
    -n "baseline dump -tan dport = :P" "$BASELINE dump -tan dport = :$port"
  )
fi
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --style basic \
  --export-markdown "$OUT/dump.md" --export-json "$OUT/dump.json" "${cmds[@]}"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'; }
echo
echo "peak RSS (KiB):"
for args in "-tan" "-tanp" "state time-wait"; do
  # shellcheck disable=SC2086
  printf '  %-18s sockeye %8s   ss %8s\n' "$args" "$(rss "$BIN" dump $args)" "$(rss ss $args)"
done

# Same bytes as ss for the plain dump (a snapshot race can differ in a few rows).
if cmp -s <("$BIN" dump -tan state time-wait | sort) <(ss -tan state time-wait | sort); then
  echo "output: sockeye dump state time-wait == ss state time-wait (sorted)"
fi

# Same rows in the same order (IPv4 then IPv6, kernel order) for the filtered dumps.
for p in "$port" "$busy"; do
  if cmp -s <("$BIN" dump -tan dport = ":$p") <(ss -tan dport = ":$p"); then
    echo "output: sockeye dump -tan dport = :$p == ss -tan dport = :$p (unsorted)"
  else
    echo "output: sockeye dump -tan dport = :$p differs from ss (TIME-WAIT expiring between the two?)"
  fi
done

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$BUILDER_PID" 2>/dev/null || true
wait 2>/dev/null || true
