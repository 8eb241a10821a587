-- contract: an inbound stop keyword from a phone is attributed to the latest launch that sent
-- to that phone (by logged_at) at most N days before it was received; otherwise launch_id is null
with inbound as (
    select
        *,
        row_number() over (partition by event_id order by arrival_date) as row_num
    from {{ ref('stg_inbound_sms') }}
),

keywords as (
    select * from {{ ref('stop_keywords') }}
),

stops as (
    select inbound.event_id, inbound.received_at, inbound.from_phone_raw, inbound.from_phone_e164, inbound.text
    from inbound
    inner join keywords on inbound.first_word = keywords.keyword
    where inbound.row_num = 1
),

sends as (
    select launch_id, phone_e164, logged_at
    from {{ ref('int_deciding_send_rows') }}
    where submit_result is not null and phone_e164 is not null
),

candidates as (
    select
        stops.event_id,
        sends.launch_id,
        row_number() over (
            partition by stops.event_id order by sends.logged_at desc, sends.launch_id desc
        ) as row_num
    from stops
    inner join sends
        on sends.phone_e164 = stops.from_phone_e164
        and sends.logged_at <= stops.received_at
        and sends.logged_at >= {{ dbt.dateadd('day', -1 * var('keyword_attribution_days'), 'stops.received_at') }}
)

select
    stops.event_id,
    stops.received_at,
    stops.from_phone_raw,
    stops.from_phone_e164,
    stops.text,
    candidates.launch_id
from stops
left join candidates on stops.event_id = candidates.event_id and candidates.row_num = 1
