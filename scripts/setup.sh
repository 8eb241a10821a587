#!/usr/bin/env bash
# Create .venv/ from uv.lock (uv is installed from PyPI when missing), then parse the dbt project.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"
fi
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on CI machines), Python would otherwise
# compile every imported module again in every process
uv_sync() { UV_PYTHON_DOWNLOADS=never "$PY" -m uv sync --frozen --python "$PY" --quiet --compile-bytecode "$@"; }
# uv's compile workers now and then return an empty answer ("Bytecode compilation failed, expected
# …, received \"\""; astral-sh/uv#2245, seen on this CI): the packages are in place by then, and a
# second sync compiles them again
uv_sync --extra dev || { echo "setup: uv sync failed; trying once more" >&2; uv_sync --extra dev; }
# the manifest dagster-dbt builds the assets from (`dagster dev` parses again when it loads)
.venv/bin/python -c "from orchestration.dbt_cli import project; project.parse()"
echo "ready: .venv/bin/sms-warehouse --help"
