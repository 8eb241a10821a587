"""Dagster definitions: feed assets → dbt models (tests as checks) → published warehouse."""

from __future__ import annotations

import dagster as dg

from orchestration.checks import mart_checks
from orchestration.dbt_assets import dbt_resource, warehouse_models
from orchestration.feed_assets import feed_assets
from orchestration.publish_asset import contact_list_export, published_warehouse

ingest_job = dg.define_asset_job("ingest_feeds", selection=dg.AssetSelection.groups("lake"))
build_job = dg.define_asset_job(
    "build_marts", selection=dg.AssetSelection.assets(warehouse_models, published_warehouse)
)

nightly_build = dg.ScheduleDefinition(job=build_job, cron_schedule="30 2 * * *", name="nightly_build")

defs = dg.Definitions(
    assets=[*feed_assets, warehouse_models, published_warehouse, contact_list_export],
    asset_checks=mart_checks,
    jobs=[ingest_job, build_job],
    schedules=[nightly_build],
    resources={"dbt": dbt_resource},
)
