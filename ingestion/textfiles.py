"""Turn one landing file into numbered text lines, whatever its compression or line endings.

Damage is reported, never raised: a truncated gzip keeps every complete line it
still holds, and lines that are not UTF-8 or absurdly long come back as rejects.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

MAX_LINE_BYTES = 1 << 20  # a line longer than 1 MiB is quarantined, not parsed
RAW_KEEP_CHARS = 2000  # how much of a rejected line the quarantine keeps


@dataclass
class Lines:
    """Numbered lines of a file (1-based, blank lines left out) plus what could not be read."""

    frame: pl.DataFrame  # columns: _line (u32), _text (str)
    rejects: list[tuple[int | None, str, str]] = field(default_factory=list)  # (line, raw, reason)
    file_error: str | None = None


def read_bytes(path: Path) -> tuple[bytes, str | None]:
    """Read a file, gunzipping `.gz` files; a truncated stream yields what it holds and an error."""
    data = path.read_bytes()
    if not path.name.endswith(".gz"):
        return data, None
    decomp = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = decomp.decompress(data)
    except zlib.error as exc:
        return b"", f"not a readable gzip stream ({exc})"
    if not decomp.eof:
        return out, "truncated gzip stream: the file ends before the compressed data does"
    return out, None


def split_lines(data: bytes, truncated: bool = False) -> Lines:
    """Split bytes into numbered lines; strips a UTF-8 BOM and CR of CRLF endings.

    The usual file (UTF-8, no huge line) is split in one go; only a file with a bad
    line is walked line by line, to say which lines are bad.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rejects: list[tuple[int | None, str, str]] = []
    if truncated:
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            rejects.append(
                (
                    data.count(b"\n", 0, complete) + 1,
                    data[complete : complete + RAW_KEEP_CHARS].decode("utf-8", "replace"),
                    "incomplete last line of a truncated gzip stream",
                )
            )
            data = data[:complete]
    frame = _split_fast(data)
    if frame is None:
        frame, bad = _split_slowly(data)
        rejects += bad
    frame = frame.filter(pl.col("_text").str.strip_chars() != "")
    return Lines(frame, rejects)


def _split_fast(data: bytes) -> pl.DataFrame | None:
    """All lines at once, or None when some line is not UTF-8 or longer than the limit.

    Polars' line reader splits and checks UTF-8 natively, dropping the CR of CRLF
    (far cheaper than `str.split` into Python strings); blank lines are
    kept here so that row i is line i + 1.
    """
    try:
        frame = pl.read_lines(io.BytesIO(data), name="_text", row_index_name="_line", row_index_offset=1)
    except pl.exceptions.ComputeError:  # not UTF-8
        return None
    if (frame["_text"].str.len_bytes().max() or 0) > MAX_LINE_BYTES:
        return None
    return frame.with_columns(pl.col("_line").cast(pl.UInt32))


def _split_slowly(data: bytes) -> tuple[pl.DataFrame, list[tuple[int | None, str, str]]]:
    """Line by line: keep the good lines, reject each line that is too long or not UTF-8."""
    rejects: list[tuple[int | None, str, str]] = []
    keep_line: list[int] = []
    keep_text: list[str] = []
    for i, raw in enumerate(data.split(b"\n"), start=1):
        if len(raw) > MAX_LINE_BYTES:
            rejects.append(
                (
                    i,
                    raw[:RAW_KEEP_CHARS].decode("utf-8", "replace"),
                    f"line of {len(raw):,} bytes is longer than the {MAX_LINE_BYTES:,}-byte limit",
                )
            )
            continue
        try:
            keep_text.append(raw.decode("utf-8").removesuffix("\r"))
            keep_line.append(i)
        except UnicodeDecodeError as exc:
            rejects.append(
                (
                    i,
                    raw[:RAW_KEEP_CHARS].decode("utf-8", "replace"),
                    f"not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})",
                )
            )
    frame = pl.DataFrame(
        {"_line": pl.Series(keep_line, dtype=pl.UInt32), "_text": pl.Series(keep_text, dtype=pl.String)}
    )
    return frame, rejects


def read_lines(path: Path) -> Lines:
    """Read a text landing file (optionally gzipped) into numbered lines."""
    data, error = read_bytes(path)
    if not data and error is None:
        result = Lines(
            pl.DataFrame({"_line": pl.Series([], dtype=pl.UInt32), "_text": pl.Series([], dtype=pl.String)})
        )
        result.file_error = "empty file (0 bytes)" if path.stat().st_size == 0 else None
        return result
    result = split_lines(data, truncated=error is not None and "truncated" in error)
    result.file_error = error
    return result
