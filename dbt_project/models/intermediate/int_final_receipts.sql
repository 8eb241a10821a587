-- the winning final receipt per message: latest done_at (a receipt without a readable done date
-- is placed by its received_at), a tie to the latest received_at;
-- UNDELIV/REJECTD split into hard or soft bounce by the permanent-error seed.
-- Incremental: a message with a new receipt is decided again between its new receipts and the
-- winner so far. The order below is total over what a receipt says (the last keys only break
-- ties between receipts that agree on the rest), so the best of the winner and the new ones is
-- the best of all its receipts, read without the history.
{{ config(
    materialized='incremental', unique_key=['provider', 'provider_message_id'], incremental_strategy='delete+insert'
) }}

with new_receipts as (
    select provider, provider_message_id, stat, err_raw, err_code, done_at, received_at
    from {{ ref('stg_dlrs') }}
    {% if is_incremental() -%}
    where ingested_at > {{ previous_watermark() }}
    {%- endif %}
),

receipts as (
    select * from new_receipts
    {% if is_incremental() -%}
    union all
    select
        winners.provider,
        winners.provider_message_id,
        winners.stat,
        winners.err_raw,
        winners.err_code,
        winners.done_at,
        winners.received_at
    from {{ this }} as winners
    semi join new_receipts
        on winners.provider = new_receipts.provider
        and winners.provider_message_id = new_receipts.provider_message_id
    {%- endif %}
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
            order by
                coalesce(done_at, received_at) desc, received_at desc, stat, err_raw nulls last, done_at desc nulls last
        ) as row_num
    from finals
)

select
    ranked.provider,
    ranked.provider_message_id,
    ranked.stat,
    ranked.err_raw,
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
