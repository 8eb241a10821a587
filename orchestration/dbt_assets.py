"""The dbt project as Dagster assets: every model and seed, with dbt tests as asset checks."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ingestion.atomic import replacing
from orchestration import rebuild
from orchestration.settings import DBT_PROJECT_DIR, resolve_paths

# every dbt command: through the forkserver `sms-warehouse run` starts, else in a new process;
# either way through dbt_command.py, whose parse state outlives a change of data folder
DBT_COMMAND = str(Path(sys.executable).with_name("sms-dbt"))
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when no manifest exists yet (fresh clone) or under `dagster dev` (edited models).

    dagster-dbt's own `prepare_if_dev()` looks for `dbt` on PATH, which the
    project's virtual environment is not always on; this uses the venv's.
    """
    if not project.manifest_path.exists() or os.environ.get("DAGSTER_IS_DEV_CLI"):
        subprocess.run(
            [DBT_COMMAND, "parse", "--quiet", "--profiles-dir", str(project.profiles_dir)],
            cwd=project.project_dir,
            check=True,
        )
    return project.manifest_path


# What only a full build can change, which an incremental build would rebuild as it is:
# - the reference seeds (permanent errors, vocabularies) and their own tests: a change to a
#   seed is a change of the project, which makes the next build a full one (rebuild.py);
# - the staging views: their SQL changes only with the project, and they read the lake
#   through a run-time variable (duckdb_lake.py), so they stand for any lake as they are.
# 21 of 62 nodes. `path:seeds` is the seeds and the tests written in seeds/*.yml; with
# indirect selection `empty`, tests of models that read a seed (relationships) still run.
# (One `--exclude` value, a space-separated union: dagster-dbt regroups flags and their values.)
SKIP_UNCHANGED = [
    "--exclude",
    "path:seeds path:models/staging,resource_type:model",
    "--indirect-selection",
    "empty",
]


class BuildConfig(dg.Config):
    """Launchpad options of the dbt build."""

    full_refresh: bool = False
    """Rebuild every model from the whole lake instead of merging what is new (the run
    decides this by itself when models, seeds or old partitions changed)."""


@dbt_assets(manifest=ensure_manifest(), project=dbt_project, exclude="resource_type:unit_test")
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: BuildConfig):
    """Staging views, intermediate decisions and the marts of contract/marts.md, built and tested by dbt.

    Incremental: only the contacts and messages touched by newly ingested rows are
    decided again, unless a full rebuild is needed (see orchestration/rebuild.py).
    """
    paths = resolve_paths()
    paths.export_env()  # dbt reads the lake and build-database paths from the environment
    with rebuild.lake_turn(paths.lake):  # no partition is written while dbt reads the lake
        why = rebuild.reasons(paths, asked=config.full_refresh)
        args = ["build", "--full-refresh"] if why else ["build"]  # the decorator excludes unit tests
        if not why and not context.is_subset:
            args += SKIP_UNCHANGED
        if "DBT_LOG_LEVEL_FILE" not in os.environ:
            # dbt's log file repeats the lines the run already prints (dagster-dbt echoes them)
            # at 0.5 s of a build (debug level: 2-3 s). DBT_LOG_LEVEL_FILE=info or debug writes it
            args += ["--log-level-file", "none"]
        if "DBT_WRITE_JSON" not in os.environ:
            # manifest.json (written twice) and run_results.json in the run's own target folder:
            # nothing reads them (dagster-dbt reads the project's manifest and dbt's event stream),
            # and they were 0.8 s of a cold build's dbt child. DBT_WRITE_JSON=true writes them
            args += ["--no-write-json"]
        context.log.info(f"full rebuild: {'; '.join(why)}" if why else "incremental build")
        invocation = dbt.cli(args, context=context)
        yield from invocation.stream()
        rebuild.record_build(paths)
    keep_partial_parse(invocation.target_path)
    prune_run_targets(invocation.target_path)


PARSE_STATE = "partial_parse.msgpack"


def keep_partial_parse(run_target: Path, project: DbtProject = dbt_project) -> None:
    """Hand this run's parse state to the next run (dagster-dbt seeds each run from `target/`).

    Without it every run parses the whole project again. dbt checks the state
    itself and parses again what no longer matches (see dbt_command.py for why a
    new data folder is not such a change).
    """
    state = run_target / PARSE_STATE
    if state.exists():
        target = project.project_dir / project.target_path
        with replacing(target / PARSE_STATE) as tmp:
            shutil.copyfile(state, tmp)


RUN_TARGETS_KEPT = 10


def prune_run_targets(run_target: Path, keep: int = RUN_TARGETS_KEPT) -> list[Path]:
    """Remove all but the newest `keep` target folders of earlier builds; returns those removed.

    dagster-dbt gives every invocation its own folder under `target/` (logs, compiled SQL,
    run results: 2-3 MB each) and never removes one, so daily runs would fill the disk.
    The latest ones stay for reading after a failure; this run's is never removed.
    """
    prefix = run_target.name.split("-", 1)[0] + "-"
    older = [p for p in run_target.parent.glob(f"{prefix}*") if p.is_dir() and p != run_target]
    older.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = older[max(keep - 1, 0) :]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


class DbtCli(DbtCliResource):
    """dagster-dbt's resource without two start-up costs we do not need (measured on 2 cores).

    - the stock resource runs `dbt --version` in a subprocess before every
      invocation (about 7 s): the version is read from package metadata instead;
    - it sets up a dbt adapter in the Dagster process (about 6 s), used only to
      fetch row counts or column metadata, which these assets do not ask for.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - dagster-dbt's signature
        return None


dbt_resource = DbtCli(project_dir=dbt_project, dbt_executable=DBT_COMMAND)
