"""The column docs: every model and column of the published marts, as a static site readable offline."""

import json
import shutil

import dagster as dg
from dagster_dbt import DbtCliResource

from ingestion.atomic import replacing
from orchestration.assets.published import published_warehouse
from orchestration.dbt_cli.arguments import settings_args
from orchestration.instance import WAREHOUSE_POOL
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import rebuild

DIGEST = ".project-digest"  # the dbt project the site was generated from


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"dbt", "html"}, pool=WAREHOUSE_POOL)
def warehouse_docs(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: WarehouseSettings
) -> dg.MaterializeResult:
    """dbt's documentation of the warehouse: every model, its columns, their types and meaning
    (from contract/marts.md), and the lineage from the lake to the marts.

    Written as one static page (`dbt docs generate --static`), `<warehouse folder>/docs/index.html`,
    which opens from the file with no network; generated again only when the dbt project changed.
    """
    paths = settings.paths
    site = paths.column_docs
    digest = rebuild.project_digest()
    marker = site.with_name(DIGEST)
    fresh = not (site.exists() and marker.exists() and marker.read_text() == digest)
    if fresh:
        target = paths.dbt_target
        with rebuild.lake_turn(paths.lake):
            args = ["docs", "generate", "--static", *settings_args(settings.dbt_threads, settings.dbt_vars())]
            dbt.cli(args, target_path=target).wait()
            with replacing(site) as tmp:
                shutil.copyfile(target / "static_index.html", tmp)
            models = len(json.loads((target / "catalog.json").read_text())["nodes"])
        marker.write_text(digest)
        say(context.log, f"column docs: {site} ({models} tables and views)")
    return dg.MaterializeResult(
        metadata={
            "docs": dg.MetadataValue.url(site.as_uri()),
            "path": dg.MetadataValue.path(str(site)),
            "regenerated": fresh,
        }
    )
