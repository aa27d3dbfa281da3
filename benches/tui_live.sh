#!/usr/bin/env bash
# Benchmark the live view on a real table of ~100,000 TCP sockets: CPU share, resident memory
# and per-refresh timings of `sockeye tui -t` at the default 1 s interval, in tmux at 160x45.
#
#   benches/tui_live.sh [PROCS=6] [PAIRS=8300] [CHURN=50] [SECONDS=30]
#
# As root it runs in a private network namespace (unshare -n), so nobody else's sockets are
# disturbed and the table is exactly the one it built. Needs a release build, python3, tmux.
set -euo pipefail
cd "$(dirname "$0")/.."

PROCS=${1:-6}
PAIRS=${2:-8300}
CHURN=${3:-50}
SECS=${4:-30}
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
total=$(ss -tanH | wc -l)
echo "socket table: $total TCP sockets ($made held by $PROCS processes, churn $CHURN/s)"
echo "kernel: $(uname -r), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

TM="tmux -L sockeye-bench-$$"
trace="$OUT/tui-trace.txt"
rm -f "$trace"
cleanup() {
  $TM kill-server 2>/dev/null || true
  kill "$HOLDER_PID" 2>/dev/null || true
}
trap cleanup EXIT
# WRAP runs sockeye under a profiler, e.g. WRAP="heaptrack -o target/bench/ht".
$TM new-session -d -x 160 -y 45 "SOCKEYE_TRACE=$trace ${WRAP:-} $BIN tui -t; sleep 600"
pid=""
for _ in $(seq 100); do
  for p in $(pgrep -f "$BIN tui -t" || true); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BIN" ] && pid=$p
  done
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "sockeye did not start" >&2; exit 1; }
sleep 8 # warm up: first collection reads every process's fds

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
refreshes() { if [ -f "$trace" ]; then wc -l <"$trace"; else echo 0; fi; }
t0=$(ticks)
n0=$(refreshes)
rss_min=999999999 rss_max=0 rss_sum=0
for _ in $(seq "$SECS"); do
  sleep 1
  r=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  rss_sum=$((rss_sum + r))
  ((r < rss_min)) && rss_min=$r
  ((r > rss_max)) && rss_max=$r
done
t1=$(ticks)
n1=$(refreshes)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "CPU over ${SECS}s: $(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$SECS" 'BEGIN {printf "%.1f%% of one core", (b - a) / hz / s * 100}')"
# CPU time per refresh does not depend on how long a slow refresh stretched the period (on a
# loaded machine fewer than SECS refreshes happen), so it compares runs under other loads.
if ((n1 > n0)); then
  echo "CPU per refresh: $(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n=$((n1 - n0)) 'BEGIN {printf "%.1f ms", (b - a) / hz / n * 1000}') over $((n1 - n0)) refreshes"
fi
echo "RSS: min $((rss_min / 1024)) MiB, avg $((rss_sum / SECS / 1024)) MiB, max $((rss_max / 1024)) MiB, peak (VmHWM) $((hwm / 1024)) MiB"
if [ -s "$trace" ]; then
  echo "per refresh (ms, last ${SECS} refreshes):"
  tail -n "$SECS" "$trace" | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2]; if (kv[2] > m[kv[1]]) m[kv[1]] = kv[2]; n[kv[1]]++ } }
    END { for (k in s) printf "  %-10s avg %7.1f  max %7.1f\n", k, s[k] / n[k], m[k] }'
fi
$TM send-keys q
if [ -z "${WRAP:-}" ] && command -v hyperfine >/dev/null; then
  echo "one-shot dumps of the same table (for scale: the kernel dump is most of a refresh):"
  sleep 1
  hyperfine -N --warmup 2 --runs 10 --style basic "$BIN dump -tan" "ss -tan" 2>&1 |
    grep -E "^Benchmark|Time \(mean"
fi
if [ -n "${WRAP:-}" ]; then sleep 5; fi
