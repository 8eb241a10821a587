-- per-file accounting of ingestion: rows read = kept + duplicates + quarantined
{% set feeds = ['launches', 'send_logs', 'credit_blocks', 'dlrs', 'unsubscribes', 'inbound_sms'] %}
{% for feed in feeds %}
select * from {{ source('lake_files', feed) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
