"""Parse numbered text lines into string-typed frames: CSV with a header, or JSON Lines.

Every output frame has the feed's columns as strings plus `_line` and `_raw`;
lines that cannot be parsed come back as (line, raw, reason) rejects.
"""

from __future__ import annotations

import csv
import json

import polars as pl

from ingestion.textfiles import RAW_KEEP_CHARS, Lines

Reject = tuple[int | None, str, str]


def _empty(columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"_line": pl.Series([], dtype=pl.UInt32), "_raw": pl.Series([], dtype=pl.String)}
        | {c: pl.Series([], dtype=pl.String) for c in columns}
    )


def parse_csv(lines: Lines, columns: list[str]) -> tuple[pl.DataFrame, list[Reject], str | None]:
    """Parse CSV lines whose first line is a header naming (some of) `columns`.

    A header missing a column sends every row to quarantine; unknown extra header
    columns are ignored with a warning; a row whose field count differs from the
    header's is quarantined on its own.
    """
    frame = lines.frame
    if frame.height == 0:
        return _empty(columns), [], None
    header_line, header_text = frame.row(0)
    header = [h.strip().lower() for h in next(csv.reader([header_text]))]
    body = frame.slice(1)
    missing = [c for c in columns if c not in header]
    if missing:
        reason = f"header (line {header_line}) lacks column(s) {', '.join(missing)}"
        rejects = [(ln, t[:RAW_KEEP_CHARS], reason) for ln, t in body.iter_rows()]
        return _empty(columns), rejects, reason
    extra = [h for h in header if h not in columns]
    warning = f"header has unexpected column(s) {', '.join(extra)}: ignored" if extra else None
    n = len(header)
    quoted = body.filter(pl.col("_text").str.contains('"', literal=True))
    plain = body.filter(~pl.col("_text").str.contains('"', literal=True))
    fields = plain.with_columns(pl.col("_text").str.split(",").alias("_fields"))
    if quoted.height:
        parsed = [next(csv.reader([t])) for t in quoted["_text"]]
        fields = pl.concat(
            [fields, quoted.with_columns(pl.Series("_fields", parsed, dtype=pl.List(pl.String)))]
        ).sort("_line")
    counts = pl.col("_fields").list.len()
    bad = fields.filter(counts != n)
    rejects = [
        (ln, t[:RAW_KEEP_CHARS], f"expected {n} fields as in the header, found {len(f)}")
        for ln, t, f in bad.select("_line", "_text", "_fields").iter_rows()
    ]
    good = fields.filter(counts == n)
    out = good.select(
        "_line",
        pl.col("_text").alias("_raw"),
        *[pl.col("_fields").list.get(header.index(c)).str.strip_chars().alias(c) for c in columns],
    )
    return out, rejects, warning


def _scalar_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise ValueError("is not a scalar")
    return str(value)


def _decode_slowly(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, list[Reject]]:
    """Line-by-line JSON decoding, used only for files the fast path refused."""
    rows: list[dict[str, str | None]] = []
    rejects: list[Reject] = []
    for ln, text in frame.iter_rows():
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            rejects.append((ln, text[:RAW_KEEP_CHARS], f"malformed JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            rejects.append(
                (ln, text[:RAW_KEEP_CHARS], f"JSON value is a {type(obj).__name__}, not an object")
            )
            continue
        try:
            row = {c: _scalar_text(obj.get(c)) for c in columns}
        except ValueError:
            bad = next(c for c in columns if isinstance(obj.get(c), (dict, list)))
            rejects.append((ln, text[:RAW_KEEP_CHARS], f"field {bad} is not a scalar value"))
            continue
        rows.append({"_line": ln, "_raw": text} | row)
    schema = {"_line": pl.UInt32, "_raw": pl.String} | {c: pl.String for c in columns}
    return pl.DataFrame(rows, schema=schema), rejects


def parse_jsonl(lines: Lines, columns: list[str]) -> tuple[pl.DataFrame, list[Reject]]:
    """Decode JSON Lines into string columns (numbers and booleans kept as their text)."""
    frame = lines.frame
    if frame.height == 0:
        return _empty(columns), []
    dtype = pl.Struct({c: pl.String for c in columns})
    try:
        decoded = frame.select(
            "_line", pl.col("_text").alias("_raw"), pl.col("_text").str.json_decode(dtype).alias("_s")
        ).unnest("_s")
        return decoded, []
    except pl.exceptions.PolarsError:
        return _decode_slowly(frame, columns)
