"""The published warehouse: the file BI tools and exports read, replaced only after a tested build."""

import dagster as dg

from orchestration.assets.models import warehouse_models
from orchestration.instance import WAREHOUSE_POOL
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import rebuild
from orchestration.warehouse.publish import PUBLISHED_SCHEMAS, publish

_upstream = [k for k in warehouse_models.keys if k.path[0] in PUBLISHED_SCHEMAS]  # what it copies


@dg.asset(group_name="published", deps=_upstream, kinds={"duckdb"}, pool=WAREHOUSE_POOL)
def published_warehouse(
    context: dg.AssetExecutionContext, settings: WarehouseSettings
) -> dg.MaterializeResult:
    """The `marts` and `audit` schemas copied into the DuckDB file BI tools open read-only.

    Published only after the dbt build and its blocking checks passed; swapped in
    atomically, so a reader sees either the previous complete version or the new one.
    """
    paths = settings.paths
    with rebuild.lake_turn(paths.lake):  # not while another run builds or stages
        done = publish(paths.build_db, paths.warehouse, settings.publish_storage_version)
    if done.repaired:
        context.log.warning(
            f"the published file {paths.warehouse} {done.repaired}: written whole again from the build"
        )
    say(context.log, f"published {len(done.counts)} tables to {paths.warehouse}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.warehouse)),
            "parquet": dg.MetadataValue.path(str(paths.parquet)),
            "column docs": dg.MetadataValue.url(paths.column_docs.as_uri()),
            "open it": dg.MetadataValue.md(f"`.venv/bin/duckdb -readonly {paths.warehouse}`"),
            "staged_during_checks": done.was_staged,
            "repaired": done.repaired or "",
            "tables": dg.MetadataValue.json(done.counts),
            "dagster/row_count": done.counts.get("marts.fct_launch_contacts", 0),
        }
    )
