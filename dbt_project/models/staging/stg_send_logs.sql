with source as (
    select * from {{ source('lake', 'send_logs') }}
),

renamed as (
    select
        event_id,
        logged_at,
        launch_id,
        campaign_id,
        contact_id,
        phone as phone_raw,
        phone_e164,
        filter_reason,
        submit_result,
        provider,
        trim(provider_message_id) as provider_message_id,
        cast(segments as integer) as segments,
        _arrival_date as arrival_date,
        _source_file as source_file,
        cast(_source_line as bigint) as source_line,
        _ingested_at as ingested_at
    from source
)

select * from renamed
