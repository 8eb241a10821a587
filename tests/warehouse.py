"""Build the real warehouse for a test: pure ingestion into a lake, then real `dbt build`."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.ingest import ingest_file
from ingestion.lake import ensure_schemas, write_part
from ingestion.landing import survey
from orchestration.dbt_cli.arguments import settings_args
from orchestration.dbt_cli.project import DBT_EXECUTABLE
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.settings import WarehouseSettings, from_environment
from tests.landing_builder import clean_env

MARTS = (
    "marts.fct_launch_contacts",
    "marts.mart_campaign_summary",
    "marts.mart_not_sent_reasons",
    "marts.mart_reached_statuses",
)


def read_tables(db: Path, tables: tuple[str, ...] = MARTS) -> dict[str, list]:
    """Every row of each table (schema-qualified), in a stable order, from a DuckDB file opened read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def materialize_feeds(
    day: str, selection: list[str] | None = None, settings: WarehouseSettings | None = None
):  # noqa: ANN201 - Dagster's result
    """The landing feed assets for one arrival day through real Dagster (by default with the settings
    of the SMS_* environment), on an ephemeral instance that knows the day."""
    import dagster as dg

    from orchestration.assets.landing import arrival_days, landing_feeds
    from orchestration.checks.validator import Validator

    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(arrival_days.name, [day])
        return dg.materialize(
            [landing_feeds],
            selection=selection,
            partition_key=day,
            instance=instance,
            resources={"validator": Validator(), "settings": settings or from_environment()},
            raise_on_error=False,
        )


def ingest_all(landing: Path, lake: Path) -> None:
    """Every file of the landing zone into its lake part, as a run would (no checks)."""
    ensure_schemas(lake)
    for feed, days in survey(landing).files.items():
        for day, files in days.items():
            for file in files:
                with ingest_file(file.path, feed, day) as result:
                    write_part(lake, feed, day, file.name, result)


def build_variables(lake: Path, db: Path) -> dict[str, str]:
    """The `sms_*` variables of a build of `lake` into the build database `db` (as the settings give them)."""
    published = db.with_name(db.name.removesuffix(".build.duckdb") + ".duckdb")
    settings = WarehouseSettings(lake_dir=str(lake), warehouse=str(published))
    assert settings.paths.build_db == db, "name a test's build database <name>.build.duckdb"
    return settings.dbt_vars()


def dbt(
    args: list[str], lake: Path, db: Path, work: Path, project_dir: Path = DBT_PROJECT_DIR
) -> subprocess.CompletedProcess:
    """Real dbt, as the warehouse runs it (its settings as `--vars`), in a fresh environment."""
    cmd = [DBT_EXECUTABLE, *args, *settings_args(2, build_variables(lake, db)),
           "--profiles-dir", str(project_dir), "--project-dir", str(project_dir),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs")]  # fmt: skip
    return subprocess.run(cmd, env=clean_env(), capture_output=True, text=True, cwd=project_dir)


@dataclass
class Built:
    """A warehouse built for a test: its lake, its dbt database and a scratch folder."""

    lake: Path
    db: Path
    work: Path
    unit_tests: subprocess.CompletedProcess | None = None

    def dbt(self, *args: str) -> subprocess.CompletedProcess:
        return dbt(list(args), self.lake, self.db, self.work)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db), read_only=True)


def build(landing: Path, work: Path) -> Built:
    """Ingest `landing` and `dbt build` it (unit tests aside, which need the built parents)."""
    built = Built(work / "lake", work / "sms.build.duckdb", work)
    ingest_all(landing, built.lake)
    done = built.dbt("build", "--exclude", "resource_type:unit_test")
    assert done.returncode == 0, done.stdout[-4000:]
    return built
