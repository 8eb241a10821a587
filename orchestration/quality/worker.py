"""Great Expectations in a worker process, started when a run starts.

Importing GX costs seconds of one core (pandas, scipy, altair and sqlalchemy come
with it), and a run's first lake check needs it a few seconds in. Python threads
would share one core for that import; a separate process imports it on the other
core while the run reads its first files. Each suite's frame (narrowed to the
columns the suite reads) goes to the worker as an Arrow file, the plain
`SuiteResult` comes back; the Data Docs pages are rendered there, once, at the end.

The worker is its own `python -m orchestration.quality.worker` process (not a
multiprocessing child, which would import the caller's main script again). If it
cannot start, or dies, suites run in the calling process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from orchestration.quality.validation import Expectation, SuiteResult, Suites, narrow

_KEY_ENV = "SMS_GX_WORKER_KEY"
WORKER_COMMAND = [sys.executable, "-m", "orchestration.quality.worker"]
_CONNECT_WAIT_S = 30.0
_outer: dict[Path | None, SuiteRunner] = {}  # the runners of the blocks open, by Data Docs folder


class SuiteRunner(Protocol):
    """What a run's checks call: run one suite; render the pages of those run so far, soon."""

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult: ...

    def render_soon(self) -> None: ...

    @property
    def in_worker(self) -> bool: ...


class _Here:
    """Suites in this process; pages rendered when the block ends."""

    def __init__(self, suites: Suites) -> None:
        self.suites = suites
        self._lock = threading.Lock()  # a GX context is not made for threads

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        with self._lock:
            return self.suites.run(name, frame, expectations, id_columns)

    def render_soon(self) -> None:
        """Nothing now: the pages render when the block ends."""

    def render(self) -> None:
        with self._lock:
            self.suites.render()

    @property
    def in_worker(self) -> bool:
        return False


class _InWorker:
    """The calling side of a worker: one request at a time over an authenticated local connection.

    Frames travel as Arrow IPC files in a scratch folder, which is far cheaper than
    pickling them through the connection. If the worker goes away, suites run here.
    """

    def __init__(
        self, connecting: _Connecting, scratch: Path, docs_dir: Path | None, process: subprocess.Popen
    ) -> None:
        self.process = process
        self._connecting = connecting
        self._scratch = scratch
        self._lock = threading.Lock()
        self._fallback = _Here(Suites(docs_dir))
        self._gone = False

    def _connection(self) -> Connection | None:
        """The worker's connection, once it came (None: it did not, and suites run here from now on)."""
        conn = None if self._gone else self._connecting.result()
        self._gone = conn is None
        return conn

    def _call(self, request: str, *args: Any) -> Any:
        """Run one of `_REQUESTS` in the worker; its exception is raised here (EOFError, OSError: gone)."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                raise EOFError("the GX worker did not start")
            conn.send((request, args))
            ok, value = conn.recv()
        if not ok:
            raise value
        return value

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        if not self._gone:
            path = self._scratch / f"{secrets.token_hex(8)}.arrow"
            narrow(frame, expectations, id_columns).write_ipc(path)
            try:
                return self._call("validate", name, str(path), expectations, id_columns)
            except (EOFError, OSError):  # killed, out of memory: validate here from now on
                self._gone = True
            finally:
                path.unlink(missing_ok=True)
        return self._fallback.run(name, frame, expectations, id_columns)

    @property
    def in_worker(self) -> bool:
        return self._connection() is not None

    def close(self) -> None:
        """Tell the worker the run is done with it (it exits); one that never came is stopped."""
        conn = self._connecting.result(wait=False)
        if conn is not None:
            conn.close()
        elif self.process.poll() is None:
            self.process.kill()

    def render_soon(self) -> None:
        """Render the pending pages in the worker while the caller goes on; its next request waits."""
        threading.Thread(target=self.render, name="gx-data-docs", daemon=True).start()

    def render(self) -> None:
        try:
            if not self._gone:
                self._call("render_data_docs")
        except (EOFError, OSError):  # worker gone: the run reports what it has
            pass
        except Exception as exc:  # noqa: BLE001 - the checks are done; the pages are a view of them
            print(f"warning: Data Docs were not rendered: {type(exc).__name__}: {exc}", file=sys.stderr)
        self._fallback.render()


class _Connecting:
    """The worker's connection, accepted in the background: the run goes on with its own imports
    while the worker starts (it connects before it imports GX), and waits only when
    it first has a suite for it. None if the worker dies or stalls before it connects."""

    def __init__(self, listener: Listener, worker: subprocess.Popen) -> None:
        self._listener = listener
        self._worker = worker
        self._accepted: list[Connection] = []
        self._deadline = time.monotonic() + _CONNECT_WAIT_S
        self._thread = threading.Thread(target=self._accept, name="gx-worker-accept", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError, EOFError):  # the listener closes when nobody came
            self._accepted.append(self._listener.accept())
        self._listener.close()

    def result(self, wait: bool = True) -> Connection | None:
        """The connection; unless `wait`, only if it came already."""
        while wait and self._thread.is_alive() and self._worker.poll() is None:
            if time.monotonic() > self._deadline:
                break
            self._thread.join(0.05)
        if not self._accepted:
            self._listener.close()  # a late connection is refused: suites run here from now on
        return self._accepted[0] if self._accepted else None


@contextlib.contextmanager
def validating(docs_dir: Path | None, in_worker: bool = True) -> Iterator[SuiteRunner]:
    """Suites for the duration of the block, in a worker process started now (or here, without
    one); every page of the block's suites is rendered into `docs_dir` when it ends.

    Blocks nest: inside one, another for the same folder uses its runner, and the
    outer block renders the pages (the CLI starts the worker before it imports Dagster,
    and the run's `validator` resource finds it up).
    """
    if docs_dir in _outer:
        yield _outer[docs_dir]
        return
    with _new_runner(docs_dir, in_worker) as runner:
        _outer[docs_dir] = runner
        try:
            yield runner
        finally:
            del _outer[docs_dir]


@contextlib.contextmanager
def _new_runner(docs_dir: Path | None, in_worker: bool) -> Iterator[SuiteRunner]:
    if not in_worker:
        here = _Here(Suites(docs_dir))
        try:
            yield here
        finally:
            here.render()
        return
    key = secrets.token_bytes(16)
    scratch = Path(tempfile.mkdtemp(prefix="sms-gx-"))
    listener = Listener(family="AF_UNIX", authkey=key)
    worker = subprocess.Popen(
        [*WORKER_COMMAND, listener.address, str(docs_dir or "")],
        env=os.environ | {_KEY_ENV: key.hex()},
        stdin=subprocess.DEVNULL,
    )
    remote = _InWorker(_Connecting(listener, worker), scratch, docs_dir, worker)
    try:
        yield remote
    finally:
        try:
            remote.render()
        finally:
            remote.close()  # the worker sees the end of its input and exits
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            shutil.rmtree(scratch, ignore_errors=True)


def serve(address: str, docs_dir: str) -> None:
    """The worker: connect back, import GX and make its context, then answer until the caller closes."""
    conn = Client(address, authkey=bytes.fromhex(os.environ.pop(_KEY_ENV)))
    suites = Suites(Path(docs_dir) if docs_dir else None)
    suites.context()
    requests = {
        "validate": lambda name, path, *args: suites.run(name, pl.read_ipc(path), *args),
        "render_data_docs": suites.render,
    }
    while True:
        try:
            function, args = conn.recv()
        except EOFError:  # the run is done with us; Data Docs are written
            return
        try:
            conn.send((True, requests[function](*args)))
        except Exception as exc:  # noqa: BLE001 - raised again on the calling side
            conn.send((False, exc))


if __name__ == "__main__":
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()
    serve(sys.argv[1], sys.argv[2])
    # nothing is left to close, and Python's teardown of GX, pandas and scipy, module by
    # module, is time the run would wait for
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
