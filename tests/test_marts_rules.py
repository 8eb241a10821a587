"""Every rule of contract/marts.md, pinned by one small hand-written landing zone.

Every landing file is also re-delivered under a new name on a later day, so each
expected number below also proves that re-deliveries change nothing.

Launch L1 has one contact per rule (c01…c24); L2 re-sends to c01's phone later;
L3 is declared but has nobody on its list. Each expected number below can be
checked by reading the rows that make it.
"""

import csv
from pathlib import Path

import pytest
import yaml

from ingestion import reference
from ingestion.feeds import FEEDS
from orchestration.paths import DBT_PROJECT_DIR
from tests.landing_builder import jsonl, send_logs_csv, write_file
from tests.warehouse import Built, build

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-03", "2026-11-04"
T = "2026-11-03T08:00:00Z"  # the default send time


def _send(
    event, contact, result="accepted", msg=None, filt="", logged=T, provider="p1", phone=None, segments=1
):
    msg = msg if msg is not None else (f"m-{contact}" if result == "accepted" else "")
    phone = phone if phone is not None else f"06 12 34 56 {int(contact[1:]):02d}"
    seg = segments if result in ("accepted", "accepted_no_dlr") else 0
    return (
        f"{event},{logged},L1,C1,{contact},{phone},{filt},{result if not filt else ''},{provider},{msg},{seg}"
    )


def _dlr(msg, stat, err="000", done="2026-11-03T08:01:00Z", received="2026-11-03T08:01:05Z", provider="p1"):
    return {"received_at": received, "provider": provider, "provider_message_id": msg, "stat": stat, "err": err,
            "done_at": done}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("rules")
    landing = root / "landing"
    write_file(landing, "launches", D1, "l.jsonl", jsonl([
        {"event_id": "le1", "launch_id": "L1", "campaign_id": "C1", "campaign_name": "Rules, \"all\" / one",
         "campaign_type": "batch", "program_id": None, "launched_at": T, "launch_list_size": 24},
        {"event_id": "le1", "launch_id": "L1", "campaign_id": "C1", "campaign_name": "Rules, \"all\" / one",
         "campaign_type": "batch", "program_id": None, "launched_at": T, "launch_list_size": 24},  # re-delivered
        {"event_id": "le2", "launch_id": "L2", "campaign_id": "C2", "campaign_name": "Later",
         "campaign_type": "automated", "program_id": "P1", "launched_at": "2026-11-05T08:00:00Z", "launch_list_size": 1},
        {"event_id": "le3", "launch_id": "L3", "campaign_id": "C3", "campaign_name": "Empty",
         "campaign_type": "batch", "program_id": None, "launched_at": T, "launch_list_size": 5},
    ]))  # fmt: skip
    write_file(landing, "send_logs", D1, "s.csv", send_logs_csv([
        _send("e01", "c01"),                                   # DELIVRD → delivery_successful
        _send("e02", "c02"),                                   # UNDELIV err 001 → hard bounce
        _send("e03", "c03"),                                   # UNDELIV err 34 → soft bounce
        _send("e04", "c04"),                                   # REJECTD no err → soft bounce
        _send("e05", "c05"),                                   # EXPIRED → soft bounce
        _send("e06", "c06"),                                   # UNKNOWN → delivery_status_unknown
        _send("e07", "c07"),                                   # only ENROUTE → with_carrier
        _send("e08", "c08"),                                   # no receipt → with_carrier
        _send("e09", "c09", "accepted_no_dlr"),                # → provider_accepted
        _send("e10", "c10", "provider_error"),                 # → provider_error
        _send("e11a", "c11", "provider_error", logged="2026-11-03T07:55:00Z"),  # retried...
        _send("e11b", "c11"),                                  # ...the later row counts: DELIVRD
        _send("e12a", "c12"),                                  # same logged_at: greatest event_id
        _send("e12b", "c12", "provider_error"),                # e12b > e12a → provider_error
        _send("e13", "c13", filt="hard_bounce"),               # not sent: hard_bounce
        _send("e14", "c14", filt="opted_out"),                 # not sent: opted_out
        _send("e15", "c15", filt="invalid_number", phone="12345"),  # not sent: invalid_number
        _send("e17", "c17"),                                   # credit block too, but sent: DELIVRD
        _send("e18", "c18", filt="opted_out"),                 # credit block wins → insufficient_credit
        _send("e19", "c19"),                                   # EXPIRED then later DELIVRD → delivered
        _send("e20", "c20"),                                   # same done_at: latest received (DELIVRD)
        _send("e21", "c21"),                                   # receipt id with spaces, twice → delivered
        _send("e22", "c22", msg="m-c01", provider="p2"),       # same id, other provider: no receipt
        _send("e23", "c23"),                                   # REJECTD err 9 → hard bounce
    ]))  # fmt: skip
    # c24's send row lands a day late, after its receipt: it still counts
    write_file(landing, "send_logs", D2, "late.csv", send_logs_csv([_send("e24", "c24")]))
    write_file(landing, "credit_blocks", D1, "c.jsonl", jsonl([
        {"event_id": f"cb{c}", "blocked_at": T, "launch_id": "L1", "campaign_id": "C1", "contact_id": c,
         "phone": "0612345699", "balance_credits": 0, "required_credits": 1} for c in ("c16", "c17", "c18")
    ]))  # fmt: skip
    write_file(landing, "dlrs", D1, "d.jsonl", jsonl([
        _dlr("m-c01", "DELIVRD"), _dlr("m-c02", "UNDELIV", "001"), _dlr("m-c03", "UNDELIV", "34"),
        {"received_at": "2026-11-03T08:01:05Z", "provider": "p1", "provider_message_id": "m-c04", "stat": "REJECTD"},
        _dlr("m-c05", "EXPIRED"), _dlr("m-c06", "UNKNOWN"), _dlr("m-c07", "ENROUTE"), _dlr("m-c11b", "DELIVRD"),
        _dlr("m-c11", "DELIVRD"), _dlr("m-c12", "DELIVRD"), _dlr("m-c17", "DELIVRD"),
        _dlr("m-c19", "DELIVRD", done="2026-11-03T09:05:00Z", received="2026-11-03T09:05:01Z"),
        _dlr("m-c19", "EXPIRED", done="2026-11-03T09:00:00Z", received="2026-11-03T09:06:00Z"),
        _dlr("m-c20", "UNDELIV", "1", done="2026-11-03T09:00:00Z", received="2026-11-03T09:10:00Z"),
        _dlr("m-c20", "DELIVRD", done="2026-11-03T09:00:00Z", received="2026-11-03T09:20:00Z"),
        _dlr("  m-c21 ", "DELIVRD"), _dlr("m-c21", "DELIVRD"),
        _dlr("m-c23", "REJECTD", "009"), _dlr("m-c24", "DELIVRD"),
        _dlr("nobody", "DELIVRD"),  # orphan
    ]))  # fmt: skip
    write_file(landing, "dlrs", D2, "raw.jsonl", jsonl([
        {"received_at": "2026-11-04T01:00:00Z", "provider": "p1",
         "receipt": "id:m-c01 sub:001 dlvrd:001 submit date:2611030800 done date:2611030801 stat:DELIVRD err:000 text:x"},
    ]))  # fmt: skip
    write_file(landing, "unsubscribes", D1, "u.jsonl", jsonl([
        {"event_id": "u1", "occurred_at": "2026-11-03T09:00:00Z", "launch_id": "L1", "contact_id": "c01"},
        {"event_id": "u2", "occurred_at": "2026-11-03T09:00:00Z", "launch_id": "L1", "contact_id": "c13"},  # not sent
    ]))  # fmt: skip
    # L2 sends to c01's number (other formatting) on the 5th
    write_file(landing, "send_logs", "2026-11-05", "l2.csv", send_logs_csv([
        "e99,2026-11-05T08:00:00Z,L2,C2,k1,+33612345601,,accepted,p1,m-k1,2",
    ]))  # fmt: skip
    write_file(landing, "inbound_sms", D2, "i.jsonl", jsonl([
        {"event_id": "i1", "received_at": "2026-11-04T10:00:00Z", "from_phone": "+33 6 12 34 56 02",
         "to_sender": "X", "text": "  Stop!"},     # c02's phone, 1 day after L1 → L1
        {"event_id": "i2", "received_at": "2026-11-06T10:00:00Z", "from_phone": "0612345601",
         "to_sender": "X", "text": "arret."},      # c01's phone: L2 (the 5th) is later than L1 → L2
        {"event_id": "i3", "received_at": "2026-11-12T10:00:00Z", "from_phone": "0612345603",
         "to_sender": "X", "text": "STOP"},        # c03's phone, 9 days after: unattributed
        {"event_id": "i4", "received_at": "2026-11-04T10:00:00Z", "from_phone": "0612345605",
         "to_sender": "X", "text": "Stopping by later"},  # not a keyword
    ]))  # fmt: skip
    # every file re-delivered under a new name on a later day: nothing may change
    for source in sorted(p for p in landing.rglob("*") if p.is_file()):
        copy = landing / source.parent.parent.name / "date=2026-11-07" / f"again-{source.name}"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(source.read_bytes())
    built = build(landing, root / "work")
    # dbt unit tests need the built parents, and a write lock the read-only `wh` would block
    built.unit_tests = built.dbt("test", "--select", "test_type:unit")
    return built


@pytest.fixture(scope="module")
def wh(built: Built):
    con = built.connect()
    yield con
    con.close()


def _outcomes(wh) -> dict[str, tuple]:
    rows = wh.execute(
        "select contact_id, outcome, not_sent_reason, reached_status from marts.fct_launch_contacts "
        "where launch_id = 'L1'"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("c01", ("sent", None, "delivery_successful")),
        ("c02", ("sent", None, "rejected_hard_bounce")),
        ("c03", ("sent", None, "rejected_soft_bounce")),
        ("c04", ("sent", None, "rejected_soft_bounce")),
        ("c05", ("sent", None, "rejected_soft_bounce")),
        ("c06", ("sent", None, "delivery_status_unknown")),
        ("c07", ("sent", None, "with_carrier")),
        ("c08", ("sent", None, "with_carrier")),
        ("c09", ("sent", None, "provider_accepted")),
        ("c10", ("sent", None, "provider_error")),
        ("c11", ("sent", None, "delivery_successful")),
        ("c12", ("sent", None, "provider_error")),
        ("c13", ("not_sent", "hard_bounce", None)),
        ("c14", ("not_sent", "opted_out", None)),
        ("c15", ("not_sent", "invalid_number", None)),
        ("c16", ("not_sent", "insufficient_credit", None)),
        ("c17", ("sent", None, "delivery_successful")),
        ("c18", ("not_sent", "insufficient_credit", None)),
        ("c19", ("sent", None, "delivery_successful")),
        ("c20", ("sent", None, "delivery_successful")),
        ("c21", ("sent", None, "delivery_successful")),
        ("c22", ("sent", None, "with_carrier")),
        ("c23", ("sent", None, "rejected_hard_bounce")),
        ("c24", ("sent", None, "delivery_successful")),
    ],
)
def test_one_outcome_per_contact(wh, contact: str, expected: tuple) -> None:
    assert _outcomes(wh)[contact] == expected


def test_launch_list_is_every_distinct_contact(wh) -> None:
    assert len(_outcomes(wh)) == 24


def test_campaign_summary_for_l1(wh) -> None:
    row = wh.execute("select * from marts.mart_campaign_summary where launch_id = 'L1'").fetchone()
    cols = [d[0] for d in wh.description]
    got = dict(zip(cols, row, strict=True))
    # sent: 24 contacts minus c13, c14, c15, c16, c18 = 19; delivered: c01 c11 c17 c19 c20 c21 c24 = 7
    assert got["launch_list_size"] == 24 and got["declared_launch_list_size"] == 24
    assert (got["sent"], got["not_sent"], got["delivered"]) == (19, 5, 7)
    assert got["delivery_rate"] == pytest.approx(7 / 19)
    assert (got["hard_bounced"], got["soft_bounced"], got["unknown_delivery"]) == (2, 3, 1)
    assert (got["with_carrier"], got["provider_error"], got["provider_accepted"]) == (3, 2, 1)
    assert got["unsubscribed"] == 1  # c01; c13 was not sent
    assert got["opted_out_by_keyword"] == 1  # c02 (i1); i2 goes to L2
    assert got["segments_billed"] == 17  # 19 sent, 2 provider errors with 0 segments
    assert got["campaign_name"] == 'Rules, "all" / one'


def test_reasons_and_statuses_always_present(wh) -> None:
    reasons = dict(
        wh.execute(
            "select reason, contacts from marts.mart_not_sent_reasons where launch_id = 'L1'"
        ).fetchall()
    )
    assert reasons == {"hard_bounce": 1, "opted_out": 1, "invalid_number": 1, "insufficient_credit": 2}
    statuses = wh.execute(
        "select count(*), sum(contacts) from marts.mart_reached_statuses where launch_id = 'L3'"
    ).fetchone()
    assert statuses == (7, 0)
    empty = wh.execute(
        "select launch_list_size, sent, delivery_rate from marts.mart_campaign_summary where launch_id = 'L3'"
    ).fetchone()
    assert empty == (0, 0, None)


def test_keyword_attribution(wh) -> None:
    rows = dict(wh.execute("select event_id, launch_id from intermediate.int_keyword_optouts").fetchall())
    assert rows == {"i1": "L1", "i2": "L2", "i3": None}
    assert wh.execute(
        "select opted_out_by_keyword from marts.fct_launch_contacts where launch_id = 'L2'"
    ).fetchone() == (True,)


def test_orphans_and_phones_stay_visible(wh) -> None:
    orphans = [r[0] for r in wh.execute("select provider_message_id from audit.orphan_receipts").fetchall()]
    assert "nobody" in orphans and "m-c24" not in orphans
    phone = wh.execute(
        "select phone_e164 from marts.fct_launch_contacts where contact_id in ('c15', 'c01') order by 1 nulls last"
    ).fetchall()
    assert phone == [("+33612345601",), (None,)]  # c15's "12345" is invalid: null, still counted


def test_dbt_unit_tests_of_each_decision_rule_pass(built: Built) -> None:
    """The dbt `unit_tests:` (err forms, stop word, deciding row and its incremental rerun,
    winning receipt and its incremental rerun, attribution and its incremental rerun)."""
    done = built.unit_tests
    assert done.returncode == 0, done.stdout[-4000:]
    assert "PASS=8 " in done.stdout


def test_contact_list_exports(built: Built, wh, tmp_path: Path) -> None:
    """contract: header contact_id,phone_e164, one row per contact sorted by contact_id, under campaign=/launch=."""
    from orchestration.warehouse.contact_lists import export_lists

    written = export_lists(
        built.db, tmp_path, "L1", lists=["rejected_hard_bounce", "insufficient_credit", "invalid_number"]
    )
    folder = tmp_path / "campaign=C1" / "launch=L1"
    by_list = {w.list_name: w for w in written}
    assert (by_list["rejected_hard_bounce"].path, by_list["rejected_hard_bounce"].rows) == (
        folder / "rejected_hard_bounce.csv",
        2,
    )
    assert by_list["rejected_hard_bounce"].preview == [("c02", "+33612345602"), ("c23", "+33612345623")]
    assert (folder / "rejected_hard_bounce.csv").read_text() == (
        "contact_id,phone_e164\nc02,+33612345602\nc23,+33612345623\n"
    )
    # c16 and c18 were blocked for credit; their phone comes from the credit-block row
    assert (folder / "insufficient_credit.csv").read_text() == (
        "contact_id,phone_e164\nc16,+33612345699\nc18,+33612345618\n"
    )
    assert (
        folder / "invalid_number.csv"
    ).read_text() == "contact_id,phone_e164\nc15,\n"  # null phone, still listed
    assert sorted(p.name for p in folder.iterdir()) == [
        "insufficient_credit.csv",
        "invalid_number.csv",
        "rejected_hard_bounce.csv",
    ]  # fmt: skip  (no temporary file left behind)


def test_exports_of_a_campaign_and_of_what_changed(built: Built, tmp_path: Path) -> None:
    """No launch named: every non-empty list of every launch not exported since its contacts
    last changed; then nothing, until they change. A campaign: each of its launches."""
    from orchestration.warehouse.contact_lists import ExportError, export_lists

    first = export_lists(built.db, tmp_path)
    lists = {(w.launch_id, w.list_name): w.rows for w in first}
    # L1: each of its lists, as counted in test_campaign_summary_for_l1; L2: its one contact; L3: nobody
    assert {name: rows for (launch, name), rows in lists.items() if launch == "L1"} == {
        "delivery_successful": 7, "rejected_hard_bounce": 2, "rejected_soft_bounce": 3,
        "delivery_status_unknown": 1, "with_carrier": 3, "provider_error": 2, "provider_accepted": 1,
        "hard_bounce": 1, "opted_out": 1, "invalid_number": 1, "insufficient_credit": 2,
    }  # fmt: skip
    assert [rows for (launch, _), rows in lists.items() if launch == "L2"] == [1]
    assert export_lists(built.db, tmp_path) == []  # nothing changed since
    again = export_lists(built.db, tmp_path, campaign_id="C2", lists=["rejected_hard_bounce"])
    assert [(w.launch_id, w.list_name, w.rows) for w in again] == [("L2", "rejected_hard_bounce", 0)]
    assert (again[0].path).read_text() == "contact_id,phone_e164\n"  # named: written, header only
    with pytest.raises(ExportError, match="campaign 'C9' has no contacts.*known campaigns: C1, C2"):
        export_lists(built.db, tmp_path, campaign_id="C9")
    with pytest.raises(ExportError, match="launch 'L9' has no contacts.*known launches: L1, L2"):
        export_lists(built.db, tmp_path, launch_id="L9")


def test_the_campaign_report_shows_what_the_tab_shows(built: Built, tmp_path: Path) -> None:
    """L1's page has the summary, the not-sent reasons beside its list, the reached statuses, with
    counts and percentages (the numbers of test_campaign_summary_for_l1); batch and automated apart;
    every page opens with no network (no script, no link or font to fetch)."""
    from orchestration.warehouse.campaign_report import read_launches, write_report

    launches = read_launches(built.db)
    index = write_report(launches, tmp_path / "index.html")
    page = (tmp_path / "launch=L1.html").read_text()
    for tile, value in [("Sent", "19"), ("Delivery rate", "36.8%"), ("Unsubscribed", "1"),
                        ("Hard bounced", "2"), ("Soft bounced", "3"), ("Unknown delivery", "1")]:  # fmt: skip
        assert f'<div class="tile">{tile}<b>{value}</b></div>' in page
    assert "5 of the original launch list of 24 contacts" in page
    assert ">insufficient_credit</text>" in page and ">2 · 8.3%</text>" in page  # c16, c18 of 24
    assert ">delivery_successful</text>" in page and ">7 · 36.8%</text>" in page  # 7 of 19 sent
    assert ">rejected_hard_bounce</text>" in page and ">2 · 10.5%</text>" in page
    assert "Rules, &quot;all&quot; / one" in page  # free-text names escaped
    front = index.read_text()
    batch, automated = front.split("<h2>Automated programs")
    assert 'href="launch=L1.html"' in batch and 'href="launch=L3.html"' in batch and "L2" not in batch
    assert "Program P1" in automated and 'href="launch=L2.html"' in automated and "<svg" in automated
    for html_file in tmp_path.glob("*.html"):
        text = html_file.read_text()
        assert (
            "<script" not in text
            and "http://" not in text
            and "https://" not in text
            and "@import" not in text
        )


def test_the_reports_summary_fits_what_the_ui_shows_inline() -> None:
    """The Dagster UI shows markdown metadata inline under 1,000 characters: the summary stays under."""
    from orchestration.warehouse.campaign_report import Launch, summary_markdown

    many = [Launch(f"ln-{i:05d}", "c", None, "batch", None, None, 1000, 990, 10, 900, 0.9, 1, 2, 3, 4, 0)
            for i in range(500)]  # fmt: skip
    text = summary_markdown(many)
    assert len(text) < 1000 and text.endswith("more launches in the report_")
    assert text.count("| ln-") + int(text.rsplit("_and ", 1)[1].split()[0]) == 500
    assert "more launches" not in summary_markdown(many[:3])


def _seed(name: str) -> list[dict[str, str]]:
    with open(DBT_PROJECT_DIR / "seeds" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_seeds_hold_the_contracts_lists() -> None:
    """contract: the permanent errors, stop keywords, receipt states, statuses and reasons as written there."""
    assert sorted(int(r["err_code"]) for r in _seed("permanent_errors")) == [1, 5, 9, 11, 12]
    assert {r["keyword"] for r in _seed("stop_keywords")} == {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "STOPP",
    }  # fmt: skip
    states = {r["stat"]: (r["is_final"], r["reached_status"]) for r in _seed("receipt_states")}
    assert states == {
        "ENROUTE": ("false", "with_carrier"), "ACCEPTD": ("false", "with_carrier"),  # interim
        "DELIVRD": ("true", "delivery_successful"), "UNKNOWN": ("true", "delivery_status_unknown"),
        "EXPIRED": ("true", "rejected_soft_bounce"), "DELETED": ("true", "rejected_soft_bounce"),
        "UNDELIV": ("true", "rejected_by_error"), "REJECTD": ("true", "rejected_by_error"),  # hard or soft by err
    }  # fmt: skip
    assert reference.reached_statuses() == (
        "with_carrier", "provider_error", "provider_accepted", "rejected_hard_bounce",
        "rejected_soft_bounce", "delivery_status_unknown", "delivery_successful",
    )  # fmt: skip
    assert reference.not_sent_reasons() == (
        "hard_bounce",
        "opted_out",
        "invalid_number",
        "insufficient_credit",
    )
    assert reference.filter_reasons() == ("hard_bounce", "opted_out", "invalid_number")
    # what ingestion accepts is what the seeds say
    column = {(feed.name, c.name): c for feed in FEEDS.values() for c in feed.columns}
    assert column["dlrs", "stat"].values == tuple(states)
    assert column["send_logs", "filter_reason"].values == reference.filter_reasons()
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["keyword_attribution_days"] == 7


def test_the_dbt_sources_read_every_ingested_feed() -> None:
    """The `lake` source's tables are the feeds ingestion declares (each staging model reads one)."""
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models" / "sources.yml").read_text())["sources"]
    lake = next(source for source in sources if source["name"] == "lake")
    assert [table["name"] for table in lake["tables"]] == list(FEEDS)
    assert sorted(p.stem for p in (DBT_PROJECT_DIR / "models" / "staging").glob("stg_*.sql")) == sorted(
        f"stg_{feed}" for feed in FEEDS
    )
