#!/usr/bin/env bash
# Runs every test: formatting, clippy (-D warnings, all targets and features), the Rust tests
# (unit, integration, doc) and, when the Python bindings are present, their pytest suite.
# PostgreSQL tests run when KOVA_TEST_POSTGRES_URL is set and are skipped with a notice otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "kova-core depends on no I/O library"
if cargo tree -p kova-core -e normal --prefix none | grep -E '^(reqwest|sqlx|rusqlite|axum|hyper|pyo3|tokio|mio) '; then
  echo "kova-core must not depend on an I/O library (see DESIGN.md)"; exit 1
fi

step "cargo clippy (all targets, all features, -D warnings)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo test (unit, integration, doc)"
if [ -z "${KOVA_TEST_POSTGRES_URL:-}" ]; then
  echo "notice: KOVA_TEST_POSTGRES_URL is not set: PostgreSQL tests will be skipped"
fi
cargo test --workspace --all-features

step "fuzz smoke (each cargo-fuzz target briefly, from the committed seeds)"
bash scripts/fuzz-smoke.sh

if [ -f kova-py/pyproject.toml ]; then
  step "Python bindings (maturin + pytest)"
  bash scripts/test-python.sh
fi
