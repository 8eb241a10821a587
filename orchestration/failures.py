"""A failure as one line: the underlying error (its type, its message, the file it names) and what to do.

Dagster wraps what a step raised (`Error occurred while executing op ...`); the cause
is further down the chain. `one_line` follows the chain to the error the step's own
code met, keeps its first line, and adds the fix where one is known (`ADVICE`): a full
disk, a file held by another process, a damaged file. The terminal logger and the
CLI print it; the traceback stays in the run's logs (the UI) and comes with `--debug`.
"""

from __future__ import annotations

import re
from typing import Any

# (a pattern of the error's type and message, what to do): the first that matches applies
ADVICE: list[tuple[str, str]] = [
    (
        r"No space left on device|Errno 28|disk is full|out of disk",
        "the disk is full: free space on it, or point SMS_DATA_DIR or SMS_DUCKDB_TEMP_DIR at a larger "
        "disk, and run again",
    ),
    (
        r"Could not set lock on file|Conflicting lock is held",
        "another process holds that file: wait for it to finish, or stop it; `fuser FILE` names it",
    ),
    (
        r"Could not read enough bytes|not a valid DuckDB database|magic bytes|too small to be a Parquet|"
        r"Corrupt|corrupt",
        "that file is damaged: run `sms-warehouse run --full-refresh` to rebuild it from the landing zone",
    ),
    (
        r"Permission denied|Errno 13|Read-only file system|Errno 30",
        "the run cannot write there: give it a writable folder, see the README's Configuration",
    ),
    (
        r"DagsterDbtCliRuntimeError|dbt CLI process",
        "dbt failed: its errors are above and in the run's logs, on the run's page of `sms-warehouse ui`",
    ),
]
_DBT_ERROR = r"(Runtime Error|Database Error|Compilation Error|Failure|Parsing Error) in "
_WRAPPERS = (
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "DagsterResourceFunctionError",
)


def cause(error: Any) -> Any:
    """The innermost error of a Dagster error chain (a `SerializableErrorInfo`): what the step's code met."""
    while error is not None and error.cause is not None and _is_wrapper(error):
        error = error.cause
    return error


def _is_wrapper(error: Any) -> bool:
    return (error.cls_name or "") in _WRAPPERS or "Error occurred while" in (error.message or "")


def advice(text: str) -> str | None:
    """What to do about an error whose type and message are `text`, when it is known."""
    return next((fix for pattern, fix in ADVICE if re.search(pattern, text)), None)


def describe(text: str, kind: str | None = None) -> str:
    """One line for an error's text (`kind`: its type, when the text does not start with it): its
    first line, or for dbt the first error it logged with its detail, then what to do."""
    # dagster-dbt's error is the dbt command first; the errors dbt logged come after this line
    found = text.split("Errors parsed from dbt logs:", 1)[-1].strip() or text
    lines = [line.strip() for line in found.splitlines() if line.strip() and line.strip("^~ ")]
    # dbt logs each failed node's summary (`4 of 42 ERROR creating ...`) and, apart, what went wrong
    # (`Runtime Error in model x (path)` and the error on the next line): the latter says more
    at = next((i for i, line in enumerate(lines) if re.match(_DBT_ERROR, line)), 0)
    lines = lines[at:]
    first = lines[0] if lines else kind or "Error"
    detail = next((line for line in lines[1:] if not re.match(_DBT_ERROR, line)), None)
    if detail and ":" not in first:  # a header (dbt's `Failure in test ...`), then what went wrong
        first = f"{first}: {detail}"
    first = re.sub(r"^[\w.]+\.(\w+: )", r"\1", first)  # `_duckdb.IOException: ...` as `IOException: ...`
    fix = advice(f"{kind}: {text}")
    return f"{first} — {fix}" if fix else first


def one_line(error: Any) -> str:
    """`Type: first line of its message — what to do`, for the innermost error of a chain."""
    if error is None:
        return "unknown error"
    inner = cause(error)
    return describe((inner.message or "").strip(), inner.cls_name)  # Python's form: `module.Type: message`
