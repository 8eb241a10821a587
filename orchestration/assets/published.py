"""The published warehouse: the file BI tools and exports read, replaced only after a tested build."""

import dagster as dg

from orchestration.assets.models import warehouse_models
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import resolve_paths
from orchestration.progress import say
from orchestration.warehouse.publish import PUBLISHED_SCHEMAS, commit, parquet_link, stage, take_staged

_upstream = [k for k in warehouse_models.keys if k.path[0] in PUBLISHED_SCHEMAS]  # what it copies


@dg.asset(group_name="published", deps=_upstream, kinds={"duckdb"}, pool=WAREHOUSE_POOL)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The `marts` and `audit` schemas copied into the DuckDB file BI tools open read-only.

    Published only after the dbt build and its blocking checks passed; swapped in
    atomically, so a reader sees either the previous complete version or the new one.
    """
    paths = resolve_paths()
    staged = take_staged(paths.build_db, paths.warehouse)  # written while the mart checks ran
    counts = commit(staged or stage(paths.build_db, paths.warehouse))
    say(context.log, f"published {len(counts)} tables to {paths.warehouse}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.warehouse)),
            "parquet": dg.MetadataValue.path(str(parquet_link(paths.warehouse))),
            "column docs": dg.MetadataValue.url((paths.warehouse.parent / "docs" / "index.html").as_uri()),
            "open it": dg.MetadataValue.md(f"`.venv/bin/duckdb -readonly {paths.warehouse}`"),
            "staged_during_checks": staged is not None,
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": counts.get("marts.fct_launch_contacts", 0),
        }
    )
