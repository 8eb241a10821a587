{# Incremental builds. Every lake row carries `ingested_at` (when ingestion wrote its
   partition). An incremental model stamps the rows it writes with `_watermark`, the
   latest `ingested_at` in the whole lake at build time; on the next build, the inputs
   newer than its own latest `_watermark` are what changed. The keys they touch are
   recomputed from the whole history and replace the model's rows for those keys
   (delete+insert), so a late row gives the same answer as a full rebuild.
   The orchestrator asks for `--full-refresh` when something else changed (models,
   seeds, a partition ingested again): see orchestration/warehouse/rebuild.py. #}

{# the stamp of the rows a build writes: when it started. Every lake row it could read was
   ingested before that; any row ingested later is newer than the stamp. (`sms-warehouse run`
   never ingests while dbt builds.) #}
{% macro build_watermark() -%}
    '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00'::timestamptz  {#- run_started_at is UTC #}
{%- endmacro %}

{# the rows of an incremental model this build wrote (all of them on a full rebuild) #}
{% macro written_by_this_build(stamp='_watermark') -%}
    {{ stamp }} = {{ build_watermark() }}
{%- endmacro %}

{# what this model had seen at its last build (the earliest time when it is new) #}
{% macro previous_watermark() -%}
    (select coalesce(max(_watermark), '-infinity'::timestamptz) from {{ this }})
{%- endmacro %}

{# the keys of `relation` that have a row newer than this model's last build #}
{% macro changed_keys(relation, keys, stamp='ingested_at') -%}
    select distinct {{ keys | join(', ') }} from {{ relation }}
    where {{ stamp }} > {{ previous_watermark() }}
{%- endmacro %}

{# `relation` restricted to the keys that have a row newer than this model's last build
   (all of it on a full build). The model passes `is_incremental()`, so unit tests can set it. #}
{% macro rows_of_changed_keys(relation, keys, incremental, stamp='ingested_at') -%}
    {%- if incremental -%}
    select everything.*
    from {{ relation }} as everything
    semi join (
        {{ changed_keys(relation, keys, stamp) }}
    ) as changed
        on {{ same_keys('everything', 'changed', keys) }}
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{# the join condition of two relations on the same key columns #}
{% macro same_keys(left, right, keys) -%}
    {% for key in keys %}{{ left }}.{{ key }} = {{ right }}.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
{%- endmacro %}

{# A data test's `where: __written_by_this_build__` (in the test's config) checks only the rows
   this build wrote: those stamped with its `_watermark` (every row on a full rebuild; none when
   `dbt test` runs alone). For tests of one row at a time (not null, accepted values, an
   expression, a reference to a seed), sound for the reason the grain tests with `stamp:` are
   (tests/generic/unique_combination.sql). dbt's documented hook for the `where` config. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set where = where | replace('__written_by_this_build__', written_by_this_build()) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
