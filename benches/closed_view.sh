#!/usr/bin/env bash
# The live view's Closed view under a close storm: `sockeye tui -tn --view closed` in tmux
# (160x45, 1 s refresh) while benches/close_churn.py opens and closes loopback connections
# (RATE connections/s, two destroyed sockets each: the default 2500 is 5,000 closes/s).
#
#   benches/closed_view.sh [RATE=2500] [SECONDS=30]
#
# Needs root (a private network namespace, unshare -n: nothing else closes there), a release
# build, python3 and tmux. Prints the view's per-refresh timings during the churn (from
# SOCKEYE_TRACE), its CPU share (the events thread included) and what the view header says.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2500}
SECS=${2:-30}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-$PWD/target/bench}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
if [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 BENCH_OUT="$OUT" SOCKEYE="$BIN" "$0" "$@"
fi
ip link set lo up
sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
mkdir -p "$OUT"
trace="$OUT/closed-view-trace.txt"
rm -f "$trace"
TM="tmux -L sockeye-closed-$$"
cleanup() { $TM kill-server 2>/dev/null || true; }
trap cleanup EXIT
$TM new-session -d -x 160 -y 45 "SOCKEYE_TRACE=$trace $BIN --no-config tui -tn --view closed; sleep 600"
pid=""
for _ in $(seq 100); do
  for p in $(pgrep -f "$BIN --no-config tui -tn --view closed" || true); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BIN" ] && pid=$p
  done
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "sockeye did not start" >&2; exit 1; }
sleep 3
echo "kernel: $(uname -r), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
skip=$(wc -l < "$trace")
t0=$(ticks); s0=$(date +%s.%N)
python3 benches/close_churn.py "$RATE" "$SECS" 2 > "$OUT/closed-view-churn.txt"
t1=$(ticks); s1=$(date +%s.%N)
echo "churn: $(cat "$OUT/closed-view-churn.txt")"
echo "CPU during the churn: $(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" 'BEGIN {printf "%.1f%% of one core", (b - a) / hz / (s1 - s0) * 100}')"
echo "refreshes during the churn (ms):"
tail -n +"$((skip + 1))" "$trace" | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2]; if (kv[2] > m[kv[1]]) m[kv[1]] = kv[2]; n[kv[1]]++ }
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "total" && kv[2] > 100) over++ } rows++ }
  END { printf "  %d refreshes, %d over 100 ms\n", rows, over
        for (k in s) printf "  %-10s avg %7.1f  max %7.1f\n", k, s[k] / n[k], m[k] }'
# The table grows through the run (every client end waits in TIME-WAIT for 60 s): the
# second half is the steady load at the full rate.
tail -n +"$((skip + 1))" "$trace" | awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "total") t[NR] = kv[2] } }
  END { h = int(NR / 2); for (i = h + 1; i <= NR; i++) { s += t[i]; if (t[i] > m) m = t[i]; if (t[i] > 100) o++ }
        if (NR - h > 0) printf "  second half: %d refreshes, total avg %.1f max %.1f, %d over 100 ms\n", NR - h, s / (NR - h), m, o }'
# Events reach the view in batches and the header at the next refresh: give both time,
# so the count shows whether any close was missed.
sleep 2.5
echo "the view's header and first rows:"
$TM capture-pane -p | head -6
$TM send-keys q
