"""`sms-warehouse export`: a run of the `export_contact_lists` job, recorded like every run."""

from __future__ import annotations

import argparse

from orchestration.cli.run import UserError, failure, say, terminal
from orchestration.paths import resolve_paths


def cmd_export(args: argparse.Namespace) -> int:
    paths = resolve_paths(warehouse=args.warehouse, exports=args.exports)
    if not paths.warehouse.exists():
        raise UserError(f"no published warehouse at {paths.warehouse}: run `sms-warehouse run` first")
    paths.export_env()

    import dagster as dg

    from orchestration.definitions import export_contact_lists
    from orchestration.instance import dagster_home

    dagster_home()
    config = {"launch_id": args.launch, "campaign_id": args.campaign, "lists": args.list or []}
    with dg.DagsterInstance.get() as instance, terminal(verbose=False) as fd:
        result = dg.execute_job(
            dg.reconstructable(export_contact_lists),
            instance=instance,
            run_config={
                "ops": {"contact_list_export": {"config": config}},
                "loggers": {"terminal": {"config": {"fd": fd}}},
            },
            tags={"sms/launched_by": "sms-warehouse export"},
        )
    if not result.success:
        raise UserError(failure(result))
    [materialization] = result.get_asset_materialization_events()
    files = materialization.materialization.metadata["files"].value.records
    for record in files:
        row = record.data
        say(f"{row['launch_id']} {row['list']}: {row['contacts']:,} contacts → {row['path']}")
    if not files:
        say("no launch's contacts changed since the last export: nothing written")
    return 0
