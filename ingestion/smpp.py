"""Parse SMPP 3.4 delivery-receipt text, vectorised, tolerant of what real gateways do.

`id:… sub:001 dlvrd:001 submit date:2611030815 done date:2611030816 stat:DELIVRD err:000 text:…`
Field names and states in any case, runs of spaces, any field order, optional
`sub`/`dlvrd`/`text`, free text after `text:`. Fields are looked for before the
`text:` part first, so words inside the free text never override real fields.
"""

from __future__ import annotations

import polars as pl

_TEXT_TAIL = r"(?is)(?:^|\s)text:.*$"


def _field(name: str, value: str = r"(\S+)") -> str:
    return rf"(?i)(?:^|\s){name}:\s*{value}"


def _clean(found: pl.Expr) -> pl.Expr:
    """A capture that is itself `name:` means the field had no value."""
    return pl.when(found.str.contains(":", literal=True)).then(None).otherwise(found)


def smpp_done_date_to_iso(digits: pl.Expr) -> pl.Expr:
    """`YYMMDDhhmm[ss]` (UTC) to ISO-8601 text; other lengths pass through to fail validation."""
    iso = pl.concat_str(
        pl.lit("20"), digits.str.slice(0, 2), pl.lit("-"), digits.str.slice(2, 2), pl.lit("-"),
        digits.str.slice(4, 2), pl.lit("T"), digits.str.slice(6, 2), pl.lit(":"), digits.str.slice(8, 2),
        pl.lit(":"), pl.when(digits.str.len_chars() == 12).then(digits.str.slice(10, 2)).otherwise(pl.lit("00")),
        pl.lit("+00:00"),
    )  # fmt: skip
    return pl.when(digits.str.len_chars().is_in([10, 12])).then(iso).otherwise(digits)


_FIELDS = {
    "provider_message_id": _field("id"),
    "stat": _field("stat"),
    "err": _field("err"),
    "_done": _field(r"done\s+date", r"(\d+)"),
}


def _extract(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Each field of `_FIELDS` from the text in `column` (null when absent or empty).

    Extracted, then cleaned, in two steps: in one expression the regex would run twice,
    once for `_clean`'s test and once for its value (eager selects share no
    subexpressions).
    """
    extracted = frame.select(*[pl.col(column).str.extract(p, 1).alias(n) for n, p in _FIELDS.items()])
    return extracted.select(*[_clean(pl.col(n)).alias(n) for n in _FIELDS])


def parse_receipts(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill `provider_message_id`, `stat`, `err`, `done_at` from `receipt` where it is present.

    Adds `receipt_shape` (`smpp` or `structured`) and upper-cases every `stat`; rows
    keep their order. Each regex runs once, on receipt rows only, whose answers are
    then put back in place.
    """
    at = frame["receipt"].is_not_null().arg_true()
    texts = (
        frame["receipt"][at]
        .to_frame()
        .with_columns(pl.col("receipt").str.replace(_TEXT_TAIL, "").alias("_head"))
    )
    found = _extract(texts, "_head")
    missing = found.select(pl.any_horizontal(pl.all().is_null())).to_series().arg_true()
    if missing.len():  # a field only found after `text:` (fields in an unusual order): those rows only
        tail = _extract(texts[missing], "receipt")
        found = found.with_columns(
            found[n].scatter(missing, found[n][missing].fill_null(tail[n])) for n in _FIELDS
        )
    found = found.with_columns(smpp_done_date_to_iso(pl.col("_done")).alias("done_at")).drop("_done")
    shape = pl.repeat("structured", frame.height, dtype=pl.String, eager=True)
    return frame.with_columns(
        *[frame[name].cast(pl.String).scatter(at, found[name]) for name in found.columns],
        shape.scatter(at, "smpp").alias("receipt_shape"),
    ).with_columns(pl.col("stat").str.to_uppercase())
