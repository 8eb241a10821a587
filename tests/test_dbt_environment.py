"""dbt's own environment (dbt_env/, made by the setup): the Dagster processes have no dbt-core,
dbt has this checkout's modules, and both sides open the build database with the same DuckDB."""

from __future__ import annotations

import importlib.util
import subprocess

import dagster_dbt.compat
import duckdb

from orchestration.dbt_cli.environment import dbt_command, dbt_core_version, dbt_python


def _in_dbt_python(code: str) -> str:
    done = subprocess.run([str(dbt_python()), "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_dagster_environment_has_no_dbt_core() -> None:
    """dagster-dbt imports dbt-core when it finds it, about 1.4 s of every run before its first step."""
    assert importlib.util.find_spec("dbt") is None
    assert dagster_dbt.compat.DBT_PYTHON_VERSION is None


def test_both_environments_open_the_build_database_with_the_same_duckdb() -> None:
    """dbt's DuckDB writes the build database that this side's DuckDB reads and publishes: a newer
    writer's file is one an older reader refuses (dbt_env/pyproject.toml pins the version)."""
    assert _in_dbt_python("import duckdb; print(duckdb.__version__)") == duckdb.__version__


def test_dbt_loads_the_lake_plugin_and_the_forkserver_from_this_checkout() -> None:
    printed = _in_dbt_python(
        "import orchestration.dbt_cli.forkserver as f, orchestration.dbt_cli.lake_plugin as p; "
        "print(f.__file__, p.__file__)"
    )
    assert printed.split() == [
        str(importlib.util.find_spec(name).origin)
        for name in ("orchestration.dbt_cli.forkserver", "orchestration.dbt_cli.lake_plugin")
    ]


def test_the_dbt_version_dagster_dbt_is_told_is_that_of_dbts_command() -> None:
    """The dbt resource reads the version from dbt's environment's metadata instead of running
    `dbt --version` before each command; both must say the same."""
    done = subprocess.run([str(dbt_command()), "--version"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"installed: {dbt_core_version()}" in done.stdout
