"""The incremental dbt build on the rules that late rows can overturn, against a full rebuild.

Day 1 lands a first picture of launch L1; later partitions overturn it contact by
contact. After the incremental build every contact must read as a full rebuild of
the same lake says, and the expected values below say why.
"""

from pathlib import Path

import pytest

from ingestion.ingest import ingest_file
from ingestion.lake import ensure_schemas, write_part
from ingestion.landing import survey
from tests.landing_builder import jsonl, send_logs_csv, write_file
from tests.warehouse import MARTS, Built

pytestmark = pytest.mark.slow

D1, D2, D5, D6 = "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"
T = "2026-11-03T08:00:00Z"
EXCLUDE = ("--exclude", "resource_type:unit_test")


def _send(event: str, contact: str, result: str = "accepted", filt: str = "", logged: str = T) -> str:
    msg = f"m-{contact}" if result == "accepted" and not filt else ""
    return f"{event},{logged},L1,C1,{contact},06 12 34 56 {contact[1:]},{filt},{'' if filt else result},p1,{msg},1"


def _dlr(
    msg: str, stat: str, err: str = "000", done: str = "2026-11-03T09:00:00Z", received: str = ""
) -> dict:
    return {"received_at": received or done, "provider": "p1", "provider_message_id": msg, "stat": stat,
            "err": err, "done_at": done}  # fmt: skip


def first_picture(landing: Path) -> list[tuple[str, str]]:
    write_file(landing, "launches", D1, "l.jsonl", jsonl([
        {"event_id": "le1", "launch_id": "L1", "campaign_id": "C1", "campaign_name": "One",
         "campaign_type": "batch", "program_id": None, "launched_at": T, "launch_list_size": 9},
        {"event_id": "le2", "launch_id": "L2", "campaign_id": "C2", "campaign_name": "Two",
         "campaign_type": "batch", "program_id": None, "launched_at": "2026-11-05T08:00:00Z", "launch_list_size": 1},
    ]))  # fmt: skip
    write_file(landing, "send_logs", D1, "s.csv", send_logs_csv([
        _send("e01", "c01"),
        _send("e11a", "c11", "provider_error", logged="2026-11-03T07:55:00Z"),
        _send("e12a", "c12"),
        _send("e18", "c18", filt="opted_out"),
        _send("e19", "c19"),
        _send("e20", "c20"),
        _send("e21a", "c21"),
        _send("e30", "c30"),
    ]))  # fmt: skip
    write_file(landing, "dlrs", D1, "d.jsonl", jsonl([
        _dlr("m-c01", "DELIVRD"),
        _dlr("m-c19", "EXPIRED"),
        _dlr("m-c20", "UNDELIV", "1", received="2026-11-03T09:10:00Z"),
        _dlr("m-c40", "DELIVRD"),  # lands before its send-log row (landing.md: the two systems race)
    ]))  # fmt: skip
    # STOPs from c01's and c21's phones on the 6th: the latest launch that sent to each is L1, for now
    write_file(landing, "inbound_sms", D6, "i.jsonl", jsonl([
        {"event_id": "i1", "received_at": "2026-11-06T10:00:00Z", "from_phone": "0612345601",
         "to_sender": "X", "text": "STOP"},
        {"event_id": "i2", "received_at": "2026-11-06T10:00:00Z", "from_phone": "0612345621",
         "to_sender": "X", "text": "STOP"},
    ]))  # fmt: skip
    return [("launches", D1), ("send_logs", D1), ("dlrs", D1), ("inbound_sms", D6)]


def later_days(landing: Path) -> list[tuple[str, str]]:
    write_file(landing, "send_logs", D2, "s.csv", send_logs_csv([
        _send("e11b", "c11"),                      # the retry, logged later, wins
        _send("e12b", "c12", "provider_error"),    # same logged_at as e12a, greater event_id: wins
        _send("e40", "c40"),                       # its receipt came the day before
        # c21's later row has another number: no launch sent to the phone of its STOP any more,
        # and only the launch the STOP had (not its phone) tells the build to look at it again
        "e21b,2026-11-03T09:00:00Z,L1,C1,c21,+33699999921,,accepted,p1,m-c21b,1",
    ]))  # fmt: skip
    write_file(landing, "credit_blocks", D2, "c.jsonl", jsonl([
        {"event_id": "cb18", "blocked_at": T, "launch_id": "L1", "campaign_id": "C1", "contact_id": "c18",
         "phone": "0612345618", "balance_credits": 0, "required_credits": 1},
    ]))  # fmt: skip
    write_file(landing, "dlrs", D2, "d.jsonl", jsonl([
        _dlr("m-c11", "DELIVRD"),
        _dlr("m-c19", "DELIVRD", done="2026-11-03T09:05:00Z"),                       # later done_at
        _dlr("m-c20", "DELIVRD", received="2026-11-03T09:20:00Z"),                   # same done, later received
    ]))  # fmt: skip
    write_file(landing, "unsubscribes", D2, "u.jsonl", jsonl([
        {"event_id": "u30", "occurred_at": "2026-11-04T09:00:00Z", "launch_id": "L1", "contact_id": "c30"},
    ]))  # fmt: skip
    # L2 sends to c01's phone on the 5th: the STOP of the 6th now belongs to L2, not L1
    write_file(landing, "send_logs", D5, "l2.csv", send_logs_csv([
        "e99,2026-11-05T08:00:00Z,L2,C2,k1,+33612345601,,accepted,p1,m-k1,1",
    ]))  # fmt: skip
    return [("send_logs", D2), ("credit_blocks", D2), ("dlrs", D2), ("unsubscribes", D2), ("send_logs", D5)]


def _ingest(landing: Path, lake: Path, partitions: list[tuple[str, str]]) -> None:
    found = survey(landing)
    for feed, day in partitions:
        for file in found.files_of(feed, day):
            with ingest_file(file.path, feed, day) as result:
                write_part(lake, feed, day, file.name, result)


CONTACTS = """
select launch_id, contact_id, outcome, not_sent_reason, reached_status, unsubscribed_via_link,
       opted_out_by_keyword
from marts.fct_launch_contacts order by launch_id, contact_id
"""
ORPHANS = "select provider_message_id from audit.orphan_receipts order by 1"
LATEST_STAMP = "select max(_watermark) from marts.fct_launch_contacts"
KEYWORD_STAMP = "select max(_watermark) from intermediate.int_keyword_optouts"


def _rows(built: Built, sql: str) -> list[tuple]:
    con = built.connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("incremental_rules")
    landing, lake = root / "landing", root / "lake"
    ensure_schemas(lake)
    inc = Built(lake, root / "inc.build.duckdb", root / "inc")
    _ingest(landing, lake, first_picture(landing))
    assert (done := inc.dbt("build", *EXCLUDE)).returncode == 0, done.stdout[-3000:]
    before, orphans_before = _rows(inc, CONTACTS), _rows(inc, ORPHANS)
    _ingest(landing, lake, later_days(landing))
    assert (done := inc.dbt("build", *EXCLUDE)).returncode == 0, done.stdout[-3000:]
    after, stamps = _rows(inc, CONTACTS), (_rows(inc, LATEST_STAMP), _rows(inc, KEYWORD_STAMP))
    assert (done := inc.dbt("build", *EXCLUDE)).returncode == 0, done.stdout[-3000:]  # nothing new
    idle = {
        "same": _rows(inc, CONTACTS) == after,
        "stamp_moved": _rows(inc, LATEST_STAMP) != stamps[0],
        "keyword_stamp_moved": _rows(inc, KEYWORD_STAMP) != stamps[1],
    }
    full = Built(lake, root / "full.build.duckdb", root / "full")
    assert (done := full.dbt("build", "--full-refresh", *EXCLUDE)).returncode == 0, done.stdout[-3000:]
    return {"before": before, "orphans_before": orphans_before, "incremental": inc, "full": full,
            "idle": idle}  # fmt: skip


def _by_contact(rows: list[tuple]) -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): r[2:] for r in rows}


def test_the_first_picture(builds) -> None:
    before = _by_contact(builds["before"])
    assert before[("L1", "c01")] == ("sent", None, "delivery_successful", False, True)  # STOP → L1
    assert before[("L1", "c11")] == ("sent", None, "provider_error", False, False)
    assert before[("L1", "c12")] == ("sent", None, "with_carrier", False, False)
    assert before[("L1", "c18")] == ("not_sent", "opted_out", None, False, False)
    assert before[("L1", "c19")] == ("sent", None, "rejected_soft_bounce", False, False)  # EXPIRED
    assert before[("L1", "c20")] == ("sent", None, "rejected_hard_bounce", False, False)  # err 1
    assert before[("L1", "c21")] == ("sent", None, "with_carrier", False, True)  # STOP → L1
    assert before[("L1", "c30")] == ("sent", None, "with_carrier", False, False)
    assert ("L1", "c40") not in before  # its receipt is an orphan for now


def test_a_receipt_that_came_first_is_an_orphan_until_its_send_row_lands(builds) -> None:
    assert ("m-c40",) in builds["orphans_before"]
    assert ("m-c40",) not in _rows(builds["incremental"], ORPHANS)
    after = _by_contact(_rows(builds["incremental"], CONTACTS))
    assert after[("L1", "c40")] == ("sent", None, "delivery_successful", False, False)


def test_late_rows_overturn_it_contact_by_contact(builds) -> None:
    after = _by_contact(_rows(builds["incremental"], CONTACTS))
    assert after[("L1", "c01")] == ("sent", None, "delivery_successful", False, False)  # STOP moved to L2
    assert after[("L2", "k1")] == ("sent", None, "with_carrier", False, True)
    assert after[("L1", "c11")] == ("sent", None, "delivery_successful", False, False)  # the retry
    assert after[("L1", "c12")] == ("sent", None, "provider_error", False, False)  # the tie-break
    assert after[("L1", "c18")] == ("not_sent", "insufficient_credit", None, False, False)  # credit wins
    assert after[("L1", "c19")] == ("sent", None, "delivery_successful", False, False)  # later done_at
    assert after[("L1", "c20")] == ("sent", None, "delivery_successful", False, False)  # later received
    assert after[("L1", "c30")] == ("sent", None, "with_carrier", True, False)  # the late click
    assert after[("L1", "c21")] == ("sent", None, "with_carrier", False, False)  # its number changed
    unattributed = "select event_id from audit.unattributed_keyword_optouts"
    assert _rows(builds["incremental"], unattributed) == [("i2",)]  # no launch sent to that phone


def test_a_build_with_nothing_new_rewrites_no_contact(builds) -> None:
    # k1 is flagged by the STOP and c01 no longer is: neither is decided again while that holds,
    # and no stop is attributed again (no inbound SMS, no send row is new)
    assert builds["idle"] == {"same": True, "stamp_moved": False, "keyword_stamp_moved": False}


STAMPED = ("marts.fct_launch_contacts", "intermediate.int_keyword_optouts")


@pytest.mark.parametrize(
    "table", [*MARTS, "audit.orphan_receipts", "audit.unattributed_keyword_optouts", STAMPED[1]]
)
def test_the_incremental_build_equals_a_full_rebuild(builds, table: str) -> None:
    sql = f"select * exclude (_watermark) from {table} order by all" if table in STAMPED else (
        f"select * from {table} order by all"
    )  # fmt: skip
    assert _rows(builds["incremental"], sql) == _rows(builds["full"], sql)
