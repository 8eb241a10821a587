"""Parse numbered text lines into string-typed frames: CSV with a header, or JSON Lines.

Both parsers take one batch of lines at a time (`textfiles.iter_lines`). Every output
frame has the feed's columns as strings plus `_line` and `_raw`; lines that cannot
be parsed come back as (line, raw, reason) rejects.
"""

from __future__ import annotations

import csv
import json

import polars as pl

from ingestion.textfiles import RAW_KEEP_CHARS, Lines, Reject


def _empty(columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"_line": pl.Series([], dtype=pl.UInt32), "_raw": pl.Series([], dtype=pl.String)}
        | {c: pl.Series([], dtype=pl.String) for c in columns}
    )


class CsvParser:
    """Parse CSV lines whose first line is a header naming (some of) `columns`, batch after batch.

    The header is taken from the first line of the first batch with lines; later batches
    are read with it. A header missing a column sends every row to quarantine; unknown
    extra header columns are ignored with a warning (`warning`); a row whose field count
    differs from the header's is quarantined on its own.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.header: list[str] | None = None
        self.missing: str | None = None  # the reason every row is refused, if the header lacks columns
        self.warning: str | None = None
        self.header_lines = 0

    def _read_header(self, line: int, text: str) -> None:
        self.header_lines = 1
        fields, error = _csv_fields(text)
        if error:
            self.header, self.missing = [], f"header (line {line}) is not a CSV line ({error})"
            return
        self.header = [h.strip().lower() for h in fields]
        missing = [c for c in self.columns if c not in self.header]
        if missing:
            self.missing = f"header (line {line}) lacks column(s) {', '.join(missing)}"
        extra = [h for h in self.header if h not in self.columns]
        if extra:
            self.warning = f"header has unexpected column(s) {', '.join(extra)}: ignored"

    def parse(self, lines: Lines) -> tuple[pl.DataFrame, list[Reject]]:
        """One batch of lines: string columns with `_line` and `_raw`, and the rejected lines."""
        body = lines.frame
        if self.header is None and body.height:
            self._read_header(*body.row(0))
            body = body.slice(1)
        if self.header is None or body.height == 0:
            return _empty(self.columns), []
        if self.missing:
            return _empty(self.columns), [
                (ln, t[:RAW_KEEP_CHARS], self.missing) for ln, t in body.iter_rows()
            ]
        header, n = self.header, len(self.header)
        # quotes (or a carriage return inside a line) need Python's CSV reader, a line at a time
        tricky = pl.col("_text").str.contains('["\r]')
        quoted, plain = body.filter(tricky), body.filter(~tricky)
        fields = plain.with_columns(pl.col("_text").str.split(",").alias("_fields"))
        rejects: list[Reject] = []
        if quoted.height:
            parsed, kept = [], []
            for ln, text in quoted.iter_rows():
                found, error = _csv_fields(text)
                if error:
                    rejects.append((ln, text[:RAW_KEEP_CHARS], f"not a CSV line ({error})"))
                else:
                    parsed.append(found)
                    kept.append(ln)
            quoted = quoted.filter(pl.col("_line").is_in(kept))
            fields = pl.concat(
                [fields, quoted.with_columns(pl.Series("_fields", parsed, dtype=pl.List(pl.String)))]
            ).sort("_line")
        counts = pl.col("_fields").list.len()
        bad = fields.filter(counts != n)
        rejects += [
            (ln, t[:RAW_KEEP_CHARS], f"expected {n} fields as in the header, found {len(f)}")
            for ln, t, f in bad.select("_line", "_text", "_fields").iter_rows()
        ]
        rejects.sort(key=lambda reject: reject[0] or 0)
        good = fields.filter(counts == n)
        out = good.select(
            "_line",
            pl.col("_text").alias("_raw"),
            *[pl.col("_fields").list.get(header.index(c)).str.strip_chars().alias(c) for c in self.columns],
        )
        return out, rejects


def _csv_fields(text: str) -> tuple[list[str], str | None]:
    """The fields of one CSV line, or why it is not one (a carriage return alone inside an
    unquoted field, an unclosed quote: what Python's CSV reader refuses)."""
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        message = str(exc).split(" - ")[0]  # Python's advice on opening files does not apply here
        if "new-line character" in message:
            message = "a carriage return inside an unquoted field"
        return [], message
    if len(rows) != 1:
        return [], f"{len(rows)} records in one line"
    return rows[0], None


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
