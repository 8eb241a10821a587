"""dbt's own Python environment, `dbt_env/.venv` (see dbt_env/pyproject.toml for why it is apart).

Where its interpreter and its `dbt` command are, and which dbt-core it holds. The
setup puts this checkout on that environment's path (a `.pth` file), so that dbt finds
the lake plugin and the forkserver here. Standard library only: `sms-dbt` imports it.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from orchestration.paths import REPO_ROOT

_MAKE_IT = "run `make setup` (scripts/setup.sh makes it)"


def dbt_env() -> Path:
    """The environment's folder, `dbt_env/.venv` of this checkout."""
    return REPO_ROOT / "dbt_env" / ".venv"


def _in_env(name: str) -> Path:
    path = dbt_env() / "bin" / name
    if not path.exists():
        raise FileNotFoundError(f"dbt's environment has no {path}: {_MAKE_IT}")
    return path


def dbt_python() -> Path:
    """The Python of dbt's environment (the forkserver runs in it)."""
    return _in_env("python")


def dbt_command() -> Path:
    """dbt's own command line, `dbt`, in its environment."""
    return _in_env("dbt")


def dbt_core_version() -> str:
    """dbt-core's version in dbt's environment, read from its package metadata (no process started)."""
    sites = [str(site) for site in (dbt_env() / "lib").glob("python*/site-packages")]
    for dist in importlib.metadata.distributions(name="dbt-core", path=sites):
        return dist.version
    raise FileNotFoundError(f"no dbt-core in {dbt_env()}: {_MAKE_IT}")
