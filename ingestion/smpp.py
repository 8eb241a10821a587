"""Parse SMPP 3.4 delivery-receipt text, vectorised, tolerant of what real gateways do.

`id:… sub:001 dlvrd:001 submit date:2611030815 done date:2611030816 stat:DELIVRD err:000 text:…`
Field names and states in any case, runs of spaces, any field order, optional
`sub`/`dlvrd`/`text`, free text after `text:`. A field name is recognised at the
start, after a space, or after any other character that is not a letter or digit
(`33612345678#id:…`, `Sender^id:…`); a value ends at a space or where another field
name is glued to it. Control bytes (NUL padding of C strings) are deleted first.
`submitdate:`/`donedate:` may lack their space. Fields are looked for before the
`text:` part first, so words inside the free text never override real fields.

Done dates come in every form gateways use and become UTC (`done_date_to_iso`); a
done date that is all zeros, or that no form reads, is no done date: the receipt
still counts (ordered by `received_at`), it is not quarantined.
"""

from __future__ import annotations

import polars as pl

_NAME_START = r"(?:^|[^A-Za-z0-9])"  # where a field name may begin
_FIELD_NAMES = r"(?:id|sub|dlvrd|submit\s*date|done\s*date|stat|err|text)"
_TEXT_TAIL = rf"(?is){_NAME_START}text:.*$"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # control bytes other than tab, newline, CR
_GLUED_FIELD = rf"(?i)[^A-Za-z0-9]{_FIELD_NAMES}:.*$"  # another field glued after a value


def _field(name: str, value: str = r"(\S+)") -> str:
    return rf"(?i){_NAME_START}{name}:\s*{value}"


def _clean(found: pl.Expr) -> pl.Expr:
    """Cut a field glued after the value; a capture that is itself `name:` means no value."""
    value = found.str.replace(_GLUED_FIELD, "")
    return pl.when(value.str.contains(":", literal=True) | (value == "")).then(None).otherwise(value)


def _datetime(text: pl.Expr, fmt: str) -> pl.Expr:
    return text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")


def done_date(text: pl.Expr) -> pl.Expr:
    """A receipt's done date as a UTC datetime, in whichever form the gateway wrote it:

    - `YYMMDDhhmm` (10 digits) and `YYMMDDhhmmss` (12), UTC;
    - `YYYYMMDDhhmmss` (14), and `YYYYMMDDhhmm` (12, where the `YYMMDDhhmmss` reading
      is no valid date);
    - SMPP's absolute time format `YYMMDDhhmmsstnnp` (SMPP 3.4, 7.1.1): tenths of a
      second, then the local time's difference from UTC in quarter hours, `+` when
      local time is ahead of UTC, `-` when behind;
    - all zeros: none. Anything else: none.
    """
    digits = text.str.strip_chars()
    length = digits.str.len_chars()
    century = pl.lit("20")
    short = _datetime(pl.concat_str(century, digits), "%Y%m%d%H%M")
    with_seconds = _datetime(pl.concat_str(century, digits), "%Y%m%d%H%M%S")
    long_minutes = _datetime(digits, "%Y%m%d%H%M")
    long_seconds = _datetime(digits, "%Y%m%d%H%M%S")
    local = _datetime(pl.concat_str(century, digits.str.slice(0, 12)), "%Y%m%d%H%M%S")
    tenths = digits.str.slice(12, 1).cast(pl.Int64, strict=False)
    quarters = digits.str.slice(13, 2).cast(pl.Int64, strict=False)
    sign = pl.when(digits.str.slice(15, 1) == "+").then(1).when(digits.str.slice(15, 1) == "-").then(-1)
    absolute = local + pl.duration(milliseconds=tenths * 100) - pl.duration(minutes=sign * quarters * 15)
    return (
        pl.when(digits.str.contains(r"^0+[+-]?$"))
        .then(None)
        .when(length == 10)
        .then(short)
        .when(length == 12)
        .then(pl.coalesce(with_seconds, long_minutes))
        .when(length == 14)
        .then(long_seconds)
        .when((length == 16) & digits.str.contains(r"^[0-9]{15}[+-]$") & (quarters <= 48))
        .then(absolute)
    )


def done_date_to_iso(text: pl.Expr) -> pl.Expr:
    """`done_date` as ISO-8601 text in UTC (what the lake's validation reads), null when none."""
    return done_date(text).dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")


_FIELDS = {
    "provider_message_id": _field("id"),
    "stat": _field("stat"),
    "err": _field("err"),
    "_done": _field(r"done\s*date", r"([0-9]+[+-]?)"),
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
        .with_columns(pl.col("receipt").str.replace_all(_CONTROL, ""))
        .with_columns(pl.col("receipt").str.replace(_TEXT_TAIL, "").alias("_head"))
    )
    found = _extract(texts, "_head")
    missing = found.select(pl.any_horizontal(pl.all().is_null())).to_series().arg_true()
    if missing.len():  # a field only found after `text:` (fields in an unusual order): those rows only
        tail = _extract(texts[missing], "receipt")
        found = found.with_columns(
            found[n].scatter(missing, found[n][missing].fill_null(tail[n])) for n in _FIELDS
        )
    found = found.with_columns(done_date_to_iso(pl.col("_done")).alias("done_at")).drop("_done")
    shape = pl.repeat("structured", frame.height, dtype=pl.String, eager=True)
    return frame.with_columns(
        *[frame[name].cast(pl.String).scatter(at, found[name]) for name in found.columns],
        shape.scatter(at, "smpp").alias("receipt_shape"),
    ).with_columns(pl.col("stat").str.to_uppercase())
