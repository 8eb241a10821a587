"""Ingest one landing file: read it, type it, normalise its phones, de-duplicate it, account for it.

Pure functions over files: nothing here knows about Dagster or the warehouse. The
file is the unit: its rows go to the lake as one part of their arrival day, so one
file's damage never stops another, and a file added to a day is ingested alone. Per
file, rows read = rows kept + duplicates (repeats within the file) + rows
quarantined. A row repeated in another file (a file re-delivered under a new name)
is kept in that file's part too: the marts count it once, as they do across days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingestion.feeds import FEEDS, Feed
from ingestion.landing import survey
from ingestion.parquet_file import ParquetBatches
from ingestion.parse_text import CsvParser, parse_jsonl
from ingestion.phones import PhoneMemo
from ingestion.smpp import parse_receipts
from ingestion.spill import DEFAULT_LIMIT, DUPLICATES_SCHEMA, SpillingRows, keep_first
from ingestion.textfiles import RAW_KEEP_CHARS, Reject, iter_lines
from ingestion.validate import validate

QUARANTINE_SCHEMA = {
    "feed": pl.String,
    "arrival_date": pl.Date,
    "file": pl.String,
    "line": pl.UInt32,
    "reason": pl.String,
    "raw": pl.String,
}
FILES_SCHEMA = {
    "feed": pl.String,
    "arrival_date": pl.Date,
    "file": pl.String,
    "rows_read": pl.Int64,
    "rows_kept": pl.Int64,
    "duplicates": pl.Int64,
    "quarantined": pl.Int64,
    "file_error": pl.String,
}
_REJECT_SCHEMA = {c: QUARANTINE_SCHEMA[c] for c in ("file", "line", "reason", "raw")}
_SUFFIXES = {
    "csv": (".csv", ".csv.gz"),
    "parquet": (".parquet",),
    "jsonl": (".jsonl", ".jsonl.gz", ".json", ".json.gz"),
}


@dataclass
class FileResult:
    """What one landing file yields: typed rows, quarantined rows, and its accounting (one row).

    `rows` is a frame in memory, or, for a file that spilled past the memory limit, a
    lazy scan of scratch files that `close()` removes: use the result as a context
    manager (or call `close()`) once its rows are written.
    """

    rows: pl.DataFrame | pl.LazyFrame
    quarantine: pl.DataFrame
    accounting: pl.DataFrame
    _spill: SpillingRows | None = None

    @property
    def rows_kept(self) -> int:
        return int(self.accounting["rows_kept"].sum())

    @property
    def file_error(self) -> str | None:
        return self.accounting["file_error"][0]

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()

    def __enter__(self) -> FileResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _FileRead:
    """One file, read batch by batch: its typed good rows, its bad rows, and its accounting."""

    name: str
    bad: list[pl.DataFrame] = field(default_factory=list)  # _line, _raw, _source_file, reason
    rejects: list[Reject] = field(default_factory=list)  # lines that never became a row
    rows_read: int = 0
    error: str | None = None
    at_line: int | None = None  # the first line of the batch being read


def _format_of(feed: Feed, path: Path) -> str | None:
    return next((f for f in feed.formats if path.name.lower().endswith(_SUFFIXES[f])), None)


def _string_batches(feed: Feed, fmt: str, path: Path, read: _FileRead) -> Iterator[pl.DataFrame]:
    """The file's rows as string frames, a bounded batch at a time; rejects and errors go to `read`."""
    columns = feed.input_columns
    if fmt == "parquet":
        rows = ParquetBatches(path, columns)
        for frame, rejects in rows:
            read.rejects += rejects
            read.rows_read += frame.height + len(rejects)
            yield frame
        read.error = rows.error
        return
    csv_rows = CsvParser(columns) if fmt == "csv" else None
    for lines in iter_lines(path):
        read.at_line = int(lines.frame["_line"][0]) if lines.frame.height else read.at_line
        read.rows_read += lines.frame.height + len(lines.rejects)
        frame, rejects = csv_rows.parse(lines) if csv_rows else parse_jsonl(lines, columns)
        read.rejects += lines.rejects + rejects
        read.error = lines.file_error
        yield frame
    if csv_rows:
        read.rows_read -= csv_rows.header_lines
        read.error = "; ".join(e for e in (read.error, csv_rows.missing or csv_rows.warning) if e) or None


def _read_file(feed: Feed, path: Path, read: _FileRead, good: SpillingRows) -> None:
    """Read, type and validate one file, batch by batch, handing its good rows to `good` and
    what it learns (bad rows, counts, a file error) to `read`."""
    fmt = _format_of(feed, path)
    if fmt is None:
        allowed = ", ".join(s for f in feed.formats for s in _SUFFIXES[f])
        read.error = f"unsupported file type for {feed.name} (expected {allowed})"
        return
    for strings in _string_batches(feed, fmt, path, read):
        if not strings.height:
            continue
        strings = strings.with_columns(pl.lit(read.name).alias("_source_file"))
        if feed.name == "dlrs":
            strings = parse_receipts(strings).drop("receipt")
        typed, bad = validate(strings, feed)  # typed columns + _line + _source_file
        good.add(typed)
        if bad.height:
            read.bad.append(bad)


def output_schema(feed: Feed) -> dict[str, pl.DataType]:
    """The lake schema of a feed: typed columns, normalised phones, lineage columns."""
    types = {"string": pl.String, "enum": pl.String, "int": pl.Int64, "timestamp": pl.Datetime("us", "UTC")}
    schema: dict[str, pl.DataType] = {c.name: types[c.kind] for c in feed.columns}
    schema |= {target: pl.String for target in feed.phone_columns.values()}
    return schema | {
        "_arrival_date": pl.Date,
        "_source_file": pl.String,
        "_source_line": pl.UInt32,
        "_ingested_at": pl.Datetime("us", "UTC"),
    }


def ingest_file(
    path: Path,
    feed_name: str,
    day: str,
    phones: PhoneMemo | None = None,
    ingested_at: dt.datetime | None = None,
    scratch: Path | None = None,
    memory_limit: int = DEFAULT_LIMIT,
) -> FileResult:
    """Read, type, de-duplicate and normalise one landing file of `<feed>/date=<day>/`.

    `phones` memoises E.164 answers across files and runs; by default a fresh one for
    the default region. Every row is stamped `_ingested_at` (default: now), which is how
    the dbt models find the rows that are new since their last build. Past
    `memory_limit` bytes of typed rows the file spills to a folder under `scratch`
    (default: the system's temporary folder), see `ingestion.spill`.

    Nothing a file holds stops the run: bad rows are quarantined one by one, a damaged
    gzip keeps the lines before the damage, and any other failure (an I/O error, a file
    gone since it was listed) quarantines the whole file with the error and the line it
    was read at; its accounting says so.
    """
    feed = FEEDS[feed_name]
    ingested_at = ingested_at or dt.datetime.now(dt.UTC)
    arrival = dt.date.fromisoformat(day)
    name = f"{feed_name}/date={day}/{path.name}"
    good = SpillingRows(feed.dedup_key, memory_limit, scratch)
    read = _FileRead(name)
    try:
        _read_file(feed, path, read, good)
        rows, kept, duplicates = _first_rows(feed, good, arrival, ingested_at, phones)
    except Exception as exc:  # noqa: BLE001 - whatever it is, it is this file's, not the run's
        good.close()
        return _unreadable(feed, arrival, read, exc)
    quarantine = _quarantine(feed_name, arrival, read)
    accounting = _accounting(feed_name, arrival, read, kept, duplicates, quarantine)
    return FileResult(rows, quarantine, accounting, good)


def _unreadable(feed: Feed, arrival: dt.date, read: _FileRead, exc: Exception) -> FileResult:
    """A file that failed as it was read: quarantined whole, the failure its file error."""
    where = f" at line {read.at_line:,}" if read.at_line else ""
    why = f"could not be read{where} ({type(exc).__name__}: {exc})"
    quarantine = pl.DataFrame(
        [(feed.name, arrival, read.name, None, why, None)], schema=QUARANTINE_SCHEMA, orient="row"
    )
    accounting = pl.DataFrame(
        [(feed.name, arrival, read.name, 0, 0, 0, 0, why)], schema=FILES_SCHEMA, orient="row"
    )
    return FileResult(pl.DataFrame(schema=output_schema(feed)), quarantine, accounting)


@dataclass
class PartitionResult:
    """Every file of one arrival day, each ingested on its own (`ingest_file`), gathered."""

    results: list[FileResult]

    @property
    def rows(self) -> pl.DataFrame:
        """Every file's rows, one after the other (in the order of the files' names)."""
        return pl.concat([r.rows.lazy() for r in self.results]).collect() if self.results else pl.DataFrame()

    @property
    def quarantine(self) -> pl.DataFrame:
        return pl.concat([pl.DataFrame(schema=QUARANTINE_SCHEMA), *(r.quarantine for r in self.results)])

    @property
    def files(self) -> pl.DataFrame:
        """The files' accounting, one row each."""
        return pl.concat([pl.DataFrame(schema=FILES_SCHEMA), *(r.accounting for r in self.results)])

    def close(self) -> None:
        for result in self.results:
            result.close()

    def __enter__(self) -> PartitionResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ingest_partition(
    landing: Path, feed_name: str, day: str, phones: PhoneMemo | None = None, **options: object
) -> PartitionResult:
    """Every file the landing zone holds for one feed and arrival day, each through `ingest_file`
    (with the same `options`)."""
    files = survey(landing).files_of(feed_name, day)
    return PartitionResult([ingest_file(f.path, feed_name, day, phones, **options) for f in files])  # type: ignore[arg-type]


def _first_rows(
    feed: Feed,
    good: SpillingRows,
    arrival: dt.date,
    ingested_at: dt.datetime,
    phones: PhoneMemo | None,
) -> tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame, pl.DataFrame]:
    """The file's rows, first of each key, in the lake's shape; rows kept and lost."""
    schema = output_schema(feed)
    counts_kept, duplicates = [], list(good.duplicates)
    for group in good.groups():
        first, lost = keep_first(group, feed.dedup_key)
        del group  # the rows kept are a copy: the group need not outlive it
        duplicates.append(lost)
        if feed.phone_columns:
            phones = phones or PhoneMemo()
            for source, target in feed.phone_columns.items():
                first = phones.add_e164(first, source, target)
        rows = first.select(
            *feed.output_columns,
            pl.lit(arrival).alias("_arrival_date"),
            "_source_file",
            pl.col("_line").alias("_source_line"),
            pl.lit(ingested_at).alias("_ingested_at"),
        ).cast(schema)  # type: ignore[arg-type]
        counts_kept.append(rows.group_by("_source_file").len("rows_kept"))
        good.keep(rows)  # a spilled file's groups go back to disk as soon as they are done
    kept_schema = {"_source_file": pl.String, "rows_kept": pl.UInt32}
    return good.kept(schema), _per_file(counts_kept, kept_schema), _per_file(duplicates, DUPLICATES_SCHEMA)


def _per_file(counts: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Counts per `_source_file` gathered group by group, summed."""
    return pl.concat([pl.DataFrame(schema=schema), *counts]).group_by("_source_file").sum()


def _quarantine(feed_name: str, arrival: dt.date, read: _FileRead) -> pl.DataFrame:
    """Every line that did not become a row, and the file-level problem if any (an entry without a line)."""
    rejected = [(read.name, ln, reason, raw) for ln, raw, reason in read.rejects]
    rejected += [(read.name, None, read.error, None)] if read.error else []
    quarantine_parts = [pl.DataFrame(rejected, schema=_REJECT_SCHEMA, orient="row")]
    for bad in read.bad:
        quarantine_parts.append(
            bad.select(
                pl.col("_source_file").alias("file"),
                pl.col("_line").alias("line"),
                "reason",
                pl.col("_raw").str.head(RAW_KEEP_CHARS).alias("raw"),
            )
        )
    quarantine = pl.concat(quarantine_parts).select(
        pl.lit(feed_name).alias("feed"),
        pl.lit(arrival).alias("arrival_date"),
        "file",
        "line",
        "reason",
        "raw",
    )
    return quarantine.cast(QUARANTINE_SCHEMA).sort("file", "line", nulls_last=False)  # type: ignore[arg-type]


def _accounting(
    feed_name: str,
    arrival: dt.date,
    read: _FileRead,
    kept: pl.DataFrame,
    duplicates: pl.DataFrame,
    quarantine: pl.DataFrame,
) -> pl.DataFrame:
    """The file's row: rows read = rows kept + duplicates + quarantined, and its file-level error."""
    rejected = quarantine.filter(pl.col("line").is_not_null()).group_by("file").len("quarantined")
    return (
        pl.DataFrame(
            {"file": [read.name], "rows_read": [read.rows_read], "file_error": [read.error]},
            schema={"file": pl.String, "rows_read": pl.Int64, "file_error": pl.String},
        )
        .join(kept.rename({"_source_file": "file"}), on="file", how="left")
        .join(duplicates.rename({"_source_file": "file"}), on="file", how="left")
        .join(rejected, on="file", how="left")
        .with_columns(pl.col("rows_kept", "duplicates", "quarantined").fill_null(0))
        .select(
            pl.lit(feed_name).alias("feed"),
            pl.lit(arrival).alias("arrival_date"),
            *[c for c in FILES_SCHEMA if c not in ("feed", "arrival_date")],
        )
        .cast(FILES_SCHEMA)  # type: ignore[arg-type]
    )
