"""The Dagster code location loads as `dagster dev` loads it, with every asset and check the UI shows."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[1]


def test_workspace_loads_with_the_dagster_cli() -> None:
    dagster = str(Path(sys.executable).with_name("dagster"))
    done = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_assets_and_checks() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    feeds = {"launches", "send_logs", "credit_blocks", "dlrs", "unsubscribes", "inbound_sms"}
    marts = {
        "marts/fct_launch_contacts",
        "marts/mart_campaign_summary",
        "marts/mart_not_sent_reasons",
        "marts/mart_reached_statuses",
    }
    assert feeds | marts | {"published_warehouse", "contact_list_export"} <= keys
    for feed in feeds:
        assert isinstance(graph.get(dg.AssetKey(feed)).partitions_def, dg.DailyPartitionsDefinition)
    specs = [spec for a in [*defs.assets, *defs.asset_checks] for spec in a.check_specs]
    checks = {(spec.asset_key.to_user_string(), spec.name): spec for spec in specs}
    assert checks[("send_logs", "lake_expectations")].blocking
    assert not checks[("send_logs", "ingest_report")].blocking
    assert checks[("marts/mart_campaign_summary", "marts_contract")].blocking
    assert not checks[("marts/mart_campaign_summary", "declared_list_size")].blocking
    assert checks[("marts/fct_launch_contacts", "contacts_contract")].blocking
    dbt_tests = [
        name
        for (asset, name) in checks
        if asset == "marts/mart_campaign_summary" and name.startswith("expression_is_true")
    ]
    assert dbt_tests  # dbt tests surface as asset checks too
