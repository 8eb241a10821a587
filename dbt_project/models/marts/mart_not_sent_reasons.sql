-- one row per launch and not-sent reason; all four reasons always present
with launches as (
    select launch_id from {{ ref('mart_campaign_summary') }}
),

reasons as (
    select * from {{ ref('not_sent_reasons') }}
),

counts as (
    select launch_id, not_sent_reason as reason, count(*) as contacts
    from {{ ref('fct_launch_contacts') }}
    where outcome = 'not_sent'
    group by launch_id, not_sent_reason
)

select
    launches.launch_id,
    reasons.reason,
    coalesce(counts.contacts, 0) as contacts
from launches
cross join reasons
left join counts on launches.launch_id = counts.launch_id and reasons.reason = counts.reason
