#!/bin/sh
# Destroy events under load: `sockeye dump -E` and `ss -E` follow the same churn of loopback
# connections in a private network namespace (nothing else closes there), in the same run.
#
#   benches/events.sh [RATE_CONNECTIONS_PER_S] [SECONDS]   (default 2500 30: 5,000 closes/s)
#
# Needs root (unshare -n) and a release build (cargo build --release). Each connection
# destroys two sockets (client and server end), so RATE connections/s is 2×RATE closes/s.
# Prints, per follower: events received, events reported lost, CPU used (% of one core).
set -eu
RATE=${1:-2500}
SECS=${2:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${SOCKEYE:-$HERE/../target/release/sockeye}
if [ "${SOCKEYE_BENCH_INNER:-}" != 1 ]; then
    exec env SOCKEYE_BENCH_INNER=1 SOCKEYE="$BIN" unshare -n "$0" "$RATE" "$SECS"
fi
ip link set lo up
sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cpu() { # utime+stime ticks of PID
    awk '{print $14 + $15}' "/proc/$1/stat"
}

"$BIN" --no-config dump -E -tn --json > "$OUT/sockeye" 2> "$OUT/sockeye.err" &
SK=$!
stdbuf -oL ss -E -tn > "$OUT/ss" 2>&1 &
SS=$!
sleep 1
SK0=$(cpu $SK); SS0=$(cpu $SS); T0=$(date +%s.%N)
python3 "$HERE/close_churn.py" "$RATE" "$SECS" 2 > "$OUT/churn"
sleep 2 # let both followers drain their queues
SK1=$(cpu $SK); SS1=$(cpu $SS); T1=$(date +%s.%N)
kill -TERM $SK; kill -TERM $SS
wait $SK 2>/dev/null || true
wait $SS 2>/dev/null || true
TICK=$(getconf CLK_TCK)
CONNS=$(awk '{print $2}' "$OUT/churn")
echo "churn: $(cat "$OUT/churn") => $((CONNS * 2)) sockets destroyed"
python3 - "$OUT/sockeye" "$SK0" "$SK1" "$T0" "$T1" "$TICK" <<'PY'
import json, sys
path, c0, c1, t0, t1, tick = sys.argv[1:]
destroy = lost = 0
for line in open(path):
    v = json.loads(line)
    if v["event"] == "destroy":
        destroy += 1
    elif v["event"] == "lost":
        lost += v["count"] or 0
cpu = (int(c1) - int(c0)) / int(tick) / (float(t1) - float(t0)) * 100
print(f"sockeye dump -E --json: {destroy} events, {lost} reported lost, CPU {cpu:.1f}% of a core")
PY
SSN=$(grep -c . "$OUT/ss" || true)
awk -v a="$SS0" -v b="$SS1" -v t0="$T0" -v t1="$T1" -v tick="$TICK" -v n="$SSN" \
    'BEGIN { printf "ss -E: %d lines (header included), CPU %.1f%% of a core\n", n, (b - a) / tick / (t1 - t0) * 100 }'
cat "$OUT/sockeye.err" >&2
