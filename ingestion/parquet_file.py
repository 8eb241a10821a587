"""Read a Parquet landing file, a batch of rows at a time, into the same string-typed shape as the text readers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ingestion.textfiles import Reject

BATCH_ROWS = 500_000  # rows decoded at a time


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:  # no offset: left as text without one, so validation refuses it
            return col.dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
        return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
    if dtype.is_nested():
        return col.cast(pl.String, strict=False)
    return col.cast(pl.String)


class ParquetBatches:
    """The rows of a Parquet file as string frames with `_line` (the 1-based row number) and `_raw`.

    Iterating yields (frame, rejects) per batch of rows, reading only the feed's columns;
    afterwards `error` says what was wrong with the file. A file Parquet cannot read
    yields nothing more from the point it fails; missing columns send every row to
    quarantine; nested or binary values are refused.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        self.error: str | None = None

    def __iter__(self) -> Iterator[tuple[pl.DataFrame, list[Reject]]]:
        first = 1
        try:
            file = pq.ParquetFile(self.path)
            schema = pl.from_arrow(file.schema_arrow.empty_table()).schema
            present = [c for c in self.columns if c in schema]
            missing = [c for c in self.columns if c not in schema]
            nested = [c for c in present if schema[c].is_nested() or schema[c] == pl.Binary]
            if missing:
                self.error = f"Parquet schema lacks column(s) {', '.join(missing)}"
            elif nested:
                self.error = f"column(s) {', '.join(nested)} have a non-scalar Parquet type"
            for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=present or None):
                raw = pl.from_arrow(batch)
                assert isinstance(raw, pl.DataFrame)
                yield self._convert(raw, first, present, schema)
                first += raw.height
        except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault
            where = f" after row {first - 1:,}" if first > 1 else ""
            self.error = f"not a readable Parquet file{where} ({type(exc).__name__}: {exc})"

    def _convert(
        self, raw: pl.DataFrame, first: int, present: list[str], schema: pl.Schema
    ) -> tuple[pl.DataFrame, list[Reject]]:
        raw = raw.with_row_index("_line", offset=first).with_columns(pl.col("_line").cast(pl.UInt32))
        raw_json = (
            pl.struct([_as_text(c, schema[c]) for c in present]).struct.json_encode()
            if present
            else pl.lit("{}")
        ).alias("_raw")
        if self.error:  # the whole file is refused, row by row
            return pl.DataFrame(), [
                (ln, r, self.error) for ln, r in raw.select("_line", raw_json).iter_rows()
            ]
        return raw.select("_line", raw_json, *[_as_text(c, schema[c]).alias(c) for c in self.columns]), []
