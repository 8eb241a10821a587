"""E.164 normalisation with Google's libphonenumber rules, each distinct number parsed once.

Formatting characters that libphonenumber ignores anyway are stripped first, so
`06 12 34 56 78` and `06.12.34.56.78` share one parse; large batches are spread
over the machine's cores.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import phonenumbers
import polars as pl

DEFAULT_REGION = "FR"
_FORMATTING = r"[\s.\-()/\u00a0]"
_PARALLEL_FROM = 40_000
_SCHEMA = {"_phone_key": pl.String, "_e164": pl.String}


def default_region() -> str:
    """The region for numbers without a country prefix (`SMS_DEFAULT_REGION`, default FR)."""
    return os.environ.get("SMS_DEFAULT_REGION", DEFAULT_REGION).upper()


def to_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """One number to E.164, or None when it is empty, unparseable or not a valid number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _batch(args: tuple[list[str], str]) -> list[str | None]:
    raws, region = args
    return [to_e164(r, region) for r in raws]


def e164_lookup(raws: pl.Series, region: str, cache: Path | None = None) -> pl.DataFrame:
    """Map each distinct canonical number to its E.164 form (`_phone_key`, `_e164`).

    With `cache` (a Parquet file of earlier answers for this region), only numbers
    never seen before are parsed, and the cache is extended atomically.
    """
    keys_s = raws.str.replace_all(_FORMATTING, "").unique().drop_nulls()
    known = pl.DataFrame(schema=_SCHEMA)
    if cache is not None and cache.exists():
        try:
            known = pl.read_parquet(cache).cast(_SCHEMA)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a damaged cache is only a cache: rebuild it
            known = pl.DataFrame(schema=_SCHEMA)
    keys = keys_s.filter(~keys_s.is_in(known["_phone_key"].implode())).to_list()
    fresh = _parse_all(keys, region)
    if cache is not None and fresh.height:
        from ingestion.atomic import write_parquet_atomically

        write_parquet_atomically(pl.concat([known, fresh]), cache)
    return pl.concat([known.filter(pl.col("_phone_key").is_in(keys_s.implode())), fresh])


def _parse_all(keys: list[str], region: str) -> pl.DataFrame:
    workers = min(os.cpu_count() or 1, 8)
    if len(keys) >= _PARALLEL_FROM and workers > 1:
        size = -(-len(keys) // (workers * 4))
        chunks = [(keys[i : i + size], region) for i in range(0, len(keys), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            values = [v for part in pool.map(_batch, chunks) for v in part]
    else:
        values = _batch((keys, region))
    return pl.DataFrame(
        {"_phone_key": keys, "_e164": values}, schema={"_phone_key": pl.String, "_e164": pl.String}
    )


def add_e164(
    frame: pl.DataFrame, column: str, target: str, region: str | None = None, cache: Path | None = None
) -> pl.DataFrame:
    """Add `target`, the E.164 form of `column` (null when empty or invalid)."""
    region = region or default_region()
    lookup = e164_lookup(frame[column], region, cache)
    key = pl.col(column).str.replace_all(_FORMATTING, "")
    return (
        frame.with_columns(key.alias("_phone_key"))
        .join(lookup, on="_phone_key", how="left", maintain_order="left")
        .rename({"_e164": target})
        .drop("_phone_key")
    )
