{# One row per launch and vocabulary value (every value present, 0 when none):
   how many contacts of `outcome` have that value in `fact_column`. #}
{% macro counts_per_launch(vocabulary, value_column, fact_column, outcome) %}
with launches as (
    select launch_id from {{ ref('mart_campaign_summary') }}
),

vocabulary as (
    select {{ value_column }} as value from {{ ref(vocabulary) }}
),

counts as (
    select launch_id, {{ fact_column }} as value, count(*) as contacts
    from {{ ref('fct_launch_contacts') }}
    where outcome = '{{ outcome }}'
    group by launch_id, {{ fact_column }}
)

select
    launches.launch_id,
    vocabulary.value as {{ value_column }},
    coalesce(counts.contacts, 0) as contacts
from launches
cross join vocabulary
left join counts on launches.launch_id = counts.launch_id and vocabulary.value = counts.value
{% endmacro %}
