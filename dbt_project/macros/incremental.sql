{# Incremental builds. Every lake row carries `ingested_at` (when ingestion wrote its
   partition). An incremental model stamps the rows it writes with `_watermark`, the
   latest `ingested_at` in the whole lake at build time; on the next build, the inputs
   newer than its own latest `_watermark` are what changed. The keys they touch are
   recomputed from the whole history and replace the model's rows for those keys
   (delete+insert), so a late row gives the same answer as a full rebuild.
   The orchestrator asks for `--full-refresh` when something else changed (models,
   seeds, a partition ingested again): see orchestration/rebuild.py. #}

{# the latest ingestion time in the lake: what a build has seen #}
{% macro lake_watermark() -%}
    (select max(ingested_at) from (
        {%- for feed in ['launches', 'send_logs', 'credit_blocks', 'dlrs', 'unsubscribes', 'inbound_sms'] %}
        select max(_ingested_at) as ingested_at from {{ source('lake', feed) }}
        {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}

{# what this model had seen at its last build (the earliest time when it is new) #}
{% macro previous_watermark() -%}
    (select coalesce(max(_watermark), '-infinity'::timestamptz) from {{ this }})
{%- endmacro %}

{# `relation` restricted to the keys that have a row newer than this model's last build
   (all of it on a full build) #}
{% macro rows_of_changed_keys(relation, keys, stamp='ingested_at') -%}
    {%- if is_incremental() -%}
    select everything.*
    from {{ relation }} as everything
    semi join (
        select distinct {{ keys | join(', ') }} from {{ relation }}
        where {{ stamp }} > {{ previous_watermark() }}
    ) as changed
        on {% for key in keys %}everything.{{ key }} = changed.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
