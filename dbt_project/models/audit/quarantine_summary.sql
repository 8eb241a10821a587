-- rows ingestion refused, counted per feed and reason (file-level problems have no line)
with quarantined as (
    {% for feed in var('lake_feeds') %}
    select feed, arrival_date, file, line, reason from {{ source('lake_quarantine', feed) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select feed, reason, line is null as is_file_problem, count(*) as entries, min(file) as example_file
from quarantined
group by feed, reason, line is null
