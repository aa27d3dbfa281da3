#!/usr/bin/env bash
# Build every fuzz target in fuzz_targets/ and run each for a bounded time; exit non-zero on
# the first crash (its input is kept in tests/fuzz/artifacts/TARGET/).
#
#   tests/fuzz/run.sh [SECONDS=20] [TARGET...]
#
# Builds what `cargo fuzz build` builds, without needing cargo-fuzz installed: a release
# build of the crate with libFuzzer's coverage instrumentation and AddressSanitizer
# (RUSTC_BOOTSTRAP=1 unlocks -Zsanitizer on stable). Each target's corpus lives in
# tests/fuzz/corpus/TARGET (not committed; it grows run after run on one machine).
# FUZZ_SANITIZER=none builds without ASan (faster, catches panics only).
set -euo pipefail
cd "$(dirname "$0")"

SECS=${1:-20}
shift || true
triple=$(rustc -vV | sed -n 's/^host: //p')
flags=(
  --cfg fuzzing
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  -Cdebug-assertions
  -Coverflow-checks
)
if [ "${FUZZ_SANITIZER:-address}" = address ]; then
  flags+=(-Zsanitizer=address)
fi
export RUSTC_BOOTSTRAP=1
# --target keeps the instrumentation off build scripts and proc macros.
# Not --locked: the lock follows the main crate's dependencies, which change without this crate.
RUSTFLAGS="${flags[*]}" cargo build --release --target "$triple" --bins

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
bin_dir=target/$triple/release
for t in "${targets[@]}"; do
  [ -x "$bin_dir/$t" ] || { echo "fuzz: no binary for $t (missing [[bin]] in Cargo.toml?)" >&2; exit 1; }
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "fuzz: $t for ${SECS}s"
  # -rss_limit_mb: a parser that allocates without bound is a finding too.
  if ! "$bin_dir/$t" "corpus/$t" -max_total_time="$SECS" -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>"artifacts/$t/log"; then
    tail -n 40 "artifacts/$t/log" >&2
    echo "fuzz: $t crashed; input saved in tests/fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "artifacts/$t/log" |
    sed "s/^/fuzz: $t /"
done
