"""The warehouse's Dagster definitions: what the UI, the daemon and `sms-warehouse run` all load.

landing zone → landing feeds (daily arrival partitions) → dbt models (tests as checks)
→ mart checks → published warehouse; the contact-list export beside it. Every run goes
through the in-process executor: a run's steps follow one another in one process.
The resources: `settings` (folders and knobs from the `SMS_*` variables), `dbt`
(dagster-dbt's resource as shipped) and `validator` (Great Expectations).
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.contact_lists import contact_list_export
from orchestration.assets.docs import warehouse_docs
from orchestration.assets.landing import landing_feeds, landing_zone
from orchestration.assets.models import warehouse_models
from orchestration.assets.published import published_warehouse
from orchestration.assets.reports import campaign_report
from orchestration.automation import landing_sensor, nightly_update
from orchestration.checks.marts import mart_checks
from orchestration.checks.validator import Validator
from orchestration.dbt_cli.project import DBT_EXECUTABLE, dbt_project
from orchestration.jobs import WAREHOUSE_JOB, export_job, warehouse_job
from orchestration.progress import terminal_logger
from orchestration.settings import resource_from_environment

defs = dg.Definitions(
    assets=[
        landing_zone,
        landing_feeds,
        warehouse_models,
        published_warehouse,
        campaign_report,
        warehouse_docs,
        contact_list_export,
    ],
    asset_checks=[mart_checks],
    jobs=[warehouse_job, export_job],
    schedules=[nightly_update],
    sensors=[landing_sensor],
    resources={
        "settings": resource_from_environment(),
        # no colour codes in the run's logs, where dagster-dbt keeps dbt's lines
        "dbt": DbtCliResource(
            project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE, global_config_flags=["--no-use-colors"]
        ),
        "validator": Validator(),
    },
    loggers={"terminal": terminal_logger()},
    executor=dg.in_process_executor,
)


def update_warehouse() -> dg.JobDefinition:
    """The warehouse job, resolved: what `sms-warehouse run` executes (`dg.reconstructable` of this)."""
    return defs.resolve_job_def(WAREHOUSE_JOB)


def export_contact_lists() -> dg.JobDefinition:
    """The export job, resolved: what `sms-warehouse export` executes."""
    return defs.resolve_job_def(export_job.name)
