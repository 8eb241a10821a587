"""Receipts as real gateways write them, through the real pipeline: landing → lake → dbt → published mart.

One launch, one contact per receipt form (r01…r18), each sent at 08:00 UTC on 2026-11-03 with
message `m-rNN`; RECEIPTS says what each contact's receipts are and EXPECTED what the
published mart must say of it: the contract's reached status and the final receipt's done
time in UTC (None: no readable done date). A receipt dated years before its send does not
hold back the publish: it is counted by its state and named by a warning.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.landing_builder import clean_env, jsonl, send_logs_csv, write_file

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("sms-warehouse"))
DAY, SENT = "2026-11-03", "2026-11-03T08:00:00Z"


def _smpp(text: str, received: str = "2026-11-03T08:20:00Z") -> dict:
    return {"received_at": received, "provider": "p", "receipt": text}


def _structured(
    msg: str, stat: str, err: str, done: str | None, received: str = "2026-11-03T08:20:00Z"
) -> dict:
    return {"received_at": received, "provider": "p", "provider_message_id": msg, "stat": stat, "err": err,
            "done_at": done}  # fmt: skip


RECEIPTS = {
    "r01": [
        _smpp(
            "id:m-r01 sub:001 dlvrd:001 submit date:2611030800 done date:2611030816 stat:DELIVRD err:000 text:hi"
        )
    ],
    "r02": [
        _smpp("33612345678#id:m-r02 stat:DELIVRD err:000 done date:2611030816")
    ],  # a phone glued before id:
    "r03": [_smpp("Sender^id:m-r03 stat:UNDELIV err:001 done date:2611030816")],  # a sender name glued
    "r04": [_smpp("id:m-r04 stat:UNDELIV err:001\x00\x00 done date:2611030816")],  # NUL padding: error 1
    "r05": [_smpp("id:m-r05 submitdate:2611030800 donedate:2611030816 stat:EXPIRED err:000")],
    "r06": [_smpp("id:m-r06 done date:20261103081659 stat:DELIVRD err:000")],  # YYYYMMDDhhmmss
    "r07": [
        _smpp("id:m-r07 done date:202611030816 stat:DELIVRD err:000")
    ],  # YYYYMMDDhhmm (YYMMDD... invalid)
    "r08": [
        _smpp("id:m-r08 done date:261103101659008+ stat:DELIVRD err:000")
    ],  # local 10:16:59.0, UTC+2 (8 quarters)
    "r09": [
        _smpp("id:m-r09 done date:261103061659512- stat:UNKNOWN err:000")
    ],  # local 06:16:59.5, UTC-3 (12 quarters)
    "r10": [_smpp("id:m-r10 done date:0000000000 stat:DELIVRD err:000")],  # all zeros: no done date
    "r11": [
        _smpp("id:m-r11 done date:2613450816 stat:REJECTD err:005")
    ],  # month 13: no done date, still final
    # an undated final is placed by when it was received: this DELIVRD (received 09:00) beats the
    # EXPIRED done at 08:10; the next one (received 08:05) loses to the UNDELIV done at 08:30
    "r12": [
        _smpp("id:m-r12 done date:2611030810 stat:EXPIRED err:000", "2026-11-03T08:10:05Z"),
        _smpp("id:m-r12 stat:DELIVRD err:000", "2026-11-03T09:00:00Z"),
    ],  # fmt: skip
    "r13": [
        _smpp("id:m-r13 stat:DELIVRD err:000", "2026-11-03T08:05:00Z"),
        _smpp("id:m-r13 done date:2611030830 stat:UNDELIV err:001", "2026-11-03T08:30:05Z"),
    ],  # fmt: skip
    "r14": [_smpp("id:m-r14 done date:1905010816 stat:DELIVRD err:000")],  # the carrier's clock years behind
    "r15": [_structured("m-r15", "DELIVRD", "000", "2031-06-01T00:00:00Z")],  # ...or years ahead
    "r16": [_structured("m-r16", "UNDELIV", "012", "yesterday")],  # unreadable done date, permanent error 12
    "r17": [_smpp("id:m-r17 done date:2611030816 stat:ENROUTE err:000")],  # interim only
    "r18": [_smpp("id:m-r18#stat:DELIVRD#err:000")],  # fields glued after values
}
EXPECTED = {
    "r01": ("delivery_successful", "2026-11-03T08:16:00"),
    "r02": ("delivery_successful", "2026-11-03T08:16:00"),
    "r03": ("rejected_hard_bounce", "2026-11-03T08:16:00"),
    "r04": ("rejected_hard_bounce", "2026-11-03T08:16:00"),
    "r05": ("rejected_soft_bounce", "2026-11-03T08:16:00"),
    "r06": ("delivery_successful", "2026-11-03T08:16:59"),
    "r07": ("delivery_successful", "2026-11-03T08:16:00"),
    "r08": ("delivery_successful", "2026-11-03T08:16:59"),
    "r09": ("delivery_status_unknown", "2026-11-03T09:16:59.500000"),
    "r10": ("delivery_successful", None),
    "r11": ("rejected_hard_bounce", None),
    "r12": ("delivery_successful", None),
    "r13": ("rejected_hard_bounce", "2026-11-03T08:30:00"),
    "r14": ("delivery_successful", "2019-05-01T08:16:00"),
    "r15": ("delivery_successful", "2031-06-01T00:00:00"),
    "r16": ("rejected_hard_bounce", None),
    "r17": ("with_carrier", None),
    "r18": ("delivery_successful", None),
}
UNREADABLE = [  # quarantined: only a receipt whose id or state cannot be read
    _smpp("stat:DELIVRD err:000 done date:2611030816"),
    _smpp("id:m-r01 stat:LOST err:000"),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("receipts")
    landing = root / "landing"
    write_file(landing, "send_logs", DAY, "s.csv", send_logs_csv([
        f"e{c},{SENT},L1,C1,{c},06123456{c[1:]},,accepted,p,m-{c},1" for c in RECEIPTS
    ]))  # fmt: skip
    receipts = [receipt for rows in RECEIPTS.values() for receipt in rows]
    write_file(landing, "dlrs", DAY, "d.jsonl", jsonl(receipts + UNREADABLE))
    env = clean_env(SMS_DATA_DIR=str(root), SMS_LANDING_DIR=str(landing))
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # published, warnings and all
    return root, done


def _published_rows(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse" / "sms.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_form_gives_the_contracts_status_and_done_time(published) -> None:
    root, _ = published
    rows = _published_rows(
        root,
        "select contact_id, reached_status, timezone('UTC', final_receipt_at) from marts.fct_launch_contacts",
    )
    got = {contact: (status, at.isoformat() if at else None) for contact, status, at in rows}
    assert got == EXPECTED


def test_only_receipts_without_an_id_or_state_are_quarantined(published) -> None:
    root, _ = published
    reasons = _published_rows(
        root, "select reason, entries from audit.quarantine_summary where feed = 'dlrs'"
    )
    assert sorted(reasons) == [
        ("provider_message_id is missing", 1),
        ("stat 'LOST' is not one of ENROUTE/ACCEPTD/DELIVRD/UNKNOWN/EXPIRED/DELETED/UNDELIV/REJECTD", 1),
    ]


def test_a_receipt_from_a_clock_years_off_is_reported_without_blocking_the_publish(published) -> None:
    root, done = published
    suspicious = _published_rows(
        root, "select contact_id, problem, reached_status from audit.suspicious_receipts order by contact_id"
    )
    assert suspicious == [
        ("r14", "done more than 10 minutes before the message was sent", "delivery_successful"),
        ("r15", "done in the future", "delivery_successful"),
    ]
    assert "warning: audit/suspicious_receipts nothing_left_over:" in done.stdout
    assert (
        "receipt p m-r14 (launch L1, contact r14): done more than 10 minutes before the message was sent"
        in done.stdout
    )
    assert "FAILED" not in done.stdout
    assert dt.date(2019, 5, 1).isoformat() in done.stdout  # the date the carrier gave, as it gave it
