"""The dbt project as dagster-dbt sees it: one `DbtProject`, its manifest up to date when Dagster loads it."""

from __future__ import annotations

import os
import shutil

from dagster_dbt import DbtProject

from orchestration.dbt_cli.environment import dbt_command
from orchestration.paths import DBT_PROJECT_DIR, dbt_project_files

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _dbt_on_path() -> None:
    """dagster-dbt parses the project with the `dbt` on PATH (under `dagster dev`): without one,
    dbt's environment's, after every other folder (its `python` must not shadow this one's)."""
    if shutil.which("dbt") is None:
        os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), str(dbt_command().parent)])


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """Whether the manifest is missing or older than a file of the project (a model was edited)."""
    if not project.manifest_path.exists():
        return True
    parsed = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > parsed for path in dbt_project_files(project.project_dir))


def prepare(project: DbtProject = dbt_project) -> DbtProject:
    """Parse the project under `dagster dev` (dagster-dbt's `prepare_if_dev`, which picks up edited
    models), and elsewhere when its manifest is missing or stale; return it.

    Elsewhere it parses through this project's resource, which sets up no dbt adapter in this
    process: the CLI ends without Python's teardown, which would leave the adapter's named
    semaphore behind.
    """
    _dbt_on_path()
    if project.preparer.using_dagster_dev():
        project.prepare_if_dev()
    elif manifest_is_stale(project):
        from orchestration.dbt_cli.resource import SMS_DBT, DbtCli

        parser = DbtCli(project_dir=project, dbt_executable=SMS_DBT, forkserver=False)
        parser.cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project
