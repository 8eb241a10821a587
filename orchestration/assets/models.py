"""The dbt project as Dagster assets: every model and seed, with dbt's tests as asset checks.

Grouped in the UI by layer (the schema each model is built in: `reference` seeds,
`staging`, `intermediate`, `marts`, `audit`); the sources are the landing feeds.
"""

import contextlib
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets

from ingestion.atomic import replacing
from ingestion.lake import ensure_schemas
from orchestration.dbt_cli.arguments import build_args
from orchestration.dbt_cli.project import dbt_project, prepare
from orchestration.dbt_cli.resource import DbtCli
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import resolve_paths
from orchestration.progress import say
from orchestration.warehouse import rebuild

LAKE_SOURCE = "lake"  # dbt's source for the feeds' lake partitions (models/sources.yml)


class WarehouseTranslator(DagsterDbtTranslator):
    """dbt nodes as this warehouse's assets: a model's group is its layer (the schema it is built
    in), and a table of the `lake` source is the landing feed of the same name."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == LAKE_SOURCE
        ):
            return dg.AssetKey(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or super().get_group_name(
            dbt_resource_props
        )


class BuildConfig(dg.Config):
    """Launchpad options of the dbt build."""

    full_refresh: bool = False
    """Rebuild every model from the whole lake instead of merging what is new (a run decides this
    by itself when models, seeds or old partitions changed)."""


@dbt_assets(
    manifest=prepare(dbt_project).manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCli, config: BuildConfig):
    """The staging views, intermediate decisions, marts and audit tables of contract/marts.md.

    Incremental: only the contacts and messages touched by newly ingested rows are
    decided again, unless a full rebuild is needed (see orchestration/warehouse/rebuild.py).
    """
    paths = resolve_paths()
    paths.export_env()  # dbt reads the lake and build-database paths from the environment
    ensure_schemas(paths.lake)  # every feed reads, even one that never had a partition
    started = time.perf_counter()
    with rebuild.lake_turn(paths.lake):  # no partition is written while dbt reads the lake
        why = rebuild.reasons(paths, asked=config.full_refresh)
        say(
            context.log,
            f"dbt: full rebuild ({'; '.join(why)})" if why else "dbt: incremental build of what is new",
        )
        args = build_args(
            full_refresh=bool(why),
            subset=context.is_subset,
            log_file="DBT_LOG_LEVEL_FILE" in os.environ,
            write_json=os.environ.get("DBT_WRITE_JSON", "").lower() == "true",
        )
        rebuild.begin_build(paths)
        run_name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}"
        target = build_target(run_name, paths.build_db)
        invocation = dbt.cli(args, context=context, target_path=target)
        built = tested = 0
        for event in invocation.stream():
            built += isinstance(event, dg.Output)
            tested += isinstance(event, dg.AssetCheckResult)
            yield event
        rebuild.record_build(paths)
    keep_partial_parse(invocation.target_path, paths.build_db)
    prune_run_targets(invocation.target_path)
    say(
        context.log,
        f"dbt built {built} models and seeds, ran {tested} tests in {time.perf_counter() - started:.1f}s",
    )


PARSE_STATE = "partial_parse.msgpack"
PARSE_STATES = "parse-states"  # under `target/`: the parse state of the builds into each build database
PARSE_STATES_KEPT = 10


def _target_dir(project: DbtProject) -> Path:
    """The project's `target/`: dagster-dbt's build folders, the parse states kept between builds."""
    return project.project_dir / project.target_path


def parse_state_of(build_db: Path, project: DbtProject = dbt_project) -> Path:
    """Where the parse state of the last build into `build_db` is kept.

    dbt's parse state holds a hash of the profile, and the profile names the build
    database: a build that follows one into another data folder (two warehouses on one
    checkout, the UI's and a command line's) finds a state it cannot use and parses the
    whole project again. Kept per build database, each folder's builds start from the
    state of its last build (its first build still parses everything).
    """
    key = hashlib.sha256(str(build_db.resolve()).encode()).hexdigest()[:16]
    return _target_dir(project) / PARSE_STATES / f"{key}.msgpack"


def build_target(run_name: str, build_db: Path, project: DbtProject = dbt_project) -> Path:
    """A new target folder for one dbt build (`<run_name>-<random>`, named as dagster-dbt names its
    own), holding the parse state of the last build into `build_db` when there is one.

    dagster-dbt copies `target/partial_parse.msgpack` into a build's folder only when the
    folder has none; without a state of this build database, that one is used.
    """
    target = _target_dir(project) / f"{run_name}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    with contextlib.suppress(FileNotFoundError):
        shutil.copyfile(parse_state_of(build_db, project), target / PARSE_STATE)
    return target


def keep_partial_parse(run_target: Path, build_db: Path, project: DbtProject = dbt_project) -> None:
    """Hand this build's parse state to the next build into `build_db` (`parse_state_of`), and to
    any other (`target/partial_parse.msgpack`, which dagster-dbt seeds each build from).

    Without it every build parses the whole project again; dbt checks the state
    itself and parses again whatever no longer matches. The states of the
    `PARSE_STATES_KEPT` build databases built last are kept.
    """
    state = run_target / PARSE_STATE
    if not state.exists():
        return
    own = parse_state_of(build_db, project)
    for kept in (_target_dir(project) / PARSE_STATE, own):
        with replacing(kept) as tmp:
            shutil.copyfile(state, tmp)
    ages = {}
    for path in own.parent.glob("*.msgpack"):
        with contextlib.suppress(FileNotFoundError):  # a build into another folder pruned it meanwhile
            ages[path] = path.stat().st_mtime
    for old in sorted(ages, key=ages.__getitem__)[:-PARSE_STATES_KEPT]:
        old.unlink(missing_ok=True)


RUN_TARGETS_KEPT = 10


def prune_run_targets(run_target: Path, keep: int = RUN_TARGETS_KEPT) -> list[Path]:
    """Remove all but the newest `keep` target folders of earlier builds; returns those removed.

    dagster-dbt gives every invocation its own folder under `target/` (logs, compiled SQL,
    run results) and never removes one, so daily runs would fill the disk. The latest
    ones stay for reading after a failure; this build's is never removed.
    """
    prefix = run_target.name.split("-", 1)[0] + "-"
    older = [p for p in run_target.parent.glob(f"{prefix}*") if p.is_dir() and p != run_target]
    older.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = older[max(keep - 1, 0) :]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
