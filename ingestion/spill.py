"""The typed rows of one partition: held in memory up to a limit, spilled to disk past it.

De-duplication needs every row of a key in one place, so a partition's rows are
gathered before its first rows are chosen. Up to a limit (the setting `ingest_memory_limit`,
default 512MB of typed rows per partition) they stay in memory and come back as one frame.
Past it, every batch is first reduced to the first row of each of its keys,
then written to scratch Parquet files in buckets by a hash of the key; each bucket holds
every row of its keys and is read back alone. A bucket still over the limit is split
again with another seed. A key repeated a million times costs one row per batch, so
neither the size of a day nor a hostile repetition decides the memory.

The rule for which row of a key is kept is `keep_first`, here and nowhere else.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

DEFAULT_LIMIT = 512_000_000  # bytes: 512MB
FANOUT = 16  # buckets per split
MAX_SPLITS = 3  # 16 ** 4 = 65,536 buckets at most; deeper than that, a bucket is read as it is
_UNITS = {
    "": 1,
    "B": 1,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
}
DUPLICATES_SCHEMA = {"_source_file": pl.String, "duplicates": pl.UInt32}


def parse_size(text: str) -> int:
    """Bytes in a size such as `1GB`, `512MB`, `64MiB` or `1000000`; a clear error otherwise."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = found and found.group(2).upper()
    if not found or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size: expected one such as 1GB, 512MB or 64MiB")
    return int(float(found.group(1)) * _UNITS[unit])


def keep_first(frame: pl.DataFrame, key: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first row of each key in file and line order, and how many rows each file lost."""
    if not _in_file_and_line_order(frame):  # batches arrive in order: a sort would be a copy
        frame = frame.sort("_source_file", "_line")
    frame = frame.with_columns(pl.struct(list(key)).is_first_distinct().alias("_first"))
    duplicates = frame.filter(~pl.col("_first")).group_by("_source_file").len("duplicates")
    return frame.filter(pl.col("_first")).drop("_first"), duplicates.cast(DUPLICATES_SCHEMA)  # type: ignore[arg-type]


def _in_file_and_line_order(frame: pl.DataFrame) -> bool:
    file, line = pl.col("_source_file"), pl.col("_line")
    later = (file > file.shift()) | ((file == file.shift()) & (line > line.shift()))
    return bool(frame.select(later.fill_null(True).all()).item())


def _write_scratch(frame: pl.DataFrame, path: Path) -> None:
    """Scratch Parquet: read back once, so cheap to write (lz4, no statistics)."""
    frame.write_parquet(path, compression="lz4", statistics=False)


class SpillingRows:
    """Collects a partition's typed batches; `groups()` gives them back, each key's rows together.

    `duplicates` gathers the rows dropped on the way (per file), so that with what
    `groups()` yields, every row added is accounted for. Each finished group goes to
    `keep()`, and `kept()` gives them all back; call `close()` once they are written:
    the scratch files go with it.
    """

    def __init__(self, key: Sequence[str], limit: int, scratch_parent: Path | None = None) -> None:
        self.key, self.limit, self.scratch_parent = list(key), limit, scratch_parent
        self.duplicates: list[pl.DataFrame] = []
        self._held: list[pl.DataFrame] = []
        self._held_bytes = 0
        self._row_bytes = 1.0
        self._scratch: Path | None = None
        self._pieces = 0
        self._done: list[pl.DataFrame] = []  # finished groups, in memory
        self._done_files: list[Path] = []  # finished groups, once spilled

    @property
    def spilled(self) -> bool:
        return self._scratch is not None

    def add(self, frame: pl.DataFrame) -> None:
        """Take one batch of typed rows (with `_source_file` and `_line`, which order the first row)."""
        if not frame.height:
            return
        if self._scratch is not None:
            self._spill(frame)
            return
        self._held.append(frame)
        self._held_bytes += frame.estimated_size()
        if self._held_bytes > self.limit:
            self._row_bytes = self._held_bytes / sum(f.height for f in self._held)
            if self.scratch_parent:
                self.scratch_parent.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix="partition-", dir=self.scratch_parent))
            held, self._held = self._held, []
            for batch in held:
                self._spill(batch)

    def groups(self) -> Iterator[pl.DataFrame]:
        """Frames that together hold every row kept so far, all rows of a key in the same frame."""
        if self._scratch is None:
            if self._held:
                yield self._take_held()
            return
        for bucket in sorted((self._scratch / "split-0").iterdir()):
            yield from self._bucket(bucket, 0)

    def keep(self, rows: pl.DataFrame) -> None:
        """Take one group's rows as they go to the lake: held, or back on disk once spilled."""
        if self._scratch is None:
            self._done.append(rows)
        else:
            self._done_files.append(self._scratch / f"first-{len(self._done_files):05d}.parquet")
            _write_scratch(rows, self._done_files[-1])

    def kept(self, schema: dict[str, pl.DataType]) -> pl.DataFrame | pl.LazyFrame:
        """Every row `keep` took: a frame, or a lazy scan of the scratch files once spilled."""
        if self._scratch is not None:
            return pl.scan_parquet(self._done_files) if self._done_files else pl.LazyFrame(schema=schema)
        return pl.concat(self._done) if self._done else pl.DataFrame(schema=schema)

    def close(self) -> None:
        """Remove the scratch files, if there were any."""
        self._held, self._done = [], []
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _take_held(self) -> pl.DataFrame:
        """The rows held, handed over: nothing here keeps them alive beside the caller's copies."""
        held, self._held = self._held, []
        return pl.concat(held)

    def _spill(self, frame: pl.DataFrame) -> None:
        first, duplicates = keep_first(frame, self.key)
        self.duplicates.append(duplicates)
        assert self._scratch is not None
        self._write_buckets(first, self._scratch / "split-0", seed=0)

    def _write_buckets(self, frame: pl.DataFrame, folder: Path, seed: int) -> None:
        buckets = frame.with_columns((pl.struct(self.key).hash(seed) % FANOUT).alias("_bucket")).partition_by(
            "_bucket", as_dict=True, include_key=False
        )
        for (bucket,), rows in buckets.items():
            target = folder / f"bucket-{bucket:02d}" / f"{self._pieces:06d}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_scratch(rows, target)
            self._pieces += 1

    def _bucket(self, folder: Path, depth: int) -> Iterator[pl.DataFrame]:
        pieces = sorted(folder.glob("*.parquet"))
        rows = pl.scan_parquet(pieces).select(pl.len()).collect().item()
        if rows * self._row_bytes <= self.limit or depth >= MAX_SPLITS:
            yield pl.read_parquet(pieces)
            shutil.rmtree(folder)
            return
        split = folder / f"split-{depth + 1}"
        for piece in pieces:  # each piece is at most one batch: read one at a time
            self._write_buckets(pl.read_parquet(piece), split, seed=depth + 1)
            piece.unlink()
        for bucket in sorted(split.iterdir()):
            yield from self._bucket(bucket, depth + 1)
