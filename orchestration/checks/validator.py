"""The resource that runs a run's quality suites with Great Expectations, in the run's own process."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from orchestration.quality.validation import Expectation, SuiteResult, Suites

CHECK_ROWS = 1_000_000  # rows one GX validation gets: GX copies its pandas frame once per expectation


def slices(frames: Iterable[pl.DataFrame], rows: int) -> Iterator[pl.DataFrame]:
    """The rows of `frames`, in order, as frames of `rows` rows (the last one shorter; one empty
    frame when there are no rows at all), holding no more than a slice and a frame at a time."""
    held: list[pl.DataFrame] = []
    count, emitted, schema = 0, False, None
    for frame in frames:
        schema = frame.schema if schema is None else schema
        if frame.height:
            held.append(frame)
            count += frame.height
        while count >= rows:
            gathered = pl.concat(held, how="diagonal_relaxed")
            yield gathered.head(rows)
            emitted, rest = True, gathered.slice(rows)
            held, count = ([rest] if rest.height else []), rest.height
    if held:
        yield pl.concat(held, how="diagonal_relaxed")
    elif not emitted:
        yield pl.DataFrame(schema=schema)


class Validator(dg.ConfigurableResource):
    """Runs the Great Expectations suites behind the asset checks of one run.

    One GX context serves the whole run (GX is imported when the first suite runs);
    when the run ends, the Data Docs of every suite it ran are rendered into the
    folder the checks name (`<warehouse folder>/data_docs/`).
    """

    _suites: Suites | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(
        default_factory=threading.Lock
    )  # a GX context is not made for threads

    def _for(self, docs_dir: Path) -> Suites:
        if self._suites is None:
            self._suites = Suites(docs_dir)
        return self._suites

    def run(
        self,
        docs_dir: Path,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        """One suite on `frame`; failing rows are named by `id_columns`; its page goes to `docs_dir`."""
        with self._lock:
            return self._for(docs_dir).run(name, frame, expectations, id_columns)

    def run_sliced(
        self,
        docs_dir: Path,
        name: str,
        frames: Iterable[pl.DataFrame],
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        """One suite over rows too many to check at once, frame after frame (read lazily by the
        caller; at least one, empty or not): the frames are gathered into slices of `CHECK_ROWS`
        (a validation has a cost of its own, whatever its size), and the slices' results added
        up into one."""
        parts = slices(frames, CHECK_ROWS)
        return SuiteResult.merged(
            [self.run(docs_dir, name, part, expectations, id_columns) for part in parts]
        )

    def render(self) -> None:
        """Render the Data Docs pages of the suites run so far, and their index."""
        with self._lock:
            if self._suites is not None:
                self._suites.render()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            self.render()
        except Exception as exc:  # noqa: BLE001 - the checks are done; the pages are only a view of them
            context.log.warning(f"Data Docs were not rendered: {type(exc).__name__}: {exc}")
