"""One Dagster asset per landing feed, partitioned by arrival day.

Each materialisation reads `landing/<feed>/date=<day>/`, writes the lake
partition (typed rows, quarantine, per-file accounting) atomically, and skips a
partition whose landing files are unchanged since it was last ingested.
"""

import os
import time
import warnings

import dagster as dg
import polars as pl

from ingestion.feeds import FEEDS
from ingestion.ingest import ingest_partition
from ingestion.lake import phone_cache, write_partition
from ingestion.phones import default_region
from orchestration import fingerprint
from orchestration.settings import resolve_paths

warnings.filterwarnings(
    "ignore", category=dg.BetaWarning
)  # backfill_policy: single-run ranges are what we want

PARTITION_START = os.environ.get("SMS_PARTITION_START", "2025-01-01")
daily = dg.DailyPartitionsDefinition(start_date=PARTITION_START, end_offset=1)

FEED_DESCRIPTIONS = {
    "launches": "Campaign launches (one row per launch), from `landing/launches/` JSON Lines.",
    "send_logs": "Send logs: one row per contact on a launch list and attempt, from CSV (gzip or not) or Parquet.",
    "credit_blocks": "Contacts held back because the balance ran out, from JSON Lines.",
    "dlrs": "Carrier delivery receipts, structured or raw SMPP text, de-duplicated by content.",
    "unsubscribes": "Opt-outs through the SMS unsubscribe link.",
    "inbound_sms": "Messages contacts sent back; phones normalised to E.164 for stop-keyword attribution.",
}


def _markdown(frame: pl.DataFrame, rows: int = 10) -> str:
    if frame.height == 0:
        return "_none_"
    head = frame.head(rows).with_columns(
        pl.all().cast(pl.String).str.slice(0, 80).str.replace_all(r"\|", "/")
    )
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join("" if v is None else v for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def ingest_days(feed: str, days: list[str], log: dg.DagsterLogManager | None = None) -> dict[str, object]:
    """Ingest the given arrival days of one feed into the lake; returns totals for metadata."""
    paths = resolve_paths()
    cache = phone_cache(paths.lake, default_region())
    totals = {"rows_read": 0, "rows_kept": 0, "duplicates": 0, "quarantined": 0, "skipped": 0, "files": 0}
    quarantine_frames, file_frames = [], []
    for day in days:
        if fingerprint.is_current(paths.landing, paths.lake, feed, day):
            totals["skipped"] += 1
            continue
        started = time.perf_counter()
        mark = fingerprint.landing_fingerprint(paths.landing, feed, day)
        result = ingest_partition(paths.landing, feed, day, phone_cache=cache)
        write_partition(paths.lake, feed, day, result)
        fingerprint.record(paths.landing, paths.lake, feed, day, mark)
        for key in ("rows_read", "rows_kept", "duplicates", "quarantined"):
            totals[key] += int(result.files[key].sum())
        totals["files"] += result.files.height
        quarantine_frames.append(result.quarantine)
        file_frames.append(result.files)
        if log:
            log.info(
                f"{feed} {day}: {result.files.height} files, {result.rows.height:,} rows kept, "
                f"{result.quarantine.height} quarantined in {time.perf_counter() - started:.1f}s"
            )
    quarantine = pl.concat(quarantine_frames) if quarantine_frames else pl.DataFrame()
    files = pl.concat(file_frames) if file_frames else pl.DataFrame()
    return {
        **totals,
        "quarantine_preview": _markdown(
            quarantine.select("file", "line", "reason") if quarantine.height else quarantine
        ),
        "files_preview": _markdown(files.drop("feed") if files.height else files),
    }


def build_feed_asset(feed: str) -> dg.AssetsDefinition:
    """The asset for one feed; a run over a partition range ingests every day in it at once."""

    @dg.asset(
        name=feed,
        group_name="lake",
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"polars", "parquet"},
        description=FEED_DESCRIPTIONS[feed],
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        days = [d for d in context.partition_keys if (resolve_paths().landing / feed / f"date={d}").is_dir()]
        totals = ingest_days(feed, days, context.log)
        read, kept = totals["rows_read"], totals["rows_kept"]
        return dg.MaterializeResult(
            metadata={
                "days_ingested": len(days) - int(totals["skipped"]),
                "days_unchanged": int(totals["skipped"]),
                "files": int(totals["files"]),
                "rows_read": int(read),
                "dagster/row_count": int(kept),
                "duplicates": int(totals["duplicates"]),
                "quarantined": int(totals["quarantined"]),
                "reconciles": bool(read == kept + totals["duplicates"] + totals["quarantined"]),
                "files_ingested": dg.MetadataValue.md(str(totals["files_preview"])),
                "quarantine_sample": dg.MetadataValue.md(str(totals["quarantine_preview"])),
            }
        )

    return _asset


feed_assets = [build_feed_asset(feed) for feed in FEEDS]
