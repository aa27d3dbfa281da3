#!/usr/bin/env bash
# Benchmark the output flags: `sockeye dump -tani` and `-tanie` against ss at >= 30,000 TCP
# sockets, most of them established (so every row carries tcp_info), in one hyperfine run,
# plus -tanm, the -tanieomp --tos --cgroup --inet-sockopt kitchen sink and -tanT, and peak
# RSS with /usr/bin/time -v.
#
#   benches/dump_flags.sh [TIME_WAIT=12000] [PAIRS=9000]
#
# As root it runs in a private network namespace (unshare -n); otherwise on the shared
# loopback. Needs: cargo build --release, python3, hyperfine, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

TW=${1:-12000}
PAIRS=${2:-9000}
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
  sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 || true
fi
ulimit -n "$(ulimit -Hn)" || true

coproc BUILDER { python3 benches/build_sockets.py "$TW" "$PAIRS"; }
read -r ready listeners tw pairs _port _busy <&"${BUILDER[0]}"
[ "$ready" = READY ] || { echo "builder failed" >&2; exit 1; }
total=$(ss -tanH | wc -l)
echo "socket table: $total TCP sockets ($tw TIME-WAIT made, $pairs established pairs, $listeners listeners)"
echo "kernel: $(uname -r), ss: $(ss -V), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

all="-tanieomp --tos --cgroup --inet-sockopt"
cmds=(
  -n "sockeye dump -tani" "$BIN dump -tani"
  -n "ss -tani" "ss -tani"
  -n "sockeye dump -tanie" "$BIN dump -tanie"
  -n "ss -tanie" "ss -tanie"
  -n "sockeye dump -tanm" "$BIN dump -tanm"
  -n "ss -tanm" "ss -tanm"
  -n "sockeye dump $all" "$BIN dump $all"
  -n "ss $all" "ss $all"
  -n "sockeye dump -tanT" "$BIN dump -tanT"
  -n "ss -tanT" "ss -tanT"
)
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --style basic \
  --export-markdown "$OUT/dump_flags.md" --export-json "$OUT/dump_flags.json" "${cmds[@]}"

rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'; }
echo
echo "peak RSS (KiB):"
for args in "-tani" "-tanie"; do
  # shellcheck disable=SC2086
  printf '  %-8s sockeye %8s   ss %8s\n' "$args" "$(rss "$BIN" dump $args)" "$(rss ss $args)"
done

# The same text as ss, once what ages between two readings (lastsnd/lastrcv/lastack, timers)
# is masked, on the listeners' established half (stable: nothing is sent meanwhile).
mask() { sed -E 's/last(snd|rcv|ack):[0-9]+/last\1:N/g; s/timer:\(([a-z]+),[^,]*,/timer:(\1,T,/g' | tr -s ' \t' '\n\n'; }
if cmp -s <("$BIN" dump -tanie state established | mask) <(ss -tanie state established | mask); then
  echo "output: sockeye dump -tanie state established == ss (tokens, ages masked)"
else
  echo "output: sockeye dump -tanie state established differs from ss (the table moved between the readings?)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$BUILDER_PID" 2>/dev/null || true
wait 2>/dev/null || true
