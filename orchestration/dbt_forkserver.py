"""Start dbt before it is needed: a process that has imported dbt forks one child per invocation.

A dbt command spends 4–5 s of one core importing dbt (its dataclass serialisers
are generated at import time, so compiled bytecode does not help) before it
builds anything. `sms-warehouse run` starts this server when it begins, so the
import happens while ingestion works; when the dbt step runs, dagster-dbt starts
`sms-dbt` (`dbt_client.py`), which hands its argv, environment, working folder
and stdin/stdout/stderr to the server; the server forks, and the child runs
dbt's own command line in the already-imported interpreter. Exit codes and
signals (a cancelled run) pass through. Without a server, `sms-dbt` is plain dbt.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ENV = "SMS_DBT_FORKSERVER"  # the server's socket, for sms-dbt
_HEADER = struct.Struct("!I")

# What every `dbt build` did for itself after the fork, before its first node: import the
# task modules, and build (mashumaro, at first use) the JSON schemas dbt validates the
# project, profile and results against. Done once here, it is inherited by every child:
# 0.7 s less of a build's critical path, where one core waits on dbt's single thread.
WARM_MODULES = ("dbt.task.build", "dbt.adapters.duckdb.environments.local", "dbt_common.clients.agate_helper")
WARM_SCHEMAS = (
    "dbt.contracts.project:Project",
    "dbt.contracts.project:ProjectFlags",
    "dbt.contracts.project:ProfileConfig",
    "dbt.contracts.project:PackageConfig",
    "dbt.contracts.project:Configuration",
    "dbt.contracts.selection:SelectorFile",
    "dbt.adapters.duckdb.credentials:DuckDBCredentials",
    "dbt.task.test:TestResultData",
)


def send_request(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """A length-prefixed JSON request, with the client's stdin/stdout/stderr attached."""
    body = json.dumps(request).encode()
    socket.send_fds(conn, [_HEADER.pack(len(body)) + body], fds)


def _receive_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    if len(data) < _HEADER.size:
        raise ConnectionError("short request")
    (size,) = _HEADER.unpack_from(data)
    body = data[_HEADER.size :]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("request cut short")
        body += chunk
    return json.loads(body), fds


def _run_dbt(request: dict, fds: list[int]) -> None:
    """In the forked child: become the client's dbt process, then exit with dbt's code."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from orchestration import dbt_command

        dbt_command.run(request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report as dbt would, then exit
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
            _release_semaphores()
        os._exit(code)


def _release_semaphores() -> None:
    """Unlink the named semaphores dbt made (its adapter's lock comes from a spawn context), as
    Python would at a normal exit: os._exit skips that, and the resource tracker dbt started then
    warned of "leaked semaphore objects" on the run's stderr."""
    if "multiprocessing.util" in sys.modules:
        sys.modules["multiprocessing.util"]._run_finalizers(0)


def _serve_one(conn: socket.socket, listener: socket.socket) -> None:
    request, fds = _receive_request(conn)
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.close()
        _run_dbt(request, fds)
    for fd in fds:
        os.close(fd)

    def forward_signals() -> None:  # the client relays the signals it gets as one byte each
        with contextlib.suppress(OSError):
            while sig := conn.recv(1):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig[0])

    threading.Thread(target=forward_signals, daemon=True).start()
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        conn.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
    conn.close()


def warm_up() -> list[str]:
    """Do once what each dbt build would do first (see WARM_MODULES); returns what could not be warmed.

    Nothing here changes what dbt does, only when: a module or class that a new dbt
    version moved is simply left to the child, as before (a test names them).
    """
    missed = []
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missed.append(name)
    for path in WARM_SCHEMAS:
        module, cls = path.split(":")
        try:
            getattr(importlib.import_module(module), cls).json_schema()  # cached per class
        except (ImportError, AttributeError):
            missed.append(path)
    return missed


def _exit_with(parent: int) -> None:
    """Stop serving when the run that started the server is gone (even killed with SIGKILL)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def serve(path: str, parent: int) -> None:
    """Listen first (clients may connect and wait), import dbt, then serve invocations one at a time."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    import dbt.adapters.duckdb  # noqa: F401 - the point: imported once, before anyone asks
    import dbt.cli.main  # noqa: F401

    from orchestration import dbt_command, duckdb_lake  # noqa: F401 - dbt's entry, the profile's plugin

    warm_up()
    while True:
        conn, _ = listener.accept()
        try:
            _serve_one(conn, listener)
        except (OSError, ConnectionError, ValueError):
            conn.close()


@contextlib.contextmanager
def running() -> Iterator[subprocess.Popen]:
    """Run a forkserver for the duration of the block and point `sms-dbt` at it."""
    folder = Path(tempfile.mkdtemp(prefix="sms-dbt-"))
    path = folder / "socket"
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.dbt_forkserver", str(path), str(os.getpid())],
        stdin=subprocess.DEVNULL,
    )
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(5)
        if server.poll() is None:
            server.kill()
        path.unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()  # before the warm-up imports; the dbt children it forks inherit it
    serve(sys.argv[1], int(sys.argv[2]))
