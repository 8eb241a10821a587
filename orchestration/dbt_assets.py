"""The dbt project as Dagster assets: every model and seed, with dbt tests as asset checks."""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ingestion.atomic import replacing
from orchestration import rebuild
from orchestration.settings import DBT_PROJECT_DIR, resolve_paths

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# dbt through the forkserver `sms-warehouse run` starts (plain dbt when none is up)
SMS_DBT = Path(sys.executable).with_name("sms-dbt")
DBT_COMMAND = str(SMS_DBT) if SMS_DBT.exists() else DBT_EXECUTABLE  # what the dbt steps run
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when no manifest exists yet (fresh clone) or under `dagster dev` (edited models).

    dagster-dbt's own `prepare_if_dev()` looks for `dbt` on PATH, which the
    project's virtual environment is not always on; this uses the venv's dbt.
    """
    if not project.manifest_path.exists() or os.environ.get("DAGSTER_IS_DEV_CLI"):
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--profiles-dir", str(project.profiles_dir)],
            cwd=project.project_dir,
            check=True,
        )
    return project.manifest_path


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
        if "DBT_LOG_LEVEL_FILE" not in os.environ:
            # dbt's debug-level log file (every statement, every cache event) costs 2-3 s of a
            # 10 s build; info keeps the lines of the run's output. DBT_LOG_LEVEL_FILE=debug: all
            args += ["--log-level-file", "info"]
        context.log.info(f"full rebuild: {'; '.join(why)}" if why else "incremental build")
        invocation = dbt.cli(args, context=context)
        yield from invocation.stream()
        rebuild.record_build(paths)
    keep_partial_parse(invocation.target_path)


PARSE_STATE = "partial_parse.msgpack"
PARSED_FOR = "partial_parse.paths"  # beside it: the paths it was parsed with


def _parsed_with() -> str:
    """What dbt's parse state depends on besides the project files: the profile's database
    path and the lake path of the sources (both from the environment, see settings.py)."""
    return f"{os.environ.get('SMS_BUILD_DB', '')}\n{os.environ.get('SMS_LAKE_DIR', '')}\n"


def keep_partial_parse(run_target: Path, project: DbtProject = dbt_project) -> None:
    """Hand this run's parse state to the next run (dagster-dbt seeds each run from `target/`).

    Without it every run parses the whole project again, because the state left by
    `dbt parse` at setup was made with other paths in the profile. dbt checks the
    state itself and parses in full when it no longer matches.
    """
    state = run_target / PARSE_STATE
    if state.exists():
        target = project.project_dir / project.target_path
        with replacing(target / PARSE_STATE) as tmp:
            shutil.copyfile(state, tmp)
        with replacing(target / PARSED_FOR) as tmp:
            tmp.write_text(_parsed_with())


def parse_ahead(project: DbtProject = dbt_project) -> threading.Thread | None:
    """Parse the project now, in the background, if the kept parse state is for other paths.

    dbt parses the whole project again (4-5 s of one core) when the profile changed,
    which a new warehouse location does. `sms-warehouse run` calls this while
    ingestion works (through the forkserver, see dbt_forkserver.py) and joins the
    thread before the build, which then finds a parse state that fits. Nothing to do
    (None) when the kept state was made with these paths.
    """
    target = project.project_dir / project.target_path
    marker = target / PARSED_FOR
    if marker.exists() and marker.read_text() == _parsed_with():
        return None

    def parse() -> None:
        with tempfile.TemporaryDirectory(prefix="sms-dbt-parse-") as scratch:
            where = [
                "--profiles-dir",
                str(project.profiles_dir),
                "--target-path",
                scratch,
                "--log-path",
                scratch,
            ]
            done = subprocess.run(
                [DBT_COMMAND, "parse", "--quiet", *where, "--log-level-file", "none"],
                cwd=project.project_dir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            if done.returncode == 0:  # a failing parse fails the build itself, with dbt's message
                keep_partial_parse(Path(scratch), project)

    thread = threading.Thread(target=parse, name="dbt-parse-ahead", daemon=True)
    thread.start()
    return thread


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
