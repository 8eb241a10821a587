"""Where everything lives: one place that turns flags and environment variables into paths.

Defaults sit under `data/` in the working directory; each path can be set by an
environment variable (`SMS_LANDING_DIR`, `SMS_LAKE_DIR`, `SMS_WAREHOUSE`,
`SMS_EXPORTS_DIR`, `SMS_REPORTS_DIR`, `SMS_DATA_DIR`) or a CLI flag. The Dagster instance's folder is
`orchestration/instance.py`'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# what in the dbt project decides what the marts say (its models, seeds, macros, tests, variables)
DBT_PROJECT_PARTS = ("models", "seeds", "macros", "tests", "dbt_project.yml")


def dbt_project_files(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Every file of the dbt project that decides what the marts say, in a stable order."""
    files: list[Path] = []
    for part in DBT_PROJECT_PARTS:
        root = project_dir / part
        files += sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    return [f for f in files if f.exists()]


@dataclass(frozen=True)
class Paths:
    """The directories and files one warehouse works with."""

    landing: Path
    lake: Path
    warehouse: Path  # the published DuckDB file BI tools read
    exports: Path
    reports: Path = field(default_factory=lambda: data_dir() / "reports")  # the campaign report

    @property
    def build_db(self) -> Path:
        """dbt's working database; readers never open it (see warehouse/publish.py)."""
        return self.warehouse.with_name(self.warehouse.stem + ".build.duckdb")

    @property
    def data_docs(self) -> Path:
        return self.warehouse.parent / "data_docs"

    def export_env(self) -> None:
        """Make these paths what dbt and every Dagster process see."""
        os.environ["SMS_LANDING_DIR"] = str(self.landing)
        os.environ["SMS_LAKE_DIR"] = str(self.lake)
        os.environ["SMS_WAREHOUSE"] = str(self.warehouse)
        os.environ["SMS_EXPORTS_DIR"] = str(self.exports)
        os.environ["SMS_REPORTS_DIR"] = str(self.reports)
        os.environ["SMS_BUILD_DB"] = str(self.build_db)


def data_dir() -> Path:
    """The folder every default lives under (`SMS_DATA_DIR`, default `data/`)."""
    return Path(os.environ.get("SMS_DATA_DIR", "data")).expanduser().resolve()


def resolve_paths(
    landing: str | None = None,
    lake: str | None = None,
    warehouse: str | None = None,
    exports: str | None = None,
) -> Paths:
    """Flags win over environment variables, which win over defaults under `SMS_DATA_DIR` (`data/`)."""
    data = data_dir()

    def pick(flag: str | None, env: str, default: Path) -> Path:
        return Path(flag or os.environ.get(env) or default).expanduser().resolve()

    return Paths(
        landing=pick(landing, "SMS_LANDING_DIR", data / "landing"),
        lake=pick(lake, "SMS_LAKE_DIR", data / "lake"),
        warehouse=pick(warehouse, "SMS_WAREHOUSE", data / "warehouse" / "sms.duckdb"),
        exports=pick(exports, "SMS_EXPORTS_DIR", data / "exports"),
        reports=pick(None, "SMS_REPORTS_DIR", data / "reports"),
    )
