-- one row per launch: a re-delivered launch row counts once (the latest to arrive wins)
with launches as (
    select * from {{ ref('stg_launches') }}
),

ranked as (
    select
        *,
        row_number() over (partition by launch_id order by arrival_date desc, event_id desc) as row_num
    from launches
)

select
    launch_id,
    campaign_id,
    campaign_name,
    campaign_type,
    program_id,
    launched_at,
    declared_launch_list_size
from ranked
where row_num = 1
