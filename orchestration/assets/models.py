"""The dbt project as Dagster assets: every model and seed, with dbt's tests as asset checks.

Grouped in the UI by layer (the schema each model is built in: `reference` seeds,
`staging`, `intermediate`, `marts`, `audit`); the sources are the landing feeds.
"""

import os
import shutil
import time
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
    exclude="resource_type:unit_test",
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
        invocation = dbt.cli(args, context=context)
        built = tested = 0
        for event in invocation.stream():
            built += isinstance(event, dg.Output)
            tested += isinstance(event, dg.AssetCheckResult)
            yield event
        rebuild.record_build(paths)
    keep_partial_parse(invocation.target_path)
    prune_run_targets(invocation.target_path)
    say(
        context.log,
        f"dbt built {built} models and seeds, ran {tested} tests in {time.perf_counter() - started:.1f}s",
    )


PARSE_STATE = "partial_parse.msgpack"


def keep_partial_parse(run_target: Path, project: DbtProject = dbt_project) -> None:
    """Hand this build's parse state to the next one (dagster-dbt seeds each build from `target/`).

    Without it every build parses the whole project again; dbt checks the state
    itself and parses again whatever no longer matches.
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
