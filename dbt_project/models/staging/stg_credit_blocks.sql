with source as (
    select * from {{ source('lake', 'credit_blocks') }}
),

renamed as (
    select
        event_id,
        blocked_at,
        launch_id,
        campaign_id,
        contact_id,
        phone as phone_raw,
        phone_e164,
        balance_credits,
        required_credits,
        _arrival_date as arrival_date,
        _ingested_at as ingested_at
    from source
)

select * from renamed
