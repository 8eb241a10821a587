-- per-file accounting of ingestion: rows read = kept + duplicates + quarantined
{% for feed in var('lake_feeds') %}
select * from {{ source('lake_files', feed) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
