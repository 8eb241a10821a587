"""Dagster asset checks built from GX suite results: which expectation failed, on how many rows, which ones."""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import duckdb
import polars as pl

from ingestion.feeds import FEEDS
from orchestration import publish, suites
from orchestration.quality import SuiteResult, render_data_docs_soon, run_suite, validating_elsewhere
from orchestration.settings import resolve_paths


def to_check_result(
    name: str,
    results: list[SuiteResult],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    problems: list[str] | None = None,
    metadata: dict[str, object] | None = None,
    asset_key: dg.AssetKey | str | None = None,
) -> dg.AssetCheckResult:
    """One check result from suite results (and any problems found outside GX)."""
    problems = list(problems or [])
    failures = [
        {
            "suite": r.suite,
            "expectation": f.expectation,
            "column": f.column,
            "rows": f.unexpected,
            "observed": f.observed,
            "sample": f.sample,
        }
        for r in results
        for f in r.failures
    ]
    passed = not failures and not problems
    docs = next((r.docs for r in results if r.docs is not None), None)
    summary = (
        "; ".join([*problems, *(r.describe() for r in results if not r.success)]) or "all expectations met"
    )
    meta: dict[str, object] = {
        "summary": summary,
        "expectations_evaluated": sum(r.evaluated for r in results),
        "failed_expectations": dg.MetadataValue.json(failures) if failures else 0,
        **({"problems": dg.MetadataValue.json(problems)} if problems else {}),
        **({"data_docs": dg.MetadataValue.url(docs.as_uri())} if docs else {}),
        **(metadata or {}),
    }
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=passed,
        severity=severity,
        metadata=meta,
        description=summary,
    )


def lake_check(feed: str, rows: pl.DataFrame, files: pl.DataFrame) -> dg.AssetCheckResult:
    """GX on the rows just ingested (keys, enums, timestamps, E.164) and on the per-file accounting."""
    if files.height == 0:
        return dg.AssetCheckResult(
            asset_key=feed,
            check_name="lake_expectations",
            passed=True,
            metadata={"summary": "no new partition"},
        )
    docs = resolve_paths().data_docs
    now = dt.datetime.now(dt.UTC)
    results = [
        run_suite(f"lake_{feed}_columns", rows.head(0), suites.lake_columns(FEEDS[feed]), docs),
        run_suite(f"lake_{feed}", rows, suites.lake_rows(FEEDS[feed], now), docs),
        run_suite(
            f"accounting_{feed}", suites.accounting_frame(files), suites.ingest_accounting(), docs, ["file"]
        ),
    ]
    problems = suites.schema_problems(rows, FEEDS[feed])
    return to_check_result("lake_expectations", results, problems=problems, asset_key=feed)


def ingest_report(feed: str, quarantine: pl.DataFrame, files: pl.DataFrame) -> dg.AssetCheckResult:
    """A warning with the quarantine counted per reason, file-level problems and the duplicate rate."""
    per_reason = (
        quarantine.filter(pl.col("line").is_not_null())
        .group_by("reason")
        .len("rows")
        .sort("rows", descending=True)
    )
    file_errors = files.filter(pl.col("file_error").is_not_null()).select("file", "file_error")
    results = (
        [
            run_suite(
                f"duplicates_{feed}", suites.accounting_frame(files), suites.duplicate_rate(), None, ["file"]
            )
        ]
        if files.height
        else []
    )
    problems = [f"{n:,} rows quarantined: {reason}" for reason, n in per_reason.iter_rows()]
    problems += [f"{file}: {error}" for file, error in file_errors.iter_rows()]
    return to_check_result(
        "ingest_report",
        results,
        severity=dg.AssetCheckSeverity.WARN,
        problems=problems,
        metadata={"quarantined_rows": int(per_reason["rows"].sum()), "files_with_errors": file_errors.height},
        asset_key=feed,
    )


def _read(sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(resolve_paths().build_db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


SUMMARY = dg.AssetKey(["marts", "mart_campaign_summary"])
CONTACTS = dg.AssetKey(["marts", "fct_launch_contacts"])


def marts_contract() -> dg.AssetCheckResult:
    frame = _read(suites.SUMMARY_SQL)
    result = run_suite(
        "marts_contract", frame, suites.marts_contract(), resolve_paths().data_docs, ["launch_id"]
    )
    return to_check_result("marts_contract", [result], metadata={"launches": frame.height}, asset_key=SUMMARY)


def declared_list_size() -> dg.AssetCheckResult:
    frame = _read(suites.SUMMARY_SQL)
    result = run_suite(
        "declared_list_size", frame, suites.declared_list_size(), resolve_paths().data_docs, ["launch_id"]
    )
    return to_check_result(
        "declared_list_size", [result], severity=dg.AssetCheckSeverity.WARN, asset_key=SUMMARY
    )


def contacts_contract() -> dg.AssetCheckResult:
    frame = _read(suites.CONTACTS_SQL)
    now = dt.datetime.now(dt.UTC)
    result = run_suite(
        "contacts_contract",
        frame,
        suites.contacts_contract(now),
        resolve_paths().data_docs,
        ["launch_id", "contact_id"],
    )
    return to_check_result(
        "contacts_contract", [result], metadata={"contacts_checked": frame.height}, asset_key=CONTACTS
    )


def _left_over(table: str, description: str) -> tuple[dg.AssetCheckSpec, Callable[[], dg.AssetCheckResult]]:
    """A WARN check that an audit table is empty, with a sample of its rows when it is not."""
    key = dg.AssetKey(["audit", table])

    def check() -> dg.AssetCheckResult:
        frame = _read(f"select * from audit.{table}")
        result = run_suite(f"audit_{table}", frame, suites.nothing_left_over(), resolve_paths().data_docs)
        sample = frame.head(10).to_dicts()
        return to_check_result(
            "nothing_left_over",
            [result],
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rows": frame.height,
                "sample": dg.MetadataValue.json(
                    sample and [{k: str(v) for k, v in r.items()} for r in sample]
                ),
            },  # fmt: skip
            asset_key=key,
        )

    return dg.AssetCheckSpec("nothing_left_over", asset=key, description=description), check


MART_CHECKS: list[tuple[dg.AssetCheckSpec, Callable[[], dg.AssetCheckResult]]] = [
    (
        dg.AssetCheckSpec(
            "marts_contract",
            asset=SUMMARY,
            blocking=True,
            description="GX: the sums and grain of contract/marts.md.",
        ),
        marts_contract,
    ),
    (
        dg.AssetCheckSpec(
            "declared_list_size",
            asset=SUMMARY,
            description="GX: counted launch lists against the declared launch_list_size (WARN).",
        ),
        declared_list_size,
    ),
    (
        dg.AssetCheckSpec(
            "contacts_contract",
            asset=CONTACTS,
            blocking=True,
            description="GX on the contacts the latest build wrote: E.164, receipt and send times "
            "(the grain and vocabularies are dbt tests).",
        ),
        contacts_contract,
    ),
    _left_over("orphan_receipts", "Receipts that match no send-log message (WARN, with a sample)."),
    _left_over("unattributed_keyword_optouts", "Stop keywords no launch could take (WARN, with a sample)."),
    _left_over("quarantine_summary", "Rows refused by ingestion, per feed and reason (WARN)."),
]


@dg.multi_asset_check(specs=[spec for spec, _ in MART_CHECKS], can_subset=True, name="mart_checks")
def mart_checks_step(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    """GX on the marts and audit tables the build wrote, in one step.

    Dagster runs steps one at a time; here, while the GX worker validates one
    table, the next one is read from DuckDB (one table at a time when GX runs in
    this process: its context is not made for threads). Meanwhile the file to
    publish is written beside the published one (publish.stage): publishing then
    only renames it, and a blocking check that fails removes it.
    """
    runs = [run for spec, run in MART_CHECKS if spec.key in context.selected_asset_check_keys]
    with _staging_to_publish(context) as blocked:
        with ThreadPoolExecutor(2 if validating_elsewhere() else 1, thread_name_prefix="mart-checks") as pool:
            for result in pool.map(lambda run: run(), runs):
                if not result.passed and dg.AssetCheckKey(result.asset_key, result.check_name) in _BLOCKING:
                    blocked.append(result.check_name)
                yield result
        render_data_docs_soon()  # the last suites of a run: their pages render while the marts publish


_BLOCKING = {spec.key for spec, _ in MART_CHECKS if spec.blocking}


@contextlib.contextmanager
def _staging_to_publish(context: dg.AssetCheckExecutionContext) -> Iterator[list[str]]:
    """Stage the file to publish in a thread while the block runs the checks; the block lists the
    blocking checks that failed. Unless it ends with none, the staged file is removed."""
    paths = resolve_paths()
    blocked: list[str] = []
    publishable = False
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="stage-publish") as stager:
            staging = (
                stager.submit(publish.stage, paths.build_db, paths.warehouse) if _publishes(context) else None
            )
            yield blocked
            if staging is not None and (error := staging.exception()) is not None:
                context.log.warning(f"the file to publish was not staged ({type(error).__name__}: {error})")
        publishable = not blocked
    finally:
        if not publishable:  # a blocking check failed or a check raised: this build is not published
            publish.discard(paths.warehouse)


def _publishes(context: dg.AssetCheckExecutionContext) -> bool:
    """Whether this run goes on to publish (a run of the checks alone does not stage a file)."""
    selection = context.run.asset_selection
    return not selection or dg.AssetKey("published_warehouse") in selection  # none named: all of the job


mart_checks = [mart_checks_step]
