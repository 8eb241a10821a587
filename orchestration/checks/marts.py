"""The checks of the built marts and audit tables, run in one step while the file to publish is staged.

GX on frames read from the build database (read-only) before anything is
published: a blocking check that fails keeps the published marts as they were.
"""

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from ingestion.reference import earliest_plausible, not_sent_reasons, reached_statuses
from orchestration.checks.results import to_check_result
from orchestration.checks.validator import CHECK_ROWS, Validator
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import Paths
from orchestration.quality import suites
from orchestration.quality.validation import Expectation, SuiteResult
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import publish, rebuild


@dataclass(frozen=True)
class Checking:
    """What a mart check works with: the suites' runner and the warehouse's files."""

    validator: Validator
    paths: Paths

    def read(self, sql: str) -> pl.DataFrame:
        with duckdb.connect(str(self.paths.build_db), read_only=True) as con:
            return con.sql(sql).pl()

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        return self.validator.run(self.paths.data_docs, name, frame, expectations, id_columns)


SUMMARY = dg.AssetKey(["marts", "mart_campaign_summary"])
CONTACTS = dg.AssetKey(["marts", "fct_launch_contacts"])


Check = Callable[[Checking], dg.AssetCheckResult]


def marts_contract(checking: Checking) -> dg.AssetCheckResult:
    frame = checking.read(suites.SUMMARY_SQL)
    result = checking.run("marts_contract", frame, suites.marts_contract(), ["launch_id"])
    return to_check_result("marts_contract", [result], metadata={"launches": frame.height}, asset_key=SUMMARY)


def declared_list_size(checking: Checking) -> dg.AssetCheckResult:
    frame = checking.read(suites.SUMMARY_SQL)
    result = checking.run("declared_list_size", frame, suites.declared_list_size(), ["launch_id"])
    return to_check_result(
        "declared_list_size", [result], severity=dg.AssetCheckSeverity.WARN, asset_key=SUMMARY
    )


def _read_in_batches(build_db: Path, sql: str, parameters: list[object]) -> Iterator[pl.DataFrame]:
    """A query's rows a batch at a time (a cold build's contacts are every contact there is),
    after an empty frame of its columns (so that a query without rows still shows them)."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        reader = con.sql(sql, params=parameters).to_arrow_reader(CHECK_ROWS)  # a relation: no extra copy
        for table in itertools.chain([reader.schema.empty_table()], reader):  # batch by batch
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            yield frame


def contacts_contract(checking: Checking) -> dg.AssetCheckResult:
    now = dt.datetime.now(dt.UTC)
    paths = checking.paths
    published = publish.published_watermark(paths.build_db, paths.warehouse) or "-infinity"
    result = checking.validator.run_sliced(
        paths.data_docs, "contacts_contract", _read_in_batches(paths.build_db, suites.CONTACTS_SQL, [published]),
        suites.contacts_contract(now), ["launch_id", "contact_id"],
    )  # fmt: skip
    return to_check_result(
        "contacts_contract", [result], metadata={"contacts_checked": result.rows}, asset_key=CONTACTS
    )


SAMPLE_ROWS = 10


def _left_over(
    table: str, description: str, describe: Callable[[dict], str] | None = None
) -> tuple[dg.AssetCheckSpec, Check]:
    """A WARN check that an audit table is empty, with a sample of its rows when it is not; with
    `describe`, each sampled row is also a sentence of the check's problems."""
    key = dg.AssetKey(["audit", table])

    def check(checking: Checking) -> dg.AssetCheckResult:
        frame = checking.read(f"select * from audit.{table}")
        result = checking.run(f"audit_{table}", frame, suites.nothing_left_over())
        sample = frame.head(SAMPLE_ROWS).to_dicts()
        named = [describe(row) for row in sample] if describe else []
        if describe and frame.height > SAMPLE_ROWS:
            named.append(f"… and {frame.height - SAMPLE_ROWS:,} more in audit.{table}")
        return to_check_result(
            "nothing_left_over",
            [result],
            severity=dg.AssetCheckSeverity.WARN,
            problems=named,
            metadata={
                "rows": frame.height,
                "sample": dg.MetadataValue.json(
                    sample and [{k: str(v) for k, v in r.items()} for r in sample]
                ),
            },  # fmt: skip
            asset_key=key,
        )

    return dg.AssetCheckSpec("nothing_left_over", asset=key, description=description), check


MART_CHECKS: list[tuple[dg.AssetCheckSpec, Check]] = [
    (
        dg.AssetCheckSpec(
            "marts_contract",
            asset=SUMMARY,
            blocking=True,
            description=f"GX: every launch has a row for each of the {len(not_sent_reasons())} not-sent "
            f"reasons and the {len(reached_statuses())} reached statuses (the sums and the grain are dbt tests).",
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
            description="GX on the contacts the latest build wrote: E.164 phones, send times "
            "(the grain and vocabularies are dbt tests; receipts' dates are audit.suspicious_receipts).",
        ),
        contacts_contract,
    ),
    _left_over("orphan_receipts", "Receipts that match no send-log message (WARN, with a sample)."),
    _left_over("unattributed_keyword_optouts", "Stop keywords no launch could take (WARN, with a sample)."),
    _left_over(
        "suspicious_receipts",
        f"Final receipts dated before their send, in the future or before {earliest_plausible():%Y}: a carrier's clock off. "
        "Reported (WARN, naming them); the messages keep the status their receipts give.",
        lambda r: (
            f"receipt {r['provider']} {r['provider_message_id']} (launch {r['launch_id']}, contact "
            f"{r['contact_id']}): {r['problem']}: done {r['final_receipt_at']}, sent {r['submitted_at']}; "
            f"counted {r['reached_status']}"
        ),
    ),
    _left_over("quarantine_summary", "Rows refused by ingestion, per feed and reason (WARN)."),
]


@dg.multi_asset_check(
    specs=[spec for spec, _ in MART_CHECKS], can_subset=True, name="mart_checks", pool=WAREHOUSE_POOL
)
def mart_checks(
    context: dg.AssetCheckExecutionContext, validator: Validator, settings: WarehouseSettings
) -> Iterator[dg.AssetCheckResult]:
    """GX on the marts and audit tables the build wrote, in one step.

    Meanwhile the file to publish is written beside the published one
    (`warehouse.publish.stage`, in a thread: DuckDB works outside Python's lock):
    publishing then only renames it, and a blocking check that fails removes it.
    """
    checking = Checking(validator, settings.paths)
    runs = [run for spec, run in MART_CHECKS if spec.key in context.selected_asset_check_keys]
    # the build database is read while no other build writes it
    with rebuild.lake_turn(checking.paths.lake), _staging_to_publish(context, settings) as blocked:
        for run in runs:
            result = run(checking)
            if not result.passed and dg.AssetCheckKey(result.asset_key, result.check_name) in _BLOCKING:
                blocked.append(result.check_name)
            yield result


_BLOCKING = {spec.key for spec, _ in MART_CHECKS if spec.blocking}


@contextlib.contextmanager
def _staging_to_publish(
    context: dg.AssetCheckExecutionContext, settings: WarehouseSettings
) -> Iterator[list[str]]:
    """Stage the file to publish in a thread while the block runs the checks; the block lists the
    blocking checks that failed. Unless it ends with none, the staged file is removed."""
    paths = settings.paths
    blocked: list[str] = []
    publishable = False
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="stage-publish") as stager:
            staging = (
                stager.submit(
                    publish.stage, paths.build_db, paths.warehouse, settings.publish_storage_version
                )
                if _publishes(context)
                else None
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
