-- one row per contact held back for credit on a launch (the latest block gives the phone)
with blocks as (
    select * from {{ ref('stg_credit_blocks') }}
),

ranked as (
    select
        *,
        row_number() over (partition by launch_id, contact_id order by blocked_at desc, event_id desc) as row_num
    from blocks
)

select launch_id, contact_id, campaign_id, phone_e164, blocked_at, ingested_at
from ranked
where row_num = 1
