#!/usr/bin/env bash
# Soak: the live view (in tmux) and the exporter (scraped every second) run side by side for
# MINUTES under connect/close churn; resident memory and open descriptors of both are sampled
# every 10 s into a CSV, and the growth after a warm-up is printed against the target
# (≤ 1 MiB RSS, 0 fds). Exit status 1 when a target is missed or a process died.
#
#   benches/soak.sh [MINUTES=30] [CHURN=100] [PAIRS=500]
#
# Env: WARMUP (seconds, default 300, or a fifth of a short run), SOAK_OUT (CSV path, default
# target/bench/soak.csv), SOCKEYE (binary, default target/release/sockeye).
# As root it runs in a private network namespace (unshare -n), so the table is only the one it
# builds: 2 processes holding PAIRS established pairs each, plus CHURN connections opened and
# closed a second (each leaves a TIME-WAIT socket). Needs a release build, python3, tmux, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${1:-30}
CHURN=${2:-100}
PAIRS=${3:-500}
BIN=${SOCKEYE:-$PWD/target/release/sockeye}
CSV=${SOAK_OUT:-$PWD/target/bench/soak.csv}
DURATION=$((MINUTES * 60))
WARMUP=${WARMUP:-$((DURATION >= 1500 ? 300 : DURATION / 5))}
STEP=10
PORT=19977
mkdir -p "$(dirname "$CSV")"
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
for tool in python3 tmux curl; do
  command -v "$tool" >/dev/null || { echo "soak needs $tool" >&2; exit 1; }
done

if [ "$(id -u)" = 0 ] && [ -z "${IN_NETNS:-}" ]; then
  exec unshare -n env IN_NETNS=1 "$0" "$@"
fi
if [ -n "${IN_NETNS:-}" ]; then
  ip link set lo up
else
  echo "not root: running in the host's network namespace (other sockets will show)" >&2
fi

TM="tmux -L sockeye-soak-$$"
exporter="" scraper="" holder=""
cleanup() {
  $TM kill-server 2>/dev/null || true
  for p in $scraper $exporter $holder; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

coproc HOLDER { exec python3 benches/hold_sockets.py 2 "$PAIRS" "$CHURN"; }
holder=$HOLDER_PID
read -r ready made <&"${HOLDER[0]}"
[ "$ready" = READY ] || { echo "socket holder failed" >&2; exit 1; }

"$BIN" export --listen "127.0.0.1:$PORT" --interval 1 2>"$CSV.export.log" &
exporter=$!
# `exec` so the pane's process is sockeye itself.
$TM new-session -d -x 160 -y 45 "exec $BIN tui"
tui=$($TM display-message -p '#{pane_pid}')

# Scrape every second; count failures (a scrape that is not answered within 5 s).
fails="$CSV.scrape-failures"
: >"$fails"
(
  while sleep 1; do
    curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/metrics" || echo x >>"$fails"
  done
) &
scraper=$!

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
alive() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$BIN" ]; }

echo "soak: ${MINUTES} min, churn ${CHURN}/s, $made held sockets, warm-up ${WARMUP}s, sample every ${STEP}s -> $CSV"
echo "kernel: $(uname -r), cpus: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seconds,tui_rss_kib,tui_fds,export_rss_kib,export_fds,tcp_sockets,scrape_failures" >"$CSV"
start=$(date +%s)
died=""
while :; do
  sleep "$STEP"
  t=$(($(date +%s) - start))
  for p in "$tui" "$exporter"; do alive "$p" || died="$died $p"; done
  [ -z "$died" ] || break
  echo "$t,$(rss "$tui"),$(fds "$tui"),$(rss "$exporter"),$(fds "$exporter"),$(ss -tanH | wc -l),$(wc -l <"$fails")" >>"$CSV"
  [ "$t" -lt "$DURATION" ] || break
done
$TM send-keys q 2>/dev/null || true

if [ -n "$died" ]; then
  echo "FAIL: process(es)$died died (tui $tui, exporter $exporter); see $CSV.export.log" >&2
  exit 1
fi
# Growth: the mean of the last three samples minus the mean of the first three after warm-up
# (averaging takes out single-sample noise from allocator timing).
awk -F, -v warm="$WARMUP" '
  NR == 1 { next }
  $1 >= warm { n++; for (i = 2; i <= 5; i++) { v[n, i] = $i; if ($i > hi[i]) hi[i] = $i } f = $7 }
  END {
    if (n < 6) { print "run too short for a warm-up of " warm " s"; exit 1 }
    split("tui_rss tui_fds export_rss export_fds", name, " ")
    bad = 0
    for (i = 2; i <= 5; i++) {
      a = (v[1, i] + v[2, i] + v[3, i]) / 3; b = (v[n - 2, i] + v[n - 1, i] + v[n, i]) / 3
      g = b - a
      if (i % 2 == 0) {
        printf "%-10s after warm-up %8.0f KiB, end %8.0f KiB, growth %+6.0f KiB, max %d KiB\n", name[i - 1], a, b, g, hi[i]
        if (g > 1024) bad = 1
      } else {
        printf "%-10s after warm-up %8.1f,     end %8.1f,     growth %+6.1f,     max %d\n", name[i - 1], a, b, g, hi[i]
        if (g > 0.5) bad = 1
      }
    }
    printf "scrape failures: %d\n", f
    if (f > 0) bad = 1
    print (bad ? "FAIL" : "PASS") " (target: growth <= 1 MiB RSS and 0 fds, every scrape answered)"
    exit bad
  }' "$CSV"
