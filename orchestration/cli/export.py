"""`sms-warehouse export`: a run of the `export_contact_lists` job, recorded like every run."""

from __future__ import annotations

import argparse

import dagster as dg

from orchestration.cli.run import (
    UserError,
    failure,
    open_instance,
    prepare_dbt_project,
    run_config,
    say,
    settings_of,
    terminal,
)


def cmd_export(args: argparse.Namespace) -> int:
    settings = settings_of(warehouse=args.warehouse, exports_dir=args.exports)
    paths = settings.paths
    if not paths.warehouse.exists():
        raise UserError(f"no published warehouse at {paths.warehouse}: run `sms-warehouse run` first")
    prepare_dbt_project(say)

    from orchestration.definitions import export_contact_lists

    config = {"launch_id": args.launch, "campaign_id": args.campaign, "lists": args.list or []}
    with open_instance(settings) as instance, terminal(verbose=False) as fd:
        result = dg.execute_job(
            dg.reconstructable(export_contact_lists),
            instance=instance,
            run_config=run_config(settings, fd, False, {"ops": {"contact_list_export": {"config": config}}}),
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
