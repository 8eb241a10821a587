#!/usr/bin/env bash
# Create .venv/ from the lock file (uv, installed from PyPI when missing) and parse the dbt project.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"
fi
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on CI machines), Python would otherwise
# compile every imported module again in every process: importing GX alone took 12 s instead of 6
uv_sync() { UV_PYTHON_DOWNLOADS=never "$PY" -m uv sync --frozen --extra dev --python "$PY" --quiet --compile-bytecode; }
# uv's compile workers now and then return an empty answer ("Bytecode compilation
# failed, expected …, received \"\""; astral-sh/uv#2245, seen on this CI): the packages are in
# place by then, and a second sync compiles them again
uv_sync || { echo "setup: uv sync failed; trying once more" >&2; uv_sync; }
(cd dbt_project && ../.venv/bin/sms-dbt parse --quiet --profiles-dir . >/dev/null)
echo "ready: .venv/bin/sms-warehouse --help"
