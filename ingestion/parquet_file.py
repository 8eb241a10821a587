"""Read a Parquet landing file into the same string-typed shape as the text readers."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingestion.parse_text import Reject


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:  # no offset: left as text without one, so validation refuses it
            return col.dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
        return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
    if dtype.is_nested():
        return col.cast(pl.String, strict=False)
    return col.cast(pl.String)


def read_parquet_file(path: Path, columns: list[str]) -> tuple[pl.DataFrame, list[Reject], str | None]:
    """Every column comes back as text; `_line` is the 1-based row number in the file.

    A file Parquet cannot read yields no rows and an error; missing columns send
    every row to quarantine; nested or binary values are refused row by row.
    """
    try:
        raw = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault
        return pl.DataFrame(), [], f"not a readable Parquet file ({type(exc).__name__}: {exc})"
    raw = raw.with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.UInt32))
    present = [c for c in columns if c in raw.columns]
    raw_json = pl.struct([_as_text(c, raw.schema[c]) for c in present]).struct.json_encode().alias("_raw")
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        reason = f"Parquet schema lacks column(s) {', '.join(missing)}"
        rejects = [(ln, r, reason) for ln, r in raw.select("_line", raw_json).iter_rows()]
        return pl.DataFrame(), rejects, reason
    nested = [c for c in columns if raw.schema[c].is_nested() or raw.schema[c] == pl.Binary]
    if nested:
        reason = f"column(s) {', '.join(nested)} have a non-scalar Parquet type"
        rejects = [(ln, r, reason) for ln, r in raw.select("_line", raw_json).iter_rows()]
        return pl.DataFrame(), rejects, reason
    out = raw.select("_line", raw_json, *[_as_text(c, raw.schema[c]).alias(c) for c in columns])
    return out, [], None
