#!/usr/bin/env bash
# Benchmark `sockeye dump -a` (every table: netlink, packet, unix, raw, UDP, TCP, MPTCP, and
# the probes of the tables this kernel lacks) against `ss -a`, in the same hyperfine run, on a
# table of >= 30,000 sockets: TCP TIME-WAIT and established pairs (benches/build_sockets.py)
# plus sockets of every other family (benches/hold_families.py).
#
#   benches/families.sh [TIME_WAIT=24000] [PAIRS=2000] [UNIX_PAIRS=2000] [UDP=1000]
#
# Root only (raw and packet sockets), in a private network namespace (unshare -n), so the
# table is exactly the one it built. Needs: a release build, python3, hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."

TW=${1:-24000}
PAIRS=${2:-2000}
UNIX=${3:-2000}
UDP=${4:-1000}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
OUT=${BENCH_OUT:-target/bench}
mkdir -p "$OUT"

[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "install hyperfine" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (raw and packet sockets, a private namespace)" >&2; exit 1; }
if [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
ip link set lo up
sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 || true
ulimit -n "$(ulimit -Hn)" || true

coproc TCP { python3 benches/build_sockets.py "$TW" "$PAIRS"; }
read -r ready _ <&"${TCP[0]}"
[ "$ready" = READY ] || { echo "TCP builder failed" >&2; exit 1; }
coproc FAM { python3 benches/hold_families.py "$UNIX" "$UDP"; }
read -r ready unix udp raw packet netlink mptcp <&"${FAM[0]}"
[ "$ready" = READY ] || { echo "family builder failed" >&2; exit 1; }

echo "socket table (ss -a):"
ss -aH | awk '{print $1}' | sort | uniq -c | sort -rn | sed 's/^/  /'
echo "  total: $(ss -aH | wc -l) sockets ($unix unix, $udp udp, $raw raw, $packet packet, $netlink netlink made, $mptcp mptcp)"
echo "kernel: $(uname -r), ss: $(ss -V), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --warmup 3 --runs "${RUNS:-20}" --style basic \
  --export-markdown "$OUT/families.md" --export-json "$OUT/families.json" \
  -n "sockeye dump -a" "$BIN dump -a" \
  -n "ss -a" "ss -a" \
  -n "sockeye dump -an" "$BIN dump -an" \
  -n "ss -an" "ss -an"

# The same rows (words compared, sorted: TIME-WAIT may expire between the two reads; the two
# tools' own sock_diag sockets aside, and the column widths they change).
own='tcpdiag:(ss|sockeye)/|^nl +UNCONN +[0-9]+ +[0-9]+ +4:[0-9]+ '
norm() { grep -Ev "$own" | tr -s ' ' | sort; }
d=$(diff <("$BIN" dump -an | norm) <(ss -an 2>/dev/null | norm) | grep -c '^[<>]' || true)
echo "output: sockeye dump -an and ss -an differ in $d of $(ss -an 2>/dev/null | wc -l) rows (words, sorted, own diag sockets aside)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$TCP_PID" "$FAM_PID" 2>/dev/null || true
wait 2>/dev/null || true
