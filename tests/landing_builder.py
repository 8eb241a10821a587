"""Write small, readable landing zones for tests: one call per file, rows as dicts or text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

SEND_LOG_HEADER = (
    "event_id,logged_at,launch_id,campaign_id,contact_id,phone,filter_reason,submit_result,"
    "provider,provider_message_id,segments"
)


def write_file(landing: Path, feed: str, day: str, name: str, text: str | bytes) -> Path:
    """Write one landing file (gzipped when the name ends in .gz)."""
    path = landing / feed / f"date={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def send_logs_csv(rows: list[str]) -> str:
    """Rows are the CSV lines after the header, written as the contract orders the columns."""
    return SEND_LOG_HEADER + "\n" + "\n".join(rows) + "\n"


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any SMS_* setting, plus `settings`: what a fresh shell would pass."""
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("SMS_")} | settings
