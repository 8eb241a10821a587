"""The floor of this stack: the contract's outcome rules in one DuckDB query, straight from the raw landing files.

No lake, no quarantine, no checks, no history kept, no publish: what a hand-written
pass over the same files costs on the same machine, to set the warehouse's figures
beside. Its totals must equal the warehouse's (the benchmark compares them).

Two shortcuts a real warehouse cannot take, both enough for the generator's data:
phones are normalised by the rules the generator's numbers follow (French numbers
and UK mobiles, not libphonenumber), and malformed rows are skipped rather than quarantined.
    .venv/bin/python benchmarks/sql_baseline.py data/landing
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from ingestion.reference import SEEDS_DIR as SEEDS
from ingestion.reference import keyword_attribution_days

FINAL_STATES = "('DELIVRD', 'UNDELIV', 'EXPIRED', 'DELETED', 'REJECTD', 'UNKNOWN')"
TOTALS = (
    "launch_list_size", "sent", "not_sent", "hard_bounce", "opted_out", "invalid_number",
    "insufficient_credit", "provider_error", "provider_accepted", "with_carrier", "delivered",
    "unknown_delivery", "hard_bounced", "soft_bounced", "unsubscribed", "opted_out_by_keyword",
)  # fmt: skip

# a field of raw SMPP receipt text: after the start or any character that is not a letter or digit
_FIELD = "regexp_extract(receipt, '(?i)(?:^|[^a-z0-9]){name}:\\s*([^\\s\\x00-\\x1f]*)', 1)"


def _field(name: str) -> str:
    return f"nullif({_FIELD.format(name=name)}, '')"


def _phone(text: str) -> str:
    """E.164 from the shapes the generator writes (0612…, 0033…, +33 6…, +44 7400…): French numbers
    and UK mobiles, else null."""
    digits = f"regexp_replace({text}, '[^0-9]', '', 'g')"
    e164 = (
        f"case when trim({text}) like '+%' then '+' || {digits} "
        f"when {digits} like '00%' then '+' || substr({digits}, 3) "
        f"when {digits} like '0%' then '+33' || substr({digits}, 2) end"
    )
    return f"case when regexp_full_match({e164}, '\\+33[1-9][0-9]{{8}}|\\+447[0-9]{{9}}') then {e164} end"


def query(landing: Path) -> str:
    """The one query: per launch, every count of the campaign summary."""
    root = str(landing)
    done = _field("done ?date")
    window = keyword_attribution_days()
    return f"""
with send_rows as (
    select * from read_csv('{
        root
    }/send_logs/*/*.csv*', header = true, all_varchar = true, union_by_name = true)
    union all by name
    select * replace (cast(logged_at as varchar) as logged_at, cast(segments as varchar) as segments)
    from read_parquet('{root}/send_logs/*/*.parquet', union_by_name = true)
),
deciding as (
    select *, cast(logged_at as timestamptz) as logged_ts, {_phone("phone")} as phone_e164
    from send_rows
    qualify row_number() over (partition by launch_id, contact_id order by cast(logged_at as timestamptz) desc, event_id desc) = 1
),
credit as (
    select distinct launch_id, contact_id
    from read_json('{root}/credit_blocks/*/*.jsonl*', format = 'newline_delimited',
                   columns = {{launch_id: 'varchar', contact_id: 'varchar'}})
),
list as (
    select launch_id, contact_id from deciding union select launch_id, contact_id from credit
),
raw_receipts as (
    select * from read_json('{root}/dlrs/*/*.jsonl*', format = 'newline_delimited', ignore_errors = true,
        columns = {{received_at: 'varchar', provider: 'varchar', provider_message_id: 'varchar', stat: 'varchar',
                   err: 'varchar', done_at: 'varchar', receipt: 'varchar'}})
),
receipts as (
    select
        provider,
        trim(coalesce(provider_message_id, {_field("id")})) as message_id,
        upper(coalesce(stat, {_field("stat")})) as stat,
        coalesce(err, {_field("err")}) as err,
        coalesce(try_cast(done_at as timestamptz), case
            when regexp_full_match({done}, '0+') then null
            when regexp_full_match({done}, '[0-9]{{15}}[+-]') then
                try_strptime(substr({done}, 1, 12), '%y%m%d%H%M%S')
                - (case when right({done}, 1) = '-' then -15 else 15 end)
                  * cast(substr({done}, 14, 2) as integer) * interval 1 minute
            when length({done}) = 14 then try_strptime({done}, '%Y%m%d%H%M%S')
            when length({done}) = 12 then coalesce(try_strptime({done}, '%y%m%d%H%M%S'), try_strptime({
        done
    }, '%Y%m%d%H%M'))
            when length({done}) = 10 then try_strptime({done}, '%y%m%d%H%M')
        end) as done_ts,
        try_cast(received_at as timestamptz) as received_ts
    from raw_receipts
    where received_at like '%Z' or regexp_matches(received_at, '[+-][0-9]{{2}}:?[0-9]{{2}}$')
),
final as (
    select provider, message_id, stat, err
    from receipts
    where stat in {FINAL_STATES}
    qualify row_number() over (
        partition by provider, message_id order by coalesce(done_ts, received_ts) desc, received_ts desc) = 1
),
permanent as (select cast(err_code as integer) as err from read_csv('{SEEDS}/permanent_errors.csv')),
unsubscribed as (
    select distinct launch_id, contact_id
    from read_json('{root}/unsubscribes/*/*.jsonl*', format = 'newline_delimited',
                   columns = {{launch_id: 'varchar', contact_id: 'varchar'}})
),
keywords as (select upper(keyword) as keyword from read_csv('{SEEDS}/stop_keywords.csv')),
stops as (
    select distinct event_id, cast(received_at as timestamptz) as received_ts, {_phone("from_phone")} as phone
    from read_json('{root}/inbound_sms/*/*.jsonl*', format = 'newline_delimited',
                   columns = {{event_id: 'varchar', received_at: 'varchar', from_phone: 'varchar', text: 'varchar'}})
    where upper(regexp_replace(regexp_extract(trim(text), '^(\\S+)', 1), '^[^\\p{{L}}\\p{{N}}]+|[^\\p{{L}}\\p{{N}}]+$', '', 'g'))
          in (select keyword from keywords)
),
sends as (
    select launch_id, phone_e164 as phone, logged_ts
    from deciding where nullif(submit_result, '') is not null
),
attributed as (  -- a stop goes to a launch; every contact of it with that phone opted out
    select sends.launch_id, sends.phone
    from stops
    join sends on sends.phone = stops.phone
        and sends.logged_ts <= stops.received_ts and sends.logged_ts >= stops.received_ts - interval {window} day
    qualify row_number() over (partition by stops.event_id order by sends.logged_ts desc, sends.launch_id desc) = 1
),
contacts as (
    select
        list.launch_id,
        case
            when nullif(d.submit_result, '') is not null then 'sent'
            when credit.contact_id is not null then 'insufficient_credit'
            else d.filter_reason
        end as outcome,
        case
            when d.submit_result = 'provider_error' then 'provider_error'
            when d.submit_result = 'accepted_no_dlr' then 'provider_accepted'
            when final.stat is null then 'with_carrier'
            when final.stat = 'DELIVRD' then 'delivered'
            when final.stat = 'UNKNOWN' then 'unknown_delivery'
            when final.stat in ('UNDELIV', 'REJECTD') and try_cast(final.err as integer) in (select err from permanent)
                then 'hard_bounced'
            else 'soft_bounced'
        end as reached,
        unsubscribed.contact_id is not null as unsubscribed,
        exists (select 1 from attributed a where a.launch_id = list.launch_id and a.phone = d.phone_e164)
            as keyword
    from list
    left join deciding d on d.launch_id = list.launch_id and d.contact_id = list.contact_id
    left join credit on credit.launch_id = list.launch_id and credit.contact_id = list.contact_id
    left join final on final.provider = d.provider and final.message_id = trim(d.provider_message_id)
        and d.submit_result = 'accepted'
    left join unsubscribed on unsubscribed.launch_id = list.launch_id and unsubscribed.contact_id = list.contact_id
)
select
    launch_id,
    count(*) as launch_list_size,
    count(*) filter (where outcome = 'sent') as sent,
    count(*) filter (where outcome <> 'sent') as not_sent,
    count(*) filter (where outcome = 'hard_bounce') as hard_bounce,
    count(*) filter (where outcome = 'opted_out') as opted_out,
    count(*) filter (where outcome = 'invalid_number') as invalid_number,
    count(*) filter (where outcome = 'insufficient_credit') as insufficient_credit,
    {
        ", ".join(
            f"count(*) filter (where outcome = 'sent' and reached = '{s}') as {s}"
            for s in (
                "provider_error",
                "provider_accepted",
                "with_carrier",
                "delivered",
                "unknown_delivery",
                "hard_bounced",
                "soft_bounced",
            )
        )
    },
    count(*) filter (where outcome = 'sent' and unsubscribed) as unsubscribed,
    count(*) filter (where outcome = 'sent' and keyword) as opted_out_by_keyword
from contacts
group by launch_id
order by launch_id
"""  # noqa: S608 - paths of the benchmark's own files


def run(landing: Path) -> tuple[float, dict[str, int], int]:
    """Seconds for the query, its totals over all launches, and its peak memory (MiB, this process)."""
    import resource

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    rows = con.execute(query(landing)).fetchall()
    took = time.perf_counter() - started
    con.close()
    totals = {name: sum(row[i + 1] for row in rows) for i, name in enumerate(TOTALS)}
    return took, totals, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def warehouse_totals(db: Path) -> dict[str, int]:
    """The same totals from the published marts."""
    with duckdb.connect(str(db), read_only=True) as con:
        summary = con.execute(
            "select sum(launch_list_size), sum(sent), sum(not_sent), sum(provider_error), sum(provider_accepted), "
            "sum(with_carrier), sum(delivered), sum(unknown_delivery), sum(hard_bounced), sum(soft_bounced), "
            "sum(unsubscribed), sum(opted_out_by_keyword) from marts.mart_campaign_summary"
        ).fetchone()
        reasons = dict(
            con.execute("select reason, sum(contacts) from marts.mart_not_sent_reasons group by 1").fetchall()
        )
    names = ("launch_list_size", "sent", "not_sent", "provider_error", "provider_accepted", "with_carrier",
             "delivered", "unknown_delivery", "hard_bounced", "soft_bounced", "unsubscribed", "opted_out_by_keyword")  # fmt: skip
    totals = dict(zip(names, (int(v) for v in summary), strict=True))
    return {name: totals[name] if name in totals else int(reasons.get(name, 0)) for name in TOTALS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="the landing zone to read")
    parser.add_argument("--warehouse", type=Path, help="a published warehouse whose totals to compare")
    args = parser.parse_args()
    took, totals, peak = run(args.landing)
    print(f"one-pass SQL over {args.landing}: {took:.1f} s, peak memory {peak:,} MiB")
    expected = warehouse_totals(args.warehouse) if args.warehouse else {}
    for name, value in totals.items():
        mark = (
            ""
            if not expected
            else ("  = warehouse" if expected[name] == value else f"  ≠ warehouse {expected[name]:,}")
        )
        print(f"  {name:<22} {value:>12,}{mark}")


if __name__ == "__main__":
    main()
