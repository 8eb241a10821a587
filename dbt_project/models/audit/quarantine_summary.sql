-- rows ingestion refused, counted per feed and reason (file-level problems have no line)
with quarantined as (
    select feed, arrival_date, file, line, reason from {{ source('lake_audit', 'quarantine') }}
)

select feed, reason, line is null as is_file_problem, count(*) as entries, min(file) as example_file
from quarantined
group by feed, reason, line is null
