"""The checks of the landing zone's layout, and of a feed's newly ingested rows: the lake
expectations (blocking) and the ingest report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from ingestion.feeds import FEEDS
from ingestion.landing import Survey
from ingestion.reference import earliest_plausible, max_duplicate_rate
from orchestration.checks.results import to_check_result
from orchestration.checks.validator import Validator
from orchestration.quality import suites
from orchestration.quality.validation import wanted_columns

LAKE_EXPECTATIONS, INGEST_REPORT = "lake_expectations", "ingest_report"


def check_specs(feed: str) -> list[dg.AssetCheckSpec]:
    """The two checks every feed asset carries."""
    return [
        dg.AssetCheckSpec(
            LAKE_EXPECTATIONS,
            asset=feed,
            blocking=True,
            description="GX on the rows just ingested: lake schema and types, non-null keys, enum values, "
            f"timestamps between {earliest_plausible():%Y-%m-%d} and now, E.164 phones; per file, "
            "read = kept + duplicates + quarantined.",
        ),
        dg.AssetCheckSpec(
            INGEST_REPORT,
            asset=feed,
            description="Rows quarantined per reason, file-level problems, files repeating over "
            f"{max_duplicate_rate():.0%} of their rows, entries of the feed's folder that are not read (WARN).",
        ),
    ]


def landing_layout(found: Survey) -> dg.AssetCheckResult:
    """Every entry of the landing zone that is not read, and why: a folder that is no feed, a day
    folder whose name is not a real date, an entry that is not a file (a folder, a FIFO), a link
    leading outside the landing zone (WARN: the good files are read)."""
    problems = [f"{path}: {why}" for path, why in found.problems]
    return dg.AssetCheckResult(
        asset_key="landing_zone",
        check_name="landing_layout",
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) or "every entry is a feed's file",
        metadata={"problems": dg.MetadataValue.json(problems), "not_read": len(problems)},
    )


def lake_check(
    validator: Validator, docs: Path, feed: str, partitions: list[Path], files: pl.DataFrame
) -> dg.AssetCheckResult:
    """GX on the rows just ingested (keys, enums, timestamps, E.164) and on the per-file accounting.

    The rows are read back from the lake parts the run wrote, one part and only the
    columns the expectations read at a time, and checked a slice at a time, so that a
    check's memory is a slice's whatever the history a cold run ingests.
    """
    if files.height == 0:
        return dg.AssetCheckResult(
            asset_key=feed,
            check_name=LAKE_EXPECTATIONS,
            passed=True,
            metadata={"summary": "no file new or changed"},
        )
    declared = FEEDS[feed]
    rows_suite = suites.lake_rows(declared, dt.datetime.now(dt.UTC))
    schemas = {path: pl.read_parquet_schema(path) for path in partitions}
    problems = [
        f"{path.parent.name}: {problem}"
        for path, schema in schemas.items()
        for problem in suites.schema_problems(pl.DataFrame(schema=schema), declared)
    ]
    columns = wanted_columns(rows_suite)
    rows = (
        pl.read_parquet(path, columns=[c for c in columns if c in schema]) for path, schema in schemas.items()
    )
    header = pl.DataFrame(schema=next(iter(schemas.values()))) if schemas else pl.DataFrame()
    results = [
        validator.run(docs, f"lake_{feed}_columns", header, suites.lake_columns(declared)),
        validator.run_sliced(docs, f"lake_{feed}", rows, rows_suite),
        validator.run(
            docs, f"accounting_{feed}", suites.accounting_frame(files), suites.ingest_accounting(), ["file"]
        ),
    ]
    return to_check_result(LAKE_EXPECTATIONS, results, problems=problems, asset_key=feed)


def ingest_report(
    validator: Validator,
    docs: Path,
    feed: str,
    quarantine: pl.DataFrame,
    files: pl.DataFrame,
    not_read: list[tuple[str, str]] | None = None,
) -> dg.AssetCheckResult:
    """A warning with the quarantine counted per reason, file-level problems, the duplicate rate,
    and the entries of the feed's folder that are not read (`not_read`: path, why)."""
    per_reason = (
        quarantine.filter(pl.col("line").is_not_null())
        .group_by("reason")
        .len("rows")
        .sort("rows", "reason", descending=[True, False])
    )
    file_errors = files.filter(pl.col("file_error").is_not_null()).select("file", "file_error")
    results = (
        [
            validator.run(
                docs, f"duplicates_{feed}", suites.accounting_frame(files), suites.duplicate_rate(), ["file"]
            )
        ]
        if files.height
        else []
    )
    problems = [f"{n:,} rows quarantined: {reason}" for reason, n in per_reason.iter_rows()]
    problems += [f"{file}: {error}" for file, error in file_errors.iter_rows()]
    problems += [f"{path}: {why}" for path, why in not_read or []]
    return to_check_result(
        INGEST_REPORT,
        results,
        severity=dg.AssetCheckSeverity.WARN,
        problems=problems,
        metadata={"quarantined_rows": int(per_reason["rows"].sum()), "files_with_errors": file_errors.height},
        asset_key=feed,
    )
