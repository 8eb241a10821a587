"""`sms-dbt`: dbt's command line, run by the forkserver when one is up, else plain `dbt`.

Only the standard library is imported here, so starting it costs milliseconds;
see `forkserver.py` for why.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

from orchestration.dbt_cli.environment import dbt_command
from orchestration.dbt_cli.forkserver import ENV, send_request

_CONNECT_WAIT_S = 10.0  # the server binds its socket within a moment of starting


def _plain_dbt() -> None:
    """dbt in this process's place: the `dbt` command of dbt's environment."""
    dbt = str(dbt_command())
    os.execv(dbt, [dbt, *sys.argv[1:]])


def _connect(path: str) -> socket.socket | None:
    deadline = time.monotonic() + _CONNECT_WAIT_S
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
            return conn
        except OSError:
            conn.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def main() -> None:
    path = os.environ.get(ENV)
    conn = _connect(path) if path else None
    if conn is None:
        _plain_dbt()
        return
    request = {"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}
    send_request(conn, request, [0, 1, 2])
    for sig in (signal.SIGINT, signal.SIGTERM):  # a cancelled run stops dbt, not only this relay
        signal.signal(sig, lambda number, _frame: conn.sendall(bytes([number])))
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = conn.recv(16)
        if not chunk:
            sys.exit("sms-dbt: the dbt forkserver went away")
        reply += chunk
    code = int(reply)
    sys.exit(code if code >= 0 else 128 - code)  # killed by a signal: the shell's convention


if __name__ == "__main__":
    main()
