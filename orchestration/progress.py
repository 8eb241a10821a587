"""A run's progress on the terminal that started it: one line per step; the UI keeps the rest.

Assets log what a person at the terminal wants to read with `say()`, which logs it
to the run as any message (the UI shows it) and marks it for the terminal. The
`terminal` logger, which `sms-warehouse run` asks for in the run's config, prints
those lines, warnings and step failures; with `verbose`, every message. Runs
launched from the UI do not use it: Dagster's own console logger runs there.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI prints lines before it imports Dagster
    import dagster as dg

_lines: set[str] = set()  # messages said for the terminal, waiting to be printed once
_lock = threading.Lock()


def say(log: Any, message: str) -> None:
    """Log `message` to the run (`context.log`) and print it on the terminal of a CLI run."""
    with _lock:
        _lines.add(message)
    log.info(message)


def line(message: str) -> str:
    """A terminal line: the time, then the message."""
    return f"[{time.strftime('%H:%M:%S')}] {message}\n"


class _Terminal(logging.Handler):
    def __init__(self, fd: int, verbose: bool) -> None:
        super().__init__()
        self.fd, self.verbose = fd, verbose

    def emit(self, record: logging.LogRecord) -> None:
        meta: dict[str, Any] = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        message = str(meta.get("orig_message") or record.getMessage())
        if event is not None:
            if event.event_type_value != "STEP_FAILURE":
                return
            message = f"step {event.step_key} failed: {failure_line(event.step_failure_data)}"
        elif message.startswith("Dependencies for step"):  # what follows a failed step: it said why
            return
        elif record.levelno < logging.WARNING:
            with _lock:
                said = message in _lines
                _lines.discard(message)
            if not (said or self.verbose):
                return
        with_level = message if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {message}"
        os.write(self.fd, line(with_level).encode())


def failure_line(data: Any) -> str:  # noqa: ANN401 - Dagster's StepFailureData
    """Why a step failed, in one line: a `dg.Failure`'s description, else the underlying error and
    what to do about it (`failures.one_line`)."""
    from orchestration.failures import describe, one_line

    if data.user_failure_data is not None and data.user_failure_data.description:
        return describe(data.user_failure_data.description)
    return one_line(data.error)


def _terminal(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("sms-warehouse", level=logging.INFO)
    logger.addHandler(_Terminal(init_context.logger_config["fd"], init_context.logger_config["verbose"]))
    return logger


def terminal_logger() -> dg.LoggerDefinition:
    """The `terminal` logger, as the definitions declare it."""
    import dagster as dg

    return dg.LoggerDefinition(
        _terminal,
        config_schema={
            "fd": dg.Field(int, description="The file descriptor of the terminal to print to."),
            "verbose": dg.Field(bool, default_value=False, description="Print every message of the run."),
        },
        description="One line per step on the terminal of `sms-warehouse run` (every message with verbose).",
    )
