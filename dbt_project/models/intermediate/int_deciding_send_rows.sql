-- contract: of a contact's send-log rows for one launch, only the latest logged_at counts;
-- a tie goes to the greatest event_id
with send_logs as (
    select * from {{ ref('stg_send_logs') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by launch_id, contact_id
            order by logged_at desc, event_id desc
        ) as row_num
    from send_logs
)

select
    launch_id,
    contact_id,
    campaign_id,
    event_id,
    logged_at,
    phone_e164,
    filter_reason,
    submit_result,
    provider,
    provider_message_id,
    segments
from ranked
where row_num = 1
