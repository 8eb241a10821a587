"""The campaign report: the reporting tab's numbers per launch, as static pages and in the UI."""

import dagster as dg

from orchestration.assets.published import published_warehouse
from orchestration.instance import WAREHOUSE_POOL
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
from orchestration.warehouse.campaign_report import read_launches, summary_markdown, write_report


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"html"}, pool=WAREHOUSE_POOL)
def campaign_report(context: dg.AssetExecutionContext, settings: WarehouseSettings) -> dg.MaterializeResult:
    """Per launch, what the reporting tab shows: the summary (sent, delivery rate, unsubscribed,
    hard and soft bounced, unknown delivery), the SMS not sent by reason beside the launch list,
    the contacts reached by status, with counts, percentages and charts; batch campaigns and
    automated programs apart, each program with its per-day trend.

    Written as static HTML (`SMS_REPORTS_DIR`, default `data/reports/index.html`, one page per
    launch) that opens from the file with no network; the latest launches are in the metadata.
    """
    paths = settings.paths
    launches = read_launches(paths.warehouse)
    index = write_report(launches, paths.report)
    say(context.log, f"campaign report: {index}")
    return dg.MaterializeResult(
        metadata={
            "latest launches": dg.MetadataValue.md(summary_markdown(launches)),
            "report": dg.MetadataValue.url(index.as_uri()),
            "report path": dg.MetadataValue.path(str(index)),
            "launches": len(launches),
        }
    )
