"""The published warehouse: what BI tools and exports read."""

import dagster as dg

from orchestration.dbt_assets import warehouse_models
from orchestration.exports import export_lists
from orchestration.publish import PUBLISHED_SCHEMAS, commit, stage, take_staged
from orchestration.settings import resolve_paths

_upstream = [k for k in warehouse_models.keys if k.path[0] in PUBLISHED_SCHEMAS]  # what publish() copies


@dg.asset(group_name="published", deps=_upstream, kinds={"duckdb"})
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The `marts` and `audit` schemas copied into the DuckDB file BI tools open read-only.

    Published only after the dbt build and its tests passed; swapped in atomically,
    so a reader sees either the previous complete version or the new one.
    """
    paths = resolve_paths()
    staged = take_staged(paths.build_db, paths.warehouse)  # written while the mart checks ran
    counts = commit(staged or stage(paths.build_db, paths.warehouse))
    context.log.info(f"published {len(counts)} tables to {paths.warehouse}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.warehouse)),
            "staged_during_checks": staged is not None,
            "tables": dg.MetadataValue.json(counts),
            "dagster/row_count": counts.get("marts.fct_launch_contacts", 0),
        }
    )


class ContactListExport(dg.Config):
    """Which contact lists to export (launchpad)."""

    launch_id: str
    lists: list[str] = ["rejected_hard_bounce", "rejected_soft_bounce"]


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"csv"})
def contact_list_export(context: dg.AssetExecutionContext, config: ContactListExport) -> dg.MaterializeResult:
    """Contact lists of one launch (any reached status or not-sent reason) as CSV files for re-permissioning.

    Written atomically under the export root at
    `campaign=<campaign_id>/launch=<launch_id>/<status_or_reason>.csv`, read from the published
    `fct_launch_contacts`.
    """
    paths = resolve_paths()
    written = export_lists(paths.warehouse, paths.exports, config.launch_id, config.lists)
    for name, (path, rows) in written.items():
        context.log.info(f"{name}: {rows:,} contacts → {path}")
    return dg.MaterializeResult(
        metadata={
            "launch_id": config.launch_id,
            "files": dg.MetadataValue.md(
                "\n".join(
                    f"- `{name}`: {rows:,} contacts, `{path}`" for name, (path, rows) in written.items()
                )
            ),
            "dagster/row_count": sum(rows for _, rows in written.values()),
        }
    )
