"""The dbt project as Dagster assets: every model and seed, with dbt tests as asset checks."""

import importlib.metadata
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when no manifest exists yet (fresh clone, edited models under `dagster dev`)."""
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--profiles-dir", str(project.profiles_dir)],
            cwd=project.project_dir,
            check=True,
        )
    return project.manifest_path


@dbt_assets(manifest=ensure_manifest(), project=dbt_project, exclude="resource_type:unit_test")
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging views, intermediate decisions and the marts of contract/marts.md, built and tested by dbt."""
    yield from dbt.cli(["build"], context=context).stream()  # the decorator excludes unit tests


class DbtCli(DbtCliResource):
    """dagster-dbt's resource, reading dbt's version from package metadata.

    The stock resource runs `dbt --version` in a subprocess before every
    invocation, which costs about 7 s on a 2-core machine.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


dbt_resource = DbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
