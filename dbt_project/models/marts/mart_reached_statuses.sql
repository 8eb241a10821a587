-- one row per launch and reached status; all seven statuses always present
with launches as (
    select launch_id from {{ ref('mart_campaign_summary') }}
),

statuses as (
    select * from {{ ref('reached_statuses') }}
),

counts as (
    select launch_id, reached_status as status, count(*) as contacts
    from {{ ref('fct_launch_contacts') }}
    where outcome = 'sent'
    group by launch_id, reached_status
)

select
    launches.launch_id,
    statuses.status,
    coalesce(counts.contacts, 0) as contacts
from launches
cross join statuses
left join counts on launches.launch_id = counts.launch_id and statuses.status = counts.status
