"""An operator in the real Dagster UI, in a real browser (Debian's Chromium through Playwright): an
export from the launchpad, a late receipt published with nobody acting, a backfill of days as one run.

Screenshots of the asset page, the launchpad and the campaign report are kept in `test-artifacts/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.dagster_ui import CLI, LOCATION, graphql, running_ui
from tests.landing_builder import clean_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"  # Debian's package: .ci/run installs it (apt-get install -y chromium)
# as the machine's probe starts it: no sandbox as root, nothing that reaches for the network
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
RUNS = """{ runsOrError { ... on Runs { results { runId jobName status startTime endTime
    tags { key value } assetSelection { path } } } } }"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A published warehouse (one `sms-warehouse run`) and `sms-warehouse ui` on it: (port, data folder)."""
    root = tmp_path_factory.mktemp("browser")
    env = clean_env(SMS_DATA_DIR=str(root))
    env.pop("DAGSTER_HOME", None)
    subprocess.run([CLI, "generate", "--out", str(root / "landing"), "--contacts", "2000", "--days", "2"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with running_ui(root, env) as port:
        # A new instance's UI invites its first visitor to join the Dagster community, in a dialog
        # that opens a second after a page loads and can cover a click. Seen once, it stays closed.
        assert graphql(port, "mutation { setNuxSeen }")["setNuxSeen"]
        yield port, root


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - a Playwright browser
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _runs(port: int) -> list[dict]:
    return graphql(port, RUNS)["runsOrError"]["results"]


def _wait_for(condition, what: str, timeout_s: float = 300):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _published(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse" / "sms.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_an_operator_exports_a_list_from_the_launchpad(ui: tuple[int, Path], browser) -> None:  # noqa: ANN001
    port, root = ui
    [(launch, campaign, contacts)] = _published(
        root,
        "select launch_id, campaign_id, count(*) from marts.fct_launch_contacts "
        "where reached_status = 'rejected_soft_bounce' group by all order by count(*) desc limit 1",
    )
    expected = _published(
        root,
        "select contact_id, phone_e164 from marts.fct_launch_contacts "
        "where launch_id = ? and reached_status = 'rejected_soft_bounce' order by contact_id",
        [launch],
    )
    before = {run["runId"] for run in _runs(port)}
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"http://127.0.0.1:{port}/assets/contact_list_export", wait_until="networkidle")
    page.get_by_text("Never materialized").wait_for()
    page.screenshot(path=ARTIFACTS / "asset-page.png")
    page.locator("button", has_text="Materialize").first.click(modifiers=["Shift"])  # opens the launchpad
    editor = page.locator(".CodeMirror").first
    editor.wait_for()
    launch_button = page.get_by_role("dialog").locator("button", has_text="Materialize").last

    def type_config(lists: str) -> None:
        editor.click()
        page.keyboard.press("Control+A")
        # flow-style YAML on one line: the editor's auto-indent leaves it as typed
        page.keyboard.type(
            f"ops: {{contact_list_export: {{config: {{launch_id: {launch}, lists: [{lists}]}}}}}}"
        )
        page.get_by_text("Checking config").wait_for(state="hidden")

    type_config("soft_bounces")  # not a list of the contract: refused before anything runs
    page.get_by_text("not in enum type ContactList got soft_bounces").first.wait_for()
    page.screenshot(path=ARTIFACTS / "launchpad-refused.png")
    assert launch_button.is_disabled()
    type_config("rejected_soft_bounce")
    page.get_by_text("No errors").wait_for()
    page.screenshot(path=ARTIFACTS / "launchpad.png")
    launch_button.click()

    run = _wait_for(
        lambda: next(
            (r for r in _runs(port) if r["runId"] not in before and r["status"] in ("SUCCESS", "FAILURE")),
            None,
        ),
        "the export run",
    )
    assert run["status"] == "SUCCESS"
    assert run["assetSelection"] == [{"path": ["contact_list_export"]}]
    path = root / "exports" / f"campaign={campaign}" / f"launch={launch}" / "rejected_soft_bounce.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == "contact_id,phone_e164" and len(lines) == contacts + 1
    assert [tuple(line.split(",")) for line in lines[1:]] == [(c, p or "") for c, p in expected]

    report = browser.new_page(viewport={"width": 1000, "height": 1300})
    report.goto((root / "reports" / "index.html").as_uri())
    report.screenshot(path=ARTIFACTS / "campaign-report.png")
    report.goto((root / "reports" / f"launch={launch}.html").as_uri())
    assert report.locator(".tile").count() == 6 and report.locator("svg.chart").count() == 3
    report.screenshot(path=ARTIFACTS / "campaign-report-launch.png", full_page=True)


def test_a_late_receipt_is_published_with_nobody_acting(ui: tuple[int, Path]) -> None:
    """The landing sensor sees the file, asks for a run, the run publishes: the message leaves
    `with_carrier`. A run asked for meanwhile waits in the queue until that one is done."""
    port, root = ui
    [(provider, message, launch)] = _published(
        root,
        "select provider, provider_message_id, launch_id from marts.fct_launch_contacts "
        "where reached_status = 'with_carrier' order by all limit 1",
    )
    folder = root / "landing" / "dlrs" / "date=2026-11-25"
    folder.mkdir(parents=True)
    receipt = {"received_at": "2026-11-25T10:00:00Z", "provider": provider,
               "receipt": f"id:{message} done date:2611250959 stat:DELIVRD err:000"}  # fmt: skip
    (folder / "late.jsonl.tmp").write_text(json.dumps(receipt) + "\n")  # as producers write
    os.rename(folder / "late.jsonl.tmp", folder / "late.jsonl")
    landed = time.monotonic()

    sensor_run = _wait_for(
        lambda: next(
            (
                r
                for r in _runs(port)
                if {"key": "dagster/sensor_name", "value": "landing_sensor"} in r["tags"]
            ),
            None,
        ),
        "the landing sensor's run",
        timeout_s=120,
    )
    # an operator asks for another update meanwhile: it waits its turn in the queue
    launched = graphql(
        port,
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {
            "params": {
                "selector": {
                    **LOCATION,
                    "jobName": "update_warehouse",
                    "assetSelection": [{"path": ["published_warehouse"]}],
                }
            }
        },  # fmt: skip
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    second = launched["run"]["runId"]

    def published_status() -> str | None:
        [(status,)] = _published(
            root,
            "select reached_status from marts.fct_launch_contacts where provider = ? and provider_message_id = ?",
            [provider, message],
        )
        return status if status != "with_carrier" else None

    assert _wait_for(published_status, "the published status to change") == "delivery_successful"
    print(f"late receipt landed → published in {time.monotonic() - landed:.0f} s (launch {launch})")
    done = _wait_for(
        lambda: (
            (runs := {r["runId"]: r for r in _runs(port)})[second]["status"] in ("SUCCESS", "FAILURE")
            and runs
        ),
        "the queued run",
    )
    first, then = done[sensor_run["runId"]], done[second]
    assert (first["status"], then["status"]) == ("SUCCESS", "SUCCESS")
    assert then["startTime"] >= first["endTime"]  # it waited in the queue: the two never wrote at once


def test_a_backfill_of_arrival_days_is_one_run(ui: tuple[int, Path]) -> None:
    port, root = ui
    days = sorted(p.name.removeprefix("date=") for p in (root / "landing" / "send_logs").glob("date=*"))[:2]
    assert len(days) == 2
    launched = graphql(
        port,
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {
            "params": {
                "partitionNames": days,
                "assetSelection": [{"path": ["send_logs"]}, {"path": ["launches"]}],
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    tag = {"key": "dagster/backfill", "value": launched["backfillId"]}

    def finished() -> list[dict] | None:
        runs = [r for r in _runs(port) if tag in r["tags"]]
        return runs if runs and all(r["status"] in ("SUCCESS", "FAILURE") for r in runs) else None

    runs = _wait_for(finished, "the backfill's runs")
    assert len(runs) == 1 and runs[0]["status"] == "SUCCESS"
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == tuple(
        days
    )


def teardown_module() -> None:
    """One screenshot of the UI goes in the README: refreshed when the tests run here."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "images"
    if (ARTIFACTS / "launchpad.png").exists() and docs.is_dir():
        shutil.copyfile(ARTIFACTS / "launchpad.png", docs / "launchpad.png")
