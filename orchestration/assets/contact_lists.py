"""Contact lists as files, exported by operators from the launchpad for re-permissioning or a relaunch."""

import dagster as dg

from orchestration.assets.published import published_warehouse
from orchestration.settings import WarehouseSettings
from orchestration.warehouse.contact_lists import ContactList, ExportedList, ExportError, export_lists

PREVIEWS = 5  # files whose first rows the metadata shows


class ContactListExport(dg.Config):
    """Which contact lists to export. Name a launch, or a campaign (every launch of it), or
    neither: every launch whose contacts changed since the last export."""

    launch_id: str | None = None
    """The launch whose lists to export."""
    campaign_id: str | None = None
    """The campaign whose launches' lists to export (every launch of an automated program)."""
    lists: list[ContactList] = []
    """The lists to export, by name (rejected_hard_bounce, insufficient_credit, ...); none: every
    list that has contacts."""


def _files_table(written: list[ExportedList]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {"launch_id": w.launch_id, "list": w.list_name, "contacts": w.rows, "path": str(w.path)}
            )
            for w in written
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("launch_id", "string"),
                dg.TableColumn("list", "string"),
                dg.TableColumn("contacts", "int"),
                dg.TableColumn("path", "string"),
            ]
        ),
    )


def _preview(exported: ExportedList) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[dg.TableRecord({"contact_id": c, "phone_e164": p or ""}) for c, p in exported.preview],
        schema=dg.TableSchema(
            columns=[dg.TableColumn("contact_id", "string"), dg.TableColumn("phone_e164", "string")]
        ),
    )


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"csv"})
def contact_list_export(
    context: dg.AssetExecutionContext, config: ContactListExport, settings: WarehouseSettings
) -> dg.MaterializeResult:
    """Contact lists (any reached status or not-sent reason) as CSV files, from the published marts.

    Written atomically under the export root (`SMS_EXPORTS_DIR`, default `data/exports`) at
    `campaign=<campaign_id>/launch=<launch_id>/<status_or_reason>.csv`, header
    `contact_id,phone_e164`, sorted by contact. Materialise it from the launchpad
    (Shift+click Materialize) with `launch_id` or `campaign_id` and `lists`.
    """
    paths = settings.paths
    if not paths.warehouse.exists():
        raise dg.Failure(
            description=f"no published warehouse at {paths.warehouse}: run the update_warehouse job first"
        )
    try:
        written = export_lists(
            paths.warehouse,
            paths.exports,
            launch_id=config.launch_id,
            campaign_id=config.campaign_id,
            lists=[item.value for item in config.lists],
        )
    except ExportError as exc:
        raise dg.Failure(description=str(exc)) from exc
    for exported in written:
        context.log.info(
            f"{exported.launch_id} {exported.list_name}: {exported.rows:,} contacts → {exported.path}"
        )
    if not written:
        context.log.info("no launch's contacts changed since the last export: nothing to write")
    metadata: dict[str, object] = {
        "files": _files_table(written),
        "dagster/row_count": sum(w.rows for w in written),
        "export_root": dg.MetadataValue.path(str(paths.exports)),
    }
    if len(written) == 1:
        metadata["path"] = dg.MetadataValue.path(str(written[0].path))
    for exported in written[:PREVIEWS]:
        metadata[f"first rows: {exported.launch_id} {exported.list_name}"] = _preview(exported)
    return dg.MaterializeResult(metadata=metadata)
