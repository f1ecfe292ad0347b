#!/usr/bin/env bash
# Builds the Python module (kova-py, maturin) into a virtual environment and runs its pytest
# suite. The venv (target/py-venv, under CARGO_TARGET_DIR when set) is reused only when it was
# made by the same Python with the same requirements; otherwise it is made afresh. Needs
# python3 (>= 3.9) with venv, and PyPI for maturin, pytest, pytest-asyncio and mypy (stubtest).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

python="${PYTHON:-python3}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
venv="$target_dir/py-venv"
stamp="$venv/.kova-python"
requirements=("maturin>=1.9.4,<2" "pytest>=8" "pytest-asyncio>=0.23" "mypy>=1.10")
want="$("$python" -c 'import sys; print(sys.executable, sys.version)') ${requirements[*]}"

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "${requirements[@]}"
  echo "$want" > "$stamp"
fi

# maturin builds into the same target dir as cargo, so compiled dependencies are reused.
export CARGO_TARGET_DIR="$target_dir"
(cd kova-py && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$venv/bin/maturin" develop)

# pytest exits 5 when it collected no tests: that is a failure here too.
set +e
(cd kova-py && "$venv/bin/python" -m pytest -q "$@")
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
