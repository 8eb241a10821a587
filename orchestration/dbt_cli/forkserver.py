"""Import dbt before it is needed: a process that has imported dbt forks one child per dbt command.

A dbt command spends seconds of one core importing dbt (its dataclass serialisers
are generated at import time, so compiled bytecode does not help) before it
builds anything. A run starts this server when it starts (`resource.py`), so the
import happens while ingestion works. When the dbt step runs, dagster-dbt starts
`sms-dbt` (`client.py`), which hands its argv, environment, working folder and
stdin/stdout/stderr to the server; the server forks, and the child runs the
command through dbt's programmatic entry point, `dbtRunner`, in the interpreter
that already imported dbt. Exit codes and signals (a cancelled run) pass through.
Without a server, `sms-dbt` is plain dbt.
"""

from __future__ import annotations

import contextlib
import gc
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

from orchestration.dbt_cli.environment import dbt_python

ENV = "SMS_DBT_FORKSERVER"  # the server's socket, for sms-dbt
_HEADER = struct.Struct("!I")
_serving: subprocess.Popen | None = None  # the server of the outermost `running()` block


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


def exit_code(success: bool, exception: BaseException | None) -> int:
    """dbt's command-line exit code for a `dbtRunner` result: 0 done, 1 failures, 2 an error."""
    if success:
        return 0
    return 2 if exception is not None else 1


def invoke(argv: list[str]) -> int:
    """Run one dbt command in this process, as `dbt ARGV` would; its exit code."""
    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv)
    if isinstance(result.exception, DbtUsageException):  # dbt logs every other error itself
        print(f"Error: {result.exception}", file=sys.stderr)
    return exit_code(result.success, result.exception)


def _run_dbt(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the client's dbt process, report dbt's exit code, then exit.

    The code goes to the client before this process exits, and the client's stdin,
    stdout and stderr are let go of with it: dagster-dbt carries on while Python
    ends this process the normal way (which also removes the named semaphores the
    dbt adapter made).
    """
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
        code = invoke(request["argv"])
    except BaseException:  # noqa: BLE001 - reported as dbt would, then the exit code
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(b"%d\n" % code)
        devnull = os.open(os.devnull, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(devnull, target)
    sys.exit(code)


def _serve_one(conn: socket.socket, listener: socket.socket) -> None:
    request, fds = _receive_request(conn)
    pid = os.fork()
    if pid == 0:
        listener.close()
        _run_dbt(conn, request, fds)
    for fd in fds:
        os.close(fd)

    def forward_signals() -> None:  # the client relays the signals it gets as one byte each
        with contextlib.suppress(OSError):
            while sig := conn.recv(1):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig[0])

    threading.Thread(target=forward_signals, daemon=True).start()
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):  # the child's own report came first, unless it was killed
        conn.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
    conn.close()


def _exit_with(parent: int) -> None:
    """Stop serving when the run that started the server is gone (even killed with SIGKILL)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def serve(path: str, parent: int) -> None:
    """Listen first (clients may connect and wait), import dbt, then serve commands one at a time."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    import dbt.adapters.duckdb  # noqa: F401 - the point: imported once, before anyone asks
    import dbt.cli.main  # noqa: F401

    from orchestration.dbt_cli import lake_plugin  # noqa: F401 - the plugin the profile loads

    # what was imported lives as long as the server: the collector of every child leaves it alone
    gc.freeze()
    while True:
        conn, _ = listener.accept()
        try:
            _serve_one(conn, listener)
        except (OSError, ConnectionError, ValueError):
            conn.close()


@contextlib.contextmanager
def running() -> Iterator[subprocess.Popen]:
    """Run a forkserver for the duration of the block and point `sms-dbt` at it.

    Blocks nest: inside one, another uses the server already running (the CLI starts
    one before it imports Dagster, and the run's `dbt` resource finds it up).
    """
    global _serving
    if _serving is not None and _serving.poll() is None:
        yield _serving
        return
    folder = Path(tempfile.mkdtemp(prefix="sms-dbt-"))
    path = folder / "socket"
    server = subprocess.Popen(
        [str(dbt_python()), "-m", "orchestration.dbt_cli.forkserver", str(path), str(os.getpid())],
        stdin=subprocess.DEVNULL,
    )
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    _serving = server
    try:
        yield server
    finally:
        _serving = None
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(5)
        if server.poll() is None:
            server.kill()
            server.wait()
        path.unlink(missing_ok=True)
        folder.rmdir()


if __name__ == "__main__":
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()  # before the imports; the dbt children it forks inherit it
    serve(sys.argv[1], int(sys.argv[2]))
