"""The column docs: every model and column of the published marts, as a static site readable offline."""

import json
import shutil
import tempfile
from pathlib import Path

import dagster as dg

from ingestion.atomic import replacing
from orchestration.assets.published import published_warehouse
from orchestration.dbt_cli.resource import DbtCli
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import resolve_paths
from orchestration.progress import say
from orchestration.warehouse import rebuild

DIGEST = ".project-digest"  # the dbt project the site was generated from


@dg.asset(group_name="published", deps=[published_warehouse], kinds={"dbt", "html"}, pool=WAREHOUSE_POOL)
def warehouse_docs(context: dg.AssetExecutionContext, dbt: DbtCli) -> dg.MaterializeResult:
    """dbt's documentation of the warehouse: every model, its columns, their types and meaning
    (from contract/marts.md), and the lineage from the lake to the marts.

    Written as one static page (`dbt docs generate --static`), `<warehouse folder>/docs/index.html`,
    which opens from the file with no network; generated again only when the dbt project changed.
    """
    paths = resolve_paths()
    site = paths.warehouse.parent / "docs" / "index.html"
    digest = rebuild.project_digest()
    marker = site.with_name(DIGEST)
    fresh = not (site.exists() and marker.exists() and marker.read_text() == digest)
    if fresh:
        paths.export_env()
        with tempfile.TemporaryDirectory(prefix="sms-dbt-docs-") as target, rebuild.lake_turn(paths.lake):
            dbt.cli(["docs", "generate", "--static"], target_path=Path(target)).wait()
            with replacing(site) as tmp:
                shutil.copyfile(Path(target) / "static_index.html", tmp)
            models = len(json.loads((Path(target) / "catalog.json").read_text())["nodes"])
        marker.write_text(digest)
        say(context.log, f"column docs: {site} ({models} tables and views)")
    return dg.MaterializeResult(
        metadata={
            "docs": dg.MetadataValue.url(site.as_uri()),
            "path": dg.MetadataValue.path(str(site)),
            "regenerated": fresh,
        }
    )
