"""Great Expectations in a worker process started at the beginning of a run.

Importing GX costs 5–6 s of one core (pandas, scipy, altair, sqlalchemy come
with it), and the first lake check needs it a few seconds into a run. Python
threads would share one core for the import; a separate process imports it on
the other core while ingestion reads its first files. `run_suite` then sends
each suite's frame (narrowed to the columns it reads) to the worker and gets the
plain `SuiteResult` back; Data Docs are rendered there once, at the end.

The worker is its own `python -m orchestration.gx_worker` process (not a
multiprocessing child, which would import the caller's main script again). If it
dies, suites run in the calling process again.
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
from typing import Any

import polars as pl

from orchestration import quality

_KEY_ENV = "SMS_GX_WORKER_KEY"
WORKER_COMMAND = [sys.executable, "-m", "orchestration.gx_worker"]
_CONNECT_WAIT_S = 30.0


class Worker:
    """The calling side: one request at a time over an authenticated local connection.

    Frames travel as Arrow IPC files in a scratch folder (0.2 s for a million
    contacts, against 1 s to pickle them through the connection).
    """

    def __init__(self, conn: Connection, scratch: Path, process: subprocess.Popen) -> None:
        self._conn = conn
        self._scratch = scratch
        self._lock = threading.Lock()
        self.process = process

    def call(self, request: str, *args: Any) -> Any:
        """Run one of `_REQUESTS` in the worker; its exception is raised here (EOFError, OSError: worker gone)."""
        with self._lock:
            self._conn.send((request, args))
            ok, value = self._conn.recv()
        if not ok:
            raise value
        return value

    def render_soon(self) -> None:
        """Render the pending Data Docs in the worker while the caller goes on; its next request waits for it."""

        def render() -> None:
            try:
                self.call("render_data_docs")
            except (EOFError, OSError):  # worker gone: the run reports what it has
                pass
            except Exception as exc:  # noqa: BLE001 - the checks are done; the pages are a view of them
                print(f"warning: Data Docs were not rendered: {type(exc).__name__}: {exc}", file=sys.stderr)

        threading.Thread(target=render, name="gx-data-docs", daemon=True).start()

    def validate(self, name: str, frame: pl.DataFrame, *args: Any) -> quality.SuiteResult:
        """`quality.run_suite_here(name, frame, *args)` in the worker."""
        path = self._scratch / f"{secrets.token_hex(8)}.arrow"
        frame.write_ipc(path)
        try:
            return self.call("validate", name, str(path), *args)
        finally:
            path.unlink(missing_ok=True)


def _validate(name: str, path: str, *args: Any) -> quality.SuiteResult:
    return quality.run_suite_here(name, pl.read_ipc(path), *args)


_REQUESTS = {"validate": _validate, "render_data_docs": quality.render_data_docs}


def _accept(listener: Listener, worker: subprocess.Popen) -> Connection | None:
    """The worker's connection (it connects before importing anything heavy); None if it dies or stalls."""
    accepted: list[Connection] = []

    def accept() -> None:
        with contextlib.suppress(OSError, EOFError):  # the listener closes when nobody came
            accepted.append(listener.accept())

    waiting = threading.Thread(target=accept, daemon=True)
    waiting.start()
    deadline = time.monotonic() + _CONNECT_WAIT_S
    while waiting.is_alive() and worker.poll() is None and time.monotonic() < deadline:
        waiting.join(0.05)
    return accepted[0] if accepted else None


@contextlib.contextmanager
def validating_in_a_worker(docs_dir: Path | None) -> Iterator[None]:
    """Within this block, GX suites run in a worker process started now; Data Docs render at its end."""
    key = secrets.token_bytes(16)
    scratch = Path(tempfile.mkdtemp(prefix="sms-gx-"))
    with Listener(family="AF_UNIX", authkey=key) as listener:
        worker = subprocess.Popen(
            [*WORKER_COMMAND, listener.address, str(docs_dir or "")],
            env=os.environ | {_KEY_ENV: key.hex()},
            stdin=subprocess.DEVNULL,
        )
        conn = _accept(listener, worker)
    # suites that run here (no worker, or after it died) render their Data Docs at the end too
    with quality.data_docs_at_the_end():
        if conn is None:  # it did not start: validate here
            worker.kill()
            worker.wait()
            shutil.rmtree(scratch, ignore_errors=True)
            yield
            return
        quality._worker = Worker(conn, scratch, worker)
        try:
            yield
        finally:
            if quality._worker is not None:
                with contextlib.suppress(EOFError, OSError):
                    quality._worker.call("render_data_docs")
            quality._worker = None
            conn.close()  # the worker sees the end of its input and exits
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
            shutil.rmtree(scratch, ignore_errors=True)


def serve(address: str, docs_dir: str) -> None:
    """The worker: connect back, import GX, then answer requests until the caller closes."""
    conn = Client(address, authkey=bytes.fromhex(os.environ.pop(_KEY_ENV)))
    quality.start_in_worker(Path(docs_dir) if docs_dir else None)
    while True:
        try:
            function, args = conn.recv()
        except EOFError:  # the run is done with us; Data Docs are written
            return
        try:
            conn.send((True, _REQUESTS[function](*args)))
        except Exception as exc:  # noqa: BLE001 - raised again on the calling side
            conn.send((False, exc))


if __name__ == "__main__":
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()
    serve(sys.argv[1], sys.argv[2])
    # nothing left to clean up, and Python's teardown of GX, pandas and scipy module
    # by module took 1.5 s that the run waited for
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
