"""The dbt project as dagster-dbt sees it: one `DbtProject`, parsed under `dagster dev`."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.paths import DBT_PROJECT_DIR, dbt_project_files

# the dbt of this environment, whether or not its bin folder is on PATH (`.venv/bin/sms-warehouse`)
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """Whether the manifest is missing or older than a file of the project (a model was edited
    since `make setup` parsed it)."""
    if not project.manifest_path.exists():
        return True
    parsed = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > parsed for path in dbt_project_files(project.project_dir))


def parse(project: DbtProject = dbt_project) -> None:
    """Parse the project into its manifest, as `make setup` and `dagster dev` do (`dbt parse`)."""
    resource = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
    resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()
