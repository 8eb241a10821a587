-- contract: of a contact's send-log rows for one launch, only the latest logged_at counts;
-- a tie goes to the greatest event_id. Incremental: contacts with a new send-log row are decided again.
{{ config(materialized='incremental', unique_key=['launch_id', 'contact_id'], incremental_strategy='delete+insert') }}

with send_logs as (
    {{ rows_of_changed_keys(ref('stg_send_logs'), ['launch_id', 'contact_id'], is_incremental()) }}
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
    segments,
    {{ build_watermark() }} as _watermark
from ranked
where row_num = 1
