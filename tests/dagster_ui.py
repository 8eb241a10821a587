"""The real Dagster UI for tests: `sms-warehouse ui` (webserver and daemon) on a free port, and its GraphQL API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CLI = str(Path(sys.executable).with_name("sms-warehouse"))
LOCATION = {"repositoryLocationName": "orchestration.definitions", "repositoryName": "__repository__"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    """What the UI's pages ask the webserver, answered."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if "errors" in answer:
        raise AssertionError(answer["errors"])
    return answer["data"]


@contextlib.contextmanager
def running_ui(root: Path, env: dict[str, str]) -> Iterator[int]:
    """`sms-warehouse ui` serving the data folder `root`, as an operator starts it (the virtual
    environment not activated); its port, once the code location has loaded."""
    port = free_port()
    ui_env = {"PATH": "/usr/bin:/bin", "HOME": str(root)} | {
        k: v for k, v in env.items() if k.startswith("SMS_")
    }
    proc = subprocess.Popen([CLI, "ui", "--port", str(port)], cwd=root, env=ui_env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, KeyError, TypeError, ValueError, AssertionError):
                if graphql(port, "{ assetNodes { id } }")["assetNodes"]:
                    break
            time.sleep(2)
        assert proc.poll() is None and time.monotonic() < deadline, "sms-warehouse ui did not come up"
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
