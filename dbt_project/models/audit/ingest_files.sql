-- per-file accounting of ingestion: rows read = kept + duplicates + quarantined
select * from {{ source('lake_audit', 'ingest_files') }}
