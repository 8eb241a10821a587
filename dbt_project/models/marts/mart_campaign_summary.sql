-- one row per launch: the campaign summary of the reporting tab (counts are bigint on every engine)
with contacts as (
    select * from {{ ref('fct_launch_contacts') }}
),

launches as (
    select * from {{ ref('int_launches') }}
),

per_launch as (
    select
        launch_id,
        max(campaign_id) as campaign_id,
        count(*) as launch_list_size,
        count(*) filter (where outcome = 'not_sent') as not_sent,
        count(*) filter (where outcome = 'sent') as sent,
        count(*) filter (where reached_status = 'delivery_successful') as delivered,
        count(*) filter (where unsubscribed_via_link) as unsubscribed,
        count(*) filter (where reached_status = 'rejected_hard_bounce') as hard_bounced,
        count(*) filter (where reached_status = 'rejected_soft_bounce') as soft_bounced,
        count(*) filter (where reached_status = 'delivery_status_unknown') as unknown_delivery,
        count(*) filter (where reached_status = 'with_carrier') as with_carrier,
        count(*) filter (where reached_status = 'provider_error') as provider_error,
        count(*) filter (where reached_status = 'provider_accepted') as provider_accepted,
        count(*) filter (where opted_out_by_keyword) as opted_out_by_keyword,
        cast(sum(case when outcome = 'sent' then coalesce(segments, 0) else 0 end) as bigint) as segments_billed
    from contacts
    group by launch_id
),

all_launches as (
    select launch_id from launches
    union
    select launch_id from per_launch
),

final as (
    select
        all_launches.launch_id,
        coalesce(launches.campaign_id, per_launch.campaign_id) as campaign_id,
        launches.campaign_name,
        launches.campaign_type,
        launches.program_id,
        launches.launched_at,
        coalesce(per_launch.launch_list_size, 0) as launch_list_size,
        launches.declared_launch_list_size,
        coalesce(per_launch.not_sent, 0) as not_sent,
        coalesce(per_launch.sent, 0) as sent,
        coalesce(per_launch.delivered, 0) as delivered,
        case
            when coalesce(per_launch.sent, 0) = 0 then null
            else cast(per_launch.delivered as double) / per_launch.sent
        end as delivery_rate,
        coalesce(per_launch.unsubscribed, 0) as unsubscribed,
        coalesce(per_launch.hard_bounced, 0) as hard_bounced,
        coalesce(per_launch.soft_bounced, 0) as soft_bounced,
        coalesce(per_launch.unknown_delivery, 0) as unknown_delivery,
        coalesce(per_launch.with_carrier, 0) as with_carrier,
        coalesce(per_launch.provider_error, 0) as provider_error,
        coalesce(per_launch.provider_accepted, 0) as provider_accepted,
        coalesce(per_launch.opted_out_by_keyword, 0) as opted_out_by_keyword,
        coalesce(per_launch.segments_billed, 0) as segments_billed
    from all_launches
    left join launches on all_launches.launch_id = launches.launch_id
    left join per_launch on all_launches.launch_id = per_launch.launch_id
)

select * from final
