"""The warehouse job, and the one way a run that brings the warehouse up to date is requested.

Every run of the warehouse is a run of `update_warehouse`, whoever starts it: the
CLI, the UI, the landing sensor, the nightly schedule (`automation.py`). `plan_run`
decides what such a run does, from what `warehouse.landing_changes` found: the feeds
whose landing files changed, over the range of arrival days that holds their
changes, then the dbt build with its tests and checks, then the publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from ingestion.landing import arrival_day
from orchestration.assets.contact_lists import contact_list_export
from orchestration.assets.docs import warehouse_docs
from orchestration.assets.landing import arrival_days, landing_zone
from orchestration.assets.models import warehouse_models
from orchestration.assets.published import published_warehouse
from orchestration.assets.reports import campaign_report
from orchestration.settings import WarehouseSettings
from orchestration.warehouse.landing_changes import LandingChanges, landing_changes

WAREHOUSE_JOB = "update_warehouse"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

warehouse_job = dg.define_asset_job(
    WAREHOUSE_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(contact_list_export),
    description="Ingest the landing partitions whose files changed, build the dbt models with their "
    "tests and checks, and publish the marts when every blocking check passed.",
)

export_job = dg.define_asset_job(
    "export_contact_lists",
    selection=dg.AssetSelection.assets(contact_list_export),
    description="Write contact lists from the published marts (launchpad: launch_id or campaign_id, lists).",
)

# what every run builds besides the feeds: the landing zone's survey first; after the feeds, the dbt
# project, the published file, the report, the docs
BUILD_KEYS: list[dg.AssetKey] = [
    landing_zone.key,
    *warehouse_models.keys,
    published_warehouse.key,
    campaign_report.key,
    warehouse_docs.key,
]


@dataclass(frozen=True)
class RunPlan:
    """A run of the warehouse job, and the arrival-day partitions to add (or remove) before it starts."""

    request: dg.RunRequest
    new_days: list[str]
    feeds: list[str]  # the feeds it ingests
    days: tuple[str, str] | None  # the first and last arrival day of its range (None: no feed)
    not_days: list[str] = field(default_factory=list)  # partitions that are no arrival day, to remove
    not_read: list[str] = field(default_factory=list)  # what the landing zone holds that is not read, and why

    def describe(self) -> str:
        if self.days is None:
            return "no landing files changed since they were last ingested: dbt, checks and publish"
        return f"{', '.join(self.feeds)} over arrival days {self.days[0]} to {self.days[1]}, then dbt, checks and publish"


def plan_run(
    changes: LandingChanges,
    known_days: Sequence[str],
    full_refresh: bool = False,
    run_key: str | None = None,
) -> RunPlan:
    """The run that brings the warehouse up to date with the landing zone.

    It materialises the feeds with changes over the range of arrival days that
    holds them (in the order the partitions were added, new days last; days in the
    range without changes are skipped by the feed asset), then builds and publishes;
    with nothing changed, it only builds and publishes. `known_days` are the
    partitions that exist, in their order.
    """
    not_days = [
        day for day in known_days if arrival_day(f"date={day}") != day
    ]  # an earlier version's mistake
    known_days = [day for day in known_days if day not in not_days]
    known = set(known_days)
    new_days = [day for day in changes.arrival_days if day not in known]
    position = {day: i for i, day in enumerate([*known_days, *new_days])}
    tags: dict[str, str] = {}
    days = None
    if changes.feeds:
        touched = sorted(changes.touched_days, key=position.__getitem__)
        days = (touched[0], touched[-1])
        tags = {RANGE_START: touched[0], RANGE_END: touched[-1]}
    config = {}
    if full_refresh:  # the models from the whole lake, and the lake's parts read through for damage
        ops = {"warehouse_models": {"config": {"full_refresh": True}}}
        ops |= {"landing_feeds": {"config": {"verify_lake": True}}} if changes.feeds else {}
        config = {"ops": ops}
    request = dg.RunRequest(
        run_key=run_key,
        job_name=WAREHOUSE_JOB,
        asset_selection=[*(dg.AssetKey(feed) for feed in changes.feeds), *BUILD_KEYS],
        tags=tags,
        run_config=config,
    )
    not_read = [f"{path}: {why}" for path, why in changes.survey.problems]
    return RunPlan(request, new_days, changes.feeds, days, not_days, not_read)


def plan_for_instance(
    instance: dg.DagsterInstance,
    settings: WarehouseSettings,
    full_refresh: bool = False,
    run_key: str | None = None,
) -> RunPlan:
    """`plan_run` for the landing zone and lake of `settings` and the partitions the instance knows."""
    paths = settings.paths
    changes = landing_changes(paths.landing, paths.lake, settings.region, verify=full_refresh)
    return plan_run(changes, instance.get_dynamic_partitions(arrival_days.name), full_refresh, run_key)


def apply_partitions(instance: dg.DagsterInstance, plan: RunPlan) -> None:
    """Add the plan's new arrival days as partitions, and remove those that are no arrival day."""
    if plan.new_days:
        instance.add_dynamic_partitions(arrival_days.name, plan.new_days)
    for day in plan.not_days:
        instance.delete_dynamic_partition(arrival_days.name, day)
