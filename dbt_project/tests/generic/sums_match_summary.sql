{% test sums_match_summary(model, summary_column) %}
-- launches whose per-reason/status counts do not add up to the summary's column
with sums as (
    select launch_id, sum(contacts) as total from {{ model }} group by launch_id
)

select summary.launch_id, summary.{{ summary_column }}, sums.total
from {{ ref('mart_campaign_summary') }} as summary
left join sums on summary.launch_id = sums.launch_id
where coalesce(sums.total, 0) <> summary.{{ summary_column }}
{% endtest %}
