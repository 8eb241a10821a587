"""Type a string frame by its feed's declaration, sending each bad row to quarantine with a reason."""

from __future__ import annotations

import polars as pl

from ingestion.feeds import Column, Feed

TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"
_HAS_OFFSET = r"(?:[Zz]|[+-]\d{2}:?\d{2})$"


def _blank_to_null(name: str) -> pl.Expr:
    col = pl.col(name).str.strip_chars()
    return pl.when(col == "").then(None).otherwise(col)


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO-8601 text with an offset (or `Z`) to a UTC datetime; anything else to null."""
    fixed = text.str.replace(r"[Zz]$", "+00:00").str.replace(" ", "T", literal=True)
    return fixed.str.to_datetime(TS_FORMAT, strict=False, time_unit="us").dt.convert_time_zone("UTC")


def _typed(column: Column) -> pl.Expr:
    text = _blank_to_null(column.name)
    if column.kind == "timestamp":
        return parse_timestamp(text)
    if column.kind == "int":
        return text.cast(pl.Int64, strict=False)
    if column.kind == "enum":
        return text.str.to_lowercase() if column.values[0].islower() else text.str.to_uppercase()
    return text


def _problem(column: Column) -> pl.Expr:
    """The first thing wrong with this column's value, as a sentence, or null."""
    text = _blank_to_null(column.name)
    typed = pl.col(f"__typed_{column.name}")
    name = column.name
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if column.required:
        checks.append((text.is_null(), pl.lit(f"{name} is missing")))
    if column.kind == "timestamp":
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
    if not checks:
        return pl.lit(None, dtype=pl.String)
    expr = pl.when(checks[0][0]).then(checks[0][1])
    for cond, msg in checks[1:]:
        expr = expr.when(cond).then(msg)
    return expr.otherwise(None)


def validate(frame: pl.DataFrame, feed: Feed) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a string frame into typed good rows and (`_line`, `_raw`, `reason`) bad rows."""
    typed = frame.with_columns(*[_typed(c).alias(f"__typed_{c.name}") for c in feed.columns])
    typed = typed.with_columns(pl.coalesce([_problem(c) for c in feed.columns]).alias("reason"))
    if feed.one_of:
        none_set = pl.all_horizontal(pl.col(f"__typed_{c}").is_null() for c in feed.one_of)
        reason = f"none of {' / '.join(feed.one_of)} is set"
        typed = typed.with_columns(pl.coalesce("reason", pl.when(none_set).then(pl.lit(reason))))
    extra = [c for c in frame.columns if c.startswith("_") and c not in ("_line", "_raw")]
    bad = typed.filter(pl.col("reason").is_not_null()).select("_line", "_raw", *extra, "reason")
    good = typed.filter(pl.col("reason").is_null()).select(
        "_line", *extra, *[pl.col(f"__typed_{c.name}").alias(c.name) for c in feed.columns]
    )
    return good, bad
