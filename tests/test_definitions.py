"""The Dagster definitions: every asset and check, grouped by layer; the job and how a run is planned;
the dbt arguments a build gets. Fast: no dbt, no run (the end-to-end tests run them)."""

import json
from pathlib import Path

import dagster as dg

from ingestion.feeds import FEEDS
from ingestion.landing import LandingFile, Survey
from orchestration.dbt_cli.arguments import UNCHANGED_IN_INCREMENTAL_BUILDS, UNIT_TESTS, build_args
from orchestration.jobs import BUILD_KEYS, RANGE_END, RANGE_START, WAREHOUSE_JOB, plan_run
from orchestration.warehouse.landing_changes import DayChanges, LandingChanges


def test_assets_and_checks_grouped_by_layer() -> None:
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)  # what `dagster dev` checks: unique op and job names, ...
    graph = defs.resolve_asset_graph()
    groups = {
        k.to_user_string(): graph.get(k).group_name
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable
    }
    assert {feed: "landing" for feed in FEEDS}.items() <= groups.items()
    assert groups["staging/stg_dlrs"] == "staging"
    assert groups["intermediate/int_final_receipts"] == "intermediate"
    assert groups["marts/fct_launch_contacts"] == groups["marts/mart_campaign_summary"] == "marts"
    assert groups["audit/orphan_receipts"] == "audit"
    assert groups["reference/permanent_errors"] == "reference"
    assert groups["published_warehouse"] == groups["contact_list_export"] == "published"
    assert "default" not in groups.values()
    for feed in FEEDS:
        assert isinstance(graph.get(dg.AssetKey(feed)).partitions_def, dg.DynamicPartitionsDefinition)
    # the staging models read the feed assets: the lineage runs from landing files to the marts
    assert dg.AssetKey("dlrs") in graph.get(dg.AssetKey(["staging", "stg_dlrs"])).parent_keys

    specs = [spec for a in [*defs.assets, *defs.asset_checks] for spec in a.check_specs]
    checks = {(spec.asset_key.to_user_string(), spec.name): spec for spec in specs}
    assert checks[("send_logs", "lake_expectations")].blocking
    assert not checks[("send_logs", "ingest_report")].blocking
    assert checks[("marts/mart_campaign_summary", "marts_contract")].blocking
    assert not checks[("marts/mart_campaign_summary", "declared_list_size")].blocking
    assert checks[("marts/fct_launch_contacts", "contacts_contract")].blocking
    assert any(
        name.startswith("expression_is_true")
        for asset, name in checks
        if asset == "marts/mart_campaign_summary"
    )  # dbt tests surface as asset checks too


def test_one_job_builds_everything_but_the_exports() -> None:
    from orchestration.definitions import defs, update_warehouse

    job = update_warehouse()
    assert job.name == WAREHOUSE_JOB
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    every = {key.to_user_string() for key in defs.resolve_asset_graph().materializable_asset_keys}
    assert selected == every - {"contact_list_export"}
    assert set(BUILD_KEYS) | {dg.AssetKey(feed) for feed in FEEDS} == job.asset_layer.selected_asset_keys


def _changes(touched: dict[str, list[str]], days: dict[str, list[str]] | None = None) -> LandingChanges:
    """Changes as `landing_changes` finds them: the landing zone's days per feed (`days`), and the
    days with a file to ingest (`touched`)."""
    found = Survey(
        files={feed: {day: [] for day in feed_days} for feed, feed_days in (days or touched).items()}
    )
    a_file = LandingFile("dlrs", "2026-11-03", Path("x.jsonl"), 1, 1)  # what is in it does not matter here
    return LandingChanges(
        found,
        {
            feed: {day: DayChanges(ingest=[a_file]) for day in feed_days}
            for feed, feed_days in touched.items()
        },
    )


def test_a_run_spans_the_changed_days_of_the_changed_feeds() -> None:
    changes = _changes(
        {"dlrs": ["2026-11-05", "2026-11-03"], "send_logs": ["2026-11-03"]},
        {
            "dlrs": ["2026-11-03", "2026-11-04", "2026-11-05"],
            "send_logs": ["2026-11-03"],
            "launches": ["2026-11-02"],
        },
    )
    plan = plan_run(changes, known_days=["2026-11-02", "2026-11-03"])
    assert plan.new_days == ["2026-11-04", "2026-11-05"]  # added in date order after the known ones
    assert plan.feeds == ["send_logs", "dlrs"]  # in the order of their declaration
    assert plan.request.tags == {RANGE_START: "2026-11-03", RANGE_END: "2026-11-05"}
    assert plan.request.asset_selection == [dg.AssetKey("send_logs"), dg.AssetKey("dlrs"), *BUILD_KEYS]
    assert plan.request.job_name == WAREHOUSE_JOB and plan.request.run_config == {}


def test_the_range_follows_the_order_the_partitions_were_added_in() -> None:
    """Dynamic partitions keep the order they were added in: a day that landed late sits last."""
    plan = plan_run(_changes({"dlrs": ["2026-11-01", "2026-11-04"]}), known_days=["2026-11-04", "2026-11-01"])
    assert plan.request.tags == {RANGE_START: "2026-11-04", RANGE_END: "2026-11-01"}
    assert plan.days == ("2026-11-04", "2026-11-01")


def test_with_nothing_changed_a_run_only_builds_and_publishes() -> None:
    plan = plan_run(
        _changes({}, {"dlrs": ["2026-11-03"]}), known_days=["2026-11-03", "yesterday"], full_refresh=True
    )
    assert plan.request.asset_selection == BUILD_KEYS and plan.request.tags == {} and plan.days is None
    assert plan.not_days == ["yesterday"]  # a partition an earlier version made of a folder no day
    assert plan.request.run_config == {"ops": {"warehouse_models": {"config": {"full_refresh": True}}}}
    assert "no landing files changed" in plan.describe()


def test_dbt_build_arguments() -> None:
    variables = {"sms_lake": "/data/lake", "sms_build_db": "/data/warehouse/sms.build.duckdb"}
    settings = ["--threads", "3", "--vars", json.dumps(variables, sort_keys=True)]
    assert build_args(full_refresh=True, subset=False, threads=3, variables=variables) == [
        "build", "--full-refresh", "--log-level-file", "none", "--no-write-json", *settings,
    ]  # fmt: skip
    assert build_args(full_refresh=False, subset=False, threads=3, variables=variables) == [
        "build", "--exclude", UNCHANGED_IN_INCREMENTAL_BUILDS, "--indirect-selection", "empty",
        "--log-level-file", "none", "--no-write-json", *settings,
    ]  # fmt: skip
    # an operator materialising some models from the UI gets exactly those (dagster-dbt selects them)
    assert build_args(
        full_refresh=False, subset=True, threads=3, variables=variables, log_file=True, write_json=True
    ) == ["build", *settings]


def test_dbt_unit_tests_are_code_tests_not_checks_of_the_data() -> None:
    """`make test` runs dbt's unit tests (test_marts_rules.py); the dbt assets leave them out."""
    from orchestration.assets.models import warehouse_models

    assert warehouse_models.op.tags["dagster_dbt/exclude"] == UNIT_TESTS
    assert not any("unit" in spec.name for spec in warehouse_models.check_specs)


def test_one_feed_can_be_materialised_on_its_own(tmp_path: Path) -> None:
    """The feeds share one step, but the UI can still select a single feed: only it and its checks run."""
    from orchestration.settings import WarehouseSettings
    from tests.landing_builder import jsonl, write_file
    from tests.warehouse import materialize_feeds

    write_file(tmp_path / "landing", "launches", "2026-11-02", "l.jsonl", jsonl([
        {"event_id": "e1", "launch_id": "L1", "campaign_id": "C1", "campaign_type": "batch",
         "launched_at": "2026-11-02T08:00:00Z", "launch_list_size": 3},
    ]))  # fmt: skip
    write_file(tmp_path / "landing", "inbound_sms", "2026-11-02", "i.jsonl", "")  # not selected
    result = materialize_feeds("2026-11-02", ["launches"], WarehouseSettings(data_dir=str(tmp_path)))
    assert result.success
    assert [m.asset_key.to_user_string() for m in result.get_asset_materialization_events()] == ["launches"]
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c.passed for c in result.get_asset_check_evaluations()
    }
    assert checks == {("launches", "lake_expectations"): True, ("launches", "ingest_report"): True}
    assert (tmp_path / "lake" / "launches" / "date=2026-11-02" / "_accepted.json").exists()
    assert not (tmp_path / "lake" / "inbound_sms" / "date=2026-11-02").exists()  # its landing day is there
