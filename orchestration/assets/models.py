"""The dbt project as Dagster assets: every model and seed, with dbt's tests as asset checks.

Grouped in the UI by layer (the schema each model is built in: `reference` seeds,
`staging`, `intermediate`, `marts`, `audit`); the sources are the landing feeds.
After a build, each model's page shows its row count, and after a full build its
columns as the build database has them (dagster-dbt fetches both; the columns as the
project declares them are there from the start).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingestion.lake import ensure_schemas
from orchestration.dbt_cli.arguments import UNIT_TESTS, build_args
from orchestration.dbt_cli.project import dbt_project
from orchestration.instance import WAREHOUSE_POOL
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
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
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    exclude=UNIT_TESTS,
    pool=WAREHOUSE_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: WarehouseSettings, config: BuildConfig
):
    """The staging views, intermediate decisions, marts and audit tables of contract/marts.md.

    Incremental: only the contacts and messages touched by newly ingested rows are
    decided again, unless a full rebuild is needed (see orchestration/warehouse/rebuild.py).
    """
    paths = settings.paths
    ensure_schemas(paths.lake)  # every feed reads, even one that never had a partition
    with rebuild.lake_turn(paths.lake):  # no partition is written while dbt reads the lake
        why = rebuild.reasons(paths, asked=config.full_refresh)
        say(
            context.log,
            f"dbt: full rebuild ({'; '.join(why)})" if why else "dbt: incremental build of what is new",
        )
        args = build_args(
            full_refresh=bool(why),
            subset=context.is_subset,
            threads=settings.dbt_threads,
            variables=settings.dbt_vars(),
        )
        rebuild.begin_build(paths)
        invocation = dbt.cli(args, context=context, target_path=paths.dbt_target)
        # wait for dbt with a blocking read of its output: the row counts wait for it to release
        # DuckDB's file anyway, and streaming meanwhile would poll in a loop that takes a core from dbt
        succeeded = invocation.is_successful()
        events = invocation.stream()  # a failed build's events, then its error
        if succeeded:
            events = events.fetch_row_counts()
            if why:  # the columns change only with the dbt project, which makes the build a full one
                events = events.fetch_column_metadata(with_column_lineage=False)
        else:
            for left in rebuild.forget_failed_build(paths):
                context.log.warning(
                    f"removed {left}, left by the failed build (the next build is a full one)"
                )
        built = tested = 0
        for event in events:
            built += isinstance(event, dg.Output)
            tested += isinstance(event, dg.AssetCheckResult)
            yield event
        rebuild.record_build(paths)
    say(context.log, f"dbt built {built} models and seeds, ran {tested} tests")
