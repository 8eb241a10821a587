"""The resource that runs a run's quality suites: in a GX worker process started with the run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from orchestration.paths import resolve_paths
from orchestration.quality.validation import Expectation, SuiteResult, run_suite
from orchestration.quality.worker import SuiteRunner, validating

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

    When the run starts, a GX worker process starts too (`orchestration/quality/worker.py`),
    so that GX imports itself on the other core while the first landing files are read;
    when the run ends, the Data Docs of every suite it ran are rendered into
    `<warehouse folder>/data_docs/`.
    """

    in_worker: bool = True
    """Run the suites in a worker process (off: in the run's own process)."""

    _runner: SuiteRunner | None = PrivateAttr(default=None)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Validator]:
        with validating(resolve_paths().data_docs, in_worker=self.in_worker) as runner:
            self._runner = runner
            try:
                yield self
            finally:
                self._runner = None

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        """One suite on `frame`; failing rows are named by `id_columns`."""
        if self._runner is None:  # used outside a run (a test, a script): here, page rendered now
            return run_suite(name, frame, expectations, resolve_paths().data_docs, id_columns)
        return self._runner.run(name, frame, expectations, id_columns)

    def run_sliced(
        self,
        name: str,
        frames: Iterable[pl.DataFrame],
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        """One suite over rows too many to check at once, frame after frame (read lazily by the
        caller; at least one, empty or not): the frames are gathered into slices of `CHECK_ROWS`
        (a validation has a cost of its own, whatever its size), and the slices' results added
        up into one."""
        results = [self.run(name, part, expectations, id_columns) for part in slices(frames, CHECK_ROWS)]
        return SuiteResult.merged(results)

    def render_soon(self) -> None:
        """Start rendering the pages of the suites run so far (the run's last checks are done)."""
        if self._runner is not None:
            self._runner.render_soon()

    @property
    def in_other_process(self) -> bool:
        """Whether suites run elsewhere, so that the caller may read the next frame meanwhile."""
        return self._runner is not None and self._runner.in_worker
