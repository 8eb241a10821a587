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
-- a contact's keyword flag as the attributions are now (the rule of `opted_out_by_keyword`
-- below: sent, and its launch and phone attributed a stop keyword) and as this model has it;
-- the contacts where the two differ are the ones an attribution touched (none, most days).
-- Both are the flagged contacts only, small enough to be materialised for the two reads.
keyword_flagged_now as (
    select sent.launch_id, sent.contact_id
    from {{ ref('int_deciding_send_rows') }} as sent
    semi join keyword_optouts
        on sent.launch_id = keyword_optouts.launch_id and sent.phone_e164 = keyword_optouts.from_phone_e164
    where sent.submit_result is not null
),

keyword_flagged_before as (
    select launch_id, contact_id from {{ this }}
    where opted_out_by_keyword
),

-- the keys below name each table again rather than the CTEs above: a CTE read twice is
-- materialised whole, and these only need two columns of the rows that changed
touched as (
    select launch_id, contact_id from {{ ref('int_launch_list') }}
    where _watermark > {{ previous_watermark() }}
    union
    select sent.launch_id, sent.contact_id
    from {{ ref('int_deciding_send_rows') }} as sent
    inner join {{ ref('int_final_receipts') }} as new_receipts
        on sent.provider = new_receipts.provider and sent.provider_message_id = new_receipts.provider_message_id
    where new_receipts._watermark > {{ previous_watermark() }}
    union
    select launch_id, contact_id from unsubscribes
    where ingested_at > {{ previous_watermark() }}
    union
    (select * from keyword_flagged_now except select * from keyword_flagged_before)
    union
    (select * from keyword_flagged_before except select * from keyword_flagged_now)
),

-- a touched contact is on the launch list when it has a send-log or credit-block row (an
-- unsubscribe click alone does not put it there): the joins below tell, without the whole list
launch_list as (
    select touched.launch_id, touched.contact_id from touched
),
{% else %}
launch_list as (
    select * from {{ ref('int_launch_list') }}
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
    left join deciding
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
