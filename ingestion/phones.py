"""E.164 normalisation with Google's libphonenumber rules, each distinct number parsed once.

Formatting characters that libphonenumber ignores anyway are stripped first, so
`06 12 34 56 78` and `06.12.34.56.78` share one parse. Plain digit numbers are
decided column-wise by `e164_vectorised` (the same metadata, applied the same
way); the others go through `phonenumbers`, large batches spread over the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import phonenumbers
import polars as pl

from ingestion.atomic import file_version, write_parquet_atomically
from ingestion.e164_vectorised import decide

DEFAULT_REGION = "FR"  # the contract's default; a warehouse's is its setting (SMS_DEFAULT_REGION)
# E.164: `+`, a country code that does not start with 0, 7 to 15 digits in all (ITU-T E.164)
E164_PATTERN = r"\+[1-9][0-9]{6,14}"
_FORMATTING = r"[\s.\-()/\u00a0]"
_PARALLEL_FROM = 40_000
_SCHEMA = {"_phone_key": pl.String, "_e164": pl.String}


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


def _parse_slowly(keys: list[str], region: str) -> pl.DataFrame:
    workers = min(os.cpu_count() or 1, 8)
    if len(keys) >= _PARALLEL_FROM and workers > 1:
        size = -(-len(keys) // (workers * 4))
        chunks = [(keys[i : i + size], region) for i in range(0, len(keys), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            values = [v for part in pool.map(_batch, chunks) for v in part]
    else:
        values = _batch((keys, region))
    return pl.DataFrame({"_phone_key": keys, "_e164": values}, schema=_SCHEMA)


def _parse_all(keys: list[str], region: str) -> pl.DataFrame:
    """Plain digit keys column-wise (same rules, same answers), the rest one by one with `phonenumbers`."""
    answers = decide(keys, region)
    rest = answers.filter(~pl.col("_decided"))["_phone_key"].to_list()
    decided = answers.filter(pl.col("_decided")).select(*_SCHEMA)
    return pl.concat([decided, _parse_slowly(rest, region)]) if rest else decided


class PhoneMemo:
    """Raw number → E.164 answers for one region: read when first needed, extended as numbers come,
    saved once.

    With a `path` (a Parquet file in the lake), numbers parsed by earlier runs are
    not parsed again; without one, the memo lives for this process only.
    """

    def __init__(self, region: str = DEFAULT_REGION, path: Path | None = None) -> None:
        self.region = region
        self.path = path
        self._known: pl.DataFrame | None = None  # `path` is read on first use
        self._loaded: list[int] | None = None  # the version of `path` that was read
        self._fresh = 0
        self._lock = threading.Lock()

    def _memo(self) -> pl.DataFrame:
        """The answers so far; the saved memo is read the first time. Callers hold the lock, or
        are alone (`save`, after the feeds' threads are done)."""
        if self._known is None:
            self._loaded = file_version(self.path)
            self._known = self._read(self.path)
        return self._known

    @staticmethod
    def _read(path: Path | None) -> pl.DataFrame:
        if path is None or not path.exists():
            return pl.DataFrame(schema=_SCHEMA)
        try:
            return pl.read_parquet(path).cast(_SCHEMA)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a damaged memo is only a memo: start again
            return pl.DataFrame(schema=_SCHEMA)

    def add_e164(self, frame: pl.DataFrame, column: str, target: str) -> pl.DataFrame:
        """Add `target`, the E.164 form of `column` (null when empty or invalid). Thread-safe."""
        frame = frame.with_columns(pl.col(column).str.replace_all(_FORMATTING, "").alias("_phone_key"))
        keys = frame["_phone_key"].unique().drop_nulls()
        with self._lock:  # one thread parses a number; the others find it known
            # the answers for these keys only: hashing the few keys and scanning the memo, not
            # hashing the whole memo, which after a big send log holds far more numbers than a
            # small feed's day has)
            known = self._memo().filter(pl.col("_phone_key").is_in(keys.implode()))
            missing = keys.filter(~keys.is_in(known["_phone_key"].implode())).to_list()
            if missing:
                new = _parse_all(missing, self.region)
                self._known = pl.concat([self._memo(), new])
                self._fresh += len(missing)
                known = pl.concat([known, new])
        return (
            frame.join(known, on="_phone_key", how="left", maintain_order="left")
            .rename({"_e164": target})
            .drop("_phone_key")
        )

    def save(self) -> None:
        """Write the memo back when it learnt anything (merged with what another run may have saved)."""
        if self.path is None or not self._fresh:  # nothing learnt (so possibly never read)
            return
        if file_version(self.path) == self._loaded:  # nobody else saved since it was read: no merge
            merged = self._memo()
        else:
            merged = pl.concat([self._read(self.path), self._memo()]).unique("_phone_key", keep="last")
        write_parquet_atomically(merged, self.path)
        self._loaded = file_version(self.path)
        self._fresh = 0
