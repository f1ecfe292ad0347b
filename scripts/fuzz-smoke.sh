#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets in fuzz/ once and runs each for a short,
# bounded number of executions from the committed seeds (fuzz/seeds/<target>) into a
# temporary corpus, failing on any crash. The long runs (>= 1,000,000 executions per target)
# and how to repeat them are in fuzz/README.md.
#
# cargo-fuzz passes nightly-only flags to rustc; on a stable toolchain RUSTC_BOOTSTRAP=1
# enables them. Installs cargo-fuzz (crates.io, --locked) when `cargo fuzz` is missing.
# KOVA_FUZZ_SMOKE_RUNS (default 100000) and KOVA_FUZZ_SMOKE_SECONDS (default 20, a cap per
# target) bound the runs. Builds go to $CARGO_TARGET_DIR/fuzz when it is set, else fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${KOVA_FUZZ_SMOKE_RUNS:-100000}"
seconds="${KOVA_FUZZ_SMOKE_SECONDS:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it from crates.io"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

target_dir="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}"
target_dir="${target_dir:-$PWD/fuzz/target}"
# The same flags for build and run, so `run` reuses the build. See fuzz/README.md for why.
flags=(--sanitizer none --codegen-units 16 --target-dir "$target_dir")

mapfile -t targets < <(cargo fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "no fuzz targets found in fuzz/"; exit 1
fi
cargo fuzz build "${flags[@]}"

corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
for t in "${targets[@]}"; do
  if [ ! -d "fuzz/seeds/$t" ]; then
    echo "fuzz target $t has no seeds in fuzz/seeds/$t"; exit 1
  fi
  mkdir "$corpus/$t"
  echo "--> $t: $runs runs (at most ${seconds}s)"
  if ! cargo fuzz run "${flags[@]}" "$t" "$corpus/$t" "fuzz/seeds/$t" -- \
    -runs="$runs" -max_total_time="$seconds" -timeout=10 >"$corpus/$t.log" 2>&1; then
    # The panic message, then libFuzzer's report (a long backtrace sits in between).
    grep -m1 -A3 'panicked at' "$corpus/$t.log" || true
    tail -n 30 "$corpus/$t.log"
    echo "fuzz target $t failed; the input is under fuzz/artifacts/$t/"
    echo "reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run ${flags[*]} $t fuzz/artifacts/$t/<file>"
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$corpus/$t.log" || tail -n 3 "$corpus/$t.log"
done
