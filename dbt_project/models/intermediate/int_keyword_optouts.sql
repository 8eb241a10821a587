-- contract: an inbound stop keyword from a phone is attributed to the latest launch that sent
-- to that phone (by logged_at) at most N days before it was received; otherwise launch_id is null
-- Incremental: a stop is attributed again when it is new, when its phone has a new deciding
-- send row, or when the launch it was attributed to has one (that launch's row for the phone may
-- be the one replaced). Any other stop keeps its launch: its candidates are the sends to its
-- phone, and none of them changed.
{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}

with inbound as (
    select
        *,
        row_number() over (partition by event_id order by arrival_date) as row_num
    from {{ ref('stg_inbound_sms') }}
),

keywords as (
    select * from {{ ref('stop_keywords') }}
),

all_stops as (
    select inbound.event_id, inbound.received_at, inbound.from_phone_raw, inbound.from_phone_e164, inbound.text
    from inbound
    inner join keywords on inbound.first_word = keywords.keyword
    where inbound.row_num = 1
),

{% if is_incremental() %}
new_sends as (
    select launch_id, phone_e164
    from {{ ref('int_deciding_send_rows') }}
    where _watermark > {{ previous_watermark() }}
),

touched as (
    select event_id from {{ ref('stg_inbound_sms') }}
    where ingested_at > {{ previous_watermark() }}
    union
    select all_stops.event_id from all_stops
    semi join new_sends on all_stops.from_phone_e164 = new_sends.phone_e164
    union
    select attributed.event_id from {{ this }} as attributed
    semi join new_sends on attributed.launch_id = new_sends.launch_id
),

stops as (
    select all_stops.* from all_stops
    semi join touched on all_stops.event_id = touched.event_id
),
{% else %}
stops as (
    select * from all_stops
),
{% endif %}

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
    candidates.launch_id,
    {{ build_watermark() }} as _watermark
from stops
left join candidates on stops.event_id = candidates.event_id and candidates.row_num = 1
