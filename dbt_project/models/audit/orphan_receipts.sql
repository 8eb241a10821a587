-- receipts whose (provider, message id) matches no send-log row yet: visible, never dropped
with receipts as (
    select * from {{ ref('stg_dlrs') }}
),

messages as (
    select distinct provider, provider_message_id
    from {{ ref('stg_send_logs') }}
    where provider_message_id is not null
)

select
    receipts.received_at,
    receipts.provider,
    receipts.provider_message_id,
    receipts.stat,
    receipts.err_raw,
    receipts.err_code,
    receipts.done_at,
    receipts.receipt_shape,
    receipts.arrival_date,
    receipts.source_file,
    receipts.source_line
from receipts
left join messages
    on receipts.provider = messages.provider and receipts.provider_message_id = messages.provider_message_id
where messages.provider_message_id is null
