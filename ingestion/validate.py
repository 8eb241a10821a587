"""Type a string frame by its feed's declaration, sending each bad row to quarantine with a reason."""

from __future__ import annotations

import polars as pl

from ingestion.feeds import Column, Feed

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"
_HAS_OFFSET = r"(?:[Zz]|[+-]\d{2}:?\d{2})$"


def _blank_to_null(name: str) -> pl.Expr:
    col = pl.col(name).str.strip_chars()
    return pl.when(col == "").then(None).otherwise(col)


# The shape nearly every producer writes (`2026-11-03T08:12:45.539Z`, `…+01:00`), read from
# fixed positions; any other text goes to the general parser, which gives the same answers
# on this shape too (a test compares them), at twice the cost.
_CANONICAL = (
    r"^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO-8601 text with an offset (or `Z`) to a UTC datetime; anything else to null."""
    return pl.when(text.str.contains(_CANONICAL)).then(_parse_canonical(text)).otherwise(parse_any(text))


def parse_any(text: pl.Expr) -> pl.Expr:
    """The general parser: `T` or a space between date and time, `Z`/`z` or `±hh:mm`/`±hhmm`."""
    fixed = text.str.replace(r"[Zz]$", "+00:00").str.replace(" ", "T", literal=True)
    return fixed.str.to_datetime(TS_FORMAT, strict=False, time_unit="us").dt.convert_time_zone("UTC")


def _parse_canonical(text: pl.Expr) -> pl.Expr:
    """`_CANONICAL` text: date and time, up to 6 digits of fraction, then `Z` or `±hh:mm`."""
    utc = text.str.ends_with("Z")
    length = text.str.len_bytes()
    offset_length = pl.when(utc).then(1).otherwise(6)
    digits = text.str.slice(20, (length - 20 - offset_length).clip(lower_bound=0))  # after the dot
    fraction = pl.when(text.str.slice(19, 1) == ".").then(digits).otherwise(pl.lit("")).str.pad_end(6, "0")
    offset = text.str.slice(length - 6, 6)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    offset_minutes = (
        pl.when(utc)
        .then(0)
        .otherwise(
            sign
            * (
                offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
                + offset.str.slice(4, 2).cast(pl.Int64, strict=False)
            )
        )
    )
    local = text.str.head(19).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
    micros = fraction.cast(pl.Int64, strict=False).fill_null(0)
    utc_time = local + pl.duration(microseconds=micros) - pl.duration(minutes=offset_minutes)
    return utc_time.dt.replace_time_zone("UTC")


# an integer as producers write it: digits, perhaps a sign, perhaps a zero fraction (`1.0`, as a
# spreadsheet or a Parquet double writes 1); any other fraction is not an integer
_INTEGRAL = r"^[+-]?[0-9]+(?:\.0*)?$"


def parse_integer(text: pl.Expr) -> pl.Expr:
    """Integer text to Int64 (`1`, `+1`, `1.0`, `1.` alike); anything else, or out of range, to null."""
    digits = text.str.replace(r"\.0*$", "")
    return pl.when(text.str.contains(_INTEGRAL)).then(digits.cast(pl.Int64, strict=False))


def _text(name: str) -> pl.Expr:
    """A column's text, stripped, blank as null (made once per column: each use would redo it)."""
    return pl.col(f"__text_{name}")


def _typed(column: Column) -> pl.Expr:
    text = _text(column.name)
    if column.kind == "timestamp":
        return parse_timestamp(text)
    if column.kind == "int":
        return parse_integer(text)
    if column.kind == "enum":
        return text.str.to_lowercase() if column.values[0].islower() else text.str.to_uppercase()
    return text


def _checks(column: Column) -> list[tuple[pl.Expr, pl.Expr]]:
    """What can be wrong with this column's value, in the order it is reported: (test, sentence)."""
    text = _text(column.name)
    typed = pl.col(f"__typed_{column.name}")
    name = column.name
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if column.required:
        checks.append((text.is_null(), pl.lit(f"{name} is missing")))
    if column.kind == "timestamp" and not column.best_effort:
        checks.append(
            (
                text.is_not_null() & ~text.str.contains(_HAS_OFFSET),
                pl.format(f"{name} '{{}}' has no UTC offset", text),
            )
        )
        checks.append(
            (
                text.is_not_null() & typed.is_null(),
                pl.format(f"{name} '{{}}' is not an ISO-8601 timestamp", text),
            )
        )
    elif column.kind == "int":
        checks.append(
            (text.is_not_null() & typed.is_null(), pl.format(f"{name} '{{}}' is not an integer", text))
        )
        if column.min_value is not None:
            checks.append(
                (typed < column.min_value, pl.format(f"{name} {{}} is below {column.min_value}", typed))
            )
    elif column.kind == "enum":
        allowed = "/".join(column.values)
        checks.append(
            (
                typed.is_not_null() & ~typed.is_in(list(column.values)),
                pl.format(f"{name} '{{}}' is not one of {allowed}", text),
            )
        )
    return checks


def validate(frame: pl.DataFrame, feed: Feed) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a string frame into typed good rows and (`_line`, `_raw`, `reason`) bad rows.

    A bad row's reason is its first problem, column by column in the feed's order. The
    tests run on every row; the sentences are written for the bad rows only (formatting
    them for every row was most of the cost on clean data).
    """
    texts = frame.with_columns(*[_blank_to_null(c.name).alias(f"__text_{c.name}") for c in feed.columns])
    typed = texts.with_columns(*[_typed(c).alias(f"__typed_{c.name}") for c in feed.columns])
    checks = [check for c in feed.columns for check in _checks(c)]
    if feed.one_of:
        none_set = pl.all_horizontal(pl.col(f"__typed_{c}").is_null() for c in feed.one_of)
        checks.append((none_set, pl.lit(f"none of {' / '.join(feed.one_of)} is set")))
    flagged = typed.with_columns(pl.any_horizontal(t for t, _ in checks).fill_null(False).alias("__bad"))
    reason = pl.when(checks[0][0]).then(checks[0][1])
    for test, sentence in checks[1:]:
        reason = reason.when(test).then(sentence)
    extra = [c for c in frame.columns if c.startswith("_") and c not in ("_line", "_raw")]
    bad = flagged.filter(pl.col("__bad")).select("_line", "_raw", *extra, reason.alias("reason"))
    good = flagged.filter(~pl.col("__bad")).select(
        "_line", *extra, *[pl.col(f"__typed_{c.name}").alias(c.name) for c in feed.columns]
    )
    return good, bad
