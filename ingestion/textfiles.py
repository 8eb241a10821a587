"""Turn one landing file into numbered text lines, a bounded batch at a time, whatever its compression.

No file decides how much memory a read takes: bytes are read and inflated a chunk
at a time, complete lines are handed on in batches of about `BATCH_BYTES`, and a line
longer than `MAX_LINE_BYTES` is skipped to its end with only its first characters
kept for the quarantine. So a gzip of gigabytes of zeros (one endless line) costs a
chunk of memory and one quarantined line. Damage is reported, never raised: a
truncated or corrupt gzip keeps every complete line before the damage, and lines
that are not UTF-8 come back as rejects.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

MAX_LINE_BYTES = 1 << 20  # a line longer than 1 MiB is quarantined, not parsed
RAW_KEEP_CHARS = 2000  # how much of a rejected line the quarantine keeps
READ_BYTES = 1 << 20  # bytes read from the file at a time
CHUNK_BYTES = 8 << 20  # the most one inflate step may produce
# about this much text is parsed at a time: parsing holds several times a batch, and larger
# batches are no faster
BATCH_BYTES = 16 << 20

Reject = tuple[int | None, str, str]  # (line, raw text, reason)


@dataclass
class Lines:
    """Numbered lines of a file (1-based, blank lines left out) plus what could not be read."""

    frame: pl.DataFrame  # columns: _line (u32), _text (str)
    rejects: list[Reject] = field(default_factory=list)
    file_error: str | None = None


def _no_lines() -> pl.DataFrame:
    return pl.DataFrame({"_line": pl.Series([], dtype=pl.UInt32), "_text": pl.Series([], dtype=pl.String)})


class _Chunks:
    """A file's bytes, gunzipped if its name ends in `.gz`, in chunks of at most `CHUNK_BYTES`.

    After iteration, `error` says what was wrong with the stream (None if nothing) and
    `truncated` whether it ended inside a compressed member. Concatenated gzip members
    (`cat a.gz b.gz`) are read as one stream, as gzip itself does.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self.truncated = False
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            if not self.path.name.endswith(".gz"):
                while chunk := fh.read(CHUNK_BYTES):
                    self.produced += len(chunk)
                    yield chunk
                return
            yield from self._inflate(fh)

    def _inflate(self, fh: io.BufferedReader) -> Iterator[bytes]:
        decomp = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        in_member, pending = False, b""
        while True:
            if not pending and not (pending := fh.read(READ_BYTES)):
                self.truncated = in_member
                if in_member:
                    self.error = "truncated gzip stream: the file ends before the compressed data does"
                return
            try:
                out = decomp.decompress(pending, CHUNK_BYTES)
            except zlib.error as exc:
                self.error = (
                    f"not a readable gzip stream ({exc})"
                    if self.produced == 0
                    else f"damaged gzip stream after {self.produced:,} bytes ({exc}): the rest is unread"
                )
                self.truncated = self.produced > 0
                return
            in_member = True
            pending = decomp.unconsumed_tail
            if out:
                self.produced += len(out)
                yield out
            if decomp.eof:  # another member may follow
                pending = decomp.unused_data + pending
                decomp, in_member = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16), False


@dataclass
class _LongLine:
    """A line being skipped because it is already longer than the limit."""

    line: int
    head: bytes
    length: int

    def reject(self) -> Reject:
        return (
            self.line,
            self.head.decode("utf-8", "replace"),
            f"line of {self.length:,} bytes is longer than the {MAX_LINE_BYTES:,}-byte limit",
        )


def iter_lines(path: Path) -> Iterator[Lines]:
    """A text landing file (optionally gzipped) as batches of numbered lines, in file order.

    The last batch carries the file's error, if any; an empty file yields one empty batch
    with "empty file (0 bytes)". At most `BATCH_BYTES` plus a chunk and a line are held.
    """
    chunks = _Chunks(path)
    next_line = 1  # the number of the line that starts `carry`
    carry = b""
    long: _LongLine | None = None
    blocks: list[bytes] = []  # complete lines, contiguous, the first numbered `first_held`
    first_held = held = 0
    frames: list[pl.DataFrame] = []
    rejects: list[Reject] = []
    started = False

    def flush() -> None:
        nonlocal blocks, held
        if blocks:
            lines = split_block(b"".join(blocks), first_held)
            frames.append(lines.frame)
            rejects.extend(lines.rejects)
        blocks, held = [], 0

    def batch(error: str | None = None) -> Lines:
        nonlocal frames, rejects
        frame = pl.concat(frames) if frames else _no_lines()
        out = Lines(frame, rejects, error)
        frames, rejects = [], []
        return out

    for chunk in chunks:
        if not started:
            started = True
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
        if long is not None:  # skip to the end of the long line
            end = chunk.find(b"\n")
            if end < 0:
                long.length += len(chunk)
                continue
            long.length += end
            rejects.append(long.reject())
            next_line, long, chunk = next_line + 1, None, chunk[end + 1 :]
        data = carry + chunk if carry else chunk
        last = data.rfind(b"\n")
        complete, carry = (data[: last + 1], data[last + 1 :]) if last >= 0 else (b"", data)
        if complete:
            first_held = first_held if blocks else next_line
            blocks.append(complete)
            held += len(complete)
            next_line += complete.count(b"\n")
        if len(carry) > MAX_LINE_BYTES:
            flush()  # the lines after the long one are numbered from after it
            long, carry = _LongLine(next_line, carry[:RAW_KEEP_CHARS], len(carry)), b""
        if held >= BATCH_BYTES:
            flush()
            yield batch()
    if long is not None:
        rejects.append(long.reject())
    elif carry:
        if chunks.truncated:
            rejects.append(
                (
                    next_line,
                    carry[:RAW_KEEP_CHARS].decode("utf-8", "replace"),
                    "incomplete last line of a truncated gzip stream",
                )
            )
        else:  # a last line without its newline
            first_held = first_held if blocks else next_line
            blocks.append(carry)
    flush()
    error = chunks.error
    if chunks.produced == 0 and error is None and path.stat().st_size == 0:
        error = "empty file (0 bytes)"
    yield batch(error)


def split_lines(data: bytes) -> Lines:
    """Split a file's bytes into numbered lines; strips a UTF-8 BOM and CR of CRLF endings."""
    return split_block(data.removeprefix(b"\xef\xbb\xbf"), 1)


def split_block(data: bytes, first_line: int) -> Lines:
    """Split consecutive lines, the first numbered `first_line`, leaving out blank ones.

    The usual block (UTF-8, no line over the limit) is split in one go; only a block
    with a bad line is walked line by line, to say which lines are bad.
    """
    frame = _split_fast(data, first_line)
    rejects: list[Reject] = []
    if frame is None:
        frame, rejects = _split_slowly(data, first_line)
    return Lines(frame.filter(pl.col("_text").str.strip_chars() != ""), rejects)


def _split_fast(data: bytes, first_line: int) -> pl.DataFrame | None:
    """All lines at once, or None when some line is not UTF-8 or longer than the limit.

    Polars' line reader splits and checks UTF-8 natively, dropping the CR of CRLF
    (far cheaper than `str.split` into Python strings); blank lines are kept here so
    that row i is line `first_line + i`.
    """
    try:
        frame = pl.read_lines(
            io.BytesIO(data), name="_text", row_index_name="_line", row_index_offset=first_line
        )
    except pl.exceptions.ComputeError:  # not UTF-8
        return None
    if (frame["_text"].str.len_bytes().max() or 0) > MAX_LINE_BYTES:
        return None
    return frame.with_columns(pl.col("_line").cast(pl.UInt32))


def _split_slowly(data: bytes, first_line: int) -> tuple[pl.DataFrame, list[Reject]]:
    """Line by line: keep the good lines, reject each line that is too long or not UTF-8."""
    rejects: list[Reject] = []
    keep_line: list[int] = []
    keep_text: list[str] = []
    for i, raw in enumerate(data.removesuffix(b"\n").split(b"\n"), start=first_line):
        if len(raw) > MAX_LINE_BYTES:
            rejects.append(_LongLine(i, raw[:RAW_KEEP_CHARS], len(raw)).reject())
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
