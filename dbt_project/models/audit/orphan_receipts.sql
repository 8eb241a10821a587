-- receipts whose (provider, message id) matches no send-log row yet: visible, never dropped.
-- Incremental: the receipts ingested since the last build that match no send-log row are
-- added (a message's earlier orphan receipts are already here); a message whose send-log row
-- arrived since the last build stops being an orphan (the pre-hook lets go of its receipts).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}
        delete from {{ this }} where (provider, provider_message_id) in (
            {{ changed_keys(ref('stg_send_logs'), ['provider', 'provider_message_id']) }}
        )
    {% endif %}",
) }}

with receipts as (
    select * from {{ ref('stg_dlrs') }}
    {% if is_incremental() -%}
    where ingested_at > {{ previous_watermark() }}
    {%- endif %}
),

messages as (  -- on an incremental build, only the send-log messages of these receipts
    -- (not made distinct: an anti join does not need it, and a distinct over every message is dear)
    select send_logs.provider, send_logs.provider_message_id
    from {{ ref('stg_send_logs') }} as send_logs
    {% if is_incremental() -%}
    semi join receipts
        on send_logs.provider = receipts.provider and send_logs.provider_message_id = receipts.provider_message_id
    {%- else -%}
    where send_logs.provider_message_id is not null
    {%- endif %}
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
    receipts.source_line,
    {{ build_watermark() }} as _watermark
from receipts
anti join messages
    on receipts.provider = messages.provider and receipts.provider_message_id = messages.provider_message_id
