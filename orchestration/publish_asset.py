"""The published warehouse: what BI tools and exports read."""

import dagster as dg

from orchestration.dbt_assets import warehouse_models
from orchestration.publish import publish
from orchestration.settings import resolve_paths

PUBLISHED_MODELS = (
    "fct_launch_contacts", "mart_campaign_summary", "mart_not_sent_reasons", "mart_reached_statuses",
    "orphan_receipts", "unattributed_keyword_optouts", "quarantine_summary", "ingest_files",
)  # fmt: skip
_upstream = [k for k in warehouse_models.keys if k.path[-1] in PUBLISHED_MODELS]


@dg.asset(group_name="published", deps=_upstream, kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The `marts` and `audit` schemas copied into the DuckDB file BI tools open read-only.

    Published only after the dbt build and its tests passed; swapped in atomically,
    so a reader sees either the previous complete version or the new one.
    """
    paths = resolve_paths()
    counts = publish(paths.build_db, paths.warehouse)
    context.log.info(f"published {len(counts)} tables to {paths.warehouse}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.warehouse)),
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": counts.get("marts.fct_launch_contacts", 0),
        }
    )
