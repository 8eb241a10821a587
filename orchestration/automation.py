"""How runs start with nobody pressing a button: the landing sensor, and the nightly schedule.

Both request the warehouse job for what `warehouse.landing_changes` finds not yet
accepted by the lake (`jobs.plan_run`), so a receipt that lands days late moves its
message to its final status within one sensor interval plus one run. Runs they request
wait in Dagster's queue while another run writes the warehouse (see `instance.py`).
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from ingestion.landing import survey
from orchestration.assets.landing import arrival_days
from orchestration.instance import release_dead_runs
from orchestration.jobs import apply_partitions, plan_for_instance, warehouse_job
from orchestration.settings import WarehouseSettings
from orchestration.warehouse.landing_changes import changed_files, landing_files

SENSOR_INTERVAL_S = 15


def change_set_key(changed: list[str], files: dict[str, list[int]]) -> str:
    """One run key per change set: the files that changed, with their sizes and times (a retried
    tick asks for the same run, which Dagster launches once)."""
    text = json.dumps([[path, files.get(path)] for path in changed])
    return "landing-" + hashlib.sha256(text.encode()).hexdigest()[:20]


@dg.sensor(
    job=warehouse_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_sensor(context: dg.SensorEvaluationContext, settings: WarehouseSettings) -> dg.SensorResult:
    """Watches the landing zone (`SMS_LANDING_DIR`) and requests a run when files are new, changed or
    removed: the feeds and arrival days with changes the lake has not accepted, then the build and
    the publish. Its cursor holds each file's size and modification time; a producer's `.tmp`
    file is never read, the renamed file is."""
    release_dead_runs(context.instance, context.log.warning)  # a killed run must not hold the queue
    paths = settings.paths
    files = landing_files(survey(paths.landing)) if paths.landing.is_dir() else {}
    before = json.loads(context.cursor) if context.cursor else {}
    changed = changed_files(before, files)
    cursor = json.dumps(files, sort_keys=True)
    if not changed:
        return dg.SensorResult(skip_reason=f"no file in {paths.landing} is new or changed")
    plan = plan_for_instance(context.instance, settings, run_key=change_set_key(changed, files))
    if not plan.feeds:  # the lake has it all already (another run ingested these files)
        return dg.SensorResult(
            skip_reason=f"{len(changed)} file(s) changed, all already ingested", cursor=cursor
        )
    context.log.info(f"{len(changed)} landing file(s) changed; run: {plan.describe()}")
    for problem in plan.not_read:
        context.log.warning(f"not read: {problem}")
    partitions = [arrival_days.build_add_request(plan.new_days)] if plan.new_days else []
    partitions += [arrival_days.build_delete_request(plan.not_days)] if plan.not_days else []
    return dg.SensorResult(run_requests=[plan.request], dynamic_partitions_requests=partitions, cursor=cursor)


@dg.schedule(
    job=warehouse_job,
    cron_schedule="30 2 * * *",
    name="nightly_update",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_update(context: dg.ScheduleEvaluationContext, settings: WarehouseSettings) -> dg.RunRequest:
    """Every night, a safety net for the sensor: ingest what landed and was not ingested (a failed
    day whose files did not change since, say), build and publish."""
    plan = plan_for_instance(context.instance, settings)
    apply_partitions(context.instance, plan)
    return plan.request
