"""Contact lists as files, exported by operators from the launchpad for re-permissioning or a relaunch."""

import dagster as dg

from orchestration.assets.published import published_warehouse
from orchestration.paths import resolve_paths
from orchestration.warehouse.contact_lists import export_lists


class ContactListExport(dg.Config):
    """Which contact lists to export (launchpad)."""

    launch_id: str
    lists: list[str] = ["rejected_hard_bounce", "rejected_soft_bounce"]


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"csv"})
def contact_list_export(context: dg.AssetExecutionContext, config: ContactListExport) -> dg.MaterializeResult:
    """Contact lists of one launch (any reached status or not-sent reason) as CSV files.

    Written atomically under the export root at
    `campaign=<campaign_id>/launch=<launch_id>/<status_or_reason>.csv`, read from the
    published `fct_launch_contacts`.
    """
    paths = resolve_paths()
    written = export_lists(paths.warehouse, paths.exports, config.launch_id, config.lists)
    for name, (path, rows) in written.items():
        context.log.info(f"{name}: {rows:,} contacts → {path}")
    return dg.MaterializeResult(
        metadata={
            "launch_id": config.launch_id,
            "files": dg.MetadataValue.md(
                "\n".join(f"- `{name}`: {rows:,} contacts, `{path}`" for name, (path, rows) in written.items())
            ),
            "dagster/row_count": sum(rows for _, rows in written.values()),
        }
    )
