"""The six landing feeds as Dagster assets, partitioned by arrival day, ingested in one step.

Each materialisation reads `landing/<feed>/date=<day>/`, writes the lake
partition (typed rows, quarantine, per-file accounting) atomically, and skips a
partition whose landing files are unchanged since the lake accepted them.
"""

import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from ingestion.feeds import FEEDS
from ingestion.ingest import FILES_SCHEMA, QUARANTINE_SCHEMA, ingest_partition
from ingestion.lake import (
    clear_scratch,
    partition_path,
    phone_cache,
    remove_partition,
    scratch_dir,
    write_partition,
)
from ingestion.phones import PhoneMemo
from orchestration.checks.lake import check_specs, ingest_report, lake_check
from orchestration.checks.validator import Validator
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import Paths
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import landing_changes, rebuild

# a single-run backfill policy is beta; a run over many arrival days in one step is what every
# run of the warehouse wants
warnings.filterwarnings("ignore", category=dg.BetaWarning)

arrival_days = dg.DynamicPartitionsDefinition(name="arrival_day")
"""One partition per arrival day that has files in the landing zone (added as they appear)."""

# the big feeds go first in a run: their long checks then run while the small feeds are read
ORDER = sorted(FEEDS, key=lambda feed: feed not in ("dlrs", "send_logs"))
INGEST_THREADS = 2  # days of one feed read at once: most of the work is in Polars, outside the GIL


@dataclass
class IngestSummary:
    """What one materialisation of a feed did, over all the days it was given."""

    days_ingested: int = 0
    days_unchanged: int = 0
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))
    partitions: list[Path] = field(default_factory=list)  # the lake files this run wrote, to be checked
    # fingerprints of the partitions written, recorded only once their checks pass,
    # so a partition that failed a blocking check is ingested and checked again next time
    fingerprints: dict[str, str] = field(default_factory=dict)

    def total(self, column: str) -> int:
        return int(self.files[column].sum())

    def metadata(self) -> dict[str, object]:
        read, kept = self.total("rows_read"), self.total("rows_kept")
        dups, quarantined = self.total("duplicates"), self.total("quarantined")
        return {
            "days_ingested": self.days_ingested,
            "days_unchanged": self.days_unchanged,
            "files": self.files.height,
            "rows_read": read,
            "dagster/row_count": kept,
            "duplicates": dups,
            "quarantined": quarantined,
            "reconciles": read == kept + dups + quarantined,
            "problem_files": dg.MetadataValue.json(problem_files(self.files, self.quarantine)),
            "files_ingested": dg.MetadataValue.md(markdown_table(self.files.drop("feed"))),
            "quarantine_sample": dg.MetadataValue.md(
                markdown_table(self.quarantine.select("file", "line", "reason"))
            ),
        }

    def progress(self, feed: str) -> str:
        """The terminal's line for this feed."""
        return (
            f"ingested {feed:<13} {self.days_ingested} day(s) new, {self.days_unchanged} unchanged: "
            f"{self.total('rows_kept'):,} rows kept, {self.total('duplicates'):,} duplicates, "
            f"{self.total('quarantined'):,} quarantined"
        )


def problem_files(files: pl.DataFrame, quarantine: pl.DataFrame) -> list[dict[str, object]]:
    """Each landing file of the partitions ingested that had rows quarantined or a file error:
    its path under the landing root, the rows quarantined, and its first problem."""
    first = (
        quarantine.filter(pl.col("line").is_not_null())
        .sort("file", "line")
        .group_by("file", maintain_order=True)
        .agg(pl.col("line").first().alias("first_line"), pl.col("reason").first().alias("first_reason"))
    )
    found = (
        files.filter((pl.col("quarantined") > 0) | pl.col("file_error").is_not_null())
        .join(first, on="file", how="left")
        .sort("file")
    )
    return [
        {
            "file": row["file"],
            "quarantined": row["quarantined"],
            "file_error": row["file_error"],
            "first_line": row["first_line"],
            "first_reason": row["first_reason"],
        }
        for row in found.iter_rows(named=True)
    ]


def markdown_table(frame: pl.DataFrame, rows: int = 10) -> str:
    """The first rows of a frame as a Markdown table for the UI (cells cut at 80 characters)."""
    if frame.height == 0:
        return "_none_"
    head = frame.head(rows).with_columns(
        pl.all().cast(pl.String).str.slice(0, 80).str.replace_all(r"\|", "/")
    )
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join("" if v is None else v for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def ingest_days(
    paths: Paths,
    feed: str,
    days: list[str],
    phones: PhoneMemo,
    memory_limit: int,
    log: dg.DagsterLogManager | None = None,
) -> IngestSummary:
    """Ingest the given arrival days of one feed into the lake, skipping unchanged ones.

    Two days are read at a time: most of the work is inside Polars, which releases
    the GIL, so a second thread keeps both cores busy. Each thread writes the
    partition it read, so no day's rows wait in memory for another's. `phones` is
    the run's memo of E.164 answers, shared by the feeds and saved by the caller;
    past `memory_limit` bytes of typed rows, a day spills to the lake's scratch folder.
    """
    summary = IngestSummary()
    clear_scratch(paths.lake)  # the caller holds the lake's turn: no one else is ingesting
    todo = list(landing_changes.changed(paths.lake, paths.landing, feed, days, phones.region).items())
    summary.days_unchanged = len(days) - len(todo)
    for day, _ in todo:
        if partition_path(paths.lake, feed, day).exists():  # rows may go as well as come
            rebuild.note_lake_change(paths.lake, f"{feed}/date={day} was ingested again")

    def ingest(day: str) -> tuple[pl.DataFrame, pl.DataFrame, str]:
        started = time.perf_counter()
        scratch = scratch_dir(paths.lake)
        with ingest_partition(
            paths.landing, feed, day, phones, scratch=scratch, memory_limit=memory_limit
        ) as result:
            write_partition(paths.lake, feed, day, result)
        took = time.perf_counter() - started
        done = (
            f"{day}: {result.files.height} files, {result.rows_kept:,} rows kept, "
            f"{result.quarantine.height} quarantined in {took:.1f}s"
        )
        return result.quarantine, result.files, done

    quarantine, files, days_done = [summary.quarantine], [summary.files], []
    with ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix=f"ingest-{feed}") as pool:
        for (day, mark), (rejected, accounted, done) in zip(
            todo, pool.map(ingest, [d for d, _ in todo]), strict=True
        ):
            summary.fingerprints[day] = mark
            summary.days_ingested += 1
            quarantine.append(rejected)
            files.append(accounted)
            summary.partitions.append(partition_path(paths.lake, feed, day))
            days_done.append(done)
    if log and days_done:  # one line per feed: each log line is an event the run stores
        log.info(f"{feed}, {len(days_done)} day(s) ingested:\n" + "\n".join(days_done))
    summary.quarantine, summary.files = pl.concat(quarantine), pl.concat(files)
    return summary


def drop_abandoned(lake: Path, landing: Path, feed: str) -> list[str]:
    """Remove lake partitions that failed their checks and whose landing folder is gone.

    A partition that fails a blocking check stays in the lake unaccepted, to be
    ingested and checked again; if the operator removes its landing files instead
    of fixing them, nothing would ever replace it, and the next build would read it.
    """
    dropped = landing_changes.abandoned(lake, landing, feed)
    for day in dropped:
        rebuild.note_lake_change(lake, f"{feed}/date={day} was removed (failed its checks, landing gone)")
        remove_partition(lake, feed, day)
    return [f"date={d}" for d in dropped]


def _checks(
    validator: Validator, docs: Path, feed: str, summary: IngestSummary
) -> tuple[dg.AssetCheckResult, dg.AssetCheckResult]:
    """Both checks of one feed (run in the step's checking thread)."""
    lake = lake_check(validator, docs, feed, summary.partitions, summary.files)
    return lake, ingest_report(validator, docs, feed, summary.quarantine, summary.files)


@dg.multi_asset(
    name="landing_feeds",
    specs=[
        dg.AssetSpec(
            feed, group_name="landing", kinds={"polars", "parquet"}, description=FEEDS[feed].description
        )
        for feed in FEEDS
    ],
    check_specs=[spec for feed in FEEDS for spec in check_specs(feed)],
    partitions_def=arrival_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def landing_feeds(context: dg.AssetExecutionContext, validator: Validator, settings: WarehouseSettings):
    """The landing feeds, one asset each, ingested into the Parquet lake in one step.

    A run over a range of arrival days ingests every day in it at once, skipping the
    days whose files the lake already accepted. The feeds of a run (any subset of
    them) are read one after the other, the big ones first, and each feed's checks
    run in a thread while the next feed is read (Polars reads outside Python's lock).
    A feed's partitions are accepted (their fingerprints recorded) only when its
    blocking check passes.
    """
    paths = settings.paths
    selected = [feed for feed in ORDER if dg.AssetKey(feed) in context.selected_asset_keys]
    wanted = context.selected_asset_check_keys
    # one memo of E.164 answers for the run's feeds: read once (when a feed first needs it), saved once
    phones = PhoneMemo(settings.region, phone_cache(paths.lake, settings.region))
    with ThreadPoolExecutor(1, thread_name_prefix="lake-checks") as checking:
        pending: list[tuple[str, IngestSummary, Future]] = []
        for feed in selected:
            landing = paths.landing / feed
            days = [d for d in context.partition_keys if (landing / f"date={d}").is_dir()]
            with rebuild.lake_turn(paths.lake):  # not while a dbt build reads the lake
                dropped = drop_abandoned(paths.lake, paths.landing, feed)
                summary = ingest_days(paths, feed, days, phones, settings.ingest_memory_bytes, context.log)
            if dropped:
                context.log.warning(
                    f"{feed}: removed {', '.join(dropped)}: failed checks, landing files gone"
                )
            say(context.log, summary.progress(feed))
            yield dg.MaterializeResult(asset_key=feed, metadata=summary.metadata())
            # the checks read the new partitions back from the lake, a bounded slice at a time
            pending.append(
                (feed, summary, checking.submit(_checks, validator, paths.data_docs, feed, summary))
            )
        with rebuild.lake_turn(paths.lake):
            phones.save()
        for feed, summary, checked in pending:
            lake, report = checked.result()
            if lake.passed:
                for day, mark in summary.fingerprints.items():
                    landing_changes.record(paths.lake, feed, day, mark)
            for result in (lake, report):
                if dg.AssetCheckKey(dg.AssetKey(feed), result.check_name) in wanted:
                    yield result
