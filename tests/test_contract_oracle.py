"""The marts agree with the contract on data no one wrote by hand: generated landing zones,
real ingestion and a real dbt build, compared contact by contact with `contract_oracle`
(the contract's rules written a second way, in plain Python)."""

from __future__ import annotations

from collections import Counter

import pytest

from ingestion import generate
from tests.contract_oracle import Expected, differing_contacts, expected_marts
from tests.warehouse import Built, build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=[11, 23], ids=lambda seed: f"seed{seed}")
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Expected]:
    root = tmp_path_factory.mktemp(f"oracle{request.param}")
    generate.generate(root / "landing", contacts=5000, days=3, seed=request.param)
    warehouse = build(root / "landing", root)
    return warehouse, expected_marts(warehouse.lake)


def test_every_contact_has_the_contracts_outcome(built: tuple[Built, Expected]) -> None:
    warehouse, expected = built
    with warehouse.connect() as con:
        wrong = differing_contacts(con, expected)
    assert not wrong, f"{len(wrong)} contacts differ (warehouse, contract), e.g. {next(iter(wrong.items()))}"
    # the generated data reaches every branch the comparison is meant to cover
    outcomes = Counter(row["reached_status"] or row["not_sent_reason"] for row in expected.contacts.values())
    assert len(outcomes) == 4 + 7, outcomes
    assert any(row["opted_out_by_keyword"] for row in expected.contacts.values())
    assert any(row["unsubscribed_via_link"] for row in expected.contacts.values())


def test_every_launch_has_the_contracts_counts(built: tuple[Built, Expected]) -> None:
    warehouse, expected = built
    columns = {  # mart_campaign_summary column -> the count it holds
        "launch_list_size": "launch_list_size",
        "not_sent": "not_sent",
        "sent": "sent",
        "delivered": "delivery_successful",
        "unsubscribed": "unsubscribed_via_link",
        "hard_bounced": "rejected_hard_bounce",
        "soft_bounced": "rejected_soft_bounce",
        "unknown_delivery": "delivery_status_unknown",
        "with_carrier": "with_carrier",
        "provider_error": "provider_error",
        "provider_accepted": "provider_accepted",
        "opted_out_by_keyword": "opted_out_by_keyword",
        "segments_billed": "segments_billed",
    }
    with warehouse.connect() as con:
        summary = con.execute(
            f"select launch_id, {', '.join(columns)} from marts.mart_campaign_summary"
        ).fetchall()
        by_reason = con.execute(
            "select launch_id, reason, contacts from marts.mart_not_sent_reasons"
        ).fetchall()
        by_status = con.execute(
            "select launch_id, status, contacts from marts.mart_reached_statuses"
        ).fetchall()
    launches = {row[0] for row in summary}
    assert expected.summary.keys() <= launches
    for launch_id, *values in summary:
        counts = expected.summary.get(launch_id, {})
        assert dict(zip(columns, values, strict=True)) == {c: counts.get(k, 0) for c, k in columns.items()}, (
            launch_id
        )
    for launch_id, value, contacts in by_reason + by_status:
        assert contacts == expected.summary.get(launch_id, {}).get(value, 0), (launch_id, value)
