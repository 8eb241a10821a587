-- one row per contact on a launch list, with its single outcome (contract: marts.md).
-- Incremental: only the contacts that something new touched are computed again (from all
-- their history): a new send row or credit block, a new final receipt for their message,
-- a new unsubscribe click, or a stop keyword attributed to them now and not before, or before
-- and not now.
-- `_watermark` is bookkeeping: columns starting with `_` are not published.
{{ config(materialized='incremental', unique_key=['launch_id', 'contact_id'], incremental_strategy='delete+insert') }}

with deciding as (
    select * from {{ ref('int_deciding_send_rows') }}
),

credit as (
    select * from {{ ref('int_credit_blocks') }}
),

receipts as (
    select * from {{ ref('int_final_receipts') }}
),

unsubscribes as (
    select * from {{ ref('stg_unsubscribes') }}
),

unsubscribed as (
    select distinct launch_id, contact_id from unsubscribes
),

keyword_optouts as (
    select distinct launch_id, from_phone_e164
    from {{ ref('int_keyword_optouts') }}
    where launch_id is not null
),

{% if is_incremental() %}
-- the contacts something new touched: those with a send row in one pass over the deciding
-- send rows (the history that grows), each row tested against small sets (its contact has a
-- new launch-list row or a new unsubscribe click, its message a new final receipt, or its
-- keyword flag as the attributions are now, the rule of `opted_out_by_keyword` below: sent,
-- and its launch and phone attributed a stop keyword, differs from the flag this model has:
-- none differ, most days); those with a credit block only, by their new launch-list row.
small_touched as (
    select launch_id, contact_id from {{ ref('int_launch_list') }}
    where _watermark > {{ previous_watermark() }}
    union
    select launch_id, contact_id from unsubscribes
    where ingested_at > {{ previous_watermark() }}
),

new_receipts as (
    select provider, provider_message_id from {{ ref('int_final_receipts') }}
    where _watermark > {{ previous_watermark() }}
),

keyword_flagged_before as (
    select launch_id, contact_id from {{ this }}
    where opted_out_by_keyword
),

touched_sends as (
    select deciding.*
    from deciding
    left join small_touched
        on deciding.launch_id = small_touched.launch_id and deciding.contact_id = small_touched.contact_id
    left join new_receipts
        on deciding.provider = new_receipts.provider
        and deciding.provider_message_id = new_receipts.provider_message_id
    left join keyword_optouts
        on deciding.launch_id = keyword_optouts.launch_id and deciding.phone_e164 = keyword_optouts.from_phone_e164
    left join keyword_flagged_before
        on deciding.launch_id = keyword_flagged_before.launch_id
        and deciding.contact_id = keyword_flagged_before.contact_id
    where small_touched.contact_id is not null
        or new_receipts.provider is not null
        or (
            (deciding.submit_result is not null and keyword_optouts.launch_id is not null)
            != (keyword_flagged_before.contact_id is not null)
        )
),

-- a touched contact is on the launch list when it has a send-log or credit-block row (an
-- unsubscribe click alone does not put it there): the joins below tell, without the whole list;
-- the deciding row of a touched contact, if it has one, is among the touched send rows
launch_list as (
    select launch_id, contact_id from touched_sends
    union
    select launch_id, contact_id from small_touched
),

deciding_rows as (
    select * from touched_sends
),
{% else %}
launch_list as (
    select * from {{ ref('int_launch_list') }}
),

deciding_rows as (
    select * from deciding
),
{% endif %}

decided as (
    select
        launch_list.launch_id,
        launch_list.contact_id,
        coalesce(deciding.campaign_id, credit.campaign_id) as campaign_id,
        coalesce(deciding.phone_e164, credit.phone_e164) as phone_e164,
        deciding.submit_result is not null as is_sent,
        credit.contact_id is not null as is_credit_blocked,
        deciding.filter_reason,
        deciding.submit_result,
        deciding.provider,
        deciding.provider_message_id,
        deciding.segments,
        deciding.logged_at
    from launch_list
    left join deciding_rows as deciding
        on launch_list.launch_id = deciding.launch_id and launch_list.contact_id = deciding.contact_id
    left join credit
        on launch_list.launch_id = credit.launch_id and launch_list.contact_id = credit.contact_id
    {% if is_incremental() -%}
    where deciding.contact_id is not null or credit.contact_id is not null
    {%- endif %}
),

final as (
    select
        decided.launch_id,
        decided.contact_id,
        decided.campaign_id,
        decided.phone_e164,
        case when decided.is_sent then 'sent' else 'not_sent' end as outcome,
        case
            when decided.is_sent then null
            when decided.is_credit_blocked then 'insufficient_credit'
            else decided.filter_reason
        end as not_sent_reason,
        case
            when decided.submit_result = 'provider_error' then 'provider_error'
            when decided.submit_result = 'accepted_no_dlr' then 'provider_accepted'
            when decided.submit_result = 'accepted' then coalesce(receipts.reached_status, 'with_carrier')
        end as reached_status,
        decided.provider,
        decided.provider_message_id,
        decided.segments,
        case when decided.is_sent then decided.logged_at end as submitted_at,
        receipts.done_at as final_receipt_at,
        decided.is_sent and unsubscribed.contact_id is not null as unsubscribed_via_link,
        decided.is_sent and keyword_optouts.launch_id is not null as opted_out_by_keyword,
        {{ build_watermark() }} as _watermark
    from decided
    left join receipts
        on decided.submit_result = 'accepted'
        and decided.provider = receipts.provider
        and decided.provider_message_id = receipts.provider_message_id
    left join unsubscribed
        on decided.launch_id = unsubscribed.launch_id and decided.contact_id = unsubscribed.contact_id
    left join keyword_optouts
        on decided.launch_id = keyword_optouts.launch_id and decided.phone_e164 = keyword_optouts.from_phone_e164
)

select * from final
