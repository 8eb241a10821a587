-- the winning final receipt per message: latest done_at (a receipt without a readable done date
-- is placed by its received_at), a tie to the latest received_at;
-- UNDELIV/REJECTD split into hard or soft bounce by the permanent-error seed.
-- Incremental: messages with a new receipt are decided again.
{{ config(
    materialized='incremental', unique_key=['provider', 'provider_message_id'], incremental_strategy='delete+insert'
) }}

with receipts as (
    {{ rows_of_changed_keys(ref('stg_dlrs'), ['provider', 'provider_message_id'], is_incremental()) }}
),

states as (
    select * from {{ ref('receipt_states') }}
),

permanent_errors as (
    select * from {{ ref('permanent_errors') }}
),

finals as (
    select
        receipts.*,
        states.reached_status as state_status
    from receipts
    inner join states on receipts.stat = states.stat
    where states.is_final
),

ranked as (
    select
        *,
        row_number() over (
            partition by provider, provider_message_id
            order by coalesce(done_at, received_at) desc, received_at desc, stat, err_raw
        ) as row_num
    from finals
)

select
    ranked.provider,
    ranked.provider_message_id,
    ranked.stat,
    ranked.err_code,
    ranked.done_at,
    ranked.received_at,
    case
        when ranked.state_status <> 'rejected_by_error' then ranked.state_status
        when permanent_errors.err_code is not null then 'rejected_hard_bounce'
        else 'rejected_soft_bounce'
    end as reached_status,
    {{ build_watermark() }} as _watermark
from ranked
left join permanent_errors on ranked.err_code = permanent_errors.err_code
where ranked.row_num = 1
