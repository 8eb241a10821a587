with source as (
    select * from {{ source('lake', 'inbound_sms') }}
),

renamed as (
    select
        event_id,
        received_at,
        from_phone as from_phone_raw,
        from_phone_e164,
        to_sender,
        text,
        {{ first_word('text') }} as first_word,
        _arrival_date as arrival_date,
        _ingested_at as ingested_at
    from source
)

select * from renamed
