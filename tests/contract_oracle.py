"""The contract's marts (`marts.md`) computed a second way: plain Python over the lake's rows.

No SQL, no window functions, no shared code with the dbt models: each rule is the contract's
sentence written as a loop, so a test can compare the warehouse with it contact by contact on
data nobody wrote by hand. The lake itself (typed rows, E.164 phones) is ingestion's output,
tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl

PERMANENT_ERRORS = {1, 5, 9, 11, 12}  # marts.md: unknown, unidentified, illegal subscriber, ...
FINAL_STATUS = {
    "DELIVRD": "delivery_successful",
    "UNKNOWN": "delivery_status_unknown",
    "EXPIRED": "rejected_soft_bounce",
    "DELETED": "rejected_soft_bounce",
    "UNDELIV": None,  # hard or soft by the error code
    "REJECTD": None,
}
STOP_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "STOPP"}
ATTRIBUTION_WINDOW = timedelta(days=7)


def lake_rows(lake: Path, feed: str) -> list[dict]:
    """Every row of a feed in the lake, as dicts."""
    files = sorted((lake / feed).glob("date=*/*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed").to_dicts() if files else []


def error_code(err: str | None) -> int | None:
    """`err` is a decimal string read as an integer: '1', '01' and '001' are the same error."""
    text = (err or "").strip()
    return int(text) if text.isdigit() else None


def first_word(text: str | None) -> str:
    """The first word, upper-cased, without the punctuation around it."""
    words = (text or "").split()
    if not words:
        return ""
    word = words[0]
    while word and not word[0].isalnum():
        word = word[1:]
    while word and not word[-1].isalnum():
        word = word[:-1]
    return word.upper()


def _latest(rows: list[dict], *keys: str) -> dict:
    return max(rows, key=lambda r: tuple(r[k] for k in keys))


def latest_per_contact(rows: list[dict], *order: str) -> dict[tuple, dict]:
    """Per (launch, contact): the row latest by `order` (the first column, then the next on a tie)."""
    grouped: dict[tuple, list[dict]] = {}
    for row in rows:
        grouped.setdefault((row["launch_id"], row["contact_id"]), []).append(row)
    return {key: _latest(rows, *order) for key, rows in grouped.items()}


def deciding_send_rows(send_logs: list[dict]) -> dict[tuple, dict]:
    """Per (launch, contact): the send-log row with the latest logged_at, a tie to the greatest event_id."""
    return latest_per_contact(send_logs, "logged_at", "event_id")


def winning_receipts(dlrs: list[dict]) -> dict[tuple, dict]:
    """Per (provider, trimmed message id): the final receipt with the latest done_at, then received_at;
    one without a done date is placed by its received_at (landing.md)."""
    grouped: dict[tuple, list[dict]] = {}
    for row in dlrs:
        if row["stat"] in FINAL_STATUS:
            grouped.setdefault((row["provider"], row["provider_message_id"].strip()), []).append(row)

    def order(r: dict) -> tuple:
        return (r["done_at"] or r["received_at"], r["received_at"])

    return {key: max(rows, key=order) for key, rows in grouped.items()}


def receipt_status(receipt: dict) -> str:
    status = FINAL_STATUS[receipt["stat"]]
    if status is not None:
        return status
    return (
        "rejected_hard_bounce" if error_code(receipt["err"]) in PERMANENT_ERRORS else "rejected_soft_bounce"
    )


def reached_status(send: dict, receipt: dict | None) -> str:
    """The status table of marts.md, for a sent contact."""
    if send["submit_result"] == "provider_error":
        return "provider_error"
    if send["submit_result"] == "accepted_no_dlr":
        return "provider_accepted"
    return receipt_status(receipt) if receipt else "with_carrier"


def keyword_optouts(inbound: list[dict], deciding: dict[tuple, dict]) -> set[tuple[str, str]]:
    """(launch, phone) pairs: each stop keyword goes to the latest launch that sent to its phone
    at most 7 days before it was received; a re-delivered inbound message counts once."""
    sent_to: dict[str, list[dict]] = {}
    for row in deciding.values():
        if row["submit_result"] is not None and row["phone_e164"] is not None:
            sent_to.setdefault(row["phone_e164"], []).append(row)
    attributed = set()
    seen_events = set()
    for message in inbound:
        if message["event_id"] in seen_events or first_word(message["text"]) not in STOP_KEYWORDS:
            continue
        seen_events.add(message["event_id"])
        received = message["received_at"]
        candidates = [
            r
            for r in sent_to.get(message["from_phone_e164"], [])
            if received - ATTRIBUTION_WINDOW <= r["logged_at"] <= received
        ]
        if candidates:
            attributed.add(
                (_latest(candidates, "logged_at", "launch_id")["launch_id"], message["from_phone_e164"])
            )
    return attributed


@dataclass
class Expected:
    """The contract's answer for a lake."""

    contacts: dict[tuple[str, str], dict]  # (launch_id, contact_id) -> fct_launch_contacts row
    summary: dict[str, dict]  # launch_id -> the counts of mart_campaign_summary


def expected_marts(lake: Path) -> Expected:
    deciding = deciding_send_rows(lake_rows(lake, "send_logs"))
    blocks = latest_per_contact(lake_rows(lake, "credit_blocks"), "blocked_at", "event_id")  # its phone
    receipts = winning_receipts(lake_rows(lake, "dlrs"))
    unsubscribed = {(r["launch_id"], r["contact_id"]) for r in lake_rows(lake, "unsubscribes")}
    optouts = keyword_optouts(lake_rows(lake, "inbound_sms"), deciding)

    contacts = {}
    for key in deciding.keys() | blocks.keys():
        send, block = deciding.get(key), blocks.get(key)
        sent = send is not None and send["submit_result"] is not None
        receipt = None
        if sent and send["submit_result"] == "accepted":
            receipt = receipts.get((send["provider"], (send["provider_message_id"] or "").strip()))
        phone = send["phone_e164"] if send else block["phone_e164"]
        contacts[key] = {
            "campaign_id": (send or block)["campaign_id"],
            "phone_e164": phone,
            "outcome": "sent" if sent else "not_sent",
            "not_sent_reason": None
            if sent
            else ("insufficient_credit" if block is not None else send["filter_reason"]),
            "reached_status": reached_status(send, receipt) if sent else None,
            "segments": send["segments"] if send else None,
            "submitted_at": send["logged_at"] if sent else None,
            "final_receipt_at": receipt["done_at"] if receipt else None,
            "unsubscribed_via_link": sent and key in unsubscribed,
            "opted_out_by_keyword": sent and (key[0], phone) in optouts,
        }
    return Expected(contacts, _summaries(contacts))


def _summaries(contacts: dict[tuple[str, str], dict]) -> dict[str, dict]:
    summary: dict[str, dict] = {}
    for (launch, _), row in contacts.items():
        counts = summary.setdefault(
            launch, {"launch_list_size": 0, "not_sent": 0, "sent": 0, "segments_billed": 0}
        )
        counts["launch_list_size"] += 1
        counts[row["outcome"]] += 1
        if row["outcome"] == "sent":
            counts["segments_billed"] += row["segments"] or 0
        for flag in ("unsubscribed_via_link", "opted_out_by_keyword"):
            counts[flag] = counts.get(flag, 0) + row[flag]
        for value in (row["not_sent_reason"], row["reached_status"]):
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
    return summary


FACT_COLUMNS = (  # fct_launch_contacts beside its key; the oracle gives each of them
    "campaign_id",
    "phone_e164",
    "outcome",
    "not_sent_reason",
    "reached_status",
    "segments",
    "submitted_at",
    "final_receipt_at",
    "unsubscribed_via_link",
    "opted_out_by_keyword",
)


def differing_contacts(con: duckdb.DuckDBPyConnection, expected: Expected) -> dict[tuple, tuple]:
    """(launch, contact) -> (the warehouse's row, the contract's row) wherever they differ,
    a contact missing on either side included (as None)."""
    rows = con.execute(
        f"select launch_id, contact_id, {', '.join(FACT_COLUMNS)} from marts.fct_launch_contacts"
    ).fetchall()
    actual = {(r[0], r[1]): dict(zip(FACT_COLUMNS, r[2:], strict=True)) for r in rows}
    return {
        key: (actual.get(key), expected.contacts.get(key))
        for key in actual.keys() | expected.contacts.keys()
        if actual.get(key) != expected.contacts.get(key)
    }
