"""The checks of a feed's newly ingested rows: the lake expectations (blocking) and the ingest report."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from ingestion.feeds import FEEDS
from orchestration.checks.results import to_check_result
from orchestration.checks.validator import Validator
from orchestration.quality import suites

LAKE_EXPECTATIONS, INGEST_REPORT = "lake_expectations", "ingest_report"


def check_specs(feed: str) -> list[dg.AssetCheckSpec]:
    """The two checks every feed asset carries."""
    return [
        dg.AssetCheckSpec(
            LAKE_EXPECTATIONS,
            asset=feed,
            blocking=True,
            description="GX on the rows just ingested: lake schema and types, non-null keys, enum values, "
            "timestamps between 2000 and now, E.164 phones; per file, read = kept + duplicates + quarantined.",
        ),
        dg.AssetCheckSpec(
            INGEST_REPORT,
            asset=feed,
            description="Rows quarantined per reason, file-level problems, files repeating over 5% of "
            "their rows (WARN).",
        ),
    ]


def lake_check(validator: Validator, feed: str, rows: pl.DataFrame, files: pl.DataFrame) -> dg.AssetCheckResult:
    """GX on the rows just ingested (keys, enums, timestamps, E.164) and on the per-file accounting."""
    if files.height == 0:
        return dg.AssetCheckResult(
            asset_key=feed, check_name=LAKE_EXPECTATIONS, passed=True, metadata={"summary": "no new partition"}
        )
    now = dt.datetime.now(dt.UTC)
    results = [
        validator.run(f"lake_{feed}_columns", rows.head(0), suites.lake_columns(FEEDS[feed])),
        validator.run(f"lake_{feed}", rows, suites.lake_rows(FEEDS[feed], now)),
        validator.run(
            f"accounting_{feed}", suites.accounting_frame(files), suites.ingest_accounting(), ["file"]
        ),
    ]
    problems = suites.schema_problems(rows, FEEDS[feed])
    return to_check_result(LAKE_EXPECTATIONS, results, problems=problems, asset_key=feed)


def ingest_report(
    validator: Validator, feed: str, quarantine: pl.DataFrame, files: pl.DataFrame
) -> dg.AssetCheckResult:
    """A warning with the quarantine counted per reason, file-level problems and the duplicate rate."""
    per_reason = (
        quarantine.filter(pl.col("line").is_not_null())
        .group_by("reason")
        .len("rows")
        .sort("rows", "reason", descending=[True, False])
    )
    file_errors = files.filter(pl.col("file_error").is_not_null()).select("file", "file_error")
    results = (
        [validator.run(f"duplicates_{feed}", suites.accounting_frame(files), suites.duplicate_rate(), ["file"])]
        if files.height
        else []
    )
    problems = [f"{n:,} rows quarantined: {reason}" for reason, n in per_reason.iter_rows()]
    problems += [f"{file}: {error}" for file, error in file_errors.iter_rows()]
    return to_check_result(
        INGEST_REPORT,
        results,
        severity=dg.AssetCheckSeverity.WARN,
        problems=problems,
        metadata={"quarantined_rows": int(per_reason["rows"].sum()), "files_with_errors": file_errors.height},
        asset_key=feed,
    )
