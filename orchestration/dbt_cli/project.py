"""The dbt project as dagster-dbt sees it: one `DbtProject`, its manifest up to date when Dagster loads it."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.paths import DBT_PROJECT_DIR, dbt_project_files

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """Whether the manifest is missing or older than a file of the project (a model was edited)."""
    if not project.manifest_path.exists():
        return True
    parsed = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > parsed for path in dbt_project_files(project.project_dir))


def prepare(project: DbtProject = dbt_project) -> DbtProject:
    """Parse the project when its manifest is missing or stale (a model edited, under `dagster
    dev` too: its code server loads the definitions again); return it.

    It parses through this project's resource (`sms-dbt`, dbt's environment): dagster-dbt's
    `prepare_if_dev` would set up a dbt adapter in this process, which has no dbt-core.
    """
    if manifest_is_stale(project):
        from orchestration.dbt_cli.resource import SMS_DBT, DbtCli

        parser = DbtCli(project_dir=project, dbt_executable=SMS_DBT, forkserver=False)
        parser.cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project
