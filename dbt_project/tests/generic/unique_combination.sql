{% test unique_combination(model, columns, stamp=none) %}
-- rows whose combination of `columns` is not unique (the grain of the model).
-- With `stamp` (an incremental model's `_watermark`), only the keys this build wrote are
-- counted (their rows old and new), so the test costs what the build wrote, not the history.
-- Every other key was unique when the build that wrote it passed this test, and no build since
-- touched it: a build that does not finish (this test failing, among others) makes the next
-- one a full rebuild, which writes every key with its stamp (orchestration/warehouse/rebuild.py).
-- A full rebuild (`--full-refresh`) wrote every key: all are counted, the plain way. Run
-- outside a build (`dbt test` alone), it has no keys to count.
{%- set keys = columns | join(', ') %}
{%- if stamp and not flags.FULL_REFRESH %}
with written as (
    select {{ keys }}
    from {{ model }}
    where {{ written_by_this_build(stamp) }}
),

rows_of_written_keys as (
    select everything.*
    from {{ model }} as everything
    semi join written
        on {{ same_keys('everything', 'written', columns) }}
)

select {{ keys }}, count(*) as n
from rows_of_written_keys
group by {{ keys }}
having count(*) > 1
{%- else %}
select {{ keys }}, count(*) as n
from {{ model }}
group by {{ keys }}
having count(*) > 1
{%- endif %}
{% endtest %}
