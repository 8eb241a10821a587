"""Parse SMPP 3.4 delivery-receipt text, vectorised, tolerant of what real gateways do.

`id:… sub:001 dlvrd:001 submit date:2611030815 done date:2611030816 stat:DELIVRD err:000 text:…`
Field names and states in any case, runs of spaces, any field order, optional
`sub`/`dlvrd`/`text`, free text after `text:`. Fields are looked for before the
`text:` part first, so words inside the free text never override real fields.
"""

from __future__ import annotations

import polars as pl

_TEXT_TAIL = r"(?is)(?:^|\s)text:.*$"


def _field(name: str, value: str = r"(\S*)") -> str:
    return rf"(?i)(?:^|\s){name}:{value}"


def _extract(receipt: pl.Expr, head: pl.Expr, pattern: str) -> pl.Expr:
    return pl.coalesce(head.str.extract(pattern, 1), receipt.str.extract(pattern, 1))


def smpp_done_date_to_iso(digits: pl.Expr) -> pl.Expr:
    """`YYMMDDhhmm[ss]` (UTC) to ISO-8601 text; other lengths pass through to fail validation."""
    iso = pl.concat_str(
        pl.lit("20"),
        digits.str.slice(0, 2),
        pl.lit("-"),
        digits.str.slice(2, 2),
        pl.lit("-"),
        digits.str.slice(4, 2),
        pl.lit("T"),
        digits.str.slice(6, 2),
        pl.lit(":"),
        digits.str.slice(8, 2),
        pl.lit(":"),
        pl.when(digits.str.len_chars() == 12).then(digits.str.slice(10, 2)).otherwise(pl.lit("00")),
        pl.lit("+00:00"),
    )
    return pl.when(digits.str.len_chars().is_in([10, 12])).then(iso).otherwise(digits)


def parse_receipts(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill `provider_message_id`, `stat`, `err`, `done_at` from `receipt` where it is present.

    Adds `receipt_shape` (`smpp` or `structured`) and upper-cases every `stat`.
    """
    receipt = pl.col("receipt")
    head = receipt.str.replace(_TEXT_TAIL, "")
    is_smpp = receipt.is_not_null()
    parsed = {
        "provider_message_id": _extract(receipt, head, _field("id")),
        "stat": _extract(receipt, head, _field("stat")),
        "err": _extract(receipt, head, _field("err")),
        "done_at": smpp_done_date_to_iso(_extract(receipt, head, _field(r"done\s+date", r"(\d+)"))),
    }
    return frame.with_columns(
        *[pl.when(is_smpp).then(expr).otherwise(pl.col(name)).alias(name) for name, expr in parsed.items()],
        pl.when(is_smpp).then(pl.lit("smpp")).otherwise(pl.lit("structured")).alias("receipt_shape"),
    ).with_columns(pl.col("stat").str.to_uppercase())
