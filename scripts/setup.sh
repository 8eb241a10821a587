#!/usr/bin/env bash
# Create .venv/ and dbt's own environment, dbt_env/.venv/, from their lock files (uv, installed
# from PyPI when missing), and parse the dbt project.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  "$PY" -m pip install --quiet --disable-pip-version-check "uv>=0.13,<0.14"
fi
# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on CI machines), Python would otherwise
# compile every imported module again in every process: importing GX alone took 12 s instead of 6
uv_sync_once() { UV_PYTHON_DOWNLOADS=never "$PY" -m uv sync --frozen --python "$PY" --quiet --compile-bytecode "$@"; }
# uv's compile workers now and then return an empty answer ("Bytecode compilation
# failed, expected …, received \"\""; astral-sh/uv#2245, seen on this CI): the packages are in
# place by then, and a second sync compiles them again
uv_sync() { uv_sync_once "$@" || { echo "setup: uv sync $* failed; trying once more" >&2; uv_sync_once "$@"; }; }
uv_sync --extra dev
# dbt-core apart from Dagster (dbt_env/pyproject.toml says why), this checkout on its path: dbt
# loads the lake plugin and runs the forkserver from orchestration/dbt_cli
uv_sync --project dbt_env
site="$(dbt_env/.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
printf '%s\n' "$PWD" > "$site/sms_warehouse_checkout.pth"
(cd dbt_project && ../.venv/bin/sms-dbt parse --quiet --profiles-dir . >/dev/null)
echo "ready: .venv/bin/sms-warehouse --help"
