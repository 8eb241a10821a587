"""The dbt build's DuckDB memory: bounded by default, set through the settings, spilling beside the build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from orchestration.dbt_cli.arguments import settings_args
from orchestration.dbt_cli.project import DBT_EXECUTABLE
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.settings import from_environment
from tests.landing_builder import clean_env

pytestmark = pytest.mark.slow

SETTINGS = "select current_setting('memory_limit') as m, current_setting('temp_directory') as t"


def _settings(tmp_path: Path, **env: str) -> tuple[str, str]:
    """What the build database is opened with, as dbt opens it for a warehouse with the variables `env`."""
    settings = from_environment(clean_env(SMS_DATA_DIR=str(tmp_path / "data"), **env))
    settings.paths.build_db.parent.mkdir(parents=True)
    done = subprocess.run(
        [DBT_EXECUTABLE, "show", "--inline", SETTINGS, "--output", "json",
         *settings_args(settings.dbt_threads, settings.dbt_vars()), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        env=clean_env(), capture_output=True, text=True, cwd=DBT_PROJECT_DIR,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    shown = json.loads(done.stdout[done.stdout.index("{") : done.stdout.rindex("}") + 1])["show"][0]
    return shown["m"], shown["t"]


def test_the_build_has_a_memory_limit_and_spills_beside_its_database(tmp_path: Path) -> None:
    limit, spill = _settings(tmp_path)
    assert limit == "3.7 GiB"  # 4GB, not DuckDB's 80% of the machine
    assert spill == str(tmp_path / "data" / "warehouse" / "sms.build.duckdb.tmp")


def test_memory_limit_and_spill_folder_come_from_the_settings(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    assert _settings(tmp_path, SMS_DUCKDB_MEMORY_LIMIT="300MB", SMS_DUCKDB_TEMP_DIR=str(spill)) == (
        "286.1 MiB",
        str(spill),
    )
