#!/usr/bin/env bash
# Benchmark `sockeye dump --all-netns -tan` against the shell loop people use today,
#   for ns in $(ip netns list); do ip netns exec "$ns" ss -tan; done
# on N named namespaces holding PAIRS established pairs each (2*PAIRS sockets + a listener),
# both timed in the same hyperfine run, with and without process attribution (-p).
#
#   benches/netns.sh [N=50] [PAIRS=1000]
#
# CHILD_EHASH=N creates the namespaces with their own TCP hash of N buckets
# (net.ipv4.tcp_child_ehash_entries, Linux 6.1+, set on the host before the namespaces are
# made and restored to its old value however the script ends). Without it every namespace's
# sockets sit in the one machine-wide hash, and each namespace's dump, ss's or sockeye's,
# walks all of it.
# NO_P=1 times only the -tan pair (the -tanp loop takes minutes a run).
# SKIP_DUMP=1 skips the dump comparison (the `ss -tanp` loop takes minutes a run).
# LIVE_SECS=30 then also runs the live view over all of them (`sockeye tui -t --all-netns`,
# tmux 160x45, 1 s refresh) and reports its CPU share, RSS and per-refresh timings.
#
# The loop takes the first word of each `ip netns list` line (the list adds "(id: N)" when a
# namespace has an id, which the loop as usually typed would try to enter too). Both read
# every named namespace on the machine, ours and any others; sockeye also reads the host's
# own and unnamed ones, so it does at least the loop's work.
# Needs: root (ip netns add), a release build (cargo build --release), python3, hyperfine.
# The namespaces (sockeye-bench-PID-I) and their holders are removed however the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-50}
PAIRS=${2:-1000}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"

[ "$(id -u)" = 0 ] || { echo "needs root (ip netns add)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }

prefix=sockeye-bench-$$
pids=()
ehash_old=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for i in $(seq 1 "$N"); do ip netns del "$prefix-$i" 2>/dev/null || true; done
  rm -f "$OUT"/netns-ready-$$-* "$OUT/netns-hold-$$"
  if [ -n "$ehash_old" ]; then sysctl -qw net.ipv4.tcp_child_ehash_entries="$ehash_old" || true; fi
}
trap cleanup EXIT

if [ -n "${CHILD_EHASH:-}" ]; then
  ehash_old=$(sysctl -n net.ipv4.tcp_child_ehash_entries) ||
    { echo "this kernel has no net.ipv4.tcp_child_ehash_entries (Linux 6.1+)" >&2; exit 1; }
  sysctl -qw net.ipv4.tcp_child_ehash_entries="$CHILD_EHASH"
fi

hold_fifo="$OUT/netns-hold-$$"
rm -f "$hold_fifo"
mkfifo "$hold_fifo"
exec {hold_fd}<>"$hold_fifo"
for i in $(seq 1 "$N"); do
  ns=$prefix-$i
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # The hash size is taken when a namespace is made: put the host's value back right after.
  if [ -n "$ehash_old" ] && [ "$i" = "$N" ]; then
    sysctl -qw net.ipv4.tcp_child_ehash_entries="$ehash_old"
  fi
  # stdin stays open while this script holds the FIFO's write end (no process outlives the
  # run to keep it open); the holder stops on SIGTERM.
  ip netns exec "$ns" python3 benches/hold_sockets.py 1 "$PAIRS" 0 \
    < "$hold_fifo" > "$OUT/netns-ready-$$-$i" &
  pids+=($!)
done
deadline=$((SECONDS + 600))
for i in $(seq 1 "$N"); do
  until grep -q READY "$OUT/netns-ready-$$-$i" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { echo "namespace $i never got ready" >&2; exit 1; }
    sleep 0.2 # polling the holders' READY lines, bounded by the deadline above
  done
done

loop='for ns in $(ip netns list | cut -d" " -f1); do ip netns exec "$ns" ss -tan; done'
loop_p='for ns in $(ip netns list | cut -d" " -f1); do ip netns exec "$ns" ss -tanp; done'
ours=$("$BIN" dump --all-netns -tanH | wc -l)
theirs=$(bash -c "$loop" | grep -vc '^State')
named=$(ip netns list | wc -l)
echo "namespaces: $N made ($named named on the machine); sockets: sockeye $ours, loop $theirs"
echo "kernel: $(uname -r), ss: $(ss -V), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "namespace TCP hash: $(ip netns exec "$prefix-1" sysctl -n net.ipv4.tcp_ehash_entries) buckets (host: $(sysctl -n net.ipv4.tcp_ehash_entries))"

if [ -z "${SKIP_DUMP:-}" ]; then
with_p=()
if [ -z "${NO_P:-}" ]; then
  with_p=(-n "sockeye dump --all-netns -tanp" "$BIN dump --all-netns -tanp >/dev/null"
          -n "ip netns exec loop: ss -tanp" "$loop_p >/dev/null")
fi
hyperfine --warmup 1 --runs "${RUNS:-10}" \
  --export-markdown "$OUT/netns.md" --export-json "$OUT/netns.json" \
  -n "sockeye dump --all-netns -tan" "$BIN dump --all-netns -tan >/dev/null" \
  -n "ip netns exec loop: ss -tan" "$loop >/dev/null" \
  "${with_p[@]}"
python3 - "$OUT/netns.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for a, b in [("sockeye dump --all-netns -tan", "ip netns exec loop: ss -tan"),
             ("sockeye dump --all-netns -tanp", "ip netns exec loop: ss -tanp")]:
    if a not in r:
        continue
    ra, rb = r[a], r[b]
    print(f"{a}: {ra['mean']*1e3:.1f} ms (user+sys {(ra['user']+ra['system'])*1e3:.1f} ms) vs "
          f"{rb['mean']*1e3:.1f} ms (user+sys {(rb['user']+rb['system'])*1e3:.1f} ms): "
          f"{ra['mean']/rb['mean']:.3f}x the loop's wall time")
EOF
fi

[ -n "${LIVE_SECS:-}" ] || exit 0
command -v tmux >/dev/null || { echo "LIVE_SECS needs tmux" >&2; exit 1; }
TM="tmux -L sockeye-bench-$$"
trace="$OUT/tui-netns-trace.txt"
rm -f "$trace"
trap '$TM kill-server 2>/dev/null || true; cleanup' EXIT
$TM new-session -d -x 160 -y 45 "SOCKEYE_TRACE=$trace $BIN tui -t --all-netns --view namespaces; sleep 600"
pid=""
for _ in $(seq 100); do
  for p in $(pgrep -f "$BIN tui -t --all-netns" || true); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BIN" ] && pid=$p
  done
  [ -n "$pid" ] && break
  sleep 0.1 # waiting for the live view to start (bounded: 10 s)
done
[ -n "$pid" ] || { echo "sockeye did not start" >&2; exit 1; }
sleep 8 # warm up: the first collection reads every process's fds and enters every namespace
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
rss_max=0
for _ in $(seq "$LIVE_SECS"); do
  sleep 1 # one RSS sample a second (the measured quantity)
  r=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  ((r > rss_max)) && rss_max=$r
done
t1=$(ticks)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "live view over $N namespaces: $(grep -o '[0-9]* sockets · [0-9]* namespaces' <($TM capture-pane -p) | head -1)"
echo "CPU over ${LIVE_SECS}s: $(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$LIVE_SECS" 'BEGIN {printf "%.1f%% of one core", (b - a) / hz / s * 100}')"
echo "RSS: max $((rss_max / 1024)) MiB, peak (VmHWM) $((hwm / 1024)) MiB; threads: $(ls /proc/$pid/task | wc -l)"
if [ -s "$trace" ]; then
  echo "per refresh (ms, last ${LIVE_SECS} refreshes):"
  tail -n "$LIVE_SECS" "$trace" | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2]; if (kv[2] > m[kv[1]]) m[kv[1]] = kv[2]; n[kv[1]]++ } }
    END { for (k in s) printf "  %-10s avg %7.1f  max %7.1f\n", k, s[k] / n[k], m[k] }'
fi
$TM send-keys q
