"""The Dagster UI after `sms-warehouse run`: every asset the run builds is materialised and every check
evaluated, read from the webserver's GraphQL API (what the UI's pages show), as an operator opens it:
`sms-warehouse ui` with the virtual environment not activated."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.dagster_ui import CLI, graphql, running_ui
from tests.landing_builder import clean_env

pytestmark = pytest.mark.slow

ASSETS = """{ assetNodes { assetKey { path } groupName isMaterializable
    assetMaterializations(limit: 1) { runId }
    assetChecksOrError { __typename ... on AssetChecks { checks {
        name blocking executionForLatestMaterialization { status runId } } } } } }"""
RUNS = (
    """{ runsOrError { __typename ... on Runs { results { runId jobName status tags { key value } } } } }"""
)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """A data folder after one `sms-warehouse run`, and `sms-warehouse ui` serving it: (port, run id)."""
    root = tmp_path_factory.mktemp("ui")
    env = clean_env(SMS_DATA_DIR=str(root))
    env.pop("DAGSTER_HOME", None)  # the default: data/dagster_home, where the run is recorded
    subprocess.run([CLI, "generate", "--out", str(root / "landing"), "--contacts", "1500", "--days", "2"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    run = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (root / "dagster_home" / "dagster.yaml").exists()
    with running_ui(root, env) as port:
        runs = graphql(port, RUNS)["runsOrError"]["results"]
        assert len(runs) == 1
        yield port, runs[0]["runId"]


def test_the_run_is_the_warehouse_job_recorded_for_the_ui(ui: tuple[int, str]) -> None:
    port, run_id = ui
    [run] = graphql(port, RUNS)["runsOrError"]["results"]
    assert (run["jobName"], run["status"]) == ("update_warehouse", "SUCCESS")
    assert {"key": "sms/launched_by", "value": "sms-warehouse run"} in run["tags"]


def test_every_asset_the_run_builds_is_materialised_and_every_check_evaluated(ui: tuple[int, str]) -> None:
    port, run_id = ui
    nodes = [n for n in graphql(port, ASSETS)["assetNodes"] if n["isMaterializable"]]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    built = {key: n for key, n in by_key.items() if key != "contact_list_export"}  # launched by operators
    assert len(built) > 30  # the six feeds, every dbt model and seed, the published file
    unbuilt = [
        key for key, n in built.items() if [m["runId"] for m in n["assetMaterializations"]] != [run_id]
    ]
    assert unbuilt == []
    checks = {
        (key, c["name"]): c
        for key, n in built.items()
        if n["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in n["assetChecksOrError"]["checks"]
    }
    assert len(checks) > 40  # 12 checks on the feeds, 6 on the marts and audit, and dbt's tests
    unevaluated = [
        k for k, c in checks.items() if (c["executionForLatestMaterialization"] or {}).get("runId") != run_id
    ]
    assert unevaluated == []
    statuses = {k: c["executionForLatestMaterialization"]["status"] for k, c in checks.items()}
    assert statuses[("send_logs", "lake_expectations")] == "SUCCEEDED"
    assert statuses[("dlrs", "ingest_report")] == "FAILED"  # a WARN: the generator's few malformed receipts
    assert statuses[("marts/mart_campaign_summary", "marts_contract")] == "SUCCEEDED"
    blocking = {k for k, c in checks.items() if c["blocking"]}
    assert {
        ("send_logs", "lake_expectations"),
        ("marts/fct_launch_contacts", "contacts_contract"),
    } <= blocking
    assert ("marts/mart_campaign_summary", "declared_list_size") not in blocking


def test_the_ui_groups_assets_by_layer(ui: tuple[int, str]) -> None:
    port, _ = ui
    groups = {n["groupName"] for n in graphql(port, ASSETS)["assetNodes"] if n["isMaterializable"]}
    assert groups == {"landing", "reference", "staging", "intermediate", "marts", "audit", "published"}


MODEL_METADATA = """query ($path: [String!]!) { assetOrError(assetKey: {path: $path}) { ... on Asset {
    assetMaterializations(limit: 1) { metadataEntries { label
        ... on IntMetadataEntry { intValue }
        ... on TableSchemaMetadataEntry { schema { columns { name type } } } } } } } }"""


def test_each_dbt_model_shows_its_rows_and_its_columns_after_the_run(ui: tuple[int, str]) -> None:
    """dagster-dbt's row counts and columns, fetched from the build database after the (full) build."""
    port, _ = ui
    answer = graphql(port, MODEL_METADATA, {"path": ["marts", "fct_launch_contacts"]})
    [materialization] = answer["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e for e in materialization["metadataEntries"]}
    columns = {c["name"]: c["type"] for c in entries["dagster/column_schema"]["schema"]["columns"]}
    assert columns["phone_e164"].upper().startswith("CHARACTER VARYING")  # dbt's name for varchar
    assert columns["segments"].upper() == "INTEGER" and columns["unsubscribed_via_link"].upper() == "BOOLEAN"
    assert columns["submitted_at"].upper() == "TIMESTAMP WITH TIME ZONE"
    assert "_watermark" in columns and len(columns) == 15  # the build's table, its bookkeeping column too
    assert entries["dagster/row_count"]["intValue"] == 1500  # the generated launch-list rows
