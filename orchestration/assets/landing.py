"""The landing zone and its six feeds as Dagster assets; the feeds partitioned by arrival day.

`landing_zone` surveys the landing tree at the start of every run: what each feed
holds, and every entry that is not read and why (its check, `landing_layout`). The
feeds are ingested in one step: a run over a range of arrival days ingests, in each,
the landing files that are new or changed since the lake accepted them, each into its
own lake part (typed rows, quarantine, accounting), and lets go of the parts whose
landing file is gone. An unchanged file is neither read nor checked again, and one
file never stops another.
"""

import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from ingestion.feeds import FEEDS
from ingestion.ingest import FILES_SCHEMA, QUARANTINE_SCHEMA, ingest_file
from ingestion.lake import accept, clear_scratch, part_path, phone_cache, remove_part, scratch_dir, write_part
from ingestion.landing import LandingFile, Survey, survey
from ingestion.phones import PhoneMemo
from orchestration.checks.lake import check_specs, ingest_report, lake_check, landing_layout
from orchestration.checks.validator import Validator
from orchestration.instance import WAREHOUSE_POOL
from orchestration.paths import Paths
from orchestration.progress import say
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import rebuild
from orchestration.warehouse.landing_changes import DayChanges, fingerprint, landing_changes

# a single-run backfill policy is beta; a run over many arrival days in one step is what every
# run of the warehouse wants
warnings.filterwarnings("ignore", category=dg.BetaWarning)

arrival_days = dg.DynamicPartitionsDefinition(name="arrival_day")
"""One partition per arrival day that has files in the landing zone (added as they appear)."""

# the big feeds go first in a run: their long checks then run while the small feeds are read
ORDER = sorted(FEEDS, key=lambda feed: feed not in ("dlrs", "send_logs"))
INGEST_THREADS = 2  # files of one feed read at once: most of the work is in Polars, outside the GIL


@dg.asset(
    group_name="landing",
    kinds={"folder"},
    check_specs=[
        dg.AssetCheckSpec("landing_layout", asset="landing_zone", description=landing_layout.__doc__)
    ],
)
def landing_zone(settings: WarehouseSettings):
    """The landing zone the sending platform writes (`SMS_LANDING_DIR`), as this run found it: the
    files of each feed, and every entry that is not read and why (a folder that is no feed, a day
    folder whose name is not a real date, a FIFO, a link leading outside the landing zone).

    Only `<feed>/date=YYYY-MM-DD/<file>` is read; a producer's `*.tmp` and hidden files are left
    alone until renamed.
    """
    found = survey(settings.paths.landing)
    files = {feed: sum(len(f) for f in found.files.get(feed, {}).values()) for feed in FEEDS}
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.paths.landing)),
            "files": dg.MetadataValue.json(files),
            "not_read": len(found.problems),
        }
    )
    yield landing_layout(found)


@dataclass
class IngestSummary:
    """What one materialisation of a feed did, over all the arrival days it was given."""

    files_ingested: int = 0
    files_removed: int = 0
    days: set[str] = field(default_factory=set)
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    files: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FILES_SCHEMA))
    parts: list[Path] = field(default_factory=list)  # the lake parts this run wrote, to be checked
    # what the lake will record of the files ingested (day -> name -> entry), only once their
    # checks pass, so a file whose part failed a blocking check is ingested and checked again next time
    accepting: dict[str, dict[str, dict]] = field(default_factory=dict)

    def total(self, column: str) -> int:
        return int(self.files[column].sum())

    def metadata(self) -> dict[str, object]:
        read, kept = self.total("rows_read"), self.total("rows_kept")
        dups, quarantined = self.total("duplicates"), self.total("quarantined")
        return {
            "files_new_or_changed": self.files_ingested,
            "files_removed": self.files_removed,
            "arrival_days": len(self.days),
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
        removed = f", {self.files_removed} removed" if self.files_removed else ""
        return (
            f"ingested {feed:<13} {self.files_ingested} file(s) new or changed{removed} in {len(self.days)} "
            f"day(s): {self.total('rows_kept'):,} rows kept, {self.total('duplicates'):,} duplicates, "
            f"{self.total('quarantined'):,} quarantined"
        )


def problem_files(files: pl.DataFrame, quarantine: pl.DataFrame) -> list[dict[str, object]]:
    """Each landing file ingested that had rows quarantined or a file error: its path under the
    landing root, the rows quarantined, and its first problem."""
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


def ingest_changes(
    paths: Paths,
    feed: str,
    changes: dict[str, DayChanges],
    phones: PhoneMemo,
    memory_limit: int,
    log: dg.DagsterLogManager | None = None,
) -> IngestSummary:
    """Bring the lake's parts of one feed in line with its landing files, day by day (`changes`).

    Two files are read at a time: most of the work is inside Polars, which releases the
    GIL, so a second thread keeps both cores busy; each thread writes the part it read, so
    no file's rows wait in memory for another's. `phones` is the run's memo of E.164
    answers, shared by the feeds and saved by the caller; past `memory_limit` bytes of typed
    rows, a file spills to the lake's scratch folder. The caller holds the lake's turn.
    """
    summary = IngestSummary()
    clear_scratch(paths.lake)  # the caller holds the lake's turn: no one else is ingesting
    for day, change in changes.items():
        summary.days.add(day)
        for name in change.drop:  # its rows may have been built on: the next build is a full one
            rebuild.note_lake_change(paths.lake, f"{feed}/date={day}/{name} was removed")
            remove_part(paths.lake, feed, day, name)
            summary.files_removed += 1
        for stray in change.strays:  # never accepted, so never built on
            remove_part(paths.lake, feed, day, part=stray)
        for name in change.replaced:
            rebuild.note_lake_change(paths.lake, f"{feed}/date={day}/{name} was ingested again")
    todo = [file for change in changes.values() for file in change.ingest]

    def ingest(file: LandingFile) -> tuple[pl.DataFrame, pl.DataFrame, dict, str]:
        started = time.perf_counter()
        scratch = scratch_dir(paths.lake)
        with ingest_file(
            file.path, feed, file.day, phones, scratch=scratch, memory_limit=memory_limit
        ) as result:
            part = write_part(paths.lake, feed, file.day, file.name, result)
        took = time.perf_counter() - started
        done = f"{file.relative}: {result.rows_kept:,} rows kept, {result.quarantine.height} quarantined in {took:.1f}s"
        entry = {"fingerprint": fingerprint(file, phones.region), "part": part}
        return result.quarantine, result.accounting, entry, done

    quarantine, files, done_lines = [summary.quarantine], [summary.files], []
    with ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix=f"ingest-{feed}") as pool:
        for file, (rejected, accounted, entry, done) in zip(todo, pool.map(ingest, todo), strict=True):
            summary.files_ingested += 1
            quarantine.append(rejected)
            files.append(accounted)
            summary.parts.append(part_path(paths.lake, feed, file.day, file.name))
            summary.accepting.setdefault(file.day, {})[file.name] = entry
            done_lines.append(done)
    if log and done_lines:  # one line per feed: each log line is an event the run stores
        log.info(f"{feed}, {len(done_lines)} file(s) ingested:\n" + "\n".join(done_lines))
    summary.quarantine, summary.files = pl.concat(quarantine), pl.concat(files)
    return summary


def _checks(
    validator: Validator, docs: Path, feed: str, summary: IngestSummary, found: Survey
) -> tuple[dg.AssetCheckResult, dg.AssetCheckResult]:
    """Both checks of one feed (run in the step's checking thread)."""
    lake = lake_check(validator, docs, feed, summary.parts, summary.files)
    return lake, ingest_report(
        validator, docs, feed, summary.quarantine, summary.files, found.problems_of(feed)
    )


class IngestConfig(dg.Config):
    """Launchpad options of the feeds' ingestion."""

    verify_lake: bool = False
    """Read the footer of every lake part of the run's days, so that a part damaged in place is
    ingested again from its landing file (a full refresh does; size and time catch the rest)."""


@dg.multi_asset(
    name="landing_feeds",
    specs=[
        dg.AssetSpec(
            feed,
            group_name="landing",
            kinds={"polars", "parquet"},
            description=FEEDS[feed].description,
            deps=[landing_zone],
        )
        for feed in FEEDS
    ],
    check_specs=[spec for feed in FEEDS for spec in check_specs(feed)],
    partitions_def=arrival_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def landing_feeds(
    context: dg.AssetExecutionContext, validator: Validator, settings: WarehouseSettings, config: IngestConfig
):
    """The landing feeds, one asset each, ingested into the Parquet lake in one step.

    In each arrival day of the run's range, the files new or changed since the lake
    accepted them are ingested, each into its own part, and the parts of files gone are
    dropped. The feeds of a run (any subset of them) are read one after the other, the
    big ones first, and each feed's checks run in a thread while the next feed is read
    (Polars reads outside Python's lock). A file's part is accepted (its fingerprint
    recorded) only when its feed's blocking check passes.
    """
    paths = settings.paths
    selected = [feed for feed in ORDER if dg.AssetKey(feed) in context.selected_asset_keys]
    wanted = context.selected_asset_check_keys
    in_range = set(context.partition_keys)
    # one memo of E.164 answers for the run's feeds: read once (when a feed first needs it), saved once
    phones = PhoneMemo(settings.region, phone_cache(paths.lake, settings.region))
    with ThreadPoolExecutor(1, thread_name_prefix="lake-checks") as checking:
        pending: list[tuple[str, IngestSummary, Future]] = []
        with rebuild.lake_turn(paths.lake):  # what changed, as the lake is while no one else writes it
            changes = landing_changes(paths.landing, paths.lake, settings.region, verify=config.verify_lake)
        for feed in selected:
            days = {day: change for day, change in changes.touched.get(feed, {}).items() if day in in_range}
            with rebuild.lake_turn(paths.lake):  # not while a dbt build reads the lake
                summary = ingest_changes(paths, feed, days, phones, settings.ingest_memory_bytes, context.log)
            say(context.log, summary.progress(feed))
            yield dg.MaterializeResult(asset_key=feed, metadata=summary.metadata())
            # the checks read the new parts back from the lake, a bounded slice at a time
            pending.append(
                (
                    feed,
                    summary,
                    checking.submit(_checks, validator, paths.data_docs, feed, summary, changes.survey),
                )
            )
        with rebuild.lake_turn(paths.lake):
            phones.save()
        for feed, summary, checked in pending:
            lake, report = checked.result()
            if lake.passed:
                with rebuild.lake_turn(paths.lake):
                    for day, entries in summary.accepting.items():
                        accept(paths.lake, feed, day, entries)
            for result in (lake, report):
                if dg.AssetCheckKey(dg.AssetKey(feed), result.check_name) in wanted:
                    yield result
