"""Where every file of one warehouse lives: each location named once, derived from a few folders.

`Paths` is plain data (no Dagster, no environment): the settings resource
(`orchestration/settings.py`) makes one from its configuration, and every asset,
check, sensor and command asks it where things are.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def parquet_folder(warehouse: Path) -> Path:
    """Where the tables of the published file `warehouse` are as Parquet: `parquet/` beside it."""
    return warehouse.parent / "parquet"


@dataclass(frozen=True)
class Paths:
    """The folders and files one warehouse works with (absolute paths)."""

    landing: Path
    lake: Path
    warehouse: Path  # the published DuckDB file BI tools read
    exports: Path
    reports: Path  # the campaign report's folder

    @property
    def build_db(self) -> Path:
        """dbt's working database; readers never open it (see warehouse/publish.py)."""
        return self.warehouse.with_name(self.warehouse.stem + ".build.duckdb")

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for this warehouse's builds: its parse state, logs and artefacts
        (kept from one build to the next, so that dbt parses only what changed)."""
        return self.warehouse.parent / "dbt"

    @property
    def parquet(self) -> Path:
        """The published tables as Parquet, `parquet/<schema>/<table>.parquet` (a link, see publish.py)."""
        return parquet_folder(self.warehouse)

    @property
    def column_docs(self) -> Path:
        """dbt's documentation of every published column, one static page."""
        return self.warehouse.parent / "docs" / "index.html"

    @property
    def data_docs(self) -> Path:
        """Great Expectations' Data Docs of the latest run's checks."""
        return self.warehouse.parent / "data_docs"

    @property
    def report(self) -> Path:
        """The campaign report's index page."""
        return self.reports / "index.html"
