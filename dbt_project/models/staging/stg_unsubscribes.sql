with source as (
    select * from {{ source('lake', 'unsubscribes') }}
),

renamed as (
    select
        event_id,
        occurred_at,
        launch_id,
        contact_id,
        _arrival_date as arrival_date,
        _ingested_at as ingested_at
    from source
)

select * from renamed
