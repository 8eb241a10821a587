"""The dbt build's DuckDB memory: bounded by default, set through the environment, spilling beside the build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from orchestration.dbt_cli.environment import dbt_command
from orchestration.paths import DBT_PROJECT_DIR
from tests.landing_builder import clean_env

DBT = str(dbt_command())
SETTINGS = "select current_setting('memory_limit') as m, current_setting('temp_directory') as t"


def _settings(tmp_path: Path, **env: str) -> tuple[str, str]:
    db = tmp_path / "wh" / "sms.build.duckdb"
    db.parent.mkdir(exist_ok=True)
    done = subprocess.run(
        [DBT, "show", "--inline", SETTINGS, "--output", "json", "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env=clean_env(SMS_LAKE_DIR=str(tmp_path / "lake"), SMS_BUILD_DB=str(db), **env),
        capture_output=True, text=True, cwd=DBT_PROJECT_DIR,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    shown = json.loads(done.stdout[done.stdout.index("{") : done.stdout.rindex("}") + 1])["show"][0]
    return shown["m"], shown["t"]


def test_the_build_has_a_memory_limit_and_spills_beside_its_database(tmp_path: Path) -> None:
    limit, spill = _settings(tmp_path)
    assert limit == "3.7 GiB"  # 4GB, not DuckDB's 80% of the machine
    assert spill == str(tmp_path / "wh" / "sms.build.duckdb.tmp")


def test_memory_limit_and_spill_folder_come_from_the_environment(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    assert _settings(tmp_path, SMS_DUCKDB_MEMORY_LIMIT="300MB", SMS_DUCKDB_TEMP_DIR=str(spill)) == (
        "286.1 MiB",
        str(spill),
    )
