"""The Dagster code location loads as `dagster dev` loads it, with every asset and check the UI shows."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[1]


QUERY = """{ assetNodes { assetKey { path }
    assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _asset_nodes(port: int) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]["assetNodes"]


def test_dagster_dev_shows_every_asset_and_check(tmp_path: Path) -> None:
    """The UI as an operator opens it: `dagster dev` on the workspace, without the venv on PATH."""
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    dagster = str(Path(sys.executable).with_name("dagster"))
    proc = subprocess.Popen(
        [dagster, "dev", "-w", "workspace.yaml", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        nodes: list[dict] = []
        deadline = time.monotonic() + 180
        while not nodes and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(2)
            try:
                nodes = _asset_nodes(port)
            except (OSError, KeyError, ValueError):
                continue
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    checks = {
        ("/".join(n["assetKey"]["path"]), c["name"]): c["blocking"]
        for n in nodes
        if n["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in n["assetChecksOrError"]["checks"]
    }
    assert checks[("send_logs", "lake_expectations")] is True
    assert checks[("dlrs", "ingest_report")] is False
    assert checks[("marts/mart_campaign_summary", "marts_contract")] is True
    assert checks[("marts/mart_campaign_summary", "declared_list_size")] is False
    assert checks[("marts/fct_launch_contacts", "contacts_contract")] is True
    assert checks[("audit/orphan_receipts", "nothing_left_over")] is False


def test_assets_and_checks() -> None:
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)  # what `dagster dev` checks: unique op and job names, ...
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


def test_one_feed_can_be_materialised_on_its_own(tmp_path: Path, monkeypatch) -> None:
    """The feeds share one step, but the UI can still select a single feed: only it and its checks run."""
    from orchestration.feed_assets import landing_feeds
    from tests.landing_builder import jsonl, write_file

    write_file(tmp_path / "landing", "launches", "2026-11-02", "l.jsonl", jsonl([
        {"event_id": "e1", "launch_id": "L1", "campaign_id": "C1", "campaign_type": "batch",
         "launched_at": "2026-11-02T08:00:00Z", "launch_list_size": 3},
    ]))  # fmt: skip
    write_file(tmp_path / "landing", "inbound_sms", "2026-11-02", "i.jsonl", "")  # not selected
    for name, folder in (("LANDING_DIR", "landing"), ("LAKE_DIR", "lake"), ("WAREHOUSE", "w/sms.duckdb")):
        monkeypatch.setenv(f"SMS_{name}", str(tmp_path / folder))
    result = dg.materialize(
        [landing_feeds], selection=["launches"], partition_key="2026-11-02", raise_on_error=False
    )
    assert result.success
    assert [m.asset_key.to_user_string() for m in result.get_asset_materialization_events()] == ["launches"]
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()
    }
    assert checks == {("launches", "lake_expectations"): True, ("launches", "ingest_report"): True}
    assert (tmp_path / "lake" / "launches" / "date=2026-11-02" / "data.parquet").exists()
    assert not (tmp_path / "lake" / "inbound_sms" / "date=2026-11-02").exists()  # its landing day is there


def test_only_the_latest_dbt_run_folders_are_kept(tmp_path: Path) -> None:
    """dagster-dbt makes a target folder per build and never removes one."""
    from orchestration.dbt_assets import prune_run_targets

    folders = []
    for age in range(12, 0, -1):  # warehouse_models-12 is the oldest
        folder = tmp_path / f"warehouse_models-{age:02d}"
        (folder / "run").mkdir(parents=True)
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
        folders.append(folder)
    (tmp_path / "compiled").mkdir()  # not a run folder: left alone
    (tmp_path / "partial_parse.msgpack").write_bytes(b"")
    this_run = tmp_path / "warehouse_models-00"
    this_run.mkdir()
    os.utime(this_run, (1, 1))  # even when its clock says otherwise, this run's folder stays

    removed = prune_run_targets(this_run, keep=4)
    assert sorted(p.name for p in removed) == [f"warehouse_models-{age:02d}" for age in range(4, 13)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compiled", "partial_parse.msgpack", "warehouse_models-00", "warehouse_models-01",
        "warehouse_models-02", "warehouse_models-03",
    ]  # fmt: skip
