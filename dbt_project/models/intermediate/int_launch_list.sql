-- contract: the launch list is every distinct contact with a send-log or a credit-block row.
-- Incremental: the contacts whose deciding send row or credit block changed are stamped again,
-- which tells fct_launch_contacts to recompute them.
{{ config(materialized='incremental', unique_key=['launch_id', 'contact_id'], incremental_strategy='delete+insert') }}

with send_contacts as (
    select launch_id, contact_id from {{ ref('int_deciding_send_rows') }}
    {% if is_incremental() %}where _watermark > {{ previous_watermark() }}{% endif %}
),

credit_contacts as (
    select launch_id, contact_id from {{ ref('int_credit_blocks') }}
    {% if is_incremental() %}where ingested_at > {{ previous_watermark() }}{% endif %}
),

contacts as (
    select launch_id, contact_id from send_contacts
    union
    select launch_id, contact_id from credit_contacts
)

select launch_id, contact_id, {{ build_watermark() }} as _watermark
from contacts
