"""The six landing feeds: their columns, types and allowed values (contract/landing.md).

One declaration per feed, the only list of feeds: readers, validation,
de-duplication, the Dagster assets and the lake expectations all read it. Values
that are also mart vocabularies (receipt states, filter reasons) come from the
dbt seeds (`reference.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ingestion import reference

Kind = Literal["string", "timestamp", "int", "enum"]


@dataclass(frozen=True)
class Column:
    """One typed column of a feed."""

    name: str
    kind: Kind = "string"
    required: bool = False
    values: tuple[str, ...] = ()
    min_value: int | None = None
    # read when it can be: an unreadable value is null, not a reason to quarantine the row, and
    # an implausible one is reported, not blocking (a carrier's clock, a gateway's date format)
    best_effort: bool = False


@dataclass(frozen=True)
class Feed:
    """A landing feed: where it lands, how it is written, what it holds."""

    name: str
    description: str
    formats: tuple[str, ...]
    columns: tuple[Column, ...]
    dedup_key: tuple[str, ...] = ("event_id",)
    phone_columns: dict[str, str] = field(default_factory=dict)
    # at least one of these columns must be set on every row
    one_of: tuple[str, ...] = ()
    # fields read from the file when they differ from the typed columns (receipts carry raw text)
    file_fields: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def input_columns(self) -> list[str]:
        """The fields a reader takes from each row of a file."""
        return list(self.file_fields) or self.column_names

    @property
    def output_columns(self) -> list[str]:
        """Typed columns written to the lake, normalised phones included."""
        return self.column_names + list(self.phone_columns.values())


def _ts(name: str, required: bool = True) -> Column:
    return Column(name, "timestamp", required=required)


def _id(name: str) -> Column:
    return Column(name, required=True)


FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        Feed(
            "launches",
            "Campaign launches, one row per launch (JSON Lines).",
            ("jsonl",),
            (
                _id("event_id"),
                _id("launch_id"),
                _id("campaign_id"),
                Column("campaign_name"),
                Column("campaign_type", "enum", required=True, values=("batch", "automated")),
                Column("program_id"),
                _ts("launched_at"),
                Column("launch_list_size", "int", min_value=0),
            ),
        ),
        Feed(
            "send_logs",
            "Send logs: one row per contact on a launch list and attempt (CSV, gzip or not, or Parquet).",
            ("csv", "parquet"),
            (
                _id("event_id"),
                _ts("logged_at"),
                _id("launch_id"),
                _id("campaign_id"),
                _id("contact_id"),
                Column("phone"),
                Column("filter_reason", "enum", values=reference.filter_reasons()),
                Column("submit_result", "enum", values=("accepted", "accepted_no_dlr", "provider_error")),
                Column("provider"),
                Column("provider_message_id"),
                Column("segments", "int", required=True, min_value=0),
            ),
            phone_columns={"phone": "phone_e164"},
            one_of=("filter_reason", "submit_result"),  # a contact was filtered or submitted
        ),
        Feed(
            "credit_blocks",
            "Contacts held back because the balance ran out (JSON Lines).",
            ("jsonl",),
            (
                _id("event_id"),
                _ts("blocked_at"),
                _id("launch_id"),
                _id("campaign_id"),
                _id("contact_id"),
                Column("phone"),
                Column("balance_credits", "int"),
                Column("required_credits", "int"),
            ),
            phone_columns={"phone": "phone_e164"},
        ),
        Feed(
            "dlrs",
            "Carrier delivery receipts, structured or raw SMPP text, de-duplicated by content (JSON Lines).",
            ("jsonl",),
            (
                _ts("received_at"),
                _id("provider"),
                _id("provider_message_id"),
                Column("stat", "enum", required=True, values=reference.receipt_states()),
                Column("err"),
                Column("done_at", "timestamp", best_effort=True),
                Column("receipt_shape", "enum", required=True, values=("structured", "smpp")),
            ),
            dedup_key=("received_at", "provider", "provider_message_id", "stat", "err", "done_at"),
            file_fields=(
                "received_at",
                "provider",
                "provider_message_id",
                "stat",
                "err",
                "done_at",
                "receipt",
            ),
        ),
        Feed(
            "unsubscribes",
            "Opt-outs through the SMS unsubscribe link (JSON Lines).",
            ("jsonl",),
            (_id("event_id"), _ts("occurred_at"), _id("launch_id"), _id("contact_id")),
        ),
        Feed(
            "inbound_sms",
            "Messages contacts sent back, phones normalised to E.164 for stop-keyword attribution.",
            ("jsonl",),
            (
                _id("event_id"),
                _ts("received_at"),
                Column("from_phone"),
                Column("to_sender"),
                Column("text"),
            ),
            phone_columns={"from_phone": "from_phone_e164"},
        ),
    )
}
